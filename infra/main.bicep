// Azure infrastructure for the LLM workflow orchestrator, deployed by `azd up` / `azd provision`.
//
// The house style prefers Azure Verified Modules (br/public:avm/...), as in the azd Durable Functions
// quickstart. They are pulled from a public module registry at build time, which the machines this repository
// is built and checked on cannot reach, so every resource here is written as a plain resource in a small local
// module. The shapes follow the AVM modules (Flex Consumption functionAppConfig, identity-based storage,
// workspace-based Application Insights), so swapping one in later is a local change.
//
// What gets created, in one resource group:
//   - a user-assigned managed identity used by the function app for storage and deployment;
//   - a storage account without shared keys (Functions host, Durable task hub, deployment package), with
//     data-plane roles for that identity and for the deploying principal;
//   - Log Analytics + Application Insights;
//   - a Flex Consumption (FC1) plan and the function app, tagged azd-service-name: api;
//   - Azure Database for PostgreSQL flexible server with database `workflows` (optionally a read replica).

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds the resource token.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer Flex Consumption (`az functionapp list-flexconsumption-locations`) and PostgreSQL flexible server.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or service principal; gets data-plane access to the storage account for debugging. Empty to skip.')
param principalId string = deployer().objectId

@description('Type of principalId. Empty lets Azure look it up, which works for users and service principals alike.')
@allowed([
  ''
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = ''

@description('Resource group name; defaults to rg-<environmentName>.')
param resourceGroupName string = ''

@description('Durable Functions task hub name (TaskHubName): 3-45 letters and digits, starting with a letter.')
@minLength(3)
@maxLength(45)
param taskHubName string = 'orchestrator'

@description('Memory per function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex Consumption scale-out limit. Keep maximumInstanceCount x postgresMaxPoolSize below the PostgreSQL server\'s max_connections (about 50 on Standard_B1ms).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('PostgreSQL major version.')
@allowed([
  '15'
  '16'
])
param postgresVersion string = '16'

@description('Create a PostgreSQL read replica. Azure offers replicas only on GeneralPurpose/MemoryOptimized, so this also moves the default compute off Burstable.')
param enableReadReplica bool = false

@description('PostgreSQL compute size.')
param postgresSkuName string = enableReadReplica ? 'Standard_D2ds_v5' : 'Standard_B1ms'

@description('PostgreSQL compute tier matching postgresSkuName.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = enableReadReplica ? 'GeneralPurpose' : 'Burstable'

@description('PostgreSQL storage in GiB.')
@minValue(32)
param postgresStorageSizeGB int = 32

@description('PostgreSQL administrator login, used by the app.')
param postgresAdminLogin string = 'orchestrator'

@secure()
@description('PostgreSQL administrator password. The default is a new random value on every deployment: the server and the app\'s connection string are updated together. Pass a fixed value to keep it stable.')
param postgresAdminPassword string = 'Pg1-${newGuid()}'

@description('An IPv4 address allowed through the PostgreSQL firewall for psql from a workstation; empty for none.')
param postgresClientIpAddress string = ''

@description('Npgsql pool size per instance (Postgres__MaxPoolSize).')
@minValue(1)
param postgresMaxPoolSize int = 10

@description('LLM provider (Llm__Provider): simulated until a real endpoint is configured.')
param llmProvider string = 'simulated'

@description('OpenAI-compatible endpoint (Llm__Endpoint).')
param llmEndpoint string = ''

@secure()
@description('LLM API key (Llm__ApiKey).')
param llmApiKey string = ''

@description('Model name (Llm__Model).')
param llmModel string = 'gpt-4o-mini'

@description('Workflow definitions folder inside the deployed app (Workflows__DefinitionsPath).')
param workflowsDefinitionsPath string = 'definitions'

@secure()
@description('Admin bearer token (Auth__AdminToken). The default is a new random value on every deployment; read it from the app settings or pass a fixed value.')
param adminToken string = newGuid()

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
// Names used by several modules are computed here, not read from module outputs, so What-If can predict them.
var storageAccountName = 'st${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}
var storageRoleIds = [
  roles.storageBlobDataOwner // host leases, Durable blobs, deployment package
  roles.storageQueueDataContributor // Durable control and work-item queues
  roles.storageTableDataContributor // Durable history and instances tables
]

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity/user-assigned-identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    containerNames: [
      deploymentContainerName
    ]
  }
}

module appStorageRoles 'core/security/storage-role-assignments.bicep' = {
  name: 'storage-roles-app'
  scope: rg
  params: {
    storageAccountName: storageAccountName
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionIds: storageRoleIds
  }
  dependsOn: [
    storage
  ]
}

module userStorageRoles 'core/security/storage-role-assignments.bicep' = if (!empty(principalId)) {
  name: 'storage-roles-user'
  scope: rg
  params: {
    storageAccountName: storageAccountName
    principalId: principalId
    principalType: principalType
    roleDefinitionIds: storageRoleIds
  }
  dependsOn: [
    storage
  ]
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module postgres 'core/database/postgresql-flexible-server.bicep' = {
  name: 'postgres'
  scope: rg
  params: {
    name: 'psql-${resourceToken}'
    location: location
    tags: tags
    version: postgresVersion
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    databaseName: 'workflows'
    enableReadReplica: enableReadReplica
    clientIpAddress: postgresClientIpAddress
  }
}

// With a replica the app gets a multi-host connection string: Npgsql uses the first host that accepts writes,
// so once the replica is promoted and the old primary is gone or demoted the app follows without a settings
// change, and the replica-lag monitor can open standby sessions on the same string. While both servers accept
// writes (replica promoted to an independent server, old primary still up) the first host wins.
var postgresHosts = enableReadReplica
  ? '${postgres.outputs.fqdn},${postgres.outputs.replicaFqdn}'
  : postgres.outputs.fqdn
var postgresConnectionString = 'Host=${postgresHosts};Port=5432;Database=${postgres.outputs.databaseName};Username=${postgresAdminLogin};Password=${postgresAdminPassword};SSL Mode=Require${enableReadReplica ? ';Target Session Attributes=primary' : ''}'

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storageAccountName
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    taskHubName: taskHubName
    postgresConnectionString: postgresConnectionString
    postgresMaxPoolSize: postgresMaxPoolSize
    llmProvider: llmProvider
    llmEndpoint: llmEndpoint
    llmApiKey: llmApiKey
    llmModel: llmModel
    workflowsDefinitionsPath: workflowsDefinitionsPath
    adminToken: adminToken
  }
  // The host reads storage (and the platform pulls the package) with the identity as soon as the app starts.
  dependsOn: [
    storage
    appStorageRoles
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_URI string = api.outputs.uri
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName
output TASK_HUB_NAME string = taskHubName
output POSTGRES_SERVER_NAME string = postgres.outputs.name
output POSTGRES_HOST string = postgres.outputs.fqdn
output POSTGRES_REPLICA_HOST string = postgres.outputs.replicaFqdn
output POSTGRES_DATABASE string = postgres.outputs.databaseName
output POSTGRES_ADMIN_LOGIN string = postgresAdminLogin

// Azure infrastructure for the LLM workflow orchestrator, deployed by `azd up` / `azd provision`.
//
// The house style prefers Azure Verified Modules (br/public:avm/...), as in the azd Durable Functions
// quickstart. They are pulled from a public module registry at build time, which the machines this repository
// is built and checked on cannot reach, so every resource here is written as a plain resource in a small local
// module. The shapes follow the AVM modules (Flex Consumption functionAppConfig, identity-based storage,
// workspace-based Application Insights), so swapping one in later is a local change.
//
// What gets created, in one resource group (infra/README.md has the details):
//   - a user-assigned managed identity: the app's only credential, for storage, Key Vault, PostgreSQL and telemetry;
//   - a storage account without shared keys (Functions host, Durable task hub, deployment package), with
//     data-plane roles for that identity and for the deploying principal;
//   - a Key Vault (RBAC) for the secrets the app settings reference; this template never writes a secret value,
//     the postprovision hook (infra/hooks/) creates the admin token and default API key once;
//   - Log Analytics + Application Insights;
//   - a Flex Consumption (FC1) plan and the function app, tagged azd-service-name: api;
//   - Azure Database for PostgreSQL flexible server, database `workflows`, Microsoft Entra authentication only
//     (optionally zone-redundant HA, geo-redundant backups and a read replica in this or another region).

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

@description('Object id of the deploying user or service principal: gets data-plane access to storage, may write Key Vault secrets (for the postprovision hook and rotation) and, with principalLoginName, administers PostgreSQL. Empty to skip.')
param principalId string = deployer().objectId

@description('Type of principalId. Empty lets Azure look it up, which works for users and service principals alike.')
@allowed([
  ''
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = ''

@description('User principal name of principalId (user@contoso.com), made a PostgreSQL Entra administrator so the operator can run psql with an access token. Defaults to the deploying user\'s; empty (as for a service principal) for none.')
param principalLoginName string = deployer().userPrincipalName

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

@description('Redundancy of the storage account (host, task hub, deployment package).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSkuName string = 'Standard_LRS'

// ---- PostgreSQL and the connection budget ----------------------------------------------------------------------
//
// Every instance of the app can hold two pools on the primary: the workflows' (Postgres__MaxPoolSize =
// postgresMaxPoolSize) and the monitors' (Monitors__MaxPoolSize = monitorsMaxPoolSize), plus a pool of 2 on the read
// replica (health and lag checks) when there is one. Azure keeps postgresReservedConnections of max_connections for
// itself. The scale-out limit is chosen so that a fully scaled-out app still fits:
//
//   primary  maximumInstanceCount x (postgresMaxPoolSize + monitorsMaxPoolSize) + postgresReservedConnections
//            <= postgresMaxConnectionsBySku[postgresSkuName]
//            defaults: 40 x (5 + 4) + 15 = 375 <= 429 (Standard_B2s), leaving 54 for psql sessions and the one
//            short-lived connection an instance opens at start to check the database exists
//   replica  maximumInstanceCount x postgresReplicaPoolSize + postgresReservedConnections
//            <= max_connections of the replica's size
//            defaults with a replica: 40 x 2 + 15 = 95 <= 859 (Standard_D2ds_v5, see postgresHighAvailabilitySku)
//
// The deployment stops with a message naming these parameters when the sum does not fit (see
// connectionBudgetProblem), and a test in tests/Orchestrator.Functions.Tests checks the defaults.
//
// Flex Consumption counts maximumInstanceCount per group of functions that scale together (HTTP, Durable, and each
// timer function on its own). The timers need one instance each and the HTTP group few (starting and reading runs),
// and the monitors' pool is counted for every instance although only instances running a check open it, which is
// what keeps a busy Durable group at the limit inside the budget. Past max_connections PostgreSQL refuses the
// connection (53300), which the app retries as a transient failure and the connection-pool monitor reports.

@description('Flex Consumption scale-out limit (per scaling group). 40 is the lowest most regions accept. See the connection budget above: raise postgresSkuName or lower postgresMaxPoolSize with it.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Npgsql pool size of the workflows per instance (Postgres__MaxPoolSize). Queries are short: a pool this size serves hundreds per second; a caller waits for a free connection up to Postgres__ConnectionTimeoutSeconds.')
@minValue(1)
@maxValue(1000)
param postgresMaxPoolSize int = 5

@description('PostgreSQL compute size. Every allowed size has its max_connections in postgresMaxConnectionsBySku. Standard_B1ms (50 connections) is not offered: it cannot carry even the lowest scale-out limit most regions accept.')
@allowed([
  'Standard_B2s'
  'Standard_B2ms'
  'Standard_B4ms'
  'Standard_D2ds_v5'
  'Standard_D4ds_v5'
  'Standard_D8ds_v5'
  'Standard_E2ds_v5'
  'Standard_E4ds_v5'
])
param postgresSkuName string = 'Standard_B2s'

@description('PostgreSQL major version.')
@allowed([
  '15'
  '16'
  '17'
])
param postgresVersion string = '16'

@description('PostgreSQL storage in GiB.')
@minValue(32)
param postgresStorageSizeGB int = 32

@description('Days of PostgreSQL point-in-time restore (the runbook\'s backup restore).')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

@description('Zone-redundant high availability (runbook: database crash / failover). Not offered on Burstable: a Burstable postgresSkuName is deployed as its General Purpose counterpart (postgresHighAvailabilitySku).')
param enablePostgresHighAvailability bool = false

@description('Geo-redundant backups, restorable in the paired region (runbook: multi-region failover, RPO <= 1 h by geo-restore). Azure accepts this only when the server is created.')
param enablePostgresGeoRedundantBackup bool = false

@description('A read replica, watched by the replica-lag monitor and listed second in the app\'s connection string so a promoted replica is found. Not offered on Burstable: a Burstable postgresSkuName is deployed as its General Purpose counterpart (postgresHighAvailabilitySku).')
param enablePostgresReadReplica bool = false

@description('Region of the read replica; this region when empty. Another region is the cross-region replica of the runbook\'s multi-region row (RPO: the replication lag).')
param postgresReplicaLocation string = ''

@description('An IPv4 address allowed through the PostgreSQL firewall for psql from a workstation; empty for none.')
param postgresClientIpAddress string = ''

// ---- LLM and workflows -------------------------------------------------------------------------------------------

@description('LLM provider (Llm__Provider): openai, azure-openai or simulated; empty chooses openai once an endpoint or the llm-api-key secret is set, simulated until then.')
param llmProvider string = ''

@description('OpenAI-compatible endpoint (Llm__Endpoint); empty for api.openai.com.')
param llmEndpoint string = ''

@description('Model name (Llm__Model).')
param llmModel string = 'gpt-4o-mini'

@description('Azure OpenAI deployment (Llm__Deployment); empty uses the model name.')
param llmDeployment string = ''

@description('Call Azure OpenAI with the app\'s managed identity instead of the llm-api-key secret (Llm__UseManagedIdentity). The identity then needs Cognitive Services OpenAI User on the Azure OpenAI resource.')
param llmUseManagedIdentity bool = false

@description('Workflow definitions folder inside the deployed app (Workflows__DefinitionsPath).')
param workflowsDefinitionsPath string = 'definitions'

// ---- Key Vault ---------------------------------------------------------------------------------------------------

@description('Key Vault purge protection. Off by default so that `azd down --purge` can delete the vault and its name can be used again; on for production, where a deleted vault must stay recoverable (it then cannot be purged for 90 days).')
param enableKeyVaultPurgeProtection bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
// Names used by several modules are computed here, not read from module outputs, so What-If can predict them.
var storageAccountName = 'st${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'
var identityName = 'id-api-${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'

// Azure's default max_connections for each allowed compute size, and the connections it reserves for replication and
// monitoring out of them ("Maximum connections", https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits).
var postgresMaxConnectionsBySku = {
  Standard_B2s: 429
  Standard_B2ms: 859
  Standard_B4ms: 1718
  Standard_D2ds_v5: 859
  Standard_D4ds_v5: 1718
  Standard_D8ds_v5: 3437
  Standard_E2ds_v5: 1718
  Standard_E4ds_v5: 3437
}
var postgresReservedConnections = 15
// The monitors' own pool on the primary: Monitors__MaxPoolSize in app/api.bicep (infra/bicep-build.sh checks they agree).
var monitorsMaxPoolSize = 4
// The pool each instance opens to the replica (fixed in Orchestrator.Core/Persistence/ReplicaDataSource.cs).
var postgresReplicaPoolSize = 2

var postgresTierBySku = {
  Standard_B2s: 'Burstable'
  Standard_B2ms: 'Burstable'
  Standard_B4ms: 'Burstable'
  Standard_D2ds_v5: 'GeneralPurpose'
  Standard_D4ds_v5: 'GeneralPurpose'
  Standard_D8ds_v5: 'GeneralPurpose'
  Standard_E2ds_v5: 'MemoryOptimized'
  Standard_E4ds_v5: 'MemoryOptimized'
}
// Burstable offers neither high availability nor read replicas. With either one, a Burstable size becomes the
// General Purpose size with at least as many connections, so the budget checked for postgresSkuName still holds.
var postgresHighAvailabilitySku = {
  Standard_B2s: 'Standard_D2ds_v5'
  Standard_B2ms: 'Standard_D2ds_v5'
  Standard_B4ms: 'Standard_D4ds_v5'
  Standard_D2ds_v5: 'Standard_D2ds_v5'
  Standard_D4ds_v5: 'Standard_D4ds_v5'
  Standard_D8ds_v5: 'Standard_D8ds_v5'
  Standard_E2ds_v5: 'Standard_E2ds_v5'
  Standard_E4ds_v5: 'Standard_E4ds_v5'
}
var postgresDeployedSkuName = enablePostgresHighAvailability || enablePostgresReadReplica
  ? postgresHighAvailabilitySku[postgresSkuName]
  : postgresSkuName

var postgresConnectionsNeeded = maximumInstanceCount * (postgresMaxPoolSize + monitorsMaxPoolSize) + postgresReservedConnections
var postgresReplicaConnectionsNeeded = maximumInstanceCount * postgresReplicaPoolSize + postgresReservedConnections
var connectionBudgetProblem = postgresConnectionsNeeded > postgresMaxConnectionsBySku[postgresSkuName]
  ? 'PostgreSQL connection budget exceeded: maximumInstanceCount ${maximumInstanceCount} x (postgresMaxPoolSize ${postgresMaxPoolSize} + Monitors__MaxPoolSize ${monitorsMaxPoolSize}) + ${postgresReservedConnections} reserved = ${postgresConnectionsNeeded} connections, but ${postgresSkuName} allows ${postgresMaxConnectionsBySku[postgresSkuName]}. Lower maximumInstanceCount or postgresMaxPoolSize, or choose a larger postgresSkuName.'
  : enablePostgresReadReplica && postgresReplicaConnectionsNeeded > postgresMaxConnectionsBySku[postgresDeployedSkuName]
      ? 'PostgreSQL replica connection budget exceeded: maximumInstanceCount ${maximumInstanceCount} x ${postgresReplicaPoolSize} + ${postgresReservedConnections} reserved = ${postgresReplicaConnectionsNeeded} connections, but ${postgresDeployedSkuName} allows ${postgresMaxConnectionsBySku[postgresDeployedSkuName]}.'
      : ''

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}
// What the Functions host and the Durable Functions Azure Storage provider need with identity-based connections.
var storageRoleIds = [
  roles.storageBlobDataOwner // host leases and timer locks, Durable large messages and leases, deployment package
  roles.storageQueueDataContributor // Durable control and work-item queues
  roles.storageTableDataContributor // Durable history, instances and (table partition management) partitions tables
]

// The connection budget is checked here, where the first resource is named, so a deployment that does not fit
// stops before anything is created.
resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: empty(connectionBudgetProblem)
    ? (!empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}')
    : fail(connectionBudgetProblem)
  location: location
  tags: tags
}

module identity 'core/identity/user-assigned-identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: identityName
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
    skuName: storageSkuName
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

module keyVault 'core/security/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    readerPrincipalId: identity.outputs.principalId
    writerPrincipalId: principalId
    writerPrincipalType: principalType
    enablePurgeProtection: enableKeyVaultPurgeProtection
  }
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
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
    skuName: postgresDeployedSkuName
    skuTier: postgresTierBySku[postgresDeployedSkuName]
    storageSizeGB: postgresStorageSizeGB
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: enablePostgresGeoRedundantBackup
    highAvailability: enablePostgresHighAvailability
    enableReadReplica: enablePostgresReadReplica
    replicaLocation: postgresReplicaLocation
    databaseName: 'workflows'
    appPrincipalId: identity.outputs.principalId
    appPrincipalName: identityName
    operatorPrincipalId: principalId
    operatorPrincipalName: principalLoginName
    clientIpAddress: postgresClientIpAddress
  }
}

// No password anywhere: the PostgreSQL role is the identity's name and the app signs in with an Entra token
// (Postgres__UseManagedIdentity). With a replica the primary's string lists both servers: Npgsql uses whichever
// accepts writes, so a promoted replica is found without a settings change; the replica's string lists the replica
// first and asks for a standby, for the health and lag checks.
var postgresAuth = 'Database=${postgres.outputs.databaseName};Username=${identityName};Ssl Mode=Require'
var postgresConnectionString = enablePostgresReadReplica
  ? 'Host=${postgres.outputs.fqdn},${postgres.outputs.replicaFqdn};${postgresAuth};Target Session Attributes=primary'
  : 'Host=${postgres.outputs.fqdn};${postgresAuth}'
var postgresReplicaConnectionString = enablePostgresReadReplica
  ? 'Host=${postgres.outputs.replicaFqdn},${postgres.outputs.fqdn};${postgresAuth};Target Session Attributes=standby'
  : ''

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
    keyVaultName: keyVault.outputs.name
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    taskHubName: taskHubName
    postgresConnectionString: postgresConnectionString
    postgresReplicaConnectionString: postgresReplicaConnectionString
    postgresMaxPoolSize: postgresMaxPoolSize
    llmProvider: llmProvider
    llmEndpoint: llmEndpoint
    llmModel: llmModel
    llmDeployment: llmDeployment
    llmUseManagedIdentity: llmUseManagedIdentity
    workflowsDefinitionsPath: workflowsDefinitionsPath
  }
  // The host reads storage (and the platform pulls the package) with the identity as soon as the app starts, and
  // resolves the Key Vault references with it.
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
output AZURE_MANAGED_IDENTITY_NAME string = identityName
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName
output TASK_HUB_NAME string = taskHubName
output POSTGRES_SERVER_NAME string = postgres.outputs.name
output POSTGRES_HOST string = postgres.outputs.fqdn
output POSTGRES_REPLICA_HOST string = postgres.outputs.replicaFqdn
output POSTGRES_DATABASE string = postgres.outputs.databaseName
output POSTGRES_SKU_NAME string = postgresDeployedSkuName
output POSTGRES_APP_LOGIN string = identityName
output POSTGRES_OPERATOR_LOGIN string = principalLoginName
output POSTGRES_CONNECTION_BUDGET string = '${maximumInstanceCount} x (${postgresMaxPoolSize} + ${monitorsMaxPoolSize}) + ${postgresReservedConnections} = ${postgresConnectionsNeeded} of ${postgresMaxConnectionsBySku[postgresSkuName]} connections on ${postgresSkuName}'

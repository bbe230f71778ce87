// The `api` service: a Flex Consumption (FC1) plan and the .NET isolated function app that hosts the workflow
// orchestrations, activities, timer monitors and HTTP API. The app-setting keys below are the product's
// configuration contract: they are spelled exactly as in local.settings.sample.json (bicep-build.sh checks it).

param name string
param planName string
param location string = resourceGroup().location
param tags {*: string} = {}

@description('Service key in azure.yaml; azd finds the app to deploy to by the azd-service-name tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity used for storage and deployment.')
param identityResourceId string

@description('Client id of that identity (AzureWebJobsStorage__clientId).')
param identityClientId string

@description('Storage account used by the Functions host and the Durable task hub.')
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

param applicationInsightsConnectionString string

@description('.NET version of the isolated worker.')
param runtimeVersion string = '10.0'

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on scale-out. Each instance opens up to postgresMaxPoolSize connections to PostgreSQL.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Durable Functions task hub name (TaskHubName).')
param taskHubName string

@secure()
@description('Npgsql connection string (Postgres__ConnectionString).')
param postgresConnectionString string

@description('Npgsql pool size per instance (Postgres__MaxPoolSize).')
@minValue(1)
param postgresMaxPoolSize int

param llmProvider string
param llmEndpoint string

@secure()
param llmApiKey string

param llmModel string

@description('Folder of workflow definitions, relative to the deployed app (Workflows__DefinitionsPath).')
param workflowsDefinitionsPath string

@secure()
@description('Bearer token for /api/admin/* (Auth__AdminToken).')
param adminToken string

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: runtimeVersion
      }
    }
  }

  // This resource replaces the whole app-settings collection on every deployment: a setting changed by hand
  // in the portal is reset by the next `azd provision`. Change the parameters instead.
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // Functions host and Durable task hub storage, through the managed identity (no shared keys).
      // Flex Consumption takes the worker runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME is absent.
      AzureWebJobsStorage__accountName: storage.name
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
      TaskHubName: taskHubName
      Postgres__ConnectionString: postgresConnectionString
      Postgres__MaxPoolSize: string(postgresMaxPoolSize)
      // No read replica by default (a parameter of the database module adds one); /health checks it when set.
      Postgres__ReplicaConnectionString: ''
      Auth__Disabled: 'false'
      Llm__Provider: llmProvider
      Llm__Endpoint: llmEndpoint
      Llm__ApiKey: llmApiKey
      Llm__Model: llmModel
      Workflows__DefinitionsPath: workflowsDefinitionsPath
      Auth__AdminToken: adminToken
      // The reconciler's timer (NCRONTAB with seconds): runs whose orchestration ended or vanished are repaired/resumed.
      Reconciler__Schedule: '*/30 * * * * *'
      // The monitors' timers (NCRONTAB with seconds) and the notice sender's; notice channels are off until their
      // webhook URL / routing key is set (secrets: Key Vault references).
      Monitors__ReplicaLag__Schedule: '*/15 * * * * *'
      Monitors__ConnectionPool__Schedule: '*/15 * * * * *'
      Monitors__PrimaryDatabase__Schedule: '*/10 * * * * *'
      Monitors__StuckWorkflows__Schedule: '0 * * * * *'
      Monitors__FailureRate__Schedule: '0 * * * * *'
      Monitors__CircuitBreakers__Schedule: '*/15 * * * * *'
      Notices__Schedule: '*/5 * * * * *'
    }
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output uri string = 'https://${functionApp.properties.defaultHostName}'
output planName string = plan.name

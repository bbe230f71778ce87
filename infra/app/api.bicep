// The `api` service: a Flex Consumption (FC1) plan and the .NET isolated function app that hosts the workflow
// orchestrations, activities, timer monitors and HTTP API.
//
// The app settings below are the product's whole configuration on Azure: every key the Functions app's options
// classes bind, spelled `Section__Key` exactly as in local.settings.sample.json (a test in
// tests/Orchestrator.Functions.Tests compares both with the code), plus the platform's own keys. They are one object
// literal with literal key names so that the keys stay readable in the compiled template. Values are the code's
// defaults unless a comment says why Azure needs another one. Secrets are Key Vault references
// (`@Microsoft.KeyVault(VaultName=...;SecretName=...)`, without a version so that a rotated secret is picked up);
// a secret that was never set stays an unresolved reference, which the app treats as unset (that channel stays off).

param name string
param planName string
param location string
param tags {*: string} = {}

@description('Service key in azure.yaml; azd finds the app to deploy to by the azd-service-name tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity (storage, deployment, Key Vault references, PostgreSQL).')
param identityResourceId string

@description('Client id of that identity.')
param identityClientId string

@description('Storage account used by the Functions host and the Durable task hub.')
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

param applicationInsightsConnectionString string

@description('Key Vault holding the secrets the app settings reference.')
param keyVaultName string

@description('.NET version of the isolated worker.')
param runtimeVersion string = '10.0'

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on scale-out; main.bicep checks it against the PostgreSQL connection budget.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Durable Functions task hub name (TaskHubName).')
param taskHubName string

@description('Npgsql connection string of the primary, without a password (Entra tokens).')
param postgresConnectionString string

@description('Npgsql connection string of the read replica; empty without one.')
param postgresReplicaConnectionString string

@description('Npgsql pool size per instance (Postgres__MaxPoolSize).')
@minValue(1)
param postgresMaxPoolSize int

param llmProvider string
param llmEndpoint string
param llmModel string
param llmDeployment string
param llmUseManagedIdentity bool

@description('Folder of workflow definitions, relative to the deployed app (Workflows__DefinitionsPath).')
param workflowsDefinitionsPath string

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
    // Key Vault references are resolved with the user-assigned identity (the site has no system identity).
    keyVaultReferenceIdentity: identityResourceId
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

  // This resource replaces the whole app-settings collection on every deployment: a setting changed by hand in the
  // portal is reset by the next `azd provision`. Change the Bicep or its parameters instead; secrets live in Key Vault
  // and are never touched by a deployment.
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // Platform. The host and the Durable task hub reach storage with the managed identity (no shared keys). Flex
      // Consumption takes the worker runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME is not set here.
      AzureWebJobsStorage__accountName: storage.name
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
      TaskHubName: taskHubName

      // Timers (NCRONTAB with seconds), read by the [TimerTrigger("%...%")] bindings rather than by options classes.
      // The reconciler runs every 30 s rather than the local 15 s: each run is a billed execution on Flex Consumption.
      Reconciler__Schedule: '*/30 * * * * *'
      Notices__Schedule: '*/5 * * * * *'

      Api__MaxRequestBytes: '1048576'

      // Auth: never off on Azure (the app refuses Auth__Disabled=true outside Development). Both tokens are created
      // once by infra/hooks/postprovision.*; more API keys are more Auth__ApiKeys__<name> references.
      Auth__Disabled: 'false'
      Auth__AdminToken: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=admin-token)'
      Auth__ApiKeys__default: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=api-key-default)'

      Health__CheckTimeout: '00:00:03'
      Health__ReplicaLagDegradedAfter: '00:00:30'

      // The default LLM provider. Provider empty means: OpenAI-compatible once an endpoint or the llm-api-key secret
      // is set, the simulated provider until then.
      Llm__Provider: llmProvider
      Llm__Endpoint: llmEndpoint
      Llm__ApiKey: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=llm-api-key)'
      Llm__Model: llmModel
      Llm__Deployment: llmDeployment
      // With Llm__UseManagedIdentity=true (Azure OpenAI) the token comes from the app's user-assigned identity, which
      // has to be named: the site has no system identity for DefaultAzureCredential to fall back on.
      Llm__UseManagedIdentity: llmUseManagedIdentity ? 'true' : 'false'
      Llm__ManagedIdentityClientId: identityClientId
      Llm__Timeout: '00:02:00'
      Llm__SimulatedLatency: '00:00:00.3000000'
      Llm__MaxConcurrency: '32'
      // Empty: no per-minute limit (the binder reads an empty value as null for these nullable settings).
      Llm__RequestsPerMinute: ''
      Llm__TokensPerMinute: ''
      Llm__BreakerFailureRatio: '0.5'
      Llm__BreakerMinimumThroughput: '10'
      Llm__BreakerSamplingDuration: '00:01:00'
      Llm__BreakerDuration: '00:00:30'
      Llm__InputCostPer1K: '0'
      Llm__OutputCostPer1K: '0'
      Llm__ReservedOutputTokens: '1024'
      Llm__StructuredOutput: 'JsonSchema'
      Llm__StructuredOutputRepairs: '2'
      Llm__Breakers__SyncInterval: '00:00:01'
      Llm__Breakers__DatabaseTimeout: '00:00:02'
      // Empty: the LLM timeout plus 30 s.
      Llm__Breakers__ProbeLease: ''
      Llm__Limits__DatabaseTimeout: '00:00:02'
      Llm__Limits__FallbackProbeInterval: '00:00:03'
      Llm__Limits__PollInterval: '00:00:00.0250000'
      Llm__Limits__MaxPollInterval: '00:00:00.2500000'
      Llm__Limits__QueueTimeout: '00:00:30'
      Llm__Limits__SlotLease: '00:00:30'
      Llm__Limits__SlotRenewInterval: '00:00:10'
      Llm__Chaos__FaultRate: '0'
      Llm__Chaos__Latency: '00:00:05'
      Llm__Chaos__LatencyRate: '0'
      Llm__Chaos__OutcomeRate: '0'
      Llm__Chaos__OutcomeStatus: '503'

      Metrics__DatabaseCacheDuration: '00:00:05'
      Metrics__DatabaseTimeout: '00:00:02'

      // Monitors and incidents. Monitors__MaxPoolSize is the monitors' own pool on the primary and part of the
      // connection budget in main.bicep (monitorsMaxPoolSize there must stay equal to it).
      Monitors__Enabled: 'true'
      Monitors__MaxPoolSize: '4'
      Monitors__Owner: '@oncall-engineer'
      Monitors__UpdateInterval: '00:15:00'
      Monitors__EscalateAt: '0.8'
      Monitors__ReplicaLag__Schedule: '*/15 * * * * *'
      Monitors__ReplicaLag__Enabled: 'true'
      Monitors__ReplicaLag__Severity: 'P2'
      Monitors__ReplicaLag__For: '00:00:30'
      Monitors__ReplicaLag__ClearFor: '00:02:00'
      Monitors__ReplicaLag__ClearChecks: '3'
      Monitors__ReplicaLag__Rto: '00:02:00'
      Monitors__ReplicaLag__Timeout: '00:00:10'
      Monitors__ReplicaLag__MaxLag: '00:00:30'
      Monitors__ReplicaLag__MaxLagBytes: '67108864'
      Monitors__ReplicaLag__HeartbeatWait: '00:00:01'
      // Empty: the replica is found by its replication slot, not by application_name.
      Monitors__ReplicaLag__ReplicaName: ''
      Monitors__ConnectionPool__Schedule: '*/15 * * * * *'
      Monitors__ConnectionPool__Enabled: 'true'
      Monitors__ConnectionPool__Severity: 'P2'
      Monitors__ConnectionPool__TimeoutsSeverity: 'P1'
      Monitors__ConnectionPool__For: '00:00:30'
      Monitors__ConnectionPool__ClearFor: '00:02:00'
      Monitors__ConnectionPool__ClearChecks: '3'
      Monitors__ConnectionPool__Rto: '00:02:00'
      Monitors__ConnectionPool__Timeout: '00:00:10'
      Monitors__ConnectionPool__MaxPending: '1'
      Monitors__ConnectionPool__MaxPoolUsage: '0.9'
      Monitors__ConnectionPool__MaxServerUsage: '0.9'
      Monitors__PrimaryDatabase__Schedule: '*/10 * * * * *'
      Monitors__PrimaryDatabase__Enabled: 'true'
      Monitors__PrimaryDatabase__Severity: 'P1'
      Monitors__PrimaryDatabase__For: '00:00:20'
      Monitors__PrimaryDatabase__ClearFor: '00:00:30'
      Monitors__PrimaryDatabase__ClearChecks: '3'
      Monitors__PrimaryDatabase__Rto: '00:02:00'
      Monitors__PrimaryDatabase__Timeout: '00:00:05'
      Monitors__StuckWorkflows__Schedule: '0 * * * * *'
      Monitors__StuckWorkflows__Enabled: 'true'
      Monitors__StuckWorkflows__Severity: 'P2'
      Monitors__StuckWorkflows__For: '00:00:00'
      Monitors__StuckWorkflows__ClearFor: '00:02:00'
      Monitors__StuckWorkflows__ClearChecks: '3'
      Monitors__StuckWorkflows__Rto: '01:00:00'
      Monitors__StuckWorkflows__Timeout: '00:00:10'
      Monitors__StuckWorkflows__StuckAfter: '00:10:00'
      Monitors__StuckWorkflows__MaxListed: '20'
      Monitors__FailureRate__Schedule: '0 * * * * *'
      Monitors__FailureRate__Enabled: 'true'
      Monitors__FailureRate__Severity: 'P1'
      Monitors__FailureRate__For: '00:01:00'
      Monitors__FailureRate__ClearFor: '00:05:00'
      Monitors__FailureRate__ClearChecks: '3'
      Monitors__FailureRate__Rto: '00:30:00'
      Monitors__FailureRate__Timeout: '00:00:10'
      Monitors__FailureRate__Window: '00:15:00'
      Monitors__FailureRate__MaxFailureRatio: '0.5'
      Monitors__FailureRate__MinimumRuns: '10'
      Monitors__CircuitBreakers__Schedule: '*/15 * * * * *'
      Monitors__CircuitBreakers__Enabled: 'true'
      Monitors__CircuitBreakers__Severity: 'P2'
      Monitors__CircuitBreakers__For: '00:00:00'
      Monitors__CircuitBreakers__ClearFor: '00:01:00'
      Monitors__CircuitBreakers__ClearChecks: '3'
      Monitors__CircuitBreakers__Rto: '01:00:00'
      Monitors__CircuitBreakers__Timeout: '00:00:10'
      // The runbook's communication templates, exactly the built-in ones (Liquid). An empty value would not mean
      // "built-in": it would replace the template with an empty one, so the full text is spelled out.
      Monitors__Templates__Detected: '🚨 INCIDENT DETECTED 🚨\nSeverity: {{ severity }}\nIncident: {{ title }}\nImpact: {{ impact }}\nStarted: {{ started }}\nOwner: {{ owner }}\nStatus: {{ status }}\nMeasured: {{ summary }}\nNext step: {{ next_step }}\nETA: {{ eta }}'
      Monitors__Templates__Update: '📊 UPDATE ({{ elapsed }})\nIncident: {{ title }}\nCurrent status: {{ status }}\nProgress: {{ summary }}\nNext step: {{ next_step }}\nETA: {{ eta }}'
      Monitors__Templates__Escalation: 'ESCALATING to L2\nIncident: {{ title }}\nSeverity: {{ severity }}\nDuration: {{ duration }}\nImpact: {{ impact }}\nAttempted: {{ attempted }}\nNext step: {{ next_step }}'
      Monitors__Templates__Resolved: '✅ INCIDENT RESOLVED\nIncident: {{ title }}\nDuration: {{ duration }}\nRoot cause: {{ root_cause }}\nFix: {{ fix }}\nImpact: {{ impact }}\nFollow-up:\n{% for line in follow_up %}- {{ line }}\n{% endfor %}'

      // Notice channels: each is off until its secret is set in Key Vault (see infra/README.md).
      Notices__Slack__WebhookUrl: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=slack-webhook-url)'
      Notices__Teams__WebhookUrl: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=teams-webhook-url)'
      Notices__PagerDuty__RoutingKey: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=pagerduty-routing-key)'
      Notices__PagerDuty__EventsUrl: 'https://events.pagerduty.com/v2/enqueue'
      Notices__Webhook__Url: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=webhook-url)'
      Notices__Webhook__Secret: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=webhook-secret)'
      Notices__ClaimLease: '00:00:30'
      Notices__RequestTimeout: '00:00:10'
      Notices__InitialBackoff: '00:00:01'
      Notices__MaxBackoff: '00:05:00'
      Notices__PollInterval: '00:00:01'
      Notices__DatabaseTimeout: '00:00:05'

      Operations__RefreshInterval: '00:00:02'
      Operations__MaintenanceRetryAfter: '00:01:00'

      // PostgreSQL through Entra ID: the connection strings carry no password; the app gets a token for the
      // user-assigned identity (Postgres__ManagedIdentityClientId) for every new connection.
      Postgres__ConnectionString: postgresConnectionString
      Postgres__ReplicaConnectionString: postgresReplicaConnectionString
      Postgres__UseManagedIdentity: 'true'
      Postgres__ManagedIdentityClientId: identityClientId
      Postgres__MaxPoolSize: string(postgresMaxPoolSize)
      Postgres__MinPoolSize: '0'
      Postgres__ConnectionTimeoutSeconds: '15'
      Postgres__CommandTimeoutSeconds: '30'
      Postgres__MigrateOnStart: 'true'

      Reconciler__Enabled: 'true'
      Reconciler__Interval: '00:00:15'
      Reconciler__MinimumAge: '00:00:30'
      Reconciler__BatchSize: '200'

      Resilience__DatabaseRetryWindow: '00:03:00'
      Resilience__DatabaseRetryMaxDelay: '00:00:05'
      Resilience__OutageWindow: '00:30:00'
      Resilience__OutageRetryMaxInterval: '00:00:10'
      Resilience__StepLeaseDuration: '00:00:15'
      Resilience__StepLeaseRenewInterval: '00:00:05'
      Resilience__StepWaitPollInterval: '00:00:00.3000000'

      Workflows__DefinitionsPath: workflowsDefinitionsPath
    }
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output uri string = 'https://${functionApp.properties.defaultHostName}'
output planName string = plan.name

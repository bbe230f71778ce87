// Log Analytics workspace and a workspace-based Application Insights component for the function app, and the role
// that lets the app's identity send telemetry with Entra ID (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags {*: string} = {}

@description('Object id of the identity that publishes telemetry (Monitoring Metrics Publisher on the component).')
param publisherPrincipalId string

@description('Days to keep logs in the workspace.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Local (instrumentation-key) ingestion stays on because the worker's Azure Monitor exporter
    // (Orchestrator.Functions/FunctionsTelemetryExtensions.cs) is given only the connection string, no credential.
    // The Functions host already sends with the identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING and the role
    // below); once the worker's exporter gets a ManagedIdentityCredential too, this can be true.
    DisableLocalAuth: false
  }
}

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource publisherAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, publisherPrincipalId, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: publisherPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

output logAnalyticsName string = logAnalytics.name
output logAnalyticsWorkspaceId string = logAnalytics.id
output applicationInsightsName string = applicationInsights.name
output connectionString string = applicationInsights.properties.ConnectionString

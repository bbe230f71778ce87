// Log Analytics workspace and a workspace-based Application Insights component for the function app.

param logAnalyticsName string
param applicationInsightsName string
param location string = resourceGroup().location
param tags {*: string} = {}

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
    // Local (instrumentation-key) ingestion stays on: the worker's OpenTelemetry / Application Insights
    // exporters then need only APPLICATIONINSIGHTS_CONNECTION_STRING. Turning it off also requires
    // APPLICATIONINSIGHTS_AUTHENTICATION_STRING and the Monitoring Metrics Publisher role for the identity.
    DisableLocalAuth: false
  }
}

output logAnalyticsName string = logAnalytics.name
output logAnalyticsWorkspaceId string = logAnalytics.id
output applicationInsightsName string = applicationInsights.name
output connectionString string = applicationInsights.properties.ConnectionString

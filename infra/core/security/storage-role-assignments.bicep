// Data-plane roles on one storage account for one principal. Used twice: for the function app's managed
// identity and for the deploying user (so they can inspect task hub queues, tables and blobs with their own
// Entra identity, as shared keys are disabled).

@description('Name of an existing storage account in this resource group.')
param storageAccountName string

@description('Object id of the principal that receives the roles.')
param principalId string

@description('Type of the principal. Leave empty to let Azure look it up (safe for an existing user or service principal; set ServicePrincipal for a just-created managed identity to avoid replication-delay failures).')
@allowed([
  ''
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = ''

@description('Role definition ids (GUIDs) to assign.')
param roleDefinitionIds string[]

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleDefinitionId in roleDefinitionIds: {
    name: guid(storage.id, principalId, roleDefinitionId)
    scope: storage
    properties: {
      principalId: principalId
      principalType: empty(principalType) ? null : any(principalType)
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
    }
  }
]

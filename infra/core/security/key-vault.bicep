// Key Vault for the product's secrets: the admin token, API keys, the LLM key and the notice channels' webhook URLs,
// routing key and signing secret. The function app reads them through Key Vault references in its app settings
// (see app/api.bicep); nothing here writes a secret value, so provisioning again never changes one. The azd
// postprovision hook (infra/hooks/) creates the admin token and the default API key once; the operator sets the rest.
//
// Access is by Azure RBAC only (no access policies): the app's identity may read secrets (Key Vault Secrets User),
// the deploying principal may write them (Key Vault Secrets Officer), both on this vault only.

@description('Globally unique vault name (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags {*: string} = {}

@description('Principal that reads secrets: the app\'s user-assigned identity (object id).')
param readerPrincipalId string

@description('Principal that writes secrets (the deploying user or pipeline, for the postprovision hook and rotation); empty for none.')
param writerPrincipalId string = ''

@description('Type of writerPrincipalId; empty lets Azure look it up.')
@allowed([
  ''
  'User'
  'Group'
  'ServicePrincipal'
])
param writerPrincipalType string = ''

@description('Purge protection. Once on it cannot be turned off, and a deleted vault (with its secrets) then stays for softDeleteRetentionInDays: `azd down --purge` cannot purge it and the name stays taken. Off by default so that an environment can be torn down and created again.')
param enablePurgeProtection bool = false

@description('Days a deleted vault or secret can be recovered. Fixed when the vault is created.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Azure rejects `false` once purge protection is on, so the property is left out rather than set to false.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Flex Consumption without VNet integration resolves references over the public endpoint.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource readerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, readerPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource writerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(writerPrincipalId)) {
  name: guid(vault.id, writerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: writerPrincipalId
    principalType: empty(writerPrincipalType) ? null : any(writerPrincipalType)
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri

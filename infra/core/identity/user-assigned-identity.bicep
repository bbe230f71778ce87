// The identity the function app uses for storage (host, Durable task hub, deployment package), Key Vault references,
// PostgreSQL (an Entra administrator) and Application Insights: everything that accepts Entra ID tokens.
// User-assigned so that role assignments can be made before the app exists and survive the app being recreated.

@description('Name of the user-assigned managed identity.')
param name string

param location string
param tags {*: string} = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output resourceId string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId

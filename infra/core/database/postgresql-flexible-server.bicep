// Azure Database for PostgreSQL flexible server holding the product's state (database `workflows`:
// workflow_states, workflow_steps, incidents, circuit_breakers, settings; the app migrates the schema itself at
// start). Microsoft Entra authentication only: there is no password to keep, leak or rotate. The app's managed
// identity is an Entra administrator (it owns the schema it migrates), and so is the deploying user when their login
// is known, for psql with an access token. Optionally zone-redundant high availability, geo-redundant backups and one
// read replica (in this region or another), which the app's replica-lag monitor watches.

@description('Server name; becomes <name>.postgres.database.azure.com. At most 55 characters so that <name>-replica fits in 63.')
@minLength(3)
@maxLength(55)
param name string

param location string
param tags {*: string} = {}

@description('PostgreSQL major version.')
@allowed([
  '15'
  '16'
  '17'
])
param version string = '16'

@description('Compute size, e.g. Standard_B2s (Burstable) or Standard_D2ds_v5 (GeneralPurpose).')
param skuName string

@description('Compute tier matching skuName. High availability and read replicas need GeneralPurpose or MemoryOptimized.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string

@description('Provisioned storage in GiB (grows by itself when it fills up).')
@minValue(32)
param storageSizeGB int = 32

@description('Days of point-in-time restore.')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 7

@description('Keep backups in the paired region too (geo-restore). Azure only accepts this when the server is created.')
param geoRedundantBackup bool = false

@description('Zone-redundant high availability: a standby in another availability zone, automatic failover.')
param highAvailability bool = false

@description('Create a read replica.')
param enableReadReplica bool = false

@description('Region of the read replica; the server\'s own region when empty. Another region gives the cross-region replica of the runbook\'s multi-region row.')
param replicaLocation string = ''

@description('Database created on the server.')
param databaseName string = 'workflows'

@description('The app\'s user-assigned identity, made an Entra administrator: object (principal) id and name (the PostgreSQL role name).')
param appPrincipalId string
param appPrincipalName string

@description('A person made a second Entra administrator: object id and user principal name. Empty for none.')
param operatorPrincipalId string = ''
param operatorPrincipalName string = ''

@description('Allow connections from any Azure-hosted address (needed by Flex Consumption without VNet integration, whose outbound addresses are not fixed).')
param allowAzureServices bool = true

@description('An extra client IPv4 address allowed through the firewall (an operator workstation for psql); empty for none.')
param clientIpAddress string = ''

var hasOperator = !empty(operatorPrincipalId) && !empty(operatorPrincipalName)

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoRedundantBackup ? 'Enabled' : 'Disabled'
    }
    highAvailability: {
      mode: highAvailability ? 'ZoneRedundant' : 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }

  resource database 'databases' = {
    name: databaseName
    properties: {
      charset: 'UTF8'
      collation: 'en_US.utf8'
    }
  }

  resource allowAzure 'firewallRules' = if (allowAzureServices) {
    name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
    properties: {
      startIpAddress: '0.0.0.0'
      endIpAddress: '0.0.0.0'
    }
  }

  resource allowClient 'firewallRules' = if (!empty(clientIpAddress)) {
    name: 'AllowClientIp'
    properties: {
      startIpAddress: clientIpAddress
      endIpAddress: clientIpAddress
    }
  }
}

// Entra administrators are added one at a time: the server refuses a second administrator change while the first
// is still being applied. The resource name is the principal's object id; the role name is principalName.
resource appAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: server
  name: appPrincipalId
  properties: {
    principalName: appPrincipalName
    principalType: 'ServicePrincipal'
    tenantId: tenant().tenantId
  }
  dependsOn: [
    server::database
    server::allowAzure
    server::allowClient
  ]
}

resource operatorAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = if (hasOperator) {
  parent: server
  name: hasOperator ? operatorPrincipalId : 'none'
  properties: {
    principalName: operatorPrincipalName
    principalType: 'User'
    tenantId: tenant().tenantId
  }
  dependsOn: [
    appAdministrator
  ]
}

// The replica is a physical copy of the primary: databases, roles and Entra administrators come with it. It is created
// last, once the primary is fully configured.
resource replica 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = if (enableReadReplica) {
  name: '${name}-replica'
  location: empty(replicaLocation) ? location : replicaLocation
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    createMode: 'Replica'
    sourceServerResourceId: server.id
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
  }
  dependsOn: [
    appAdministrator
    operatorAdministrator
  ]
}

resource replicaAllowAzure 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = if (enableReadReplica && allowAzureServices) {
  parent: replica
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource replicaAllowClient 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = if (enableReadReplica && !empty(clientIpAddress)) {
  parent: replica
  name: 'AllowClientIp'
  properties: {
    startIpAddress: clientIpAddress
    endIpAddress: clientIpAddress
  }
  dependsOn: [
    replicaAllowAzure
  ]
}

output name string = server.name
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = server::database.name
output replicaName string = enableReadReplica ? replica.name : ''
output replicaFqdn string = enableReadReplica ? replica!.properties.fullyQualifiedDomainName : ''

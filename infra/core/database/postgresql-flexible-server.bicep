// Azure Database for PostgreSQL flexible server holding the product's state (database `workflows`:
// workflow_states, workflow_steps, incidents, circuit_breakers, settings; the app migrates the schema itself at
// start). Optionally one read replica, which the app's replica-lag monitor watches.

@description('Server name; becomes <name>.postgres.database.azure.com. At most 55 characters so that <name>-replica fits in 63.')
@minLength(3)
@maxLength(55)
param name string

param location string = resourceGroup().location
param tags {*: string} = {}

@description('PostgreSQL major version.')
@allowed([
  '15'
  '16'
])
param version string = '16'

@description('Compute size, e.g. Standard_B1ms (Burstable) or Standard_D2ds_v5 (GeneralPurpose).')
param skuName string = 'Standard_B1ms'

@description('Compute tier matching skuName. Read replicas need GeneralPurpose or MemoryOptimized.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'Burstable'

@description('Provisioned storage in GiB.')
@minValue(32)
param storageSizeGB int = 32

@description('Administrator login. Azure rejects postgres, admin, administrator, root, guest, public, azure_superuser and names starting with pg_.')
param administratorLogin string

@secure()
@description('Administrator password.')
param administratorLoginPassword string

@description('Database created on the server.')
param databaseName string = 'workflows'

@description('Create a read replica in the same region (not available on the Burstable tier).')
param enableReadReplica bool = false

@description('Allow connections from any Azure-hosted address (needed by Flex Consumption without VNet integration, whose outbound addresses are not fixed).')
param allowAzureServices bool = true

@description('An extra client IPv4 address allowed through the firewall (an operator workstation for psql); empty for none.')
param clientIpAddress string = ''

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
    administratorLogin: administratorLogin
    administratorLoginPassword: administratorLoginPassword
    authConfig: {
      passwordAuth: 'Enabled'
      activeDirectoryAuth: 'Disabled'
    }
    storage: {
      storageSizeGB: storageSizeGB
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
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

resource replica 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = if (enableReadReplica) {
  name: '${name}-replica'
  location: location
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
    }
  }
  // The source must be fully configured (database, firewall) before Azure snapshots it into a replica.
  dependsOn: [
    server::database
    server::allowAzure
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
}

output name string = server.name
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = server::database.name
output replicaName string = enableReadReplica ? replica.name : ''
output replicaFqdn string = enableReadReplica ? replica!.properties.fullyQualifiedDomainName : ''

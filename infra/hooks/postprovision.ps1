# azd postprovision hook for Windows (PowerShell 7); infra/hooks/postprovision.sh is the POSIX twin and the reference:
# keep the two in step.
#
# Creates the two secrets the app cannot start without, admin-token and api-key-default, in the environment's Key Vault
# with a random 48-character value, but ONLY when the secret does not exist yet: provisioning again never rotates them
# (the Bicep never writes a secret value either). Then prints how to read them and how to set the optional ones.
#
# A secret counts as missing only when Key Vault answers SecretNotFound. Any other failure (no permission yet: a role
# assignment made by this provisioning takes a few minutes to reach Key Vault) is retried and, if it persists, stops
# the hook without writing anything.
#
# Needs the Azure CLI signed in to the same tenant (`az login`); azd passes AZURE_KEY_VAULT_NAME (and the other
# outputs of infra/main.bicep) in the environment.
# Environment: POSTPROVISION_RETRIES (default 18) and POSTPROVISION_RETRY_DELAY (seconds, default 10).
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$vault = $env:AZURE_KEY_VAULT_NAME
$retries = if ($env:POSTPROVISION_RETRIES) { [int]$env:POSTPROVISION_RETRIES } else { 18 }
$delay = if ($env:POSTPROVISION_RETRY_DELAY) { [int]$env:POSTPROVISION_RETRY_DELAY } else { 10 }
$requiredSecrets = @('admin-token', 'api-key-default')
$optionalSecrets = @('llm-api-key', 'slack-webhook-url', 'teams-webhook-url', 'pagerduty-routing-key', 'webhook-url', 'webhook-secret')

function Stop-Hook([string]$Message) {
    [Console]::Error.WriteLine("postprovision: $Message")
    exit 1
}

# Runs az with the given arguments; returns its exit code, standard output and standard error.
function Invoke-Az([string[]]$Arguments) {
    $errorPath = (New-TemporaryFile).FullName
    try {
        $output = & az @Arguments 2> $errorPath
        $code = $LASTEXITCODE
        $errorText = Get-Content -Raw -LiteralPath $errorPath
    }
    finally {
        Remove-Item -LiteralPath $errorPath -Force -ErrorAction SilentlyContinue
    }
    [pscustomobject]@{ Code = $code; Output = $output; Error = "$errorText".Trim() }
}

# 'present' or 'absent' for a secret; stops the hook after the retries on any other answer.
function Get-SecretState([string]$Name) {
    for ($attempt = 1; ; $attempt++) {
        $result = Invoke-Az @('keyvault', 'secret', 'show', '--vault-name', $vault, '--name', $Name, '--query', 'id', '--output', 'tsv')
        if ($result.Code -eq 0) { return 'present' }
        if ($result.Error -match 'SecretNotFound') { return 'absent' }
        if ($attempt -ge $retries) {
            Stop-Hook "cannot tell whether $Name exists in Key Vault $vault, so nothing was written: $($result.Error)"
        }
        $firstLine = ($result.Error -split "`n")[0]
        [Console]::Error.WriteLine("postprovision: Key Vault $vault did not answer for $Name (attempt $attempt of $retries; new role assignments take a few minutes): $firstLine")
        Start-Sleep -Seconds $delay
    }
}

# 48 characters from [A-Za-z0-9] (about 285 bits), from the system's cryptographic random source.
function New-RandomToken {
    $alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    -join (1..48 | ForEach-Object { $alphabet[[System.Security.Cryptography.RandomNumberGenerator]::GetInt32($alphabet.Length)] })
}

# Writes a new random value for a secret. The value goes through a private temporary file, never the command line.
function New-Secret([string]$Name) {
    $path = (New-TemporaryFile).FullName
    try {
        [System.IO.File]::WriteAllText($path, (New-RandomToken), [System.Text.UTF8Encoding]::new($false))
        $result = Invoke-Az @('keyvault', 'secret', 'set', '--vault-name', $vault, '--name', $Name, '--file', $path, '--encoding', 'utf-8', '--output', 'none')
    }
    finally {
        Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    }
    if ($result.Code -ne 0) {
        if ($result.Error -match 'deleted but recoverable|ObjectIsDeletedButRecoverable') {
            Stop-Hook "$Name was deleted and is still recoverable in $vault. Recover it (keeps the old value): az keyvault secret recover --vault-name $vault --name $Name; or purge it first: az keyvault secret purge --vault-name $vault --name $Name. Then run 'azd hooks run postprovision' again."
        }
        Stop-Hook "could not create $Name in Key Vault ${vault}: $($result.Error)"
    }
}

if (-not $vault) {
    Stop-Hook 'AZURE_KEY_VAULT_NAME is not set; run this through azd (azd provision / azd up) or set it.'
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Stop-Hook "the Azure CLI (az) is needed to create the first secrets in Key Vault $vault; install it, run 'az login', then 'azd hooks run postprovision'."
}
if ((Invoke-Az @('account', 'show', '--output', 'none')).Code -ne 0) {
    Stop-Hook "the Azure CLI is not signed in; run 'az login' (same tenant as azd), then 'azd hooks run postprovision'."
}

foreach ($name in $requiredSecrets) {
    if ((Get-SecretState $name) -eq 'absent') {
        New-Secret $name
        Write-Host "postprovision: created $name in Key Vault $vault"
    }
    else {
        Write-Host "postprovision: $name already exists in Key Vault ${vault}: left unchanged"
    }
}

$listed = Invoke-Az @('keyvault', 'secret', 'list', '--vault-name', $vault, '--query', '[].name', '--output', 'tsv')
$present = if ($listed.Code -eq 0) { @($listed.Output) } else { @() }
$setOptional = @($optionalSecrets | Where-Object { $present -contains $_ })
$unsetOptional = @($optionalSecrets | Where-Object { $present -notcontains $_ })
$setText = if ($setOptional.Count) { $setOptional -join ' ' } else { 'none' }
$unsetText = if ($unsetOptional.Count) { $unsetOptional -join ' ' } else { 'none' }
$resourceGroup = if ($env:AZURE_RESOURCE_GROUP) { $env:AZURE_RESOURCE_GROUP } else { '<resource group>' }
$functionApp = if ($env:AZURE_FUNCTION_APP_NAME) { $env:AZURE_FUNCTION_APP_NAME } else { '<function app>' }

Write-Host @"

Secrets in Key Vault $vault (the app reads them through Key Vault references):
  admin token (Auth__AdminToken)      az keyvault secret show --vault-name $vault --name admin-token --query value --output tsv
  API key (Auth__ApiKeys__default)    az keyvault secret show --vault-name $vault --name api-key-default --query value --output tsv
  for the runbook's commands:         `$env:ADMIN_TOKEN = az keyvault secret show --vault-name $vault --name admin-token --query value --output tsv

Optional secrets, each switching a feature on (set: $setText; not set: $unsetText):
  llm-api-key            the LLM provider's API key (Llm__ApiKey)
  slack-webhook-url      Slack incoming webhook for incident notices
  teams-webhook-url      Teams Workflows webhook for incident notices
  pagerduty-routing-key  PagerDuty Events v2 routing key
  webhook-url            generic webhook for incident notices
  webhook-secret         the key that signs the generic webhook's requests
  set one with:  az keyvault secret set --vault-name $vault --name <name> --value '<value>'
  then restart the app so it reads it at once (otherwise within 24 h):
                 az functionapp restart --resource-group $resourceGroup --name $functionApp
"@

#!/bin/sh
# azd postprovision hook (POSIX; infra/hooks/postprovision.ps1 is the Windows twin, azure.yaml runs the right one).
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
# outputs of infra/main.bicep) in the environment. Tested by infra/hooks/test-postprovision.sh with a fake `az`.
# Environment: POSTPROVISION_RETRIES (default 18) and POSTPROVISION_RETRY_DELAY (seconds, default 10).
set -eu

vault="${AZURE_KEY_VAULT_NAME:-}"
retries="${POSTPROVISION_RETRIES:-18}"
delay="${POSTPROVISION_RETRY_DELAY:-10}"
required_secrets="admin-token api-key-default"
optional_secrets="llm-api-key slack-webhook-url teams-webhook-url pagerduty-routing-key webhook-url webhook-secret"

say() { printf 'postprovision: %s\n' "$*"; }
die() {
  printf 'postprovision: %s\n' "$*" >&2
  exit 1
}

[ -n "$vault" ] || die "AZURE_KEY_VAULT_NAME is not set; run this through azd (azd provision / azd up) or export it."
command -v az > /dev/null 2>&1 || die "the Azure CLI (az) is needed to create the first secrets in Key Vault $vault; install it, run 'az login', then 'azd hooks run postprovision'."
az account show --output none > /dev/null 2>&1 || die "the Azure CLI is not signed in; run 'az login' (same tenant as azd), then 'azd hooks run postprovision'."

# Prints "present" or "absent" for secret $1; fails after the retries on any other answer.
secret_state() {
  name=$1
  attempt=1
  while :; do
    if err=$(az keyvault secret show --vault-name "$vault" --name "$name" --query id --output tsv 2>&1 > /dev/null); then
      echo present
      return 0
    fi
    case $err in
      *SecretNotFound*)
        echo absent
        return 0
        ;;
    esac
    if [ "$attempt" -ge "$retries" ]; then
      printf 'postprovision: cannot tell whether %s exists in Key Vault %s, so nothing was written: %s\n' "$name" "$vault" "$err" >&2
      return 1
    fi
    printf 'postprovision: Key Vault %s did not answer for %s (attempt %s of %s; new role assignments take a few minutes): %s\n' \
      "$vault" "$name" "$attempt" "$retries" "$(printf '%s' "$err" | head -n 1)" >&2
    attempt=$((attempt + 1))
    sleep "$delay"
  done
}

# 48 characters from [A-Za-z0-9] (about 285 bits), from the kernel's random source.
random_token() {
  LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 48
}

# Writes a new random value for secret $1. The value goes through a private temporary file, never the command line.
create_secret() {
  name=$1
  value=$(random_token)
  [ "${#value}" -eq 48 ] || die "could not generate a random value for $name"
  file=$(mktemp)
  chmod 600 "$file"
  printf '%s' "$value" > "$file"
  value=""
  if ! err=$(az keyvault secret set --vault-name "$vault" --name "$name" --file "$file" --encoding utf-8 --output none 2>&1); then
    rm -f "$file"
    case $err in
      *"deleted but recoverable"* | *ObjectIsDeletedButRecoverable*)
        die "$name was deleted and is still recoverable in $vault. Recover it (keeps the old value): az keyvault secret recover --vault-name $vault --name $name; or purge it first: az keyvault secret purge --vault-name $vault --name $name. Then run 'azd hooks run postprovision' again."
        ;;
    esac
    die "could not create $name in Key Vault $vault: $err"
  fi
  rm -f "$file"
}

for name in $required_secrets; do
  state=$(secret_state "$name") || exit 1
  if [ "$state" = absent ]; then
    create_secret "$name"
    say "created $name in Key Vault $vault"
  else
    say "$name already exists in Key Vault $vault: left unchanged"
  fi
done

present=$(az keyvault secret list --vault-name "$vault" --query "[].name" --output tsv 2> /dev/null || true)
set_optional=""
unset_optional=""
for name in $optional_secrets; do
  if printf '%s\n' "$present" | grep -qx "$name"; then
    set_optional="$set_optional $name"
  else
    unset_optional="$unset_optional $name"
  fi
done

cat << EOF

Secrets in Key Vault $vault (the app reads them through Key Vault references):
  admin token (Auth__AdminToken)      az keyvault secret show --vault-name $vault --name admin-token --query value --output tsv
  API key (Auth__ApiKeys__default)    az keyvault secret show --vault-name $vault --name api-key-default --query value --output tsv
  for the runbook's commands:         export ADMIN_TOKEN="\$(az keyvault secret show --vault-name $vault --name admin-token --query value --output tsv)"

Optional secrets, each switching a feature on (set:${set_optional:- none}; not set:${unset_optional:- none}):
  llm-api-key            the LLM provider's API key (Llm__ApiKey)
  slack-webhook-url      Slack incoming webhook for incident notices
  teams-webhook-url      Teams Workflows webhook for incident notices
  pagerduty-routing-key  PagerDuty Events v2 routing key
  webhook-url            generic webhook for incident notices
  webhook-secret         the key that signs the generic webhook's requests
  set one with:  az keyvault secret set --vault-name $vault --name <name> --value '<value>'
  then restart the app so it reads it at once (otherwise within 24 h):
                 az functionapp restart --resource-group ${AZURE_RESOURCE_GROUP:-<resource group>} --name ${AZURE_FUNCTION_APP_NAME:-<function app>}
EOF

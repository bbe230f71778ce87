#!/usr/bin/env bash
# Tests infra/hooks/postprovision.sh against a fake `az` (first on PATH) that records every call and keeps a vault in a
# temporary directory:
#   1. an empty vault: the hook creates admin-token and api-key-default, 48 random letters and digits each, different,
#      without the value ever appearing on a command line;
#   2. the same vault again: the hook sets nothing and both values are unchanged (provisioning again never rotates);
#   3. a vault holding both secrets that answers Forbidden twice first (role assignment not yet effective): the hook
#      retries and sets nothing;
#   4. a vault that keeps answering Forbidden: the hook fails and sets nothing;
#   5. no AZURE_KEY_VAULT_NAME: the hook fails and calls nothing.
# Runs the hook with /bin/sh, as azd does on Linux and macOS. Usage: infra/hooks/test-postprovision.sh
set -euo pipefail

hook="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/postprovision.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/vault"

cat > "$work/bin/az" << 'EOF'
#!/bin/sh
# Fake Azure CLI: logs its arguments, keeps secrets as files in $FAKE_AZ_VAULT.
printf '%s\n' "$*" >> "$FAKE_AZ_LOG"
arg() { # value after option $1
  want=$1; shift
  while [ $# -gt 0 ]; do
    if [ "$1" = "$want" ]; then printf '%s' "$2"; return 0; fi
    shift
  done
}
case "$1 $2 $3" in
  "account show "*) exit 0 ;;
  "keyvault secret show")
    if [ -f "$FAKE_AZ_DENY" ] && [ "$(cat "$FAKE_AZ_DENY")" -gt 0 ]; then
      echo $(( $(cat "$FAKE_AZ_DENY") - 1 )) > "$FAKE_AZ_DENY"
      echo "ERROR: (Forbidden) Caller is not authorized to perform action on resource." >&2
      exit 1
    fi
    name=$(arg --name "$@")
    if [ -f "$FAKE_AZ_VAULT/$name" ]; then
      echo "https://fake.vault.azure.net/secrets/$name/0123"
      exit 0
    fi
    echo "ERROR: (SecretNotFound) A secret with (name/id) $name was not found in this key vault." >&2
    exit 3 ;;
  "keyvault secret set")
    name=$(arg --name "$@")
    file=$(arg --file "$@")
    [ -n "$file" ] || { echo "fake az: expected --file" >&2; exit 2; }
    cp "$file" "$FAKE_AZ_VAULT/$name"
    exit 0 ;;
  "keyvault secret list") ls "$FAKE_AZ_VAULT"; exit 0 ;;
esac
echo "fake az: unexpected call: $*" >&2
exit 2
EOF
chmod +x "$work/bin/az"

export FAKE_AZ_LOG="$work/az.log" FAKE_AZ_VAULT="$work/vault" FAKE_AZ_DENY="$work/deny"
export AZURE_KEY_VAULT_NAME=kv-test AZURE_RESOURCE_GROUP=rg-test AZURE_FUNCTION_APP_NAME=func-test
export POSTPROVISION_RETRIES=4 POSTPROVISION_RETRY_DELAY=0
failures=0

fail() {
  echo "test-postprovision: FAIL: $*" >&2
  failures=$((failures + 1))
}

# run_hook NAME: runs the hook with a fresh call log; returns its exit status, output in $work/NAME.out.
run_hook() {
  : > "$FAKE_AZ_LOG"
  local status=0
  PATH="$work/bin:$PATH" sh "$hook" > "$work/$1.out" 2>&1 || status=$?
  return "$status"
}

sets() { grep -c '^keyvault secret set' "$FAKE_AZ_LOG" || true; }

# 1. Empty vault: both secrets are created.
run_hook first || fail "first run exited non-zero: $(cat "$work/first.out")"
[[ "$(sets)" == 2 ]] || fail "first run: expected 2 secret writes, got $(sets)"
for name in admin-token api-key-default; do
  [[ -f "$work/vault/$name" ]] || { fail "first run did not create $name"; continue; }
  value="$(cat "$work/vault/$name")"
  [[ "$value" =~ ^[A-Za-z0-9]{48}$ ]] || fail "$name is not 48 letters and digits: '$value'"
  if grep -qF -- "$value" "$FAKE_AZ_LOG"; then fail "the value of $name appeared on the az command line"; fi
done
[[ "$(cat "$work/vault/admin-token" 2> /dev/null)" != "$(cat "$work/vault/api-key-default" 2> /dev/null)" ]] ||
  fail "admin-token and api-key-default got the same value"
grep -q 'az keyvault secret show --vault-name kv-test --name admin-token --query value' "$work/first.out" ||
  fail "first run did not print how to read the admin token"
grep -q 'llm-api-key' "$work/first.out" || fail "first run did not print how to set the optional secrets"
before="$(cat "$work/vault/admin-token" "$work/vault/api-key-default" 2> /dev/null)"

# 2. Same vault again: nothing is written, nothing changes.
run_hook second || fail "second run exited non-zero: $(cat "$work/second.out")"
[[ "$(sets)" == 0 ]] || fail "second run: expected no secret writes, got $(sets)"
[[ "$(cat "$work/vault/admin-token" "$work/vault/api-key-default")" == "$before" ]] || fail "second run changed a secret"
grep -q 'admin-token already exists' "$work/second.out" || fail "second run did not say admin-token was left unchanged"

# 3. Forbidden twice, then the vault answers: retried, still nothing written.
echo 2 > "$FAKE_AZ_DENY"
run_hook retried || fail "run with a slow role assignment exited non-zero: $(cat "$work/retried.out")"
[[ "$(sets)" == 0 ]] || fail "run with a slow role assignment wrote $(sets) secret(s)"
[[ "$(grep -c '^keyvault secret show' "$FAKE_AZ_LOG")" == 4 ]] || fail "expected 2 denied + 2 answered reads, got: $(cat "$FAKE_AZ_LOG")"

# 4. Forbidden for good (on an empty vault): fails without writing.
rm -f "$work/vault/"*
echo 100 > "$FAKE_AZ_DENY"
if run_hook denied; then fail "run against a vault that keeps refusing succeeded"; fi
[[ "$(sets)" == 0 ]] || fail "run against a vault that keeps refusing wrote $(sets) secret(s)"
grep -q 'nothing was written' "$work/denied.out" || fail "denied run did not explain itself: $(cat "$work/denied.out")"
rm -f "$FAKE_AZ_DENY"

# 5. Not run through azd: fails before calling az.
if AZURE_KEY_VAULT_NAME="" run_hook unset; then fail "run without AZURE_KEY_VAULT_NAME succeeded"; fi
[[ ! -s "$FAKE_AZ_LOG" ]] || fail "run without AZURE_KEY_VAULT_NAME called az: $(cat "$FAKE_AZ_LOG")"

if ((failures > 0)); then
  echo "test-postprovision: $failures failure(s)" >&2
  exit 1
fi
echo "test-postprovision: OK (creates both secrets once, never rotates, never writes after a failed read)"

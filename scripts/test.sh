#!/usr/bin/env bash
# Run the whole test suite against local infrastructure.
#   1. scripts/infra-up.sh (PostgreSQL primary 5432 + streaming replica 5433, Azurite 10000-10002); skip with
#      ORCH_TEST_SKIP_INFRA=1 when the ORCH_TEST_* variables point at infrastructure managed elsewhere.
#   2. promtool (Debian package prometheus) when missing, for the /metrics exposition test; then
#      promtool check rules / test rules on ops/prometheus/alerts.yml (a broken rule fails the run).
#   3. infra/bicep-build.sh (the Bicep compiles and lints with no error or warning) and
#      infra/hooks/test-postprovision.sh (the azd hook creates the first secrets once, never rotates them); a failure
#      fails the run.
#   4. dotnet test (Debug) of the test projects under tests/: each once (Orchestrator.Core.Tests,
#      Orchestrator.Functions.Tests) except Orchestrator.Server.Tests, which runs once per durable backend in
#      ORCH_TEST_DURABLE_BACKENDS (space separated, default "Postgres AzureStorage", in that order; each pass sets
#      ORCH_TEST_DURABLE_BACKEND for its tests). One TRX file per project and pass in .infra/test-results/ (cleaned
#      first): <project>.trx, and Orchestrator.Server.Tests-<backend>.trx.
#   5. Prints "N passed, N failed[, N skipped]" summed over every TRX file (a Server test counts once per backend).
# Exit status is non-zero when a dotnet test fails or when no test ran at all.
# Extra arguments go to every dotnet test, e.g.: scripts/test.sh --filter "FullyQualifiedName~Persistence"
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

read -r -a durable_backends <<<"${ORCH_TEST_DURABLE_BACKENDS:-Postgres AzureStorage}"
((${#durable_backends[@]} > 0)) || die "ORCH_TEST_DURABLE_BACKENDS names no durable backend (Postgres, AzureStorage)"
for backend in "${durable_backends[@]}"; do
  [[ "$backend" == Postgres || "$backend" == AzureStorage ]] ||
    die "ORCH_TEST_DURABLE_BACKENDS: unknown durable backend '$backend' (Postgres, AzureStorage)"
done

if [[ "${ORCH_TEST_SKIP_INFRA:-0}" != 1 ]]; then
  bash "$REPO_ROOT/scripts/infra-up.sh"
  pg_load_roles # the primary may be on the replica's port after scripts/failover.sh
fi

# Connection settings read by the tests; the defaults match scripts/infra-up.sh (whichever node is the primary now).
export ORCH_TEST_POSTGRES="${ORCH_TEST_POSTGRES:-Host=127.0.0.1;Port=$PG_PRIMARY_PORT;Username=postgres;Password=postgres;Database=postgres}"
export ORCH_TEST_POSTGRES_REPLICA="${ORCH_TEST_POSTGRES_REPLICA:-Host=127.0.0.1;Port=$PG_REPLICA_PORT;Username=postgres;Password=postgres;Database=postgres}"
if [[ "${AZURITE_PORTS[*]}" == "10000 10001 10002" ]]; then
  export ORCH_TEST_AZURITE="${ORCH_TEST_AZURITE:-UseDevelopmentStorage=true}"
else
  # Azurite's well-known development account, on the moved ports.
  export ORCH_TEST_AZURITE="${ORCH_TEST_AZURITE:-DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${AZURITE_PORTS[0]}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:${AZURITE_PORTS[1]}/devstoreaccount1;TableEndpoint=http://127.0.0.1:${AZURITE_PORTS[2]}/devstoreaccount1;}"
fi

# The metrics tests check a live /metrics with `promtool check metrics` (Debian package prometheus).
if ! command -v promtool >/dev/null 2>&1; then
  log "installing promtool (Debian package prometheus) for the metrics tests ..."
  apt_install prometheus
fi

# The Prometheus alerting rules: valid, and each one fires (and stays quiet) where its unit tests say.
rules_rc=0
promtool check rules "$REPO_ROOT/ops/prometheus/alerts.yml" || rules_rc=$?
promtool test rules "$REPO_ROOT/ops/prometheus/alerts.test.yml" || rules_rc=$?

# The Azure infrastructure: main.bicep compiles and lints clean, and the postprovision hook behaves.
infra_rc=0
bash "$REPO_ROOT/infra/bicep-build.sh" </dev/null || infra_rc=$?
bash "$REPO_ROOT/infra/hooks/test-postprovision.sh" </dev/null || infra_rc=$?

RESULTS_DIR="$INFRA_DIR/test-results"
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

cd "$REPO_ROOT"
# Every test project under tests/ except the Server's runs once; the Server's end-to-end suite once per durable
# backend, built by its first pass. A failed pass does not stop the next; rc keeps the last failure.
rc=0
server=Orchestrator.Server.Tests
while IFS= read -r project; do
  name="$(basename "$project" .csproj)"
  [[ "$name" != "$server" ]] || continue
  dotnet test "$project" --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS_DIR" "$@" </dev/null || rc=$?
done < <(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | sort)
build=()
for backend in "${durable_backends[@]}"; do
  log "$server on the $backend durable backend ..."
  ORCH_TEST_DURABLE_BACKEND="$backend" dotnet test "tests/$server" "${build[@]}" --logger "trx;LogFileName=$server-$backend.trx" \
    --results-directory "$RESULTS_DIR" "$@" </dev/null || rc=$?
  build=(--no-build)
done

# Sum the <Counters> of every TRX file. failed = failed + error + timeout + aborted; skipped = the rest of total
# (xUnit's skipped tests are counted in total but not in executed).
passed=0 failed=0 skipped=0 files=0
attr() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"; }
while IFS= read -r -d '' trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1 || true)"
  [[ -n "$counters" ]] || continue
  files=$((files + 1))
  t="$(attr total "$counters")"; p="$(attr passed "$counters")"
  f=$(($(attr failed "$counters") + $(attr error "$counters") + $(attr timeout "$counters") + $(attr aborted "$counters")))
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + t - p - f))
done < <(find "$RESULTS_DIR" -name '*.trx' -print0)

summary="$passed passed, $failed failed"
((skipped > 0)) && summary+=", $skipped skipped"
echo
echo "$summary"

if ((rules_rc != 0)); then
  log "the Prometheus rules in ops/prometheus failed promtool check/test rules (see above)"
  exit "$rules_rc"
fi
if ((infra_rc != 0)); then
  log "the Azure infrastructure checks failed: infra/bicep-build.sh or infra/hooks/test-postprovision.sh (see above)"
  exit "$infra_rc"
fi
if ((rc != 0)); then
  log "dotnet test failed (exit code $rc); TRX results in $RESULTS_DIR ($files file(s))"
  exit "$rc"
fi
if ((passed + failed == 0)); then
  log "no tests ran (found $files TRX file(s) in $RESULTS_DIR); treating as failure"
  exit 1
fi
if ((failed > 0)); then
  log "$failed test(s) failed although dotnet test exited 0"
  exit 1
fi

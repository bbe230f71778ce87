#!/usr/bin/env bash
# Run the recovery drills of the runbook's "Recovery Time Guidelines" table and print one line per drill: scenario,
# measured RTO (to the first step progressing again, and to every run completed), measured RPO, target, PASS/FAIL.
#
#   scripts/drill.sh all                 every scenario
#   scripts/drill.sh <scenario> ...      app-crash db-connection-loss db-crash failover network-partition
#                                        data-corruption backup-restore taskhub-loss
#   ORCH_DRILL_LONG=1 scripts/drill.sh db-connection-loss    adds the long variants (a 90 s outage)
#   ORCH_TEST_DURABLE_BACKEND=AzureStorage scripts/drill.sh all    the Server's task hub on Azurite, not in PostgreSQL
#                                        (the default backend, Postgres); taskhub-loss runs on AzureStorage only
#
# Each drill starts its own Server, puts 20 three-step runs in flight against a fake LLM (1 s per call), injects the
# fault, and asserts that no run fails because of it, no completed step is bought again, every step is recorded once
# and PostgreSQL agrees with the durable status at the end. The database drills run on a PostgreSQL primary + replica
# of their own (.infra/drill, ports 5452/5453), never on the one the other tests use. The same drills run in
# scripts/test.sh.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCENARIOS=(app-crash db-connection-loss db-crash failover network-partition data-corruption backup-restore taskhub-loss)
(($# > 0)) || die "usage: scripts/drill.sh all | <scenario> ... (${SCENARIOS[*]})"

filters=()
for arg in "$@"; do
  if [[ "$arg" == all ]]; then filters=("FullyQualifiedName~Orchestrator.Server.Tests.Drills"); break; fi
  [[ " ${SCENARIOS[*]} " == *" $arg "* ]] || die "unknown scenario '$arg'; one of: all ${SCENARIOS[*]}"
  filters+=("Scenario=$arg")
done
filter="$(IFS='|'; echo "${filters[*]}")"

bash "$REPO_ROOT/scripts/infra-up.sh" >/dev/null
cd "$REPO_ROOT"
dotnet build tests/Orchestrator.Server.Tests -v q -nologo >"$INFRA_DIR/drill-build.log" 2>&1 ||
  { tail -n 30 "$INFRA_DIR/drill-build.log" >&2; die "build failed (log: $INFRA_DIR/drill-build.log)"; }

report="$INFRA_DIR/drill-report.txt"
: >"$report"
rc=0
ORCH_DRILL_REPORT="$report" dotnet test tests/Orchestrator.Server.Tests --no-build --filter "$filter" \
  --logger "console;verbosity=minimal" >"$INFRA_DIR/drill-test.log" 2>&1 </dev/null || rc=$?

echo
echo "durable backend: ${ORCH_TEST_DURABLE_BACKEND:-Postgres}"
cat "$report"
echo
grep -E '^\s*(Passed|Failed)!' "$INFRA_DIR/drill-test.log" || true
if ((rc != 0)); then
  grep -E '^\s*Failed ' "$INFRA_DIR/drill-test.log" >&2 || true
  die "a drill failed (full output: $INFRA_DIR/drill-test.log; each drill's Server log: $INFRA_DIR/drill-logs/)"
fi
[[ -s "$report" ]] || die "no drill ran for: $* (taskhub-loss runs only with ORCH_TEST_DURABLE_BACKEND=AzureStorage)"
# The tests assert that nothing is lost; meeting the runbook's RTO is judged here, from the measured figures.
if grep -q '| FAIL$' "$report"; then
  die "a drill missed the runbook's target (the lines marked FAIL above)"
fi

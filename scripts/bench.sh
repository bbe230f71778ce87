#!/usr/bin/env bash
# Benchmark of the Server on local infrastructure (prints numbers; asserts nothing). Starts its own Server on
# $BENCH_PORT (default 18080) with a fresh task hub and database, and stops it and drops the database on exit.
#
#   scripts/bench.sh [options] [RUNS [SUBMIT_CONCURRENCY]]
#   --scenario load|crash       load (default): RUNS workflows, then throughput and latency figures;
#                               crash: one workflow, the Server killed (SIGKILL) half-way through step 2's LLM call
#                               and started again with the same worker id, task hub and database; prints how long
#                               after the restart step 2 is requested again and whether step 1 was repeated
#   --backend Postgres|AzureStorage   the durable backend, Durable__Backend (default Postgres; AzureStorage uses Azurite)
#   --runs N                    workflows to run (default 200; load only)
#   --steps N                   sequential llm steps per workflow, each prompt built from the previous reply (default 3)
#   --latency SECONDS           the provider's latency per call, 0 to 60 (default 0; crash: default 2)
#   --concurrency N             LLM calls in flight at most, 1 to 900 (default 100): Llm__MaxConcurrency=N (the
#                               cluster-wide slots every call takes), Durable__MaxConcurrentActivities=N plus a tenth
#                               (at least 2) so activities waiting on the database never hold the slots back, and
#                               Llm__Limits__QueueTimeout=10 minutes so a call waiting for a slot is never refused
#   --submit-concurrency N      start requests sent at once (default 50; load only)
#   --warmup N                  runs of the same workflow first, not counted, so the figures are the warm Server's
#                               (its code compiled, its pools filled) rather than its first seconds (default 0)
#   --llm simulated|http        the provider (load only; crash always uses http): simulated = the Server's built-in
#                               provider (Llm__SimulatedLatency, no network); http = scripts/fake-llm.py, an
#                               OpenAI-compatible server answering after the latency, which also counts the calls in
#                               flight (default simulated)
#   -h, --help                  this text
# The positional RUNS and SUBMIT_CONCURRENCY are the same as --runs and --submit-concurrency.
# Prints one human-readable block, then one JSON line with the DBOS peer's field names (wall_s, workflows_per_s,
# steps_per_s, ideal_s, peak_rss_mb; crash: restart_to_step2_again_s, step1_requested_again) so a script can compare.
# The load's ideal time is RUNS x STEPS x LATENCY / CONCURRENCY; the Server's peak RSS is sampled every 100 ms and
# checked against the kernel's high-water mark. The Server is published Release + ReadyToRun into .infra/bench-server.
# Environment: BENCH_SETTINGS="Key=Value ..." extra Server settings to try; BENCH_SERVER_DIR a Server build to run
# instead; BENCH_FAKE_LLM_LOG=FILE keeps the time of every call to the HTTP fake (a timeline of the calls in flight).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
SCENARIO=load BACKEND=Postgres RUNS=200 STEPS=3 LATENCY="" CONCURRENCY=100 SUBMIT=50 LLM=simulated WARMUP=0
positional=()
while (($# > 0)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --scenario | --backend | --runs | --steps | --latency | --concurrency | --submit-concurrency | --llm | --warmup)
      (($# >= 2)) || die "$1 needs a value (see --help)"
      case "$1" in
        --scenario) SCENARIO="$2" ;;
        --backend) BACKEND="$2" ;;
        --runs) RUNS="$2" ;;
        --steps) STEPS="$2" ;;
        --latency) LATENCY="$2" ;;
        --concurrency) CONCURRENCY="$2" ;;
        --submit-concurrency) SUBMIT="$2" ;;
        --llm) LLM="$2" ;;
        --warmup) WARMUP="$2" ;;
      esac
      shift 2 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) positional+=("$1"); shift ;;
  esac
done
((${#positional[@]} <= 2)) || die "at most two positional arguments: RUNS [SUBMIT_CONCURRENCY] (see --help)"
RUNS="${positional[0]:-$RUNS}"
SUBMIT="${positional[1]:-$SUBMIT}"

[[ "$SCENARIO" == load || "$SCENARIO" == crash ]] || die "--scenario must be load or crash"
[[ "$BACKEND" == Postgres || "$BACKEND" == AzureStorage ]] || die "--backend must be Postgres or AzureStorage"
[[ "$LLM" == simulated || "$LLM" == http ]] || die "--llm must be simulated or http"
# Prints the value $2 of option $1 as a plain number when it is a whole number from $3 to $4.
whole() {
  if [[ ! "$2" =~ ^[0-9]{1,9}$ ]] || ((10#$2 < $3 || 10#$2 > $4)); then die "$1 must be a whole number from $3 to $4"; fi
  echo "$((10#$2))"
}
RUNS="$(whole --runs "$RUNS" 1 100000)"
STEPS="$(whole --steps "$STEPS" 1 100)"
CONCURRENCY="$(whole --concurrency "$CONCURRENCY" 1 900)"
SUBMIT="$(whole --submit-concurrency "$SUBMIT" 1 1000)"
WARMUP="$(whole --warmup "$WARMUP" 0 100000)"
if [[ -z "$LATENCY" ]]; then
  if [[ "$SCENARIO" == crash ]]; then LATENCY=2; else LATENCY=0; fi
fi
if [[ ! "$LATENCY" =~ ^[0-9]{1,3}(\.[0-9]{1,6})?$ ]] || ! awk -v s="$LATENCY" 'BEGIN { exit !(s <= 60) }'; then
  die "--latency must be a number of seconds from 0 to 60"
fi
LATENCY="$(awk -v s="$LATENCY" 'BEGIN { printf "%g", s }')"
if [[ "$SCENARIO" == crash ]]; then
  LLM=http
  ((STEPS >= 2)) || die "--scenario crash needs --steps 2 or more (the Server is killed during step 2)"
  awk -v s="$LATENCY" 'BEGIN { exit !(s >= 0.2) }' || die "--scenario crash needs --latency 0.2 or more (the kill lands half-way through step 2)"
fi

PORT="${BENCH_PORT:-18080}"
HUB="bench$(date +%s)"
DB="bench_$(date +%s)"
HEADROOM=$((CONCURRENCY / 10 > 2 ? CONCURRENCY / 10 : 2))
settings=(Durable__Backend="$BACKEND" Llm__MaxConcurrency="$CONCURRENCY"
  Durable__MaxConcurrentActivities="$((CONCURRENCY + HEADROOM))" Llm__Limits__QueueTimeout=00:10:00)
LIMITER="Llm__MaxConcurrency=$CONCURRENCY, Durable__MaxConcurrentActivities=$((CONCURRENCY + HEADROOM)), Llm__Limits__QueueTimeout=00:10:00"

FAKE_LLM_URL=""
if [[ "$LLM" == http ]]; then
  mkdir -p "$INFRA_DIR"
  fake_out="$INFRA_DIR/bench-$HUB-fake-llm.out"
  python3 "$REPO_ROOT/scripts/fake-llm.py" "$LATENCY" 0 >"$fake_out" 2>&1 &
  BENCH_EXTRA_PIDS+=("$!")
  trap 'kill "${BENCH_EXTRA_PIDS[@]}" 2>/dev/null || true' EXIT # until start_bench_server takes the trap over
  for _ in $(seq 1 50); do [[ -s "$fake_out" ]] && break; sleep 0.1; done
  fake_port="$(head -n1 "$fake_out")"
  [[ "$fake_port" =~ ^[0-9]+$ ]] || die "the fake LLM did not start: $(cat "$fake_out")"
  FAKE_LLM_URL="http://127.0.0.1:$fake_port"
  settings+=(Llm__Provider=openai Llm__Endpoint="$FAKE_LLM_URL/v1" Llm__ApiKey=fake-llm-key Llm__Model=fake-model)
  PROVIDER="fake LLM over HTTP (scripts/fake-llm.py)"
else
  # TimeSpan text for the simulated provider's delay, e.g. 0.25 -> 00:00:00.250.
  settings+=(Llm__SimulatedLatency="$(awk -v s="$LATENCY" 'BEGIN { printf "00:%02d:%06.3f", int(s / 60), s - 60 * int(s / 60) }')")
  PROVIDER="simulated (in the Server)"
fi

# Extra Server settings to try, e.g. BENCH_SETTINGS="Durable__DispatcherCount=2 Postgres__MaxPoolSize=100".
read -r -a extra <<<"${BENCH_SETTINGS:-}"
settings+=("${extra[@]}")
start_bench_server "$PORT" "$HUB" "$DB" "${settings[@]}"
BASE="http://127.0.0.1:$PORT"
SETTINGS_JSON="$(printf '{"backend":"%s","provider":"%s","runs":%s,"steps":%s,"latency":%s,"concurrency":%s,"submit_concurrency":%s,"warmup":%s,"limiter":"%s","fake_llm_url":"%s"}' \
  "$BACKEND" "$PROVIDER" "$RUNS" "$STEPS" "$LATENCY" "$CONCURRENCY" "$SUBMIT" "$WARMUP" "$LIMITER" "$FAKE_LLM_URL")"
CLIENT="$REPO_ROOT/scripts/bench-client.py"

if [[ "$SCENARIO" == load ]]; then
  python3 "$CLIENT" load "$BASE" "$BENCH_API_KEY" "$BENCH_SERVER_PID" "$SETTINGS_JSON"
  exit 0
fi

run_id="$(python3 "$CLIENT" crash-start "$BASE" "$BENCH_API_KEY" "$FAKE_LLM_URL" "$SETTINGS_JSON")"
kill -KILL "$BENCH_SERVER_PID"
killed_at="$(date +%s.%N)"
wait "$BENCH_SERVER_PID" 2>/dev/null || true
restarted_at="$(date +%s.%N)"
restart_bench_server
healthy_at="$(date +%s.%N)"
python3 "$CLIENT" crash-measure "$BASE" "$BENCH_API_KEY" "$FAKE_LLM_URL" "$SETTINGS_JSON" \
  "$run_id" "$killed_at" "$restarted_at" "$healthy_at"

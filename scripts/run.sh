#!/usr/bin/env bash
# Run the product locally, end to end:
#   1. scripts/infra-up.sh: PostgreSQL primary 127.0.0.1:5432 + streaming replica :5433 (the Server's task hub lives
#      in PostgreSQL; Azurite 10000-10002 is started too only with Durable__Backend=AzureStorage);
#   2. builds and starts the Server on http://localhost:8080 (log: .infra/server.log);
#   3. submits the sample workflow (summarize-classify), prints its status-query URL, its progress and its output;
#   4. leaves the Server running so the runbook's commands can be tried; Ctrl-C stops it.
# A second run reuses whatever is already running. The LLM is the built-in simulated provider unless
# OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL (or Llm__Endpoint, Llm__ApiKey, Llm__Model) are set.
# Auth: with ADMIN_TOKEN set, the Server requires it (send -H "Authorization: Bearer $ADMIN_TOKEN"); without it, the
# Server runs with auth switched off (Auth__Disabled=true, loopback only) so the runbook's header-less commands work.
#   scripts/run.sh           run the sample and keep the Server in the foreground
#   scripts/run.sh --stop    stop a Server started by an earlier run
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
PORT="${PORT:-8080}"
BASE="http://localhost:$PORT"
SERVER_PIDFILE="$INFRA_DIR/server.pid"
SERVER_LOG="$INFRA_DIR/server.log"

say() { printf '[run] %s\n' "$*"; }

server_pid() {
  [[ -f "$SERVER_PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$SERVER_PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q "Orchestrator.Server" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

if [[ "${1:-}" == "--stop" ]]; then
  if pid="$(server_pid)"; then
    kill "$pid" && say "stopped the Server (pid $pid)"
  else
    say "no Server started by scripts/run.sh is running"
  fi
  rm -f "$SERVER_PIDFILE"
  exit 0
fi

command -v dotnet >/dev/null || die "the .NET 10 SDK is required (dotnet not found on PATH)"

CURL_AUTH=()
if [[ -n "${ADMIN_TOKEN:-}" ]]; then
  CURL_AUTH=(-H "Authorization: Bearer $ADMIN_TOKEN")
  AUTH_MODE="on: every route but /health and /metrics needs -H \"Authorization: Bearer \$ADMIN_TOKEN\""
else
  export Auth__Disabled=true
  AUTH_MODE="OFF (local development, loopback only): the runbook's commands work without a header; set ADMIN_TOKEN=<16+ characters> to switch it on"
fi
if [[ "${Durable__Backend:-Postgres}" == AzureStorage ]]; then
  bash "$REPO_ROOT/scripts/infra-up.sh"
else
  bash "$REPO_ROOT/scripts/infra-up.sh" --no-azurite
fi
# The Server's defaults are the original arrangement (primary 5432, replica 5433); after scripts/failover.sh, or
# with moved ports, point it at the pair as it is: both hosts, and Npgsql picks whichever is the primary.
pg_load_roles
if [[ "$PG_PRIMARY_PORT" != 5432 || "$PG_REPLICA_PORT" != 5433 ]]; then
  export Postgres__ConnectionString="${Postgres__ConnectionString:-Host=127.0.0.1:$PG_PRIMARY_PORT,127.0.0.1:$PG_REPLICA_PORT;Target Session Attributes=primary;Database=$PG_APP_DB;Username=postgres;Password=postgres}"
  export Postgres__ReplicaConnectionString="${Postgres__ReplicaConnectionString:-Host=127.0.0.1;Port=$PG_REPLICA_PORT;Database=$PG_APP_DB;Username=postgres;Password=postgres}"
fi

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

started_here=0
if pid="$(server_pid)"; then
  say "reusing the Server already running (pid $pid) on $BASE, with the auth it was started with (scripts/run.sh --stop to restart it)"
else
  if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is taken by another process: $(ss -ltnp "sport = :$PORT" 2>/dev/null | tail -n +2 | awk '{print $NF}')"
  fi
  say "building the Server"
  dotnet build "$REPO_ROOT/functions/Orchestrator.Server" -nologo -v quiet -clp:ErrorsOnly </dev/null >"$INFRA_DIR/build.log" 2>&1 || { cat "$INFRA_DIR/build.log"; die "the build failed"; }
  say "starting the Server on $BASE (log: $SERVER_LOG); auth $AUTH_MODE"
  (cd "$REPO_ROOT/functions/Orchestrator.Server/bin/Debug/net10.0" &&
    ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://localhost:$PORT}" exec dotnet Orchestrator.Server.dll) >"$SERVER_LOG" 2>&1 &
  echo $! >"$SERVER_PIDFILE"
  started_here=1
  trap 'say "stopping the Server"; kill "$(cat "$SERVER_PIDFILE")" 2>/dev/null; rm -f "$SERVER_PIDFILE"; exit 0' INT TERM
  for _ in $(seq 1 120); do
    curl -fsS "$BASE/health" >/dev/null 2>&1 && break
    kill -0 "$(cat "$SERVER_PIDFILE")" 2>/dev/null || { tail -n 40 "$SERVER_LOG"; die "the Server exited during start"; }
    sleep 0.5
  done
  curl -fsS "$BASE/health" >/dev/null || { tail -n 40 "$SERVER_LOG"; die "the Server did not become healthy"; }
  grep -q "SIMULATED provider" "$SERVER_LOG" && say "LLM: simulated provider (set OPENAI_BASE_URL / OPENAI_API_KEY for a real model)"
fi

say "health: $(curl -fsS "$BASE/health")"
say "submitting the sample workflow summarize-classify"
start="$(curl -fsS "${CURL_AUTH[@]}" -X POST "$BASE/api/v1/workflows" -H 'Content-Type: application/json' -d '{
  "definition": "summarize-classify",
  "input": { "text": "Since this morning'"'"'s deploy, checkout fails with HTTP 500 for every customer paying by card. Orders are not being created and support has received 40 tickets in the last hour." }
}')"
id="$(json "d['id']" <<<"$start")"
say "run id:           $id"
say "status-query URL: $(json "d['statusQueryGetUri']" <<<"$start")"
say "workflow status:  $BASE/api/v1/workflows/$id"

last=""
while :; do
  run="$(curl -fsS "${CURL_AUTH[@]}" "$BASE/api/v1/workflows/$id")"
  line="$(json "d['status'] + ' ' + str(d['progress']['completed']) + '/' + str(d['progress']['total']) + ' ' + ', '.join(s['id'] + '=' + s['status'] for s in d['steps'])" <<<"$run")"
  [[ "$line" != "$last" ]] && say "progress: $line" && last="$line"
  status="$(json "d['status']" <<<"$run")"
  [[ "$status" =~ ^(Completed|Failed|Cancelled)$ ]] && break
  sleep 0.5
done

say "final status: $status"
python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'output': d['output'], 'error': d['error'], 'tokens': d['tokens']}, indent=2))" <<<"$run"

if ((started_here)); then
  say "the Server keeps running on $BASE — try the runbook's commands, e.g. curl $BASE/health; Ctrl-C stops it"
  wait "$(cat "$SERVER_PIDFILE")" || true
else
  say "the Server keeps running (pid $(server_pid)); stop it with scripts/run.sh --stop"
fi

# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings below are read by the scripts that source this file
# Shared helpers for the scripts in scripts/ (infra-up, infra-down, test, run, bench, backup, restore, failover).
# Sourced, never executed. Callers run with `set -euo pipefail`.

export LC_ALL=C.UTF-8

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# Repository root, resolved from this file's location so the scripts work from any cwd.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

# Everything the scripts create for one PostgreSQL pair (data, logs, pid files, the roles file, pgBackRest's
# configuration) lives in one directory. ORCH_INFRA_DIR moves it, so a destructive drill can run a second,
# independent pair on other ports (ORCH_INFRA_PG_PORT / ORCH_INFRA_PG_REPLICA_PORT) without touching this one.
if [[ -n "${ORCH_INFRA_DIR:-}" ]]; then
  INFRA_DIR="$(realpath -m -- "$ORCH_INFRA_DIR")"
  INFRA_DIR_IS_DEFAULT=0
else
  INFRA_DIR="$REPO_ROOT/.infra"
  INFRA_DIR_IS_DEFAULT=1
fi
# Paths end up unquoted inside archive_command and PostgreSQL settings: keep them to plain characters.
[[ "$INFRA_DIR" =~ ^/[A-Za-z0-9._/+-]*$ ]] ||
  die "ORCH_INFRA_DIR=$INFRA_DIR: use an absolute path of letters, digits and . _ / + - only"
[[ "$INFRA_DIR" != / && "$REPO_ROOT/" != "$INFRA_DIR/"* ]] ||
  die "ORCH_INFRA_DIR=$INFRA_DIR is the repository or one of its parents; infra-down.sh --purge would delete it"

# Ports can be moved (e.g. to run a second checkout side by side); tests then need matching ORCH_TEST_* values,
# which scripts/test.sh derives from these. Each port belongs to a data directory, not to a role: pg-primary runs on
# ORCH_INFRA_PG_PORT, pg-replica on ORCH_INFRA_PG_REPLICA_PORT, whichever of them is the primary at the moment.
PG_NODE1=pg-primary
PG_NODE2=pg-replica
PG_NODE1_PORT="${ORCH_INFRA_PG_PORT:-5432}"
PG_NODE2_PORT="${ORCH_INFRA_PG_REPLICA_PORT:-5433}"
[[ "$PG_NODE1_PORT" =~ ^[0-9]+$ && "$PG_NODE2_PORT" =~ ^[0-9]+$ && "$PG_NODE1_PORT" != "$PG_NODE2_PORT" ]] ||
  die "ORCH_INFRA_PG_PORT ($PG_NODE1_PORT) and ORCH_INFRA_PG_REPLICA_PORT ($PG_NODE2_PORT) must be two different port numbers"
PG_SUPERUSER=postgres
PG_SUPERUSER_PASSWORD=postgres
PG_REPL_USER=replicator
PG_REPL_PASSWORD=replicator
PG_REPL_SLOT=replica1
PG_APP_DB=workflows
# libpq's compiled-in default socket directory on Debian; `psql -U postgres -d workflows` without -h uses it.
PG_DEFAULT_SOCKET_DIR=/var/run/postgresql

# Which data directory is the primary now: scripts/failover.sh swaps the roles and records them here; absent means
# the original arrangement (pg-primary is the primary). scripts/infra-down.sh --purge resets it with the rest.
PG_ROLES_FILE="$INFRA_DIR/pg-roles"

pg_node_port() {
  case "$1" in
    "$PG_NODE1") printf '%s\n' "$PG_NODE1_PORT" ;;
    "$PG_NODE2") printf '%s\n' "$PG_NODE2_PORT" ;;
    *) die "unknown PostgreSQL node '$1' (expected $PG_NODE1 or $PG_NODE2)" ;;
  esac
}
pg_other_node() { if [[ "$1" == "$PG_NODE1" ]]; then printf '%s\n' "$PG_NODE2"; else printf '%s\n' "$PG_NODE1"; fi; }

# Sets PG_PRIMARY_NODE / PG_STANDBY_NODE (data directory names) and PG_PRIMARY_PORT / PG_REPLICA_PORT (their ports).
pg_load_roles() {
  PG_PRIMARY_NODE="$PG_NODE1"
  if [[ -f "$PG_ROLES_FILE" ]]; then
    local v
    v="$(sed -n 's/^primary=//p' "$PG_ROLES_FILE" | head -n1)"
    case "$v" in
      "$PG_NODE1" | "$PG_NODE2") PG_PRIMARY_NODE="$v" ;;
      *) die "$PG_ROLES_FILE does not say primary=$PG_NODE1 or primary=$PG_NODE2; fix it, or run scripts/failover.sh status" ;;
    esac
  fi
  PG_STANDBY_NODE="$(pg_other_node "$PG_PRIMARY_NODE")"
  PG_PRIMARY_PORT="$(pg_node_port "$PG_PRIMARY_NODE")"
  PG_REPLICA_PORT="$(pg_node_port "$PG_STANDBY_NODE")"
}

# Record that data directory $1 is the primary (and the other one its standby); the original arrangement needs no file.
pg_save_roles() {
  local primary="$1" tmp
  if [[ "$primary" == "$PG_NODE1" ]]; then
    rm -f "$PG_ROLES_FILE"
  else
    mkdir -p "$INFRA_DIR"
    tmp="$(mktemp "$PG_ROLES_FILE.XXXXXX")"
    printf 'primary=%s\nstandby=%s\n# Written by scripts/failover.sh: which data directory is the primary now.\n' \
      "$primary" "$(pg_other_node "$primary")" >"$tmp"
    mv -f "$tmp" "$PG_ROLES_FILE"
  fi
  pg_load_roles
}
pg_load_roles

# pgBackRest: one stanza per pair; its repository is the runbook's path unless ORCH_BACKUP_REPO moves it. A pair in
# its own ORCH_INFRA_DIR keeps its backups there too, since one stanza cannot hold two clusters.
BACKUP_STANZA=llm-orchestrator
if ((INFRA_DIR_IS_DEFAULT)); then
  BACKUP_REPO="${ORCH_BACKUP_REPO:-/backups/llm-orchestrator}"
else
  BACKUP_REPO="${ORCH_BACKUP_REPO:-$INFRA_DIR/backups}"
fi
BACKUP_REPO="$(realpath -m -- "$BACKUP_REPO")"
[[ "$BACKUP_REPO" =~ ^/[A-Za-z0-9._/+-]+$ && "$BACKUP_REPO" != / ]] ||
  die "ORCH_BACKUP_REPO=$BACKUP_REPO: use an absolute path of letters, digits and . _ / + - only"
BACKUP_RETENTION_FULL="${ORCH_BACKUP_RETENTION_FULL:-2}"
BACKUP_RETENTION_DIFF="${ORCH_BACKUP_RETENTION_DIFF:-2}"
[[ "$BACKUP_RETENTION_FULL" =~ ^[1-9][0-9]*$ && "$BACKUP_RETENTION_DIFF" =~ ^[1-9][0-9]*$ ]] ||
  die "ORCH_BACKUP_RETENTION_FULL ($BACKUP_RETENTION_FULL) and ORCH_BACKUP_RETENTION_DIFF ($BACKUP_RETENTION_DIFF) must be positive integers"

# The runbook's `psql -h primary` / `psql -h replica` (default port 5432, as in production): /etc/hosts names for
# loopback addresses, the replica's reached through a socat forward from $RUNBOOK_REPLICA_ADDR:5432 to the standby.
RUNBOOK_REPLICA_ADDR=127.0.0.2
RUNBOOK_ALIAS_PIDFILE="$INFRA_DIR/replica-alias.pid"
RUNBOOK_ALIAS_LOG="$INFRA_DIR/replica-alias.log"

AZURITE_DIR="$REPO_ROOT/scripts/azurite"
AZURITE_BIN="$AZURITE_DIR/node_modules/.bin/azurite"
AZURITE_DATA="$INFRA_DIR/azurite"
AZURITE_LOG="$INFRA_DIR/azurite.log"
AZURITE_PIDFILE="$INFRA_DIR/azurite.pid"
AZURITE_PORTS=("${ORCH_INFRA_AZURITE_BLOB_PORT:-10000}" "${ORCH_INFRA_AZURITE_QUEUE_PORT:-10001}" "${ORCH_INFRA_AZURITE_TABLE_PORT:-10002}")

# --- PostgreSQL location ----------------------------------------------------------------------------------------
# PostgreSQL runs as the `postgres` OS user, so its data directories must be reachable by that user.
# Default: keep everything under the infra directory (.infra/ in the repository, gitignored). That requires every
# parent directory to be searchable by "others" (true for /work/... and /tmp/...). We do NOT chmod parent directories
# (changing e.g. /root's mode would be a surprising side effect); when the infra directory is not reachable by
# `postgres`, or when the path is so long that a Unix socket path inside it would exceed the 107-byte sun_path limit,
# the PostgreSQL files go to /var/lib/llm-orchestrator/<hash> instead, and $INFRA_DIR/postgres is a symlink pointing
# there. The choice is a pure function of the paths and their permissions, so infra-down finds the same place.
# The socket probe uses the longer of the two ports and the lock file's name (5 bytes longer than the socket's).
pg_base_dir() {
  local candidate="$INFRA_DIR" longest="$PG_NODE1_PORT"
  ((${#PG_NODE2_PORT} > ${#longest})) && longest="$PG_NODE2_PORT"
  local probe="$candidate/pg-sock/.s.PGSQL.${longest}.lock"
  if ((${#probe} <= 100)) && pg_user_can_reach "$candidate"; then
    printf '%s\n' "$candidate"
  else
    pg_fallback_base
  fi
}

# The fallback location: hashed from the repository path for the default infra directory (as before ORCH_INFRA_DIR
# existed), from the infra directory itself otherwise, so two pairs never share one.
pg_fallback_base() {
  local key="$REPO_ROOT" h
  ((INFRA_DIR_IS_DEFAULT)) || key="$INFRA_DIR"
  h="$(printf '%s' "$key" | sha256sum | cut -c1-12)"
  printf '%s\n' "/var/lib/llm-orchestrator/$h"
}

# True when the postgres user can search (traverse) directory $1, i.e. every parent is searchable too.
pg_user_can_reach() {
  (cd / && runuser -u postgres -- test -x "$1") 2>/dev/null
}

pg_bin_dir() {
  local d
  # shellcheck disable=SC2012 # Debian's version directories are plain numbers
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [[ -n "$d" && -x "$d/initdb" ]] || return 1
  printf '%s\n' "$d"
}

# Run a PostgreSQL server tool as the postgres OS user (initdb/pg_ctl refuse root), from / so the tool can chdir.
# fd 9 is infra-up.sh's flock; close it so a daemon started here (postmaster) never inherits and holds the lock.
as_postgres() {
  (cd / && runuser -u postgres -- env LC_ALL=C.UTF-8 "$@") 9>&-
}

# --- Debian packages --------------------------------------------------------------------------------------------
# Install Debian packages non-interactively, refreshing the package lists only when they are missing or stale
# (an install that fails is retried once after `apt-get update`). Log in $INFRA_DIR/apt.log.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is unavailable; install $* by hand"
  local apt_log="$INFRA_DIR/apt.log"
  mkdir -p "$INFRA_DIR"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting services (e.g. a Prometheus server on :9090).
  local created_policy=0 rc=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# temporary: installed by scripts/lib.sh apt_install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get update -q >>"$apt_log" 2>&1 || true
  fi
  if ! apt-get install -y -q --no-install-recommends "$@" </dev/null >>"$apt_log" 2>&1; then
    log "apt-get install $* failed; refreshing package lists and retrying"
    apt-get update -q >>"$apt_log" 2>&1 || true
    apt-get install -y -q --no-install-recommends "$@" </dev/null >>"$apt_log" 2>&1 || rc=$?
  fi
  if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
  if ((rc != 0)); then
    tail -n 30 "$apt_log" >&2 || true
    die "apt-get install $* failed (log: $apt_log)"
  fi
}

# --- ports / processes ------------------------------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Describe who listens on 127.0.0.1/0.0.0.0:$1 (for "refusing" messages). Tries `ss -ltnp`, then the socket inode
# in /proc/net/tcp{,6} matched against /proc/*/fd (ss may not report processes in some sandboxes).
port_owner() {
  local port="$1" line="" pid="" inode="" hexport fd
  if command -v ss >/dev/null 2>&1; then
    line="$(ss -H -ltnp "sport = :$port" 2>/dev/null | head -n1 || true)"
    pid="$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line" | head -n1)"
  fi
  if [[ -z "$pid" ]]; then
    hexport="$(printf '%04X' "$port")"
    inode="$(awk -v p=":$hexport" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10; exit }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)"
    if [[ -n "$inode" && "$inode" != 0 ]]; then
      for fd in /proc/[0-9]*/fd/*; do
        if [[ "$(readlink "$fd" 2>/dev/null)" == "socket:[$inode]" ]]; then
          pid="${fd#/proc/}"; pid="${pid%%/*}"; break
        fi
      done
    fi
  fi
  if [[ -n "$pid" && -r "/proc/$pid/cmdline" ]]; then
    printf 'pid %s: %s\n' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-300)"
  elif [[ -n "$line" ]]; then
    printf '%s\n' "$line"
  else
    printf 'an unidentified process (not visible to ss or /proc)\n'
  fi
}

pid_alive() { [[ -n "${1:-}" && "$1" =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null; }

pid_cmdline_has() {
  local pid="$1" needle="$2"
  [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$needle"
}

# PID of the postmaster running on data directory $1, or empty. Uses postmaster.pid plus a liveness check.
pg_running_pid() {
  local dir="$1" pid
  [[ -f "$dir/postmaster.pid" ]] || return 0
  pid="$(head -n1 "$dir/postmaster.pid" 2>/dev/null || true)"
  if pid_alive "$pid" && pid_cmdline_has "$pid" postgres; then
    printf '%s\n' "$pid"
  fi
}

# Port recorded in postmaster.pid (line 4).
pg_running_port() { sed -n 4p "$1/postmaster.pid" 2>/dev/null || true; }

# --- benchmarks ---------------------------------------------------------------------------------------------------
BENCH_API_KEY=bench-api-key-0123456789
BENCH_SERVER_PID=""
BENCH_SERVER_SETTINGS=()
# Processes a benchmark started besides the Server (a fake LLM): stopped with it on exit.
BENCH_EXTRA_PIDS=()

# Start a Server for a benchmark: its own port ($1), task hub and worker id ($2) and fresh database ($3), the simulated
# provider, an API key ($BENCH_API_KEY), and any extra NAME=value settings after that (they override the ones here).
# Sets BENCH_SERVER_PID, stops the Server (and BENCH_EXTRA_PIDS) and drops the database on exit, and returns once
# /health answers. scripts/infra-up.sh runs only when something the Server needs does not answer (the PostgreSQL
# pair, and Azurite when the settings name Durable__Backend=AzureStorage), so a benchmark leaves running
# infrastructure alone.
start_bench_server() {
  local port="$1" hub="$2" db="$3"; shift 3
  local needed=("$PG_PRIMARY_PORT" "$PG_REPLICA_PORT") infra_args=(--postgres-only) p
  if [[ " $* " == *" Durable__Backend=AzureStorage "* ]]; then
    needed+=("${AZURITE_PORTS[@]}")
    infra_args=()
  fi
  for p in "${needed[@]}"; do
    port_open "$p" || { bash "$REPO_ROOT/scripts/infra-up.sh" "${infra_args[@]}" >/dev/null; break; }
  done
  # Measured as the container image deploys it: published in Release, ReadyToRun (precompiled, so a started or
  # restarted Server does not spend its first seconds compiling), for this machine's runtime identifier.
  BENCH_SERVER_BUILD="$INFRA_DIR/bench-server"
  if [[ -z "${BENCH_SERVER_DIR:-}" ]]; then
    dotnet publish "$REPO_ROOT/functions/Orchestrator.Server" -c Release -r "$(dotnet_rid)" --self-contained false \
      -p:PublishReadyToRun=true -p:UseAppHost=false -o "$BENCH_SERVER_BUILD" -nologo -v quiet -clp:ErrorsOnly >/dev/null
  fi
  BENCH_SERVER_SETTINGS=(ASPNETCORE_URLS="http://127.0.0.1:$port" Durable__TaskHubName="$hub" Durable__WorkerId="$hub"
    Postgres__ConnectionString="Host=127.0.0.1;Port=$PG_PRIMARY_PORT;Database=$db;Username=postgres;Password=postgres"
    Postgres__ReplicaConnectionString="Host=127.0.0.1;Port=$PG_REPLICA_PORT;Database=$db;Username=postgres;Password=postgres"
    Llm__Provider=simulated Logging__LogLevel__Default=Warning Auth__ApiKeys__bench="$BENCH_API_KEY" "$@")
  BENCH_SERVER_PORT="$port"
  BENCH_SERVER_LOG="$INFRA_DIR/bench-$hub.log"
  BENCH_SERVER_DB="$db"
  : >"$BENCH_SERVER_LOG"
  trap stop_bench_server EXIT
  restart_bench_server
}

# The .NET runtime identifier of this machine (linux-x64, linux-arm64).
dotnet_rid() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64 | arm64) echo linux-arm64 ;;
    *) die "no .NET runtime identifier known for $(uname -m)" ;;
  esac
}

# Start the Server start_bench_server set up again, with the same settings (worker id, task hub, database), after
# it died or was killed; its log goes on in the same file. Sets BENCH_SERVER_PID and returns once /health answers.
restart_bench_server() {
  (cd "${BENCH_SERVER_DIR:-$BENCH_SERVER_BUILD}" &&
    exec env "${BENCH_SERVER_SETTINGS[@]}" dotnet Orchestrator.Server.dll) >>"$BENCH_SERVER_LOG" 2>&1 &
  BENCH_SERVER_PID=$!
  local _
  for _ in $(seq 1 240); do
    curl -fsS "http://127.0.0.1:$BENCH_SERVER_PORT/health" >/dev/null 2>&1 && return 0
    pid_alive "$BENCH_SERVER_PID" || break
    sleep 0.25
  done
  die "the benchmark Server did not become healthy (log: $BENCH_SERVER_LOG)"
}

# The exit trap of start_bench_server: stops the Server and BENCH_EXTRA_PIDS (by PID) and drops the database.
stop_bench_server() {
  local pid
  for pid in "$BENCH_SERVER_PID" "${BENCH_EXTRA_PIDS[@]}"; do
    if pid_alive "$pid"; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  PGPASSWORD=postgres psql -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -qc \
    "DROP DATABASE IF EXISTS $BENCH_SERVER_DB WITH (FORCE)" >/dev/null 2>&1 || true
}

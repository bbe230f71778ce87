#!/usr/bin/env bash
# Bring up the local/CI infrastructure the orchestrator and its tests need:
#   - PostgreSQL primary   127.0.0.1:5432 (also a socket in /var/run/postgresql), database `workflows`
#   - PostgreSQL replica   127.0.0.1:5433, streaming from the primary through physical slot `replica1`
#   - Azurite              blob 127.0.0.1:10000, queue 10001, table 10002
#   - the runbook's host names: /etc/hosts `primary` (127.0.0.1) and `replica` (127.0.0.2, a socat forward of
#     :5432 to the replica's 127.0.0.1:5433), so `psql -h primary` / `psql -h replica` work as written
# Idempotent: whatever is already running and healthy is reused; a warm re-run takes a fraction of a second.
# Superuser postgres/postgres (password over TCP, trust over local sockets); role replicator/replicator.
# Must run as root (PostgreSQL server processes run as the `postgres` OS user through runuser).
# Stop with scripts/infra-down.sh (add --purge to delete the data).
# Ports can be moved with ORCH_INFRA_PG_PORT, ORCH_INFRA_PG_REPLICA_PORT, ORCH_INFRA_AZURITE_{BLOB,QUEUE,TABLE}_PORT
# (pass the same values to infra-down.sh/test.sh); the header above describes the defaults.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_NS="$(date +%s%N)"
[[ "$(id -u)" == 0 ]] || die "run as root (PostgreSQL is started as the postgres OS user via runuser)"

mkdir -p "$INFRA_DIR"
chmod 0755 "$INFRA_DIR" # the postgres user must traverse it, whatever root's umask is
# Serialise concurrent invocations (e.g. two test runs starting at once). Every background/daemon child is started
# with `9>&-` so it cannot inherit fd 9 and keep the lock held after this script exits.
exec 9>"$INFRA_DIR/.infra-up.lock"
flock -w 300 9 || die "timed out waiting for another infra-up.sh run to finish"

NPM_PID=""

cleanup() {
  # On an early exit, stop the background `npm ci` we started by signalling its process group (the recorded PID is
  # the group leader). npm's own SIGTERM rollback can take a minute, so SIGKILL the group after 2 s: a partial
  # node_modules is harmless because .lock-hash is only written after a successful install, and npm ci starts by
  # deleting node_modules.
  if [[ -n "$NPM_PID" ]] && kill -0 "$NPM_PID" 2>/dev/null; then
    log "stopping the background npm ci (process group $NPM_PID)"
    local i
    kill -TERM -- "-$NPM_PID" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do kill -0 -- "-$NPM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$NPM_PID" 2>/dev/null || true
    wait "$NPM_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# ================================================================================================================
# Azurite package (npm ci), started in the background so it overlaps with the PostgreSQL work.
# ================================================================================================================
azurite_lock_hash() { cat "$AZURITE_DIR/package.json" "$AZURITE_DIR/package-lock.json" | sha256sum | cut -d' ' -f1; }

start_azurite_install() {
  local want have=""
  want="$(azurite_lock_hash)"
  [[ -f "$AZURITE_DIR/node_modules/.lock-hash" ]] && have="$(<"$AZURITE_DIR/node_modules/.lock-hash")"
  if [[ -x "$AZURITE_BIN" && "$have" == "$want" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm (Node.js >= 20) is required to install Azurite"
  log "installing Azurite with npm ci (scripts/azurite/package-lock.json) ..."
  # Own process group (setsid execs here: a background job of a non-interactive shell is not a group leader), so an
  # early exit can signal npm and everything it spawned at once.
  setsid bash -c 'set -e; cd "$1"
    npm ci --no-audit --no-fund --prefer-offline --loglevel=error </dev/null >"$2" 2>&1
    printf "%s\n" "$3" >node_modules/.lock-hash' \
    npm-ci "$AZURITE_DIR" "$INFRA_DIR/npm-ci.log" "$want" 9>&- &
  NPM_PID=$!
}

finish_azurite_install() {
  [[ -n "$NPM_PID" ]] || return 0
  if ! wait "$NPM_PID"; then
    NPM_PID=""
    tail -n 40 "$INFRA_DIR/npm-ci.log" >&2 || true
    die "npm ci for Azurite failed (full log: $INFRA_DIR/npm-ci.log)"
  fi
  NPM_PID=""
  [[ -x "$AZURITE_BIN" ]] || die "npm ci finished but $AZURITE_BIN is missing"
}

# ================================================================================================================
# PostgreSQL
# ================================================================================================================
ensure_pg_installed() {
  if PGBIN="$(pg_bin_dir)"; then return 0; fi
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and apt-get is unavailable"
  log "installing PostgreSQL server from apt ..."
  local created_policy=0 rc=0
  # Keep Debian's packaged cluster (15/main on 5432) from being started by the package's maintainer scripts.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# temporary: installed by scripts/infra-up.sh during apt-get install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt_log="$INFRA_DIR/apt.log"
  : >"$apt_log"
  if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
    apt-get update -q >>"$apt_log" 2>&1 || true
  fi
  if ! apt-get install -y -q --no-install-recommends postgresql </dev/null >>"$apt_log" 2>&1; then
    log "apt-get install failed; refreshing package lists and retrying"
    apt-get update -q >>"$apt_log" 2>&1 || true
    apt-get install -y -q --no-install-recommends postgresql </dev/null >>"$apt_log" 2>&1 || rc=$?
  fi
  if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
  if ((rc != 0)); then
    tail -n 30 "$apt_log" >&2 || true
    die "apt-get install postgresql failed (log: $apt_log)"
  fi
  PGBIN="$(pg_bin_dir)" || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb found"
}

# Stop a Debian-managed cluster (pg_ctlcluster) listening on port $1, if any; succeeds only if one was stopped.
# Never kills by process name.
stop_debian_cluster_on_port() {
  local port="$1" ver name cport status _rest stopped=1
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  while read -r ver name cport status _rest; do
    if [[ "$cport" == "$port" && "$status" == online* ]]; then
      log "stopping Debian-managed cluster $ver/$name on port $port (pg_ctlcluster $ver $name stop)"
      pg_ctlcluster "$ver" "$name" stop -m fast </dev/null && stopped=0
    fi
  done < <(pg_lsclusters -h 2>/dev/null || true)
  return "$stopped"
}

# Make sure TCP port $1 is free before starting our server there; refuse (naming the owner) if it is not.
claim_pg_port() {
  local port="$1" what="$2" i
  port_open "$port" || return 0
  if stop_debian_cluster_on_port "$port"; then
    for ((i = 0; i < 100; i++)); do port_open "$port" || return 0; sleep 0.1; done
  fi
  die "cannot start $what: 127.0.0.1:$port is already in use by $(port_owner "$port"). Stop it (or run that checkout's scripts/infra-down.sh) and retry."
}

# psql as the superuser over the private socket (local connections are trusted).
psql_at() {
  local port="$1"; shift
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -A -t -h "$PG_SOCK_DIR" -p "$port" -U "$PG_SUPERUSER" "$@"
}

pg_start() {
  local dir="$1" logfile="$2" what="$3" port="$4"
  # -p on the command line wins over the port written into the configuration at creation time.
  if ! as_postgres "$PGBIN/pg_ctl" -D "$dir" -l "$logfile" -o "-p $port" -w -t 120 -s start >/dev/null; then
    tail -n 30 "$logfile" >&2 || true
    die "failed to start $what (log: $logfile)"
  fi
}

pg_stop() {
  local dir="$1"
  [[ -n "$(pg_running_pid "$dir")" ]] || return 0
  as_postgres "$PGBIN/pg_ctl" -D "$dir" -w -t 60 -s stop -m fast ||
    as_postgres "$PGBIN/pg_ctl" -D "$dir" -w -t 30 -s stop -m immediate
}

pg_wait_ready() {
  local port="$1" what="$2" i
  for ((i = 0; i < 600; i++)); do
    if "$PGBIN/pg_isready" -q -h "$PG_SOCK_DIR" -p "$port"; then return 0; fi
    sleep 0.1
  done
  die "$what on port $port did not become ready within 60 s"
}

check_data_version() {
  local dir="$1" have want
  have="$(<"$dir/PG_VERSION")"
  want="$(basename "$(dirname "$PGBIN")")"
  [[ "$have" == "$want" ]] ||
    die "$dir was created by PostgreSQL $have but the installed server is $want; run scripts/infra-down.sh --purge"
}

setup_pg_dirs() {
  PG_BASE="$(pg_base_dir)"
  PG_PRIMARY_DIR="$PG_BASE/pg-primary"
  PG_REPLICA_DIR="$PG_BASE/pg-replica"
  PG_SOCK_DIR="$PG_BASE/pg-sock"
  PG_LOG_DIR="$PG_BASE/pg-log"
  if [[ "$PG_BASE" != "$INFRA_DIR" ]]; then
    install -d -m 0755 "$(dirname "$PG_BASE")" "$PG_BASE"
    [[ -L "$INFRA_DIR/postgres" ]] || ln -sfn "$PG_BASE" "$INFRA_DIR/postgres"
  fi
  [[ -d "$PG_SOCK_DIR" ]] || install -d -o postgres -g postgres -m 0755 "$PG_SOCK_DIR"
  [[ -d "$PG_LOG_DIR" ]] || install -d -o postgres -g postgres -m 0755 "$PG_LOG_DIR"
  # libpq's default socket directory, so `psql -U postgres -d workflows` (no -h) reaches the primary.
  [[ -d "$PG_DEFAULT_SOCKET_DIR" ]] || install -d -o postgres -g postgres -m 2775 "$PG_DEFAULT_SOCKET_DIR"
}

init_primary() {
  log "initialising primary in $PG_PRIMARY_DIR"
  rm -rf "$PG_PRIMARY_DIR"
  install -d -o postgres -g postgres -m 0700 "$PG_PRIMARY_DIR"
  local pwfile="$PG_LOG_DIR/.pwfile"
  (umask 077 && printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pwfile")
  chown postgres:postgres "$pwfile"
  if ! as_postgres "$PGBIN/initdb" -D "$PG_PRIMARY_DIR" -E UTF8 --locale=C -U "$PG_SUPERUSER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 >"$PG_LOG_DIR/initdb.log" 2>&1; then
    rm -f "$pwfile"
    tail -n 30 "$PG_LOG_DIR/initdb.log" >&2 || true
    die "initdb failed (log: $PG_LOG_DIR/initdb.log)"
  fi
  rm -f "$pwfile"

  cat >"$PG_PRIMARY_DIR/pg_hba.conf" <<'EOF'
# Written by scripts/infra-up.sh. Local/CI use only.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    replication  all   ::1/128        scram-sha-256
EOF
  # The replica is a pg_basebackup copy of this directory, so these settings apply to both; the replica overrides
  # port and unix_socket_directories in its postgresql.auto.conf.
  cat >>"$PG_PRIMARY_DIR/postgresql.conf" <<EOF

# ---- scripts/infra-up.sh (local/CI settings; later entries win) ----
listen_addresses = '127.0.0.1'
port = $PG_PRIMARY_PORT
unix_socket_directories = '$PG_DEFAULT_SOCKET_DIR,$PG_SOCK_DIR'
max_connections = 200
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
wal_retrieve_retry_interval = 1s
fsync = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  chown postgres:postgres "$PG_PRIMARY_DIR/pg_hba.conf" "$PG_PRIMARY_DIR/postgresql.conf"
  chmod 0600 "$PG_PRIMARY_DIR/pg_hba.conf" "$PG_PRIMARY_DIR/postgresql.conf"
}

PRIMARY_STATE=""
ensure_primary() {
  local pid port
  pid="$(pg_running_pid "$PG_PRIMARY_DIR")"
  if [[ -n "$pid" ]]; then
    port="$(pg_running_port "$PG_PRIMARY_DIR")"
    [[ "$port" == "$PG_PRIMARY_PORT" ]] ||
      die "primary in $PG_PRIMARY_DIR is running on port $port, expected $PG_PRIMARY_PORT; run scripts/infra-down.sh"
    pg_wait_ready "$PG_PRIMARY_PORT" "primary"
    PRIMARY_STATE="reused"
    return 0
  fi
  claim_pg_port "$PG_PRIMARY_PORT" "PostgreSQL primary"
  if [[ ! -f "$PG_PRIMARY_DIR/PG_VERSION" || ! -f "$PG_PRIMARY_DIR/postgresql.conf" ]]; then
    init_primary
    PRIMARY_STATE="created"
  else
    check_data_version "$PG_PRIMARY_DIR"
    PRIMARY_STATE="started"
  fi
  pg_start "$PG_PRIMARY_DIR" "$PG_LOG_DIR/primary.log" "PostgreSQL primary" "$PG_PRIMARY_PORT"
  pg_wait_ready "$PG_PRIMARY_PORT" "primary"
}

configure_primary() {
  # Roles and the application database. No tables: the product applies its own schema.
  psql_at "$PG_PRIMARY_PORT" -d postgres <<SQL
DO \$\$
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'the server on port $PG_PRIMARY_PORT is a standby, expected the primary';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_REPL_USER') THEN
    CREATE ROLE $PG_REPL_USER WITH LOGIN REPLICATION PASSWORD '$PG_REPL_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_APP_DB' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_APP_DB') \gexec
SQL
}

sysid() { "$PGBIN/pg_controldata" "$1" 2>/dev/null | sed -n 's/^Database system identifier: *//p'; }

# "streaming" when the replica is attached to our slot and streaming, else empty.
replication_state() {
  psql_at "$PG_PRIMARY_PORT" -d postgres -c \
    "SELECT r.state FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid
      WHERE s.slot_name = '$PG_REPL_SLOT'" 2>/dev/null || true
}

slot_exists() {
  [[ "$(psql_at "$PG_PRIMARY_PORT" -d postgres -c \
    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$PG_REPL_SLOT'")" == 1 ]]
}

drop_inactive_slot() {
  local i active
  for ((i = 0; i < 100; i++)); do
    active="$(psql_at "$PG_PRIMARY_PORT" -d postgres -c \
      "SELECT active FROM pg_replication_slots WHERE slot_name = '$PG_REPL_SLOT'")"
    case "$active" in
      "") return 0 ;;
      f)
        psql_at "$PG_PRIMARY_PORT" -d postgres -c "SELECT pg_drop_replication_slot('$PG_REPL_SLOT')" >/dev/null
        return 0
        ;;
    esac
    sleep 0.1 # the walsender of a just-stopped replica may still be exiting
  done
  die "replication slot $PG_REPL_SLOT on the primary is in use by another standby; not dropping it"
}

build_replica() {
  log "building replica in $PG_REPLICA_DIR (pg_basebackup from 127.0.0.1:$PG_PRIMARY_PORT)"
  pg_stop "$PG_REPLICA_DIR"
  drop_inactive_slot
  rm -rf "$PG_REPLICA_DIR"
  install -d -o postgres -g postgres -m 0700 "$PG_REPLICA_DIR"
  if ! as_postgres PGPASSWORD="$PG_REPL_PASSWORD" PGAPPNAME="$PG_REPL_SLOT" "$PGBIN/pg_basebackup" \
    -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U "$PG_REPL_USER" -D "$PG_REPLICA_DIR" \
    -R -X stream -C -S "$PG_REPL_SLOT" -c fast >"$PG_LOG_DIR/basebackup.log" 2>&1; then
    tail -n 30 "$PG_LOG_DIR/basebackup.log" >&2 || true
    die "pg_basebackup failed (log: $PG_LOG_DIR/basebackup.log)"
  fi
  # primary_conninfo (written by -R) carries the replicator password taken from PGPASSWORD.
  grep -q "password=" "$PG_REPLICA_DIR/postgresql.auto.conf" ||
    die "pg_basebackup -R did not record the replication password in postgresql.auto.conf"
  cat >>"$PG_REPLICA_DIR/postgresql.auto.conf" <<EOF
port = '$PG_REPLICA_PORT'
unix_socket_directories = '$PG_SOCK_DIR'
EOF
  chown postgres:postgres "$PG_REPLICA_DIR/postgresql.auto.conf"
}

wait_streaming() {
  local i
  for ((i = 0; i < 300; i++)); do
    [[ "$(replication_state)" == streaming ]] && return 0
    sleep 0.1
  done
  return 1
}

REPLICA_STATE=""
ensure_replica() {
  local pid rebuilt=0 attempt
  pid="$(pg_running_pid "$PG_REPLICA_DIR")"
  # Fast path: running, still a standby, and streaming through our slot.
  if [[ -n "$pid" && -f "$PG_REPLICA_DIR/standby.signal" && "$PRIMARY_STATE" != created &&
    "$(pg_running_port "$PG_REPLICA_DIR")" == "$PG_REPLICA_PORT" && "$(replication_state)" == streaming ]]; then
    REPLICA_STATE="reused"
    return 0
  fi

  for attempt in 1 2; do
    local need_rebuild=0
    if [[ "$PRIMARY_STATE" == created && $rebuilt == 0 ]]; then
      need_rebuild=1 # new primary: any old replica belongs to a different cluster
    elif [[ ! -f "$PG_REPLICA_DIR/PG_VERSION" || ! -f "$PG_REPLICA_DIR/standby.signal" ]]; then
      need_rebuild=1 # missing, half-built, or promoted by a failover test
    elif [[ "$(sysid "$PG_REPLICA_DIR")" != "$(sysid "$PG_PRIMARY_DIR")" ]]; then
      need_rebuild=1
    elif ! slot_exists; then
      need_rebuild=1
    elif ((attempt == 2)); then
      need_rebuild=1 # it did not stream on the first attempt
    fi

    if ((need_rebuild)); then
      if [[ -z "$(pg_running_pid "$PG_REPLICA_DIR")" ]]; then claim_pg_port "$PG_REPLICA_PORT" "PostgreSQL replica"; fi
      build_replica
      rebuilt=1
    fi

    if [[ -z "$(pg_running_pid "$PG_REPLICA_DIR")" ]]; then
      claim_pg_port "$PG_REPLICA_PORT" "PostgreSQL replica"
      check_data_version "$PG_REPLICA_DIR"
      pg_start "$PG_REPLICA_DIR" "$PG_LOG_DIR/replica.log" "PostgreSQL replica" "$PG_REPLICA_PORT"
    fi
    pg_wait_ready "$PG_REPLICA_PORT" "replica"

    if wait_streaming; then
      if ((rebuilt)); then REPLICA_STATE="created"; else REPLICA_STATE="started"; fi
      return 0
    fi
    if ((rebuilt)); then break; fi
    log "replica is not streaming; rebuilding it"
  done
  tail -n 30 "$PG_LOG_DIR/replica.log" >&2 || true
  die "replica on port $PG_REPLICA_PORT is not streaming from the primary (log: $PG_LOG_DIR/replica.log)"
}

# One commit on the primary (so pg_last_xact_replay_timestamp() is not NULL on the replica), then wait for replay.
commit_and_wait_replay() {
  local lsn i
  lsn="$(psql_at "$PG_PRIMARY_PORT" -d postgres -c "SELECT txid_current()" -c "SELECT pg_current_wal_lsn()" | tail -n1)"
  for ((i = 0; i < 300; i++)); do
    [[ "$(psql_at "$PG_REPLICA_PORT" -d postgres -c \
      "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" == t ]] && return 0
    sleep 0.1
  done
  die "replica did not replay the primary's WAL up to $lsn within 30 s"
}

# ================================================================================================================
# Azurite
# ================================================================================================================
# Print the HTTP Server header returned on 127.0.0.1:$1 (Azurite answers "Azurite-Blob/3.x" etc.).
http_server_header() {
  local port="$1" fd line
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
  printf 'GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&"$fd" 2>/dev/null || true
  while IFS= read -r -t 3 line <&"$fd"; do
    line="${line%$'\r'}"
    [[ -z "$line" ]] && break
    if [[ "${line,,}" == server:* ]]; then printf '%s\n' "${line#*:}"; fi
  done
  exec {fd}>&-
}

azurite_ports_open() {
  local p
  for p in "${AZURITE_PORTS[@]}"; do port_open "$p" || return 1; done
}

AZURITE_STATE=""
ensure_azurite() {
  local pid="" p i open=() speaks=1
  [[ -f "$AZURITE_PIDFILE" ]] && pid="$(<"$AZURITE_PIDFILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" azurite; then
    for ((i = 0; i < 300; i++)); do
      if azurite_ports_open; then AZURITE_STATE="reused, pid $pid"; return 0; fi
      pid_alive "$pid" || break
      sleep 0.1
    done
    pid_alive "$pid" && die "Azurite (pid $pid) is running but ports ${AZURITE_PORTS[*]} do not all accept connections; see $AZURITE_LOG"
  fi
  rm -f "$AZURITE_PIDFILE"

  for p in "${AZURITE_PORTS[@]}"; do port_open "$p" && open+=("$p"); done
  if ((${#open[@]} > 0)); then
    if ((${#open[@]} == ${#AZURITE_PORTS[@]})); then
      for p in "${AZURITE_PORTS[@]}"; do
        [[ "$(http_server_header "$p" || true)" == *Azurite* ]] || speaks=0
      done
      if ((speaks)); then
        AZURITE_STATE="reused external Azurite, $(port_owner "${AZURITE_PORTS[0]}")"
        return 0
      fi
    fi
    local msg="cannot start Azurite: port(s) ${open[*]} already in use and not all of ${AZURITE_PORTS[*]} answer as Azurite."
    for p in "${open[@]}"; do msg+=$'\n'"  127.0.0.1:$p held by $(port_owner "$p")"; done
    die "$msg"
  fi

  finish_azurite_install
  mkdir -p "$AZURITE_DATA"
  (
    cd "$INFRA_DIR"
    setsid nohup "$AZURITE_BIN" --silent --disableTelemetry --skipApiVersionCheck --loose \
      --location "$AZURITE_DATA" \
      --blobHost 127.0.0.1 --blobPort "${AZURITE_PORTS[0]}" \
      --queueHost 127.0.0.1 --queuePort "${AZURITE_PORTS[1]}" \
      --tableHost 127.0.0.1 --tablePort "${AZURITE_PORTS[2]}" \
      </dev/null >>"$AZURITE_LOG" 2>&1 9>&- &
    printf '%s\n' "$!" >"$AZURITE_PIDFILE"
  )
  pid="$(<"$AZURITE_PIDFILE")"
  for ((i = 0; i < 600; i++)); do
    if azurite_ports_open; then
      pid_cmdline_has "$pid" azurite || die "Azurite answers but recorded pid $pid is not it; see $AZURITE_LOG"
      AZURITE_STATE="started, pid $pid"
      return 0
    fi
    if ! pid_alive "$pid"; then
      tail -n 30 "$AZURITE_LOG" >&2 || true
      rm -f "$AZURITE_PIDFILE"
      die "Azurite exited during startup (log: $AZURITE_LOG)"
    fi
    sleep 0.1
  done
  die "Azurite did not open ports ${AZURITE_PORTS[*]} within 60 s (log: $AZURITE_LOG)"
}

# ================================================================================================================
# The runbook's host names
# ================================================================================================================
ALIAS_STATE=""
ensure_runbook_hosts() {
  # Only for the default ports: the runbook's commands assume 5432 everywhere.
  if [[ "$PG_PRIMARY_PORT" != 5432 ]]; then ALIAS_STATE="skipped (ports moved)"; return 0; fi
  if [[ ! -w /etc/hosts ]]; then ALIAS_STATE="skipped (/etc/hosts not writable)"; return 0; fi
  grep -qE '^127\.0\.0\.1[[:space:]].*\bprimary\b' /etc/hosts || printf '127.0.0.1 primary # scripts/infra-up.sh\n' >>/etc/hosts
  grep -qE "^${RUNBOOK_REPLICA_ADDR//./\\.}[[:space:]].*\\breplica\\b" /etc/hosts ||
    printf '%s replica # scripts/infra-up.sh\n' "$RUNBOOK_REPLICA_ADDR" >>/etc/hosts

  local pid="" i
  [[ -f "$RUNBOOK_ALIAS_PIDFILE" ]] && pid="$(<"$RUNBOOK_ALIAS_PIDFILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" socat; then ALIAS_STATE="reused, pid $pid"; return 0; fi
  rm -f "$RUNBOOK_ALIAS_PIDFILE"
  if (exec 3<>"/dev/tcp/$RUNBOOK_REPLICA_ADDR/5432") 2>/dev/null; then
    ALIAS_STATE="skipped ($RUNBOOK_REPLICA_ADDR:5432 already in use)"
    return 0
  fi
  command -v socat >/dev/null 2>&1 || { log "installing socat (for the runbook's 'replica' host name) ..."; apt_install socat; }
  (
    setsid nohup socat "TCP-LISTEN:5432,bind=$RUNBOOK_REPLICA_ADDR,reuseaddr,fork" "TCP:127.0.0.1:$PG_REPLICA_PORT" \
      </dev/null >>"$RUNBOOK_ALIAS_LOG" 2>&1 9>&- &
    printf '%s\n' "$!" >"$RUNBOOK_ALIAS_PIDFILE"
  )
  pid="$(<"$RUNBOOK_ALIAS_PIDFILE")"
  for ((i = 0; i < 100; i++)); do
    if (exec 3<>"/dev/tcp/$RUNBOOK_REPLICA_ADDR/5432") 2>/dev/null; then ALIAS_STATE="started, pid $pid"; return 0; fi
    pid_alive "$pid" || break
    sleep 0.1
  done
  die "socat forward $RUNBOOK_REPLICA_ADDR:5432 -> 127.0.0.1:$PG_REPLICA_PORT did not start (log: $RUNBOOK_ALIAS_LOG)"
}

# ================================================================================================================
start_azurite_install
ensure_pg_installed
setup_pg_dirs
ensure_primary
configure_primary
ensure_replica
commit_and_wait_replay
ensure_azurite
finish_azurite_install
ensure_runbook_hosts

ELAPSED_MS=$((($(date +%s%N) - START_NS) / 1000000))
printf 'postgres primary 127.0.0.1:%s (ready, %s; data %s)\n' "$PG_PRIMARY_PORT" "$PRIMARY_STATE" "$PG_PRIMARY_DIR"
printf 'postgres replica 127.0.0.1:%s (streaming, %s; data %s)\n' "$PG_REPLICA_PORT" "$REPLICA_STATE" "$PG_REPLICA_DIR"
printf 'azurite blob 127.0.0.1:%s queue 127.0.0.1:%s table 127.0.0.1:%s (ready, %s)\n' \
  "${AZURITE_PORTS[0]}" "${AZURITE_PORTS[1]}" "${AZURITE_PORTS[2]}" "$AZURITE_STATE"
printf 'runbook host names primary -> 127.0.0.1:%s, replica -> %s:5432 -> 127.0.0.1:%s (%s)\n' \
  "$PG_PRIMARY_PORT" "$RUNBOOK_REPLICA_ADDR" "$PG_REPLICA_PORT" "$ALIAS_STATE"
log "infra up in ${ELAPSED_MS} ms"

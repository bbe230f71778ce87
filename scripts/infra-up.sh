#!/usr/bin/env bash
# Bring up the local/CI infrastructure the orchestrator and its tests need:
#   - PostgreSQL primary   127.0.0.1:5432 (also a socket in /var/run/postgresql), database `workflows`
#   - PostgreSQL replica   127.0.0.1:5433, streaming from the primary through physical slot `replica1`
#   - WAL archiving to pgBackRest (stanza llm-orchestrator, repository /backups/llm-orchestrator or
#     $ORCH_BACKUP_REPO), for scripts/backup.sh and scripts/restore.sh; a failing archive is reported, never waited on
#   - Azurite              blob 127.0.0.1:10000, queue 10001, table 10002
#   - the runbook's host names: /etc/hosts `primary` (127.0.0.1) and `replica` (127.0.0.2, a socat forward of
#     :5432 to the standby's port), so `psql -h primary` / `psql -h replica` work as written
# Idempotent: whatever is already running and healthy is reused; a warm re-run takes a fraction of a second. A pair
# from before WAL archiving is upgraded in place (settings appended, each server restarted once). After
# scripts/failover.sh the roles stay swapped (the primary on the replica's port) and are reused as they are.
# Superuser postgres/postgres (password over TCP, trust over local sockets); role replicator/replicator.
# Must run as root (PostgreSQL server processes run as the `postgres` OS user through runuser).
# Stop with scripts/infra-down.sh (add --purge to delete the data).
# Usage: scripts/infra-up.sh [--no-azurite | --postgres-only]
#   --no-azurite     no Azurite (the Server's default PostgreSQL durable backend does not need it)
#   --postgres-only  no Azurite and no runbook host names
# Ports can be moved with ORCH_INFRA_PG_PORT, ORCH_INFRA_PG_REPLICA_PORT, ORCH_INFRA_AZURITE_{BLOB,QUEUE,TABLE}_PORT,
# and all state with ORCH_INFRA_DIR (a second, independent pair for drills); pass the same values to
# infra-down.sh/test.sh/failover.sh/backup.sh/restore.sh. The header above describes the defaults.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib-postgres.sh
source "$REPO_ROOT/scripts/lib-postgres.sh"

POSTGRES_ONLY=0
NO_AZURITE=0
for arg in "$@"; do
  case "$arg" in
    --postgres-only) POSTGRES_ONLY=1 NO_AZURITE=1 ;;
    --no-azurite) NO_AZURITE=1 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (expected --no-azurite or --postgres-only)" ;;
  esac
done

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
  # shellcheck disable=SC2016 # expanded by the inner bash
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
init_primary() {
  local dir="$PG_PRIMARY_DIR"
  log "initialising primary in $dir"
  rm -rf "$dir"
  install -d -o postgres -g postgres -m 0700 "$dir"
  local pwfile="$PG_LOG_DIR/.pwfile"
  (umask 077 && printf '%s\n' "$PG_SUPERUSER_PASSWORD" >"$pwfile")
  chown postgres:postgres "$pwfile"
  if ! as_postgres "$PGBIN/initdb" -D "$dir" -E UTF8 --locale=C -U "$PG_SUPERUSER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 >"$PG_LOG_DIR/initdb.log" 2>&1; then
    rm -f "$pwfile"
    tail -n 30 "$PG_LOG_DIR/initdb.log" >&2 || true
    die "initdb failed (log: $PG_LOG_DIR/initdb.log)"
  fi
  rm -f "$pwfile"

  cat >"$dir/pg_hba.conf" <<'HBA'
# Written by scripts/infra-up.sh. Local/CI use only.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    all          all   ::1/128        scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
host    replication  all   ::1/128        scram-sha-256
HBA
  chown postgres:postgres "$dir/pg_hba.conf"
  chmod 0600 "$dir/pg_hba.conf"
  # A standby is a copy of this directory, so these settings apply to both nodes; what belongs to one node (port,
  # sockets, archive_command, upstream) goes into its postgresql.auto.conf.
  pg_ensure_conf_blocks "$dir" >/dev/null
}

# The roles file against the data directories: after an interrupted failover, or with a roles file from elsewhere,
# follow what the directories say (a standby has standby.signal) rather than start two primaries.
reconcile_roles() {
  local p="$PG_PRIMARY_DIR" s="$PG_REPLICA_DIR"
  if [[ -f "$p/standby.signal" && -f "$s/PG_VERSION" && ! -f "$s/standby.signal" ]]; then
    log "the roles file names $PG_PRIMARY_NODE the primary, but it is a standby and $PG_STANDBY_NODE is not; following the data directories"
    pg_save_roles "$PG_STANDBY_NODE"
    pg_role_dirs
  elif [[ -f "$p/standby.signal" ]]; then
    die "$p is a standby (standby.signal) and $s holds no primary; see scripts/failover.sh status (promote it with scripts/failover.sh promote --crashed after fixing $PG_ROLES_FILE), or start afresh with scripts/infra-down.sh --purge"
  fi
}

PRIMARY_STATE=""
ensure_primary() {
  local dir="$PG_PRIMARY_DIR" node="$PG_PRIMARY_NODE" port="$PG_PRIMARY_PORT" pid rport
  pid="$(pg_running_pid "$dir")"
  if [[ -n "$pid" ]]; then
    rport="$(pg_running_port "$dir")"
    [[ "$rport" == "$port" ]] ||
      die "primary in $dir is running on port $rport, expected $port; run scripts/infra-down.sh"
    pg_wait_ready "$port" "primary"
    if [[ -n "$(pg_ensure_conf_blocks "$dir")" ]] || ! pg_node_settings_current "$node"; then
      log "restarting the primary once to apply WAL archiving settings (archive_mode, wal_log_hints)"
      pg_stop "$dir"
      pg_write_node_conf "$node" primary
      pg_start_node "$node" "PostgreSQL primary"
      pg_wait_ready "$port" "primary"
      PRIMARY_STATE="reused, restarted to enable WAL archiving"
    else
      PRIMARY_STATE="reused"
    fi
    return 0
  fi
  claim_pg_port "$port" "PostgreSQL primary" "$dir"
  if [[ ! -f "$dir/PG_VERSION" || ! -f "$dir/postgresql.conf" ]]; then
    # Never replace a lost primary by an empty one while its standby (or its backups) still hold the data.
    [[ ! -f "$PG_REPLICA_DIR/PG_VERSION" ]] ||
      die "the primary's data directory $dir is missing or incomplete while the standby $PG_REPLICA_DIR still holds data. Recover: scripts/restore.sh --yes (from the backups), or scripts/failover.sh promote --crashed (the standby becomes the primary); or start afresh: scripts/infra-down.sh --purge"
    init_primary
    PRIMARY_STATE="created"
  else
    check_data_version "$dir"
    pg_ensure_conf_blocks "$dir" >/dev/null
    PRIMARY_STATE="started"
  fi
  # A restore interrupted between pgbackrest restore and the end of recovery left recovery.signal: let the recovery
  # finish (it promotes at its target) instead of starting the restored files without their WAL.
  local role=primary
  if [[ -f "$dir/recovery.signal" ]]; then
    log "the primary $dir was left in the middle of a restore (recovery.signal); letting its recovery finish"
    role=restoring
  fi
  pg_write_node_conf "$node" "$role"
  pg_start_node "$node" "PostgreSQL primary"
  pg_wait_ready "$port" "primary"
  if [[ "$role" == restoring ]]; then
    pg_wait_writable "$node" 600
    pg_reset_recovery_settings "$node"
    PRIMARY_STATE+=", recovery of an interrupted restore finished"
  fi
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

REPLICA_STATE=""
ensure_replica() {
  local dir="$PG_REPLICA_DIR" node="$PG_STANDBY_NODE" port="$PG_REPLICA_PORT" pid attempt upgraded=0
  pid="$(pg_running_pid "$dir")"
  # A standby from before WAL archiving: stop it so it restarts below with the settings (once).
  if [[ -n "$pid" && -f "$dir/standby.signal" && "$PRIMARY_STATE" != created ]] &&
    { [[ -n "$(pg_ensure_conf_blocks "$dir")" ]] || ! pg_node_settings_current "$node"; }; then
    log "restarting the replica once to apply WAL archiving settings (archive_mode, wal_log_hints)"
    pg_stop "$dir"
    upgraded=1
    pid=""
  fi
  # Fast path: running, still a standby, and streaming through our slot.
  if [[ -n "$pid" && -f "$dir/standby.signal" && "$PRIMARY_STATE" != created &&
    "$(pg_running_port "$dir")" == "$port" && "$(replication_state "$PG_PRIMARY_PORT")" == streaming ]]; then
    REPLICA_STATE="reused"
    return 0
  fi

  for attempt in 1 2; do
    local why=""
    if [[ "$PRIMARY_STATE" == created ]]; then
      why="new primary" # any old replica belongs to a different cluster
    elif [[ ! -f "$dir/PG_VERSION" ]]; then
      why="missing"
    elif [[ "$(sysid "$dir")" != "$(sysid "$PG_PRIMARY_DIR")" ]]; then
      why="different cluster"
    elif [[ ! -f "$dir/standby.signal" ]]; then
      why="an old primary" # promoted by a failover test, or the primary before scripts/failover.sh promote
    elif ! slot_exists "$PG_PRIMARY_PORT"; then
      why="no slot"
    elif ((attempt == 2)); then
      why="not streaming" # it did not stream on the first attempt
    fi

    if [[ -n "$why" ]]; then
      pg_stop "$dir"
      claim_pg_port "$port" "PostgreSQL replica" "$dir"
      # An old primary of this cluster can usually be rewound; anything else is copied afresh.
      if [[ "$why" == "an old primary" ]]; then
        rebuild_standby "$PG_PRIMARY_NODE" "$node" rewind
      else
        rebuild_standby "$PG_PRIMARY_NODE" "$node" basebackup
      fi
      REPLICA_STATE="created ($why; $STANDBY_METHOD)"
      return 0
    fi

    if [[ -z "$(pg_running_pid "$dir")" ]]; then
      pg_ensure_conf_blocks "$dir" >/dev/null
      pg_write_node_conf "$node" standby "$PG_PRIMARY_NODE"
    fi
    if start_standby_and_wait "$PG_PRIMARY_NODE" "$node" 30; then
      if ((upgraded)); then REPLICA_STATE="reused, restarted to enable WAL archiving"; else REPLICA_STATE="started"; fi
      return 0
    fi
    log "replica is not streaming; rebuilding it"
  done
  die "replica on port $port is not streaming from the primary (log: $(pg_node_log "$node"))"
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
# Backups: pgBackRest stanza and WAL archiving. Never fatal: the product runs without backups, so a problem here is
# reported in the summary (and the log) and infra-up carries on.
# ================================================================================================================
BACKUP_STATE=""
ensure_backups() {
  local problem psys rsys stamp
  if ! problem="$(br_ensure_repo 2>&1)"; then
    BACKUP_STATE="WARNING: ${problem#\[infra\] ERROR: }"
    return 0
  fi
  psys="$(sysid "$PG_PRIMARY_DIR")"
  stamp="$psys $BACKUP_REPO $PG_PRIMARY_NODE $(sha256sum <"$BR_CONF" | cut -c1-16)"
  if [[ -f "$BR_STAMP" && "$(<"$BR_STAMP")" == "$stamp" ]]; then
    BACKUP_STATE="$(br_archiver_state)"
    return 0
  fi
  rm -f "$BR_STAMP"
  rsys="$(br_repo_sysid)"
  if [[ -n "$rsys" && "$rsys" != "$psys" ]]; then
    BACKUP_STATE="WARNING: $BACKUP_REPO already holds stanza $BACKUP_STANZA of another cluster (system id $rsys; this one is $psys), so WAL archiving fails. Point ORCH_BACKUP_REPO at another directory, or delete that stanza if its cluster is gone"
    return 0
  fi
  if ! BR_TIMEOUT=120 br stanza-create >"$BR_DIR/stanza-create.out" 2>&1; then
    BACKUP_STATE="WARNING: pgbackrest stanza-create failed: $(br_last_error "$BR_DIR/stanza-create.out") (output: $BR_DIR/stanza-create.out)"
    return 0
  fi
  # check forces a WAL switch and waits (at most 30 s here) for that segment to reach the repository.
  if ! BR_TIMEOUT=90 br check --archive-timeout=30 >"$BR_DIR/check.out" 2>&1; then
    BACKUP_STATE="WARNING: pgbackrest check failed, WAL archiving does not work: $(br_last_error "$BR_DIR/check.out") (output: $BR_DIR/check.out; server log: $(pg_node_log "$PG_PRIMARY_NODE"))"
    return 0
  fi
  printf '%s\n' "$stamp" >"$BR_STAMP"
  BACKUP_STATE="stanza checked, archiving ok"
}

br_last_error() { { grep -E 'ERROR|WARN' "$1" || tail -n1 "$1"; } | tail -n1 | sed 's/^[^A-Z]*//' | cut -c1-300; }

# Archiving as the primary sees it (pg_stat_archiver), in one phrase.
br_archiver_state() {
  local row count last failing failed_wal
  row="$(psql_at "$PG_PRIMARY_PORT" -d postgres -F '|' -c \
    "SELECT archived_count, coalesce(last_archived_wal, '-'),
            coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false), coalesce(last_failed_wal, '-')
       FROM pg_stat_archiver" 2>/dev/null || true)"
  IFS='|' read -r count last failing failed_wal <<<"$row"
  if [[ "$failing" == t ]]; then
    printf 'WARNING: WAL archiving is failing (last failed %s; see %s/log and %s)\n' "$failed_wal" "$BR_DIR" "$(pg_node_log "$PG_PRIMARY_NODE")"
  else
    printf 'archiving ok (%s WAL files since start, last %s)\n' "${count:-?}" "${last:--}"
  fi
}
# ================================================================================================================
# Azurite
# ================================================================================================================
# Print the HTTP Server header returned on 127.0.0.1:$1 (Azurite answers "Azurite-Blob/3.x" etc.).
http_server_header() {
  local port="$1" fd line
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 1
  printf 'GET /devstoreaccount1?comp=list HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" 1>&"$fd" 2>/dev/null || true
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
((NO_AZURITE)) || start_azurite_install
ensure_pg_installed
ensure_pgbackrest_installed
setup_pg_dirs
br_write_conf # before any server starts: archive_command reads it
reconcile_roles
ensure_primary
configure_primary
ensure_replica
commit_and_wait_replay
ensure_backups
if ((!NO_AZURITE)); then
  ensure_azurite
  finish_azurite_install
fi
if ((POSTGRES_ONLY)); then
  ALIAS_STATE="skipped (--postgres-only)"
else
  ensure_runbook_hosts
fi

ELAPSED_MS=$((($(date +%s%N) - START_NS) / 1000000))
printf 'postgres primary 127.0.0.1:%s (ready, %s; data %s)\n' "$PG_PRIMARY_PORT" "$PRIMARY_STATE" "$PG_PRIMARY_DIR"
printf 'postgres replica 127.0.0.1:%s (streaming, %s; data %s)\n' "$PG_REPLICA_PORT" "$REPLICA_STATE" "$PG_REPLICA_DIR"
if [[ "$PG_PRIMARY_NODE" != "$PG_NODE1" ]]; then
  printf 'postgres roles swapped by scripts/failover.sh: the primary runs on the replica port (scripts/failover.sh switchback restores them)\n'
fi
printf 'backups pgBackRest stanza %s, repository %s (%s)\n' "$BACKUP_STANZA" "$BACKUP_REPO" "$BACKUP_STATE"
if ((!NO_AZURITE)); then
  printf 'azurite blob 127.0.0.1:%s queue 127.0.0.1:%s table 127.0.0.1:%s (ready, %s)\n' \
    "${AZURITE_PORTS[0]}" "${AZURITE_PORTS[1]}" "${AZURITE_PORTS[2]}" "$AZURITE_STATE"
fi
printf 'runbook host names primary -> 127.0.0.1:%s, replica -> %s:5432 -> 127.0.0.1:%s (%s)\n' \
  "$PG_NODE1_PORT" "$RUNBOOK_REPLICA_ADDR" "$PG_REPLICA_PORT" "$ALIAS_STATE"
[[ "$BACKUP_STATE" != WARNING* ]] || log "backups: $BACKUP_STATE"
log "infra up in ${ELAPSED_MS} ms"

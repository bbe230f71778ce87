# shellcheck shell=bash
# shellcheck disable=SC2034 # PG_*, BR_*, STANDBY_METHOD and ALIAS_STATE are read by the sourcing scripts
# PostgreSQL pair helpers shared by scripts/infra-up.sh, infra-down.sh, failover.sh, backup.sh and restore.sh:
# locating the data directories, starting/stopping a node by its data directory, each node's own settings, building
# a standby (pg_basebackup or pg_rewind), waiting for streaming, and pgBackRest (configuration, stanza, archiving).
# Sourced after scripts/lib.sh, never executed. Callers run with `set -euo pipefail` as root.
#
# The pair: two data directories, pg-primary (port $PG_NODE1_PORT) and pg-replica (port $PG_NODE2_PORT). A port stays
# with its directory; which directory is the primary is $PG_PRIMARY_NODE (lib.sh, from the roles file).

# --- installation -------------------------------------------------------------------------------------------------
ensure_pg_installed() {
  if PGBIN="$(pg_bin_dir)"; then return 0; fi
  log "installing PostgreSQL server from apt ..."
  apt_install postgresql
  PGBIN="$(pg_bin_dir)" || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb found"
}

# pgBackRest (Debian package pgbackrest) runs WAL archiving, backups and restores.
ensure_pgbackrest_installed() {
  command -v pgbackrest >/dev/null 2>&1 && return 0
  log "installing pgBackRest from apt ..."
  apt_install pgbackrest
  command -v pgbackrest >/dev/null 2>&1 || die "apt-get installed pgbackrest but no pgbackrest command is on PATH"
}

# --- paths --------------------------------------------------------------------------------------------------------
# Sets PG_BASE, PG_SOCK_DIR, PG_LOG_DIR, the pgBackRest paths and PG_PRIMARY_DIR / PG_REPLICA_DIR (by role).
# Creates nothing; setup_pg_dirs creates what is missing.
pg_paths() {
  PG_BASE="$(pg_base_dir)"
  PG_SOCK_DIR="$PG_BASE/pg-sock"
  PG_LOG_DIR="$PG_BASE/pg-log"
  # Under PG_BASE (not INFRA_DIR) because archive_command runs as postgres, which can always reach PG_BASE.
  BR_DIR="$PG_BASE/pgbackrest"
  BR_CONF="$BR_DIR/pgbackrest.conf"
  BR_STAMP="$BR_DIR/stanza.ok"
  pg_role_dirs
}

pg_role_dirs() {
  PG_PRIMARY_DIR="$PG_BASE/$PG_PRIMARY_NODE"
  PG_REPLICA_DIR="$PG_BASE/$PG_STANDBY_NODE"
}

pg_node_dir() { printf '%s\n' "$PG_BASE/$1"; }

# The server log of node $1 (named after the original roles, as before failover existed).
pg_node_log() {
  if [[ "$1" == "$PG_NODE1" ]]; then printf '%s\n' "$PG_LOG_DIR/primary.log"; else printf '%s\n' "$PG_LOG_DIR/replica.log"; fi
}

# For scripts other than infra-up: the pair must exist already.
pg_require_pair() {
  [[ -d "$INFRA_DIR" ]] || die "no PostgreSQL pair in $INFRA_DIR (run scripts/infra-up.sh first; ORCH_INFRA_DIR selects another pair)"
  pg_paths
  [[ -d "$PG_SOCK_DIR" ]] || die "no PostgreSQL pair in $PG_BASE (no $PG_SOCK_DIR; run scripts/infra-up.sh first)"
  PGBIN="$(pg_bin_dir)" || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run scripts/infra-up.sh"
}

setup_pg_dirs() {
  pg_paths
  if [[ "$PG_BASE" != "$INFRA_DIR" ]]; then
    install -d -m 0755 "$(dirname "$PG_BASE")" "$PG_BASE"
    [[ -L "$INFRA_DIR/postgres" ]] || ln -sfn "$PG_BASE" "$INFRA_DIR/postgres"
  fi
  [[ -d "$PG_SOCK_DIR" ]] || install -d -o postgres -g postgres -m 0755 "$PG_SOCK_DIR"
  [[ -d "$PG_LOG_DIR" ]] || install -d -o postgres -g postgres -m 0755 "$PG_LOG_DIR"
  [[ -d "$BR_DIR" ]] || install -d -o postgres -g postgres -m 0750 "$BR_DIR"
  # libpq's default socket directory, so `psql -U postgres -d workflows` (no -h) reaches pg-primary.
  [[ -d "$PG_DEFAULT_SOCKET_DIR" ]] || install -d -o postgres -g postgres -m 2775 "$PG_DEFAULT_SOCKET_DIR"
}

# --- ports / processes --------------------------------------------------------------------------------------------
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

# A postmaster still serving port $2 for data directory $1 after that directory was deleted underneath it (so there
# is no postmaster.pid to find it by): identified by its command line, which names the directory. Prints its PID.
pg_orphan_pid() {
  local dir="$1" port="$2" owner pid
  port_open "$port" || return 0
  owner="$(port_owner "$port")"
  pid="$(sed -n 's/^pid \([0-9]*\): .*/\1/p' <<<"$owner")"
  if [[ -n "$pid" ]] && pid_cmdline_has "$pid" postgres && pid_cmdline_has "$pid" "-D $dir "; then
    printf '%s\n' "$pid"
  fi
}

# Make sure TCP port $1 is free before starting node $2 there; refuse (naming the owner) if it is not. A postmaster
# of this very data directory whose files were deleted is stopped (fast shutdown by its PID).
claim_pg_port() {
  local port="$1" what="$2" dir="${3:-}" i pid
  port_open "$port" || return 0
  if [[ -n "$dir" ]]; then
    pid="$(pg_orphan_pid "$dir" "$port")"
    if [[ -n "$pid" ]]; then
      log "$what: a postmaster (pid $pid) still serves port $port for the deleted $dir; stopping it"
      kill -INT "$pid" 2>/dev/null || true
      for ((i = 0; i < 300; i++)); do port_open "$port" || return 0; sleep 0.1; done
      kill -QUIT "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do port_open "$port" || return 0; sleep 0.1; done
    fi
  fi
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

# True when node $1's server answers on its port.
pg_node_up() {
  [[ -n "$(pg_running_pid "$(pg_node_dir "$1")")" ]] &&
    "$PGBIN/pg_isready" -q -h "$PG_SOCK_DIR" -p "$(pg_node_port "$1")"
}

# "t" when node $1 is in recovery (a standby, or still replaying), "f" when it is a primary, empty when unreachable.
pg_in_recovery() { psql_at "$(pg_node_port "$1")" -d postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null || true; }

pg_start_node() {
  local node="$1" what="$2" dir port logfile
  dir="$(pg_node_dir "$node")"; port="$(pg_node_port "$node")"; logfile="$(pg_node_log "$node")"
  # -p on the command line wins over any port a copied configuration carries.
  if ! as_postgres "$PGBIN/pg_ctl" -D "$dir" -l "$logfile" -o "-p $port" -w -t 300 -s start >/dev/null; then
    tail -n 30 "$logfile" >&2 || true
    die "failed to start $what ($dir on port $port; log: $logfile)"
  fi
}

# Stop the postmaster of data directory $1: fast shutdown, immediate if that hangs; or only immediate with $2=immediate.
pg_stop() {
  local dir="$1" mode="${2:-fast}"
  [[ -n "$(pg_running_pid "$dir")" ]] || return 0
  if [[ "$mode" == fast ]]; then
    as_postgres "$PGBIN/pg_ctl" -D "$dir" -w -t 60 -s stop -m fast && return 0
    log "$dir did not stop with -m fast; using -m immediate"
  fi
  as_postgres "$PGBIN/pg_ctl" -D "$dir" -w -t 30 -s stop -m immediate || die "could not stop the server on $dir"
}

pg_wait_ready() {
  local port="$1" what="$2" i
  for ((i = 0; i < 600; i++)); do
    if "$PGBIN/pg_isready" -q -h "$PG_SOCK_DIR" -p "$port"; then return 0; fi
    sleep 0.1
  done
  die "$what on port $port did not become ready within 60 s"
}

# Wait until node $1 accepts writes (out of recovery), at most $2 seconds; dies naming the log when it does not.
pg_wait_writable() {
  local node="$1" secs="${2:-120}" port dir i
  port="$(pg_node_port "$node")"; dir="$(pg_node_dir "$node")"
  for ((i = 0; i < secs * 10; i++)); do
    [[ "$(pg_in_recovery "$node")" == f ]] && return 0
    if [[ -z "$(pg_running_pid "$dir")" ]]; then
      tail -n 30 "$(pg_node_log "$node")" >&2 || true
      die "the server on $dir (port $port) exited before it accepted writes (log: $(pg_node_log "$node"))"
    fi
    sleep 0.1
  done
  die "the server on $dir (port $port) is still in recovery after $secs s (log: $(pg_node_log "$node"))"
}

check_data_version() {
  local dir="$1" have want
  have="$(<"$dir/PG_VERSION")"
  want="$(basename "$(dirname "$PGBIN")")"
  [[ "$have" == "$want" ]] ||
    die "$dir was created by PostgreSQL $have but the installed server is $want; run scripts/infra-down.sh --purge"
}

sysid() { "$PGBIN/pg_controldata" "$1" 2>/dev/null | sed -n 's/^Database system identifier: *//p'; }

# --- settings -----------------------------------------------------------------------------------------------------
# Settings common to both nodes live in postgresql.conf (copied to a standby by pg_basebackup and pg_rewind); what
# belongs to one data directory (port, sockets, archive_command naming that directory, the standby's upstream) lives
# in its postgresql.auto.conf, rewritten by pg_write_node_conf whenever the node is stopped.
PG_CONF_MARK_BASE='# ---- scripts/infra-up.sh (local/CI settings; later entries win) ----'
PG_CONF_MARK_ARCHIVE='# ---- scripts/infra-up.sh: WAL archiving (pgBackRest) and pg_rewind ----'

pg_conf_base_block() {
  cat <<EOF

$PG_CONF_MARK_BASE
listen_addresses = '127.0.0.1'
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
}

# archive_mode=on also on a standby: it archives nothing until it is promoted, then it does without a restart.
# archive_timeout bounds a restore's RPO on an idle primary. wal_log_hints lets pg_rewind resynchronise an old
# primary after a failover instead of copying everything again.
pg_conf_archive_block() {
  cat <<EOF

$PG_CONF_MARK_ARCHIVE
archive_mode = on
archive_timeout = 30s
wal_log_hints = on
EOF
}

# Append the settings blocks missing from data directory $1's postgresql.conf (an existing cluster is upgraded in
# place; the server needs a restart to apply archive_mode and wal_log_hints). Prints "changed" when it appended.
pg_ensure_conf_blocks() {
  local dir="$1" conf="$1/postgresql.conf" changed=0
  if ! grep -qF -- "$PG_CONF_MARK_BASE" "$conf"; then pg_conf_base_block >>"$conf"; changed=1; fi
  if ! grep -qF -- "$PG_CONF_MARK_ARCHIVE" "$conf"; then pg_conf_archive_block >>"$conf"; changed=1; fi
  chown postgres:postgres "$conf"
  chmod 0600 "$conf"
  if ((changed)); then printf 'changed\n'; fi
}

pg_archive_command() {
  printf 'pgbackrest --config=%s --stanza=%s --pg1-path=%s archive-push %%p' "$BR_CONF" "$BACKUP_STANZA" "$(pg_node_dir "$1")"
}

pg_node_sockets() {
  if [[ "$1" == "$PG_NODE1" ]]; then printf '%s,%s\n' "$PG_DEFAULT_SOCKET_DIR" "$PG_SOCK_DIR"; else printf '%s\n' "$PG_SOCK_DIR"; fi
}

# Rewrite node $1's postgresql.auto.conf for role $2:
#   primary    port, sockets, archive_command; drops stale standby and recovery settings
#   standby    the same plus primary_conninfo/primary_slot_name towards node $3 (and standby.signal)
#   restoring  port, sockets, archive_command only: keeps what pgbackrest restore wrote for the recovery
# Only while the node is stopped (a running server may rewrite the file itself).
pg_write_node_conf() {
  local node="$1" role="$2" upstream="${3:-}" dir f tmp strip
  dir="$(pg_node_dir "$node")"; f="$dir/postgresql.auto.conf"
  [[ -z "$(pg_running_pid "$dir")" ]] || die "internal: $dir must be stopped to rewrite its postgresql.auto.conf"
  strip='port|unix_socket_directories|archive_command'
  [[ "$role" == restoring ]] || strip+='|primary_conninfo|primary_slot_name|restore_command|recovery_target[a-z_]*'
  tmp="$(mktemp "$dir/.auto.conf.XXXXXX")"
  {
    if [[ -f "$f" ]]; then grep -vE "^[[:space:]]*($strip)[[:space:]]*=" "$f" || true; fi
    printf "port = '%s'\n" "$(pg_node_port "$node")"
    printf "unix_socket_directories = '%s'\n" "$(pg_node_sockets "$node")"
    printf "archive_command = '%s'\n" "$(pg_archive_command "$node")"
    if [[ "$role" == standby ]]; then
      printf "primary_conninfo = 'host=127.0.0.1 port=%s user=%s password=%s application_name=%s'\n" \
        "$(pg_node_port "$upstream")" "$PG_REPL_USER" "$PG_REPL_PASSWORD" "$PG_REPL_SLOT"
      printf "primary_slot_name = '%s'\n" "$PG_REPL_SLOT"
    fi
  } >"$tmp"
  chown postgres:postgres "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$f"
  if [[ "$role" == standby ]]; then
    install -o postgres -g postgres -m 0600 /dev/null "$dir/standby.signal"
  elif [[ "$role" == primary ]]; then
    rm -f "$dir/standby.signal" "$dir/recovery.signal"
  fi
}

# True when running node $1 already has every setting this file writes (so it needs no restart).
pg_node_settings_current() {
  local node="$1" got want
  got="$(psql_at "$(pg_node_port "$node")" -d postgres -F '|' -c \
    "SELECT current_setting('archive_mode'), current_setting('wal_log_hints'), current_setting('archive_timeout'),
            current_setting('archive_command')" 2>/dev/null || true)"
  want="on|on|30s|$(pg_archive_command "$node")"
  [[ "$got" == "$want" ]]
}

# After a restore has promoted node $1: drop the recovery settings pgbackrest restore wrote, so they never follow this
# directory into a standby built from it (a recovery_target_time there would stop the standby at that time).
pg_reset_recovery_settings() {
  psql_at "$(pg_node_port "$1")" -d postgres >/dev/null <<'SQL'
ALTER SYSTEM RESET restore_command;
ALTER SYSTEM RESET recovery_target_time;
ALTER SYSTEM RESET recovery_target_action;
ALTER SYSTEM RESET recovery_target;
ALTER SYSTEM RESET recovery_target_lsn;
ALTER SYSTEM RESET recovery_target_xid;
ALTER SYSTEM RESET recovery_target_name;
ALTER SYSTEM RESET recovery_target_timeline;
SELECT pg_reload_conf();
SQL
}

# --- replication --------------------------------------------------------------------------------------------------
# "streaming" when a standby is attached to our slot on primary port $1 and streams, else empty.
replication_state() {
  psql_at "$1" -d postgres -c \
    "SELECT r.state FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid
      WHERE s.slot_name = '$PG_REPL_SLOT'" 2>/dev/null || true
}

slot_exists() {
  [[ "$(psql_at "$1" -d postgres -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$PG_REPL_SLOT'")" == 1 ]]
}

# Drop our slot on primary port $1 when no standby uses it (the walsender of a just-stopped one may still be exiting).
drop_inactive_slot() {
  local port="$1" i active
  for ((i = 0; i < 100; i++)); do
    active="$(psql_at "$port" -d postgres -c "SELECT active FROM pg_replication_slots WHERE slot_name = '$PG_REPL_SLOT'")"
    case "$active" in
      "") return 0 ;;
      f)
        psql_at "$port" -d postgres -c "SELECT pg_drop_replication_slot('$PG_REPL_SLOT')" >/dev/null
        return 0
        ;;
    esac
    sleep 0.1
  done
  die "replication slot $PG_REPL_SLOT on port $port is in use by another standby; not dropping it"
}

# Create our physical slot on primary port $1 when missing, reserving WAL from now on.
ensure_slot() {
  local port="$1"
  slot_exists "$port" && return 0
  psql_at "$port" -d postgres -c "SELECT pg_create_physical_replication_slot('$PG_REPL_SLOT', true)" >/dev/null ||
    die "could not create replication slot $PG_REPL_SLOT on port $port"
}

wait_streaming() {
  local port="$1" secs="${2:-30}" i
  for ((i = 0; i < secs * 10; i++)); do
    [[ "$(replication_state "$port")" == streaming ]] && return 0
    sleep 0.1
  done
  return 1
}

# Fresh copy of primary node $1 into node $2 with pg_basebackup, as a standby streaming through our slot.
basebackup_standby() {
  local primary="$1" node="$2" pport dir
  pport="$(pg_node_port "$primary")"; dir="$(pg_node_dir "$node")"
  log "building standby $dir (pg_basebackup from 127.0.0.1:$pport)"
  pg_stop "$dir"
  drop_inactive_slot "$pport"
  rm -rf "$dir"
  install -d -o postgres -g postgres -m 0700 "$dir"
  if ! as_postgres PGPASSWORD="$PG_REPL_PASSWORD" PGAPPNAME="$PG_REPL_SLOT" "$PGBIN/pg_basebackup" \
    -h 127.0.0.1 -p "$pport" -U "$PG_REPL_USER" -D "$dir" \
    -X stream -C -S "$PG_REPL_SLOT" -c fast >"$PG_LOG_DIR/basebackup.log" 2>&1; then
    tail -n 30 "$PG_LOG_DIR/basebackup.log" >&2 || true
    die "pg_basebackup from 127.0.0.1:$pport into $dir failed (log: $PG_LOG_DIR/basebackup.log)"
  fi
  pg_ensure_conf_blocks "$dir" >/dev/null
  pg_write_node_conf "$node" standby "$primary"
}

# Resynchronise node $2 (an old primary, stopped) with primary node $1 by pg_rewind; fails (returns 1) rather than dies.
rewind_standby() {
  local primary="$1" node="$2" pport dir rlog
  pport="$(pg_node_port "$primary")"; dir="$(pg_node_dir "$node")"; rlog="$PG_LOG_DIR/rewind.log"
  [[ -f "$dir/PG_VERSION" && -f "$dir/global/pg_control" ]] || return 1
  [[ "$(sysid "$dir")" == "$(sysid "$(pg_node_dir "$primary")")" ]] || return 1
  pg_stop "$dir"
  log "rewinding $dir to follow 127.0.0.1:$pport (pg_rewind)"
  # pg_rewind first runs crash recovery on a target that was not shut down cleanly (PostgreSQL 13+).
  if ! as_postgres "$PGBIN/pg_rewind" --target-pgdata="$dir" \
    --source-server="host=$PG_SOCK_DIR port=$pport user=$PG_SUPERUSER dbname=postgres" >"$rlog" 2>&1; then
    tail -n 15 "$rlog" >&2 || true
    log "pg_rewind failed (log: $rlog)"
    return 1
  fi
  # pg_rewind copied the primary's configuration files: put this node's own settings back.
  pg_ensure_conf_blocks "$dir" >/dev/null
  pg_write_node_conf "$node" standby "$primary"
}

# Make node $2 a streaming standby of running primary node $1: pg_rewind when $3=rewind and it works, else a fresh
# pg_basebackup; then start it and wait for streaming. Sets STANDBY_METHOD.
STANDBY_METHOD=""
rebuild_standby() {
  local primary="$1" node="$2" how="${3:-basebackup}" pport dir
  pport="$(pg_node_port "$primary")"; dir="$(pg_node_dir "$node")"
  ensure_slot "$pport"
  STANDBY_METHOD=""
  if [[ "$how" == rewind ]] && rewind_standby "$primary" "$node"; then
    STANDBY_METHOD=pg_rewind
    if start_standby_and_wait "$primary" "$node" 30; then return 0; fi
    log "the rewound standby does not stream; falling back to pg_basebackup"
  fi
  basebackup_standby "$primary" "$node"
  STANDBY_METHOD=pg_basebackup
  start_standby_and_wait "$primary" "$node" 60 ||
    die "standby $dir on port $(pg_node_port "$node") is not streaming from 127.0.0.1:$pport (log: $(pg_node_log "$node"))"
}

start_standby_and_wait() {
  local primary="$1" node="$2" secs="$3" dir port
  dir="$(pg_node_dir "$node")"; port="$(pg_node_port "$node")"
  if [[ -z "$(pg_running_pid "$dir")" ]]; then
    claim_pg_port "$port" "PostgreSQL standby" "$dir"
    check_data_version "$dir"
    pg_start_node "$node" "PostgreSQL standby"
  fi
  pg_wait_ready "$port" "standby"
  if wait_streaming "$(pg_node_port "$primary")" "$secs"; then return 0; fi
  tail -n 15 "$(pg_node_log "$node")" >&2 || true
  pg_stop "$dir"
  return 1
}

# --- pgBackRest ---------------------------------------------------------------------------------------------------
# pgbackrest as postgres (the owner of the repository and of the data directories) with this pair's configuration.
# BR_TIMEOUT (seconds) bounds one call; unset, it runs as long as it needs.
br() { as_postgres timeout "${BR_TIMEOUT:-0}" pgbackrest --config="$BR_CONF" --stanza="$BACKUP_STANZA" "$@"; }

br_compress_type() {
  local libs
  libs="$(ldd "$(command -v pgbackrest)" 2>/dev/null || true)"
  if grep -q libzstd <<<"$libs"; then printf 'zst\n'
  elif grep -q liblz4 <<<"$libs"; then printf 'lz4\n'
  else printf 'gz\n'; fi
}

# Write pgBackRest's configuration (only when it changed): both data directories as pg1/pg2, so a backup finds the
# primary whichever one it is now; logs and locks under this pair's directory, so two pairs never meet.
br_write_conf() {
  local tmp
  install -d -o postgres -g postgres -m 0750 "$BR_DIR" "$BR_DIR/log" "$BR_DIR/lock"
  tmp="$(mktemp "$BR_DIR/.conf.XXXXXX")"
  cat >"$tmp" <<EOF
# Written by scripts/infra-up.sh; regenerated on every run (edit scripts/lib-postgres.sh instead).
[global]
repo1-path=$BACKUP_REPO
repo1-retention-full=$BACKUP_RETENTION_FULL
repo1-retention-diff=$BACKUP_RETENTION_DIFF
compress-type=$(br_compress_type)
process-max=2
start-fast=y
archive-timeout=60
log-path=$BR_DIR/log
lock-path=$BR_DIR/lock
log-level-console=info
log-level-file=detail

# archive-push/archive-get run inside PostgreSQL; their console is the server log: only problems go there.
[global:archive-push]
log-level-console=warn

[global:archive-get]
log-level-console=warn

[$BACKUP_STANZA]
pg1-path=$(pg_node_dir "$PG_NODE1")
pg1-port=$PG_NODE1_PORT
pg1-socket-path=$PG_SOCK_DIR
pg2-path=$(pg_node_dir "$PG_NODE2")
pg2-port=$PG_NODE2_PORT
pg2-socket-path=$PG_SOCK_DIR
EOF
  chown postgres:postgres "$tmp"
  chmod 0640 "$tmp"
  if [[ -f "$BR_CONF" ]] && cmp -s "$tmp" "$BR_CONF"; then rm -f "$tmp"; else mv -f "$tmp" "$BR_CONF"; fi
}

# The repository directory, owned by postgres (archive-push writes it as postgres). Dies naming the problem.
br_ensure_repo() {
  if [[ ! -d "$BACKUP_REPO" ]]; then
    install -d -m 0755 "$(dirname "$BACKUP_REPO")"
    install -d -o postgres -g postgres -m 0750 "$BACKUP_REPO"
  elif [[ -z "$(ls -A "$BACKUP_REPO")" ]]; then
    chown postgres:postgres "$BACKUP_REPO"
    chmod 0750 "$BACKUP_REPO"
  fi
  (cd / && runuser -u postgres -- test -w "$BACKUP_REPO" -a -x "$BACKUP_REPO") 2>/dev/null ||
    die "the backup repository $BACKUP_REPO is not writable by the postgres user (set ORCH_BACKUP_REPO to another directory, or chown -R postgres:postgres it)"
}

# System id the repository's stanza was created for, or empty when it has none.
br_repo_sysid() {
  local info="$BACKUP_REPO/backup/$BACKUP_STANZA/backup.info"
  [[ -f "$info" ]] || return 0
  sed -n '/^\[db\]/,/^\[/{s/^db-system-id=//p}' "$info" | head -n1
}

# Print pgBackRest's information for the stanza (text), or nothing when it cannot.
br_info() { br info 2>/dev/null || true; }

# --- the runbook's host names ---------------------------------------------------------------------------------------
# Only for the default ports (the runbook's commands assume 5432 everywhere): /etc/hosts `primary` is 127.0.0.1,
# i.e. port 5432 of pg-primary; `replica` is 127.0.0.2, whose port 5432 a socat forward sends to the standby's port,
# whichever node the standby is. While scripts/failover.sh has swapped the roles, pg-primary on 5432 is the standby,
# so `primary` reaches the standby too until scripts/failover.sh switchback (the summary lines say so).
ALIAS_STATE=""
ensure_runbook_hosts() {
  if [[ "$PG_NODE1_PORT" != 5432 ]]; then ALIAS_STATE="skipped (ports moved)"; return 0; fi
  if [[ ! -w /etc/hosts ]]; then ALIAS_STATE="skipped (/etc/hosts not writable)"; return 0; fi
  grep -qE '^127\.0\.0\.1[[:space:]].*\bprimary\b' /etc/hosts || printf '127.0.0.1 primary # scripts/infra-up.sh\n' >>/etc/hosts
  grep -qE "^${RUNBOOK_REPLICA_ADDR//./\\.}[[:space:]].*\\breplica\\b" /etc/hosts ||
    printf '%s replica # scripts/infra-up.sh\n' "$RUNBOOK_REPLICA_ADDR" >>/etc/hosts
  runbook_replica_forward
}

# Start (or re-point) the socat forward $RUNBOOK_REPLICA_ADDR:5432 -> the standby's port. Sets ALIAS_STATE.
runbook_replica_forward() {
  local pid="" i target="TCP:127.0.0.1:$PG_REPLICA_PORT"
  [[ -f "$RUNBOOK_ALIAS_PIDFILE" ]] && pid="$(<"$RUNBOOK_ALIAS_PIDFILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" socat; then
    if pid_cmdline_has "$pid" "$target"; then ALIAS_STATE="reused, pid $pid"; return 0; fi
    log "re-pointing the runbook's 'replica' forward at the standby's port $PG_REPLICA_PORT"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$RUNBOOK_ALIAS_PIDFILE"
  if (exec 3<>"/dev/tcp/$RUNBOOK_REPLICA_ADDR/5432") 2>/dev/null; then
    ALIAS_STATE="skipped ($RUNBOOK_REPLICA_ADDR:5432 already in use)"
    return 0
  fi
  command -v socat >/dev/null 2>&1 || { log "installing socat (for the runbook's 'replica' host name) ..."; apt_install socat; }
  (
    setsid nohup socat "TCP-LISTEN:5432,bind=$RUNBOOK_REPLICA_ADDR,reuseaddr,fork" "$target" \
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

# After a role change: re-point the forward only when this pair runs one (infra-up.sh started it).
runbook_alias_follow_roles() {
  local pid=""
  [[ -f "$RUNBOOK_ALIAS_PIDFILE" ]] && pid="$(<"$RUNBOOK_ALIAS_PIDFILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" socat; then runbook_replica_forward; fi
}

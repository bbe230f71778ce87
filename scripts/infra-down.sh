#!/usr/bin/env bash
# Stop what scripts/infra-up.sh started for this checkout:
#   - PostgreSQL standby and primary, by data directory (pg_ctl -D DIR stop -m fast), whichever roles they have now
#   - Azurite, by the PID recorded in .infra/azurite.pid (only if that process is alive and is Azurite)
#   - the socat forward behind the runbook's `replica` host name, by its recorded PID
# Never stops anything by process name. Servers started by other checkouts or by the OS are left alone.
# Usage: scripts/infra-down.sh [--purge]     --purge also deletes the data (.infra/ and any PostgreSQL fallback dir),
#   the roles file (so the next infra-up.sh starts in the original arrangement) and this cluster's stanza in the
#   backup repository (only when the stanza's system id is this cluster's: another checkout's backups stay).
# ORCH_INFRA_DIR and the port variables select the pair, as for scripts/infra-up.sh.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib-postgres.sh
source "$REPO_ROOT/scripts/lib-postgres.sh"

PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (expected --purge)" ;;
  esac
done
[[ "$(id -u)" == 0 ]] || die "run as root"

# Wait for a concurrent infra-up.sh to finish rather than stopping things underneath it.
if [[ -d "$INFRA_DIR" ]]; then
  exec 9>"$INFRA_DIR/.infra-up.lock"
  flock -w 300 9 || die "timed out waiting for a running infra-up.sh"
fi

# Both places infra-up.sh may have used (see pg_base_dir in lib.sh); the location can only differ if the
# repository's permissions changed since, so check both.
FALLBACK_BASE="$(pg_fallback_base)"
BASES=("$INFRA_DIR")
[[ -d "$FALLBACK_BASE" ]] && BASES+=("$FALLBACK_BASE")

PGBIN="$(pg_bin_dir || true)"

stop_pg() {
  local dir="$1" what="$2" port="$3" pid i
  pid="$(pg_running_pid "$dir")"
  if [[ -z "$pid" ]]; then
    # A postmaster whose data directory was deleted underneath it has no postmaster.pid left to find it by.
    pid="$(pg_orphan_pid "$dir" "$port")"
    if [[ -n "$pid" ]]; then
      kill -INT "$pid" 2>/dev/null || true
      for ((i = 0; i < 300; i++)); do pid_alive "$pid" || break; sleep 0.1; done
      printf '%s: stopped (pid %s, its data directory %s was gone)\n' "$what" "$pid" "$dir"
      return 0
    fi
    printf '%s: not running (%s)\n' "$what" "$dir"
    return 0
  fi
  [[ -n "$PGBIN" ]] || die "$what is running (pid $pid) but pg_ctl was not found"
  if as_postgres "$PGBIN/pg_ctl" -D "$dir" -w -t 60 -s stop -m fast; then
    printf '%s: stopped (%s)\n' "$what" "$dir"
  else
    log "$what did not stop with -m fast; using -m immediate"
    as_postgres "$PGBIN/pg_ctl" -D "$dir" -w -t 30 -s stop -m immediate
    printf '%s: stopped (immediate) (%s)\n' "$what" "$dir"
  fi
}

# The standby first, so the primary's shutdown does not leave it retrying.
stopped_any=0 SYSIDS=()
for base in "${BASES[@]}"; do
  [[ -d "$base/$PG_NODE1" || -d "$base/$PG_NODE2" ]] || continue
  stop_pg "$base/$PG_STANDBY_NODE" "postgres standby ($PG_STANDBY_NODE, port $PG_REPLICA_PORT)" "$PG_REPLICA_PORT"
  stop_pg "$base/$PG_PRIMARY_NODE" "postgres primary ($PG_PRIMARY_NODE, port $PG_PRIMARY_PORT)" "$PG_PRIMARY_PORT"
  stopped_any=1
  if [[ -n "$PGBIN" ]]; then
    for node in "$PG_NODE1" "$PG_NODE2"; do
      id="$("$PGBIN/pg_controldata" "$base/$node" 2>/dev/null | sed -n 's/^Database system identifier: *//p' || true)"
      [[ -n "$id" ]] && SYSIDS+=("$id")
    done
  fi
done
((stopped_any)) || printf 'postgres: no data directories for this checkout\n'

stop_azurite() {
  local pid="" i
  [[ -f "$AZURITE_PIDFILE" ]] && pid="$(<"$AZURITE_PIDFILE")"
  if ! pid_alive "$pid"; then
    printf 'azurite: not running\n'
    rm -f "$AZURITE_PIDFILE"
    return 0
  fi
  if ! pid_cmdline_has "$pid" azurite; then
    printf 'azurite: recorded pid %s is not Azurite any more; leaving it alone\n' "$pid"
    rm -f "$AZURITE_PIDFILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    log "Azurite (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$AZURITE_PIDFILE"
  printf 'azurite: stopped (pid %s)\n' "$pid"
}
stop_azurite

stop_replica_alias() {
  local pid=""
  [[ -f "$RUNBOOK_ALIAS_PIDFILE" ]] && pid="$(<"$RUNBOOK_ALIAS_PIDFILE")"
  if pid_alive "$pid" && pid_cmdline_has "$pid" socat; then
    kill -TERM "$pid" 2>/dev/null || true
    printf 'replica host-name forward: stopped (pid %s)\n' "$pid"
  fi
  rm -f "$RUNBOOK_ALIAS_PIDFILE"
}
stop_replica_alias

# This cluster's backups go with its data; a stanza of any other cluster in a shared repository is left alone.
purge_stanza() {
  local info="$BACKUP_REPO/backup/$BACKUP_STANZA/backup.info" rsys id
  [[ -f "$info" ]] || return 0
  [[ "$BACKUP_REPO/" != "$INFRA_DIR/"* ]] || return 0 # deleted with the infra directory
  rsys="$(sed -n '/^\[db\]/,/^\[/{s/^db-system-id=//p}' "$info" | head -n1)"
  for id in "${SYSIDS[@]}"; do
    if [[ "$id" == "$rsys" ]]; then
      rm -rf "${BACKUP_REPO:?}/backup/$BACKUP_STANZA" "${BACKUP_REPO:?}/archive/$BACKUP_STANZA"
      printf 'purged stanza %s (system id %s) from %s\n' "$BACKUP_STANZA" "$rsys" "$BACKUP_REPO"
      return 0
    fi
  done
  printf 'backups: stanza %s in %s belongs to another cluster (system id %s); left alone\n' "$BACKUP_STANZA" "$BACKUP_REPO" "$rsys"
}

if ((PURGE)); then
  purge_stanza
  # Release our lock fd before deleting the directory that holds the lock file.
  exec 9>&-
  rm -rf "$INFRA_DIR"
  printf 'purged %s\n' "$INFRA_DIR"
  if [[ -d "$FALLBACK_BASE" ]]; then
    rm -rf "$FALLBACK_BASE"
    rmdir --ignore-fail-on-non-empty "$(dirname "$FALLBACK_BASE")"
    printf 'purged %s\n' "$FALLBACK_BASE"
  fi
fi

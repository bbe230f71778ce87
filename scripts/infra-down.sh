#!/usr/bin/env bash
# Stop what scripts/infra-up.sh started for this checkout:
#   - PostgreSQL replica and primary, by data directory (pg_ctl -D DIR stop -m fast)
#   - Azurite, by the PID recorded in .infra/azurite.pid (only if that process is alive and is Azurite)
#   - the socat forward behind the runbook's `replica` host name, by its recorded PID
# Never stops anything by process name. Servers started by other checkouts or by the OS are left alone.
# Usage: scripts/infra-down.sh [--purge]     --purge also deletes the data (.infra/ and any PostgreSQL fallback dir).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
FALLBACK_BASE="/var/lib/llm-orchestrator/$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
BASES=("$INFRA_DIR")
[[ -d "$FALLBACK_BASE" ]] && BASES+=("$FALLBACK_BASE")

PGBIN="$(pg_bin_dir || true)"

stop_pg() {
  local dir="$1" what="$2" pid
  pid="$(pg_running_pid "$dir")"
  if [[ -z "$pid" ]]; then
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

stopped_any=0
for base in "${BASES[@]}"; do
  [[ -d "$base/pg-primary" || -d "$base/pg-replica" ]] || continue
  stop_pg "$base/pg-replica" "postgres replica"
  stop_pg "$base/pg-primary" "postgres primary"
  stopped_any=1
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

if ((PURGE)); then
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

#!/usr/bin/env bash
# The runbook's "Database failover" for this PostgreSQL pair, and the way back.
#   scripts/failover.sh promote [--crashed]   stop the primary for good (fast shutdown; --crashed: it is down already)
#                                             and promote the streaming standby; the roles file records the swap
#   scripts/failover.sh rebuild               make the old primary a streaming standby of the new one: pg_rewind,
#                                             or a fresh pg_basebackup when rewinding fails
#   scripts/failover.sh status                each node: port, role (primary/standby/down), timeline, lag in bytes
#   scripts/failover.sh switchback            promote + rebuild again when the roles are swapped, so pg-primary is
#                                             the primary on its own port once more (a planned switchover: no loss)
# A port stays with its data directory: after promote the primary serves the replica's port. Clients with a
# multi-host connection string (Host=127.0.0.1:5432,127.0.0.1:5433;Target Session Attributes=primary) follow it.
# scripts/infra-up.sh, infra-down.sh and test.sh work in either arrangement; infra-down.sh --purge resets it.
# ORCH_INFRA_DIR and ORCH_INFRA_PG_PORT / _REPLICA_PORT select the pair, as for scripts/infra-up.sh.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib-postgres.sh
source "$REPO_ROOT/scripts/lib-postgres.sh"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
CMD="${1:-}"
(($#)) && shift
CRASHED=0
for arg in "$@"; do
  case "$arg" in
    --crashed) [[ "$CMD" == promote ]] || die "--crashed goes with promote"; CRASHED=1 ;;
    *) die "unknown argument: $arg" ;;
  esac
done
case "$CMD" in
  promote | rebuild | status | switchback) ;;
  -h | --help) usage; exit 0 ;;
  "") usage >&2; die "missing command (promote, rebuild, status or switchback)" ;;
  *) usage >&2; die "unknown command: $CMD (expected promote, rebuild, status or switchback)" ;;
esac
[[ "$(id -u)" == 0 ]] || die "run as root (PostgreSQL runs as the postgres OS user via runuser)"

pg_require_pair
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- status ---------------------------------------------------------------------------------------------------------
node_timeline() {
  local node="$1" port tli=""
  port="$(pg_node_port "$node")"
  case "$(pg_in_recovery "$node")" in
    f) tli="$(psql_at "$port" -d postgres -c "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int" 2>/dev/null || true)" ;;
    t) tli="$(psql_at "$port" -d postgres -c "SELECT coalesce((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))" 2>/dev/null || true)" ;;
  esac
  if [[ -z "$tli" ]]; then
    tli="$("$PGBIN/pg_controldata" "$(pg_node_dir "$node")" 2>/dev/null | sed -n "s/^Latest checkpoint's TimeLineID: *//p" || true)"
  fi
  printf '%s\n' "${tli:--}"
}

status() {
  local node port role tli lag detail primary_lsn="" primary_port=""
  for node in "$PG_NODE1" "$PG_NODE2"; do
    if [[ "$(pg_in_recovery "$node")" == f ]]; then
      primary_port="$(pg_node_port "$node")"
      primary_lsn="$(psql_at "$primary_port" -d postgres -c "SELECT pg_current_wal_lsn()")"
    fi
  done
  printf '%-11s %-6s %-8s %-9s %-10s %s\n' node port role timeline lag_bytes detail
  for node in "$PG_NODE1" "$PG_NODE2"; do
    port="$(pg_node_port "$node")" lag="-" detail=""
    case "$(pg_in_recovery "$node")" in
      f)
        role=primary
        detail="$(psql_at "$port" -d postgres -F ' ' -c \
          "SELECT 'standbys ' || (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')
                  || ', archived ' || coalesce(last_archived_wal, 'nothing yet')
                  || CASE WHEN last_failed_time > coalesce(last_archived_time, '-infinity') THEN ', ARCHIVING FAILING since ' || last_failed_time ELSE '' END
             FROM pg_stat_archiver")"
        ;;
      t)
        role=standby
        if [[ -n "$primary_lsn" ]]; then
          lag="$(psql_at "$port" -d postgres -c "SELECT pg_wal_lsn_diff('$primary_lsn', pg_last_wal_replay_lsn())::bigint")"
          ((lag >= 0)) || lag=0 # the primary's LSN was read a moment earlier
        fi
        detail="$(psql_at "$port" -d postgres -c \
          "SELECT coalesce((SELECT status || ' from ' || sender_host || ':' || sender_port || ' slot ' || coalesce(slot_name, '-')
                              FROM pg_stat_wal_receiver), 'not receiving WAL')")"
        ;;
      *) role=down; detail="not running" ;;
    esac
    tli="$(node_timeline "$node")"
    printf '%-11s %-6s %-8s %-9s %-10s %s\n' "$node" "$port" "$role" "$tli" "$lag" "$detail ($(pg_node_dir "$node"))"
  done
  printf 'roles file: primary=%s%s\n' "$PG_PRIMARY_NODE" "$([[ -f "$PG_ROLES_FILE" ]] || printf ' (no %s: the original arrangement)' "$PG_ROLES_FILE")"
}

# --- promote --------------------------------------------------------------------------------------------------------
promote() {
  local old="$PG_PRIMARY_NODE" new="$PG_STANDBY_NODE" odir ndir nport t0 tli
  odir="$(pg_node_dir "$old")"; ndir="$(pg_node_dir "$new")"; nport="$(pg_node_port "$new")"
  t0="$(now_ms)"
  [[ "$(pg_in_recovery "$new")" == t && -f "$ndir/standby.signal" ]] ||
    die "the standby $ndir (port $nport) is not running as a standby; nothing to promote (scripts/failover.sh status)"
  if ((CRASHED)); then
    [[ -z "$(pg_running_pid "$odir")" ]] ||
      die "--crashed, but the primary $odir is running (pid $(pg_running_pid "$odir")); omit --crashed to stop it first"
  elif [[ -n "$(pg_running_pid "$odir")" ]]; then
    log "stopping the primary $odir (fast shutdown; it stays down until scripts/failover.sh rebuild)"
    pg_stop "$odir"
  fi
  log "promoting $ndir (port $nport)"
  if ! as_postgres "$PGBIN/pg_ctl" -D "$ndir" -w -t 60 -s promote; then
    tail -n 20 "$(pg_node_log "$new")" >&2 || true
    die "pg_ctl promote of $ndir failed (log: $(pg_node_log "$new"))"
  fi
  pg_wait_writable "$new" 60
  pg_save_roles "$new"
  # Keep the WAL the old primary will need to follow the new one (pg_rewind's start point onwards).
  ensure_slot "$nport"
  rm -f "$BR_STAMP" # the next infra-up.sh checks archiving from the new primary again
  tli="$(node_timeline "$new")"
  printf 'primary is now %s on 127.0.0.1:%s (timeline %s); promoted in %s ms\n' "$ndir" "$nport" "$tli" "$(($(now_ms) - t0))"
  [[ "$CMD" == switchback ]] ||
    printf 'old primary %s (port %s) is down; make it a standby with: scripts/failover.sh rebuild\n' "$odir" "$(pg_node_port "$old")"
}

# --- rebuild --------------------------------------------------------------------------------------------------------
rebuild() {
  local primary="$PG_PRIMARY_NODE" node="$PG_STANDBY_NODE" dir port pport t0 how=rewind
  dir="$(pg_node_dir "$node")"; port="$(pg_node_port "$node")"; pport="$(pg_node_port "$primary")"
  t0="$(now_ms)"
  [[ "$(pg_in_recovery "$primary")" == f ]] ||
    die "the primary $(pg_node_dir "$primary") (port $pport) is not running as a primary; nothing to follow (scripts/failover.sh status)"
  if [[ -f "$dir/standby.signal" && "$(pg_in_recovery "$node")" == t && "$(replication_state "$pport")" == streaming ]]; then
    printf 'standby %s (port %s) already streams from 127.0.0.1:%s; nothing to do\n' "$dir" "$port" "$pport"
    return 0
  fi
  if [[ -n "$(pg_running_pid "$dir")" ]]; then
    # A second primary (someone started the old one again) or a standby that does not stream: stop it first.
    if [[ "$(pg_in_recovery "$node")" == f ]]; then
      log "WARNING: $dir was running as a second primary; what it wrote is discarded. If it archived WAL, the real"
      log "         primary's archiving may now fail with 'already exists in the repo1 archive with a different checksum':"
      log "         remove that segment from $BACKUP_REPO/archive/$BACKUP_STANZA (scripts/failover.sh status shows ARCHIVING FAILING)"
    fi
    log "stopping $dir (it runs but is not a streaming standby of 127.0.0.1:$pport)"
    pg_stop "$dir"
  fi
  [[ -f "$dir/standby.signal" ]] && how=basebackup # a standby that did not stream: copy it afresh
  rebuild_standby "$primary" "$node" "$how"
  runbook_alias_follow_roles >/dev/null 2>&1 || true
  printf 'standby %s on 127.0.0.1:%s streams from the primary on 127.0.0.1:%s (rebuilt with %s in %s ms)\n' \
    "$dir" "$port" "$pport" "$STANDBY_METHOD" "$(($(now_ms) - t0))"
}

# --- main -----------------------------------------------------------------------------------------------------------
if [[ "$CMD" == status ]]; then
  status
  exit 0
fi

exec 9>"$INFRA_DIR/.infra-up.lock"
flock -w 300 9 || die "timed out waiting for a running infra-up.sh / restore.sh / failover.sh"

case "$CMD" in
  promote) promote ;;
  rebuild) rebuild ;;
  switchback)
    if [[ "$PG_PRIMARY_NODE" == "$PG_NODE1" ]]; then
      printf 'roles are in the original arrangement already (%s is the primary on port %s)\n' "$PG_PRIMARY_NODE" "$PG_PRIMARY_PORT"
      exit 0
    fi
    T0="$(now_ms)"
    # A planned switchover: the standby must have everything first (a fast shutdown sends it the last WAL).
    [[ "$(replication_state "$PG_PRIMARY_PORT")" == streaming ]] ||
      die "the standby $(pg_node_dir "$PG_STANDBY_NODE") does not stream from the primary; run scripts/failover.sh rebuild first"
    promote
    rebuild
    printf 'switched back: %s is the primary on 127.0.0.1:%s again, in %s ms\n' "$PG_PRIMARY_NODE" "$PG_PRIMARY_PORT" "$(($(now_ms) - T0))"
    ;;
esac

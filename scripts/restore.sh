#!/usr/bin/env bash
# Restore the primary of this PostgreSQL pair from the pgBackRest repository (scripts/backup.sh), then rebuild its
# standby from the restored primary. The runbook's "Backup restore" and "Data corruption" scenarios.
#   scripts/restore.sh [--yes]              to the end of the archived WAL: everything the repository holds
#   scripts/restore.sh --to TIME [--yes]    to a point in time, TIME as PostgreSQL timestamptz text, e.g.
#                                           '2025-11-14 14:32:05+00' (transactions committed up to TIME are kept)
# Works whether the primary's data directory is intact ("data corruption": a --delta restore rewrites only the files
# that differ) or gone ("database lost"). When the primary still runs, its current WAL is archived first, so a
# restore to the latest state loses nothing that was committed. Then: stop the primary, restore, start it, wait until
# it accepts writes, rebuild the standby with pg_basebackup (its timeline no longer matches), and print the time and
# LSN restored to and the seconds each part took. Clients (the Server's Npgsql pool) reconnect by themselves.
# Asks for confirmation on a terminal; without one, --yes is required.
# ORCH_INFRA_DIR, ORCH_INFRA_PG_PORT / _REPLICA_PORT and ORCH_BACKUP_REPO select the pair and the repository.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib-postgres.sh
source "$REPO_ROOT/scripts/lib-postgres.sh"

TARGET_TIME="" YES=0
while (($#)); do
  case "$1" in
    --to)
      (($# >= 2)) || die "--to needs a time, e.g. --to '2025-11-14 14:32:05+00'"
      TARGET_TIME="$2"; shift ;;
    --to=*) TARGET_TIME="${1#--to=}" ;;
    --yes | -y) YES=1 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (expected --to TIME and/or --yes)" ;;
  esac
  shift
done
[[ "$(id -u)" == 0 ]] || die "run as root (PostgreSQL and pgBackRest run as the postgres OS user via runuser)"
[[ -z "$TARGET_TIME" || "$TARGET_TIME" != *"'"* ]] || die "--to: the time must not contain a quote"

START_NS="$(date +%s%N)"
secs_since() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%01d' "$((ms / 1000))" "$((ms % 1000 / 100))"; }

mkdir -p "$INFRA_DIR"
chmod 0755 "$INFRA_DIR"
exec 9>"$INFRA_DIR/.infra-up.lock"
flock -w 300 9 || die "timed out waiting for a running infra-up.sh / failover.sh"

ensure_pg_installed
ensure_pgbackrest_installed
setup_pg_dirs # the primary's whole directory may be gone; sockets, logs and pgBackRest's own files are recreated
br_write_conf
PRIMARY="$PG_PRIMARY_NODE" STANDBY="$PG_STANDBY_NODE"
PDIR="$PG_PRIMARY_DIR" PPORT="$PG_PRIMARY_PORT"

INFO_JSON="$(br info --output=json 2>/dev/null || true)"
grep -q '"label"' <<<"$INFO_JSON" ||
  die "the repository $BACKUP_REPO holds no backup of stanza $BACKUP_STANZA: nothing to restore from (make one with scripts/backup.sh)"

TARGET_EPOCH=""
if [[ -n "$TARGET_TIME" ]]; then
  WHAT="the point in time $TARGET_TIME"
  # Let PostgreSQL read the text when any node answers (its time zone rules); otherwise GNU date, and failing that
  # the restored server judges it.
  for node in "$PRIMARY" "$STANDBY"; do
    if pg_node_up "$node"; then
      TARGET_EPOCH="$(psql_at "$(pg_node_port "$node")" -d postgres -c "SELECT extract(epoch FROM '$TARGET_TIME'::timestamptz)" 2>/dev/null)" ||
        die "--to '$TARGET_TIME' is not a PostgreSQL timestamptz"
      break
    fi
  done
  [[ -n "$TARGET_EPOCH" ]] || TARGET_EPOCH="$(date -d "$TARGET_TIME" +%s.%N 2>/dev/null || true)"
else
  WHAT="the end of the archived WAL (latest)"
fi

# The newest backup that ended before the target. pgBackRest picks one itself, but compares whole seconds, so a
# target in the very second a backup ended finds none; its info records each backup's stop time in epoch seconds.
backup_before() {
  grep -oE '"label":"[^"]+"|"stop":[0-9]+' <<<"$INFO_JSON" |
    awk -F: -v t="$1" '/"label"/ { gsub(/"/, "", $2); label = $2; next }
                       { if ($2 + 0 < t + 0) best = label }
                       END { if (best != "") print best }'
}
SET_FOR_TIME=""
if [[ -n "$TARGET_EPOCH" ]]; then
  # Recovery to a time nobody has reached yet would replay everything and then refuse to start: say so now, before
  # anything is stopped.
  awk -v t="$TARGET_EPOCH" -v now="$(date +%s.%N)" 'BEGIN { exit !(t <= now) }' ||
    die "--to '$TARGET_TIME' is in the future; to keep everything, restore without --to"
  SET_FOR_TIME="$(backup_before "$TARGET_EPOCH")"
  [[ -n "$SET_FOR_TIME" ]] ||
    die "no backup in $BACKUP_REPO ended before $TARGET_TIME: a point-in-time restore starts from a backup taken before that time (scripts/backup.sh --list)"
fi

# A lost primary whose standby still streams is a failover, not a restore: the standby has every commit, the
# repository only what was archived (up to archive_timeout, 30 s, older). Say so before replacing the standby.
if [[ ! -f "$PDIR/PG_VERSION" && "$(pg_in_recovery "$STANDBY")" == t ]]; then
  log "NOTE: the standby $(pg_node_dir "$STANDBY") is running and holds WAL the repository may not have yet;"
  log "      'scripts/failover.sh promote --crashed' would keep it. This restore rebuilds that standby from the backup."
fi

if ((!YES)); then
  [[ -t 0 ]] || die "not a terminal: pass --yes to restore $PDIR (port $PPORT) to $WHAT"
  printf 'This replaces the primary %s (port %s) with the backup restored to %s,\nand rebuilds the standby %s. Type yes to go on: ' "$PDIR" "$PPORT" "$WHAT" "$(pg_node_dir "$STANDBY")" >&2
  read -r answer
  [[ "$answer" == yes ]] || die "not restoring (answer was '$answer')"
fi

# --- 1. archive what the running primary has written, then stop it ------------------------------------------------
if [[ "$(pg_in_recovery "$PRIMARY")" == f ]]; then
  seg="$(psql_at "$PPORT" -d postgres -c "SELECT pg_walfile_name(pg_switch_wal())" 2>/dev/null || true)"
  archived=0
  # The archiver marks a segment done (archive_status/SEG.done) once archive_command succeeded for it.
  for ((i = 0; i < 300; i++)); do
    [[ -n "$seg" && -f "$PDIR/pg_wal/archive_status/$seg.done" ]] && { archived=1; break; }
    [[ -n "$seg" && ! -f "$PDIR/pg_wal/archive_status/$seg.ready" && ! -f "$PDIR/pg_wal/$seg" ]] && { archived=1; break; } # already recycled
    sleep 0.1
  done
  if ((archived)); then
    log "the primary's WAL up to $seg is in the repository"
  else
    log "WARNING: the primary's current WAL (${seg:-unknown}) did not reach the repository within 30 s; the restore ends at the last archived WAL"
  fi
fi
if [[ -n "$(pg_running_pid "$PDIR")" ]]; then
  log "stopping the primary $PDIR"
  pg_stop "$PDIR"
else
  claim_pg_port "$PPORT" "the restored primary" "$PDIR" # a postmaster whose directory was deleted is stopped here
fi

# --- 2. restore -----------------------------------------------------------------------------------------------------
RESTORE_NS="$(date +%s%N)"
args=(--pg1-path="$PDIR")
if [[ -f "$PDIR/PG_VERSION" ]]; then
  MODE="delta (data directory intact)"
  args+=(--delta)
else
  MODE="full (data directory missing)"
  rm -rf "$PDIR"
  install -d -o postgres -g postgres -m 0700 "$PDIR"
fi
if [[ -n "$TARGET_TIME" ]]; then
  args+=(--type=time "--target=$TARGET_TIME" --target-action=promote)
  [[ -z "$SET_FOR_TIME" ]] || args+=(--set="$SET_FOR_TIME")
fi
OUT="$BR_DIR/restore-$(date -u +%Y%m%dT%H%M%SZ).out"
log "restoring $PDIR from $BACKUP_REPO ($MODE) to $WHAT"
if ! br restore "${args[@]}" >"$OUT" 2>&1; then
  grep -E 'ERROR|WARN' "$OUT" >&2 || tail -n 20 "$OUT" >&2
  die "pgbackrest restore failed (output: $OUT); the primary $PDIR is stopped"
fi
SET="$(sed -n 's/.*restore backup set \([^,]*\).*/\1/p' "$OUT" | tail -n1)"
RESTORE_S="$(secs_since "$RESTORE_NS")"
# The restored files carry the settings of whichever node the backup was taken on.
pg_ensure_conf_blocks "$PDIR" >/dev/null
pg_write_node_conf "$PRIMARY" restoring

# --- 3. recover and promote -----------------------------------------------------------------------------------------
RECOVER_NS="$(date +%s%N)"
LOGFILE="$(pg_node_log "$PRIMARY")"
LOG_FROM=$(($(wc -l <"$LOGFILE" 2>/dev/null || echo 0) + 1))
if ! as_postgres "$PGBIN/pg_ctl" -D "$PDIR" -l "$LOGFILE" -o "-p $PPORT" -w -t 600 -s start >/dev/null; then
  tail -n +"$LOG_FROM" "$LOGFILE" | grep -E 'FATAL|PANIC|LOG:  (redo|recovery|last completed)' | tail -n 8 >&2 || true
  if tail -n +"$LOG_FROM" "$LOGFILE" | grep -q 'recovery ended before configured recovery target was reached'; then
    die "the archive ends before $TARGET_TIME: nothing after that time was archived. Restore to the latest state instead: scripts/restore.sh --yes"
  fi
  die "the restored primary did not start (log: $LOGFILE)"
fi
pg_wait_writable "$PRIMARY" 600
RECOVER_S="$(secs_since "$RECOVER_NS")"
pg_reset_recovery_settings "$PRIMARY"
IFS='|' read -r RESTORED_TO RESTORED_LSN TIMELINE < <(psql_at "$PPORT" -d postgres -F '|' -c \
  "SELECT coalesce(pg_last_xact_replay_timestamp()::text, 'no transaction replayed after the backup'),
          pg_last_wal_replay_lsn(), ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")
STOP_LINE="$(tail -n +"$LOG_FROM" "$LOGFILE" | grep -oE 'recovery stopping (before|after) [^,]*(, time .*)?' | tail -n1 || true)"
rm -f "$BR_STAMP" # the next infra-up.sh checks archiving on the new timeline again

# Tell the orchestrator its database went back in time: every database holding its schema gets a
# `database_restored` setting, and the reconciler of each task hub restarts the runs the restored database shows as
# unfinished from the steps it recorded (their orchestrations are ahead of it).
MARKED=""
WHAT_SQL="$(printf '%s' "$WHAT" | sed "s/'/''/g")"
while IFS= read -r db; do
  [[ -n "$db" ]] || continue
  if [[ "$(psql_at "$PPORT" -d "$db" -c "SELECT to_regclass('public.settings') IS NOT NULL AND to_regclass('public.workflow_states') IS NOT NULL" 2>/dev/null)" == t ]]; then
    psql_at "$PPORT" -d "$db" -c "INSERT INTO settings (key, value, updated_by)
        VALUES ('database_restored', jsonb_build_object('at', now()::text, 'to', '$WHAT_SQL'), 'scripts/restore.sh')
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by" >/dev/null
    MARKED+="${MARKED:+, }$db"
  fi
done < <(psql_at "$PPORT" -d postgres -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")

# --- 4. a new standby -----------------------------------------------------------------------------------------------
STANDBY_NS="$(date +%s%N)"
rebuild_standby "$PRIMARY" "$STANDBY" basebackup
STANDBY_S="$(secs_since "$STANDBY_NS")"
runbook_alias_follow_roles >/dev/null 2>&1 || true

printf 'restored       %s (port %s) from backup set %s, %s\n' "$PDIR" "$PPORT" "${SET:-?}" "$MODE"
printf 'restored to    %s (last transaction replayed: %s; LSN %s; new timeline %s)\n' \
  "$WHAT" "$RESTORED_TO" "$RESTORED_LSN" "$TIMELINE"
[[ -z "$STOP_LINE" ]] || printf 'recovery       %s\n' "$STOP_LINE"
if [[ -n "$MARKED" ]]; then
  printf 'orchestrator   marked restored: %s (unfinished runs resume from their recorded steps)\n' "$MARKED"
else
  printf 'orchestrator   no orchestrator database found\n'
fi
printf 'standby        %s (port %s) rebuilt with %s, streaming\n' "$(pg_node_dir "$STANDBY")" "$(pg_node_port "$STANDBY")" "$STANDBY_METHOD"
printf 'elapsed        %s s (restore %s s, recovery %s s, standby %s s)\n' \
  "$(secs_since "$START_NS")" "$RESTORE_S" "$RECOVER_S" "$STANDBY_S"

#!/usr/bin/env bash
# Back up the primary of this PostgreSQL pair with pgBackRest (stanza llm-orchestrator, repository
# /backups/llm-orchestrator or $ORCH_BACKUP_REPO; configuration written by scripts/infra-up.sh).
#   scripts/backup.sh               incremental, or full when the repository holds no full backup yet
#   scripts/backup.sh full|diff|incr
#   scripts/backup.sh --list        pgbackrest info: each backup, its size, and the WAL it can be restored with
# Prints the new backup's label, its size (database, and what it added to the repository) and how long it took.
# Works whichever node is the primary now. Old backups expire by ORCH_BACKUP_RETENTION_FULL (default 2 full) and
# ORCH_BACKUP_RETENTION_DIFF (default 2 differential). ORCH_INFRA_DIR, ORCH_INFRA_PG_PORT / _REPLICA_PORT and
# ORCH_BACKUP_REPO select the pair and the repository, as for scripts/infra-up.sh.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/lib-postgres.sh
source "$REPO_ROOT/scripts/lib-postgres.sh"

TYPE="" LIST=0
for arg in "$@"; do
  case "$arg" in
    full | diff | incr) [[ -z "$TYPE" ]] || die "give one backup type, not '$TYPE' and '$arg'"; TYPE="$arg" ;;
    --list) LIST=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (expected full, diff, incr or --list)" ;;
  esac
done
[[ "$(id -u)" == 0 ]] || die "run as root (pgBackRest runs as the postgres OS user via runuser)"

pg_require_pair
command -v pgbackrest >/dev/null 2>&1 || die "pgbackrest is not installed; run scripts/infra-up.sh (it installs the Debian package)"
[[ -f "$BR_CONF" ]] || die "no pgBackRest configuration at $BR_CONF; run scripts/infra-up.sh"

if ((LIST)); then
  br info || die "pgbackrest info failed for stanza $BACKUP_STANZA in $BACKUP_REPO (log: $BR_DIR/log)"
  exit 0
fi

[[ "$(pg_in_recovery "$PG_PRIMARY_NODE")" == f ]] ||
  die "the primary ($PG_PRIMARY_DIR, port $PG_PRIMARY_PORT) is not running as a primary; see scripts/failover.sh status"

# The newest backup label of a type ("F", "D" or "I" suffix) in the repository, or empty.
has_full_backup() { br info --output=json 2>/dev/null | grep -q '"type":"full"'; }

if [[ -z "$TYPE" ]]; then
  if has_full_backup; then TYPE=incr; else TYPE=full; fi
fi

OUT="$BR_DIR/backup-$(date -u +%Y%m%dT%H%M%SZ)-$TYPE.out"
START_NS="$(date +%s%N)"
printf 'backup: %s of %s (port %s) into %s ...\n' "$TYPE" "$PG_PRIMARY_DIR" "$PG_PRIMARY_PORT" "$BACKUP_REPO"
if ! br backup --type="$TYPE" >"$OUT" 2>&1; then
  grep -E 'ERROR|WARN' "$OUT" >&2 || tail -n 20 "$OUT" >&2
  die "pgbackrest backup --type=$TYPE failed (output: $OUT; log: $BR_DIR/log)"
fi
ELAPSED_MS=$((($(date +%s%N) - START_NS) / 1000000))
# Keep the outputs of the last 20 backups.
find "$BR_DIR" -maxdepth 1 -name 'backup-*.out' -printf '%T@ %p\n' | sort -rn | tail -n +21 | cut -d' ' -f2- | xargs -r rm -f
grep -E ' P[0-9]+ +WARN:' "$OUT" | sed 's/^.*WARN: /warning: /' >&2 || true

LABEL="$(sed -n 's/.*new backup label = \([^ ]*\).*/\1/p' "$OUT" | tail -n1)"
[[ -n "$LABEL" ]] || die "pgbackrest backup succeeded but printed no backup label (output: $OUT)"
# pgBackRest promotes an incr/diff to full when no full backup exists; the label's suffix says what was made.
case "$LABEL" in
  *F) MADE="full" ;;
  *D) MADE="diff" ;;
  *I) MADE="incr" ;;
  *) MADE="$TYPE" ;;
esac
SET="$(br info --set="$LABEL" 2>/dev/null || true)"
DB_SIZE="$(sed -n 's/.*database size: \([^,]*\),.*/\1/p' <<<"$SET" | head -n1)"
DB_DELTA="$(sed -n 's/.*database backup size: \([^ ]*\).*/\1/p' <<<"$SET" | head -n1)"
REPO_SIZE="$(sed -n 's/.*repo1: backup set size: \([^,]*\),.*/\1/p' <<<"$SET" | head -n1)"
REPO_DELTA="$(sed -n 's/.*repo1: backup set size: [^,]*, backup size: \([^ ]*\).*/\1/p' <<<"$SET" | head -n1)"
WAL_RANGE="$(sed -n 's/.*wal start\/stop: \(.*\)$/\1/p' <<<"$SET" | head -n1)"
COUNT="$(br info --output=json 2>/dev/null | grep -o '"label":"[^"]*"' | wc -l)"

printf 'backup label   %s (%s)\n' "$LABEL" "$MADE"
printf 'size           database %s, copied %s; repository %s for this backup set, %s added\n' \
  "${DB_SIZE:-?}" "${DB_DELTA:-?}" "${REPO_SIZE:-?}" "${REPO_DELTA:-?}"
printf 'wal            %s\n' "${WAL_RANGE:-?}"
printf 'duration       %s.%03d s\n' "$((ELAPSED_MS / 1000))" "$((ELAPSED_MS % 1000))"
printf 'repository     %s holds %s backup(s) (scripts/backup.sh --list)\n' "$BACKUP_REPO" "$COUNT"

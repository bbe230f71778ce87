#!/usr/bin/env bash
# A disaster-recovery drill on a throwaway PostgreSQL pair of its own, never this checkout's:
#   1. infra-up.sh --postgres-only       a new pair in its own ORCH_INFRA_DIR, backups in it too
#   2. backup.sh                         a full backup of a table of 1,000 rows
#   3. restore.sh --to T                 500 more rows, note T, a DELETE of everything ("data corruption"), PITR to T
#   4. restore.sh (latest)               200 more rows archived, primary crashed and its directory deleted
#   5. failover.sh promote / rebuild     a write on the new primary, the old one rewound, streaming again
#   6. failover.sh switchback            the roles put back
# Each step checks the rows a user would look for and prints its measured seconds; the pair is purged at the end
# (also on failure). Usage: scripts/dr-drill.sh   (ORCH_DRILL_PG_PORT, default 5442, and the next port for the
# standby; ORCH_DRILL_DIR, default a new directory under /tmp). Runs as root, takes about half a minute.
set -euo pipefail

# The drill's pair is chosen before lib.sh is read: every port and path it derives must be the drill's own.
DRILL_PORT="${ORCH_DRILL_PG_PORT:-5442}"
[[ "$DRILL_PORT" =~ ^[0-9]+$ ]] || { echo "[drill] ERROR: ORCH_DRILL_PG_PORT must be a port number" >&2; exit 1; }
if [[ -n "${ORCH_DRILL_DIR:-}" ]]; then
  DRILL_DIR="$ORCH_DRILL_DIR"
  [[ ! -e "$DRILL_DIR" || -z "$(ls -A "$DRILL_DIR")" ]] ||
    { echo "[drill] ERROR: ORCH_DRILL_DIR=$DRILL_DIR is not empty (the drill deletes it at the end)" >&2; exit 1; }
  mkdir -p "$DRILL_DIR"
else
  DRILL_DIR="$(mktemp -d /tmp/llm-orchestrator-drill.XXXXXX)"
fi
export ORCH_INFRA_DIR="$DRILL_DIR" ORCH_INFRA_PG_PORT="$DRILL_PORT" ORCH_INFRA_PG_REPLICA_PORT="$((DRILL_PORT + 1))"
unset ORCH_BACKUP_REPO # the drill's backups stay in its own directory

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root"
[[ "$INFRA_DIR" == "$(realpath -m -- "$DRILL_DIR")" && "$PG_NODE1_PORT" == "$DRILL_PORT" ]] ||
  die "internal: lib.sh did not pick up the drill's pair"
for p in "$DRILL_PORT" "$((DRILL_PORT + 1))"; do
  ! port_open "$p" || die "port $p is in use by $(port_owner "$p"); choose other ports with ORCH_DRILL_PG_PORT"
done

S="$REPO_ROOT/scripts"
chmod 0755 "$DRILL_DIR"
trap 'bash "$S/infra-down.sh" --purge >/dev/null 2>&1 || log "cleanup: scripts/infra-down.sh --purge failed for $DRILL_DIR"' EXIT

say() { printf '[drill] %s\n' "$*"; }
RESULTS=()
# Run one step, keep its output in the drill directory, and record its seconds.
step() {
  local name="$1" t0 ms out; shift
  out="$DRILL_DIR/step-${#RESULTS[@]}.out"
  t0="$(date +%s%N)"
  if ! "$@" >"$out" 2>&1; then
    cat "$out" >&2
    die "step '$name' failed: $*"
  fi
  ms=$((($(date +%s%N) - t0) / 1000000))
  RESULTS+=("$(printf '%-52s %6d.%03d s' "$name" "$((ms / 1000))" "$((ms % 1000))")")
  sed 's/^/    /' "$out"
}
sql() {
  [[ "$1" == "$DRILL_PORT" || "$1" == "$((DRILL_PORT + 1))" ]] || die "internal: refusing SQL on port $1, not the drill's"
  PGPASSWORD=postgres psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d workflows -c "$2"
}
expect() { [[ "$2" == "$3" ]] || die "$1: expected $3, got $2"; say "$1: $2 (as expected)"; }
primary_port() { pg_load_roles; printf '%s\n' "$PG_PRIMARY_PORT"; }
standby_port() { pg_load_roles; printf '%s\n' "$PG_REPLICA_PORT"; }
# Switch WAL and wait until the archiver marks the segment done: what archive_timeout (30 s) does on its own.
wait_archived() {
  local port="$1" seg i
  seg="$(sql "$port" "SELECT pg_walfile_name(pg_switch_wal())")"
  for ((i = 0; i < 300; i++)); do
    [[ -f "$DRILL_DIR/pg-primary/pg_wal/archive_status/$seg.done" ]] && return 0
    sleep 0.1
  done
  die "WAL segment $seg was not archived within 30 s"
}

say "pair in $DRILL_DIR on ports $DRILL_PORT/$((DRILL_PORT + 1))"
step "infra-up.sh --postgres-only (new pair)" bash "$S/infra-up.sh" --postgres-only
P="$(primary_port)"
sql "$P" "CREATE TABLE drill (id int PRIMARY KEY, note text); INSERT INTO drill SELECT g, 'before backup' FROM generate_series(1, 1000) g"
step "backup.sh (full)" bash "$S/backup.sh"

sql "$P" "INSERT INTO drill SELECT g, 'after backup' FROM generate_series(1001, 1500) g"
T="$(sql "$P" "SELECT now()")"
sleep 1
sql "$P" "DELETE FROM drill"
expect "rows after the bad DELETE" "$(sql "$P" "SELECT count(*) FROM drill")" 0
step "restore.sh --to T (data corruption, PITR)" bash "$S/restore.sh" --to "$T" --yes
expect "rows after the point-in-time restore" "$(sql "$P" "SELECT count(*) FROM drill")" 1500

sql "$P" "INSERT INTO drill SELECT g, 'before loss' FROM generate_series(2001, 2200) g"
wait_archived "$P"
pg_ctl_bin="$(pg_bin_dir)/pg_ctl"
(cd / && runuser -u postgres -- "$pg_ctl_bin" -D "$DRILL_DIR/pg-primary" -s stop -m immediate)
rm -rf "$DRILL_DIR/pg-primary"
step "restore.sh (database lost, latest)" bash "$S/restore.sh" --yes
expect "rows after restoring the lost primary" "$(sql "$P" "SELECT count(*) FROM drill")" 1700
expect "standby streams after the restore" "$(sql "$P" "SELECT state FROM pg_stat_replication")" streaming

step "failover.sh promote" bash "$S/failover.sh" promote
P="$(primary_port)"
expect "primary after promote is on port" "$P" "$((DRILL_PORT + 1))"
sql "$P" "INSERT INTO drill SELECT g, 'on the new primary' FROM generate_series(3001, 3100) g"
step "failover.sh rebuild" bash "$S/failover.sh" rebuild
sql "$P" "SELECT 1" >/dev/null
expect "standby streams after rebuild" "$(sql "$P" "SELECT state FROM pg_stat_replication")" streaming
for ((i = 0; i < 100; i++)); do [[ "$(sql "$(standby_port)" "SELECT count(*) FROM drill")" == 1800 ]] && break; sleep 0.1; done
expect "rows on the rebuilt standby" "$(sql "$(standby_port)" "SELECT count(*) FROM drill")" 1800
step "failover.sh status" bash "$S/failover.sh" status

step "failover.sh switchback" bash "$S/failover.sh" switchback
expect "primary after switchback is on port" "$(primary_port)" "$DRILL_PORT"
expect "rows after switchback" "$(sql "$DRILL_PORT" "SELECT count(*) FROM drill")" 1800
step "infra-up.sh (reuses the pair, re-checks archiving)" bash "$S/infra-up.sh" --postgres-only

printf '\n[drill] measured (wall clock, this machine):\n'
printf '  %s\n' "${RESULTS[@]}"

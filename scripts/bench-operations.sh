#!/usr/bin/env bash
# Cost of the operator's endpoints on a large table (prints numbers; asserts nothing).
#   scripts/bench-operations.sh [RUNS]     default 200000 runs in workflow_states (inserted with SQL, not executed)
# Starts its own Server on a free port against a fresh database, then measures:
#   - GET /api/v1/workflows: the first page, and a page deep in the list reached through the keyset cursor, with a
#     status filter; the same depth with OFFSET in plain SQL for comparison;
#   - GET /metrics: a scrape that recomputes the cluster's shared run counts, one served from the few-second cache,
#     and 200 concurrent scrapes (how many database reads they caused).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS="${1:-200000}"
PORT="${BENCH_PORT:-18081}"
HUB="benchops$(date +%s)"
DB="bench_ops_$(date +%s)"
start_bench_server "$PORT" "$HUB" "$DB"

# Runs spread over 30 days and every status, each with a two-step definition and one recorded step.
PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d "$DB" -q <<SQL
INSERT INTO workflow_states (id, definition_name, definition_version, definition, status, input, created_at, updated_at, last_checkpoint)
SELECT md5(i::text), 'bench-' || (i % 5), 1, '{"steps":[{"id":"a"},{"id":"b"}]}',
       (ARRAY['Pending','Running','Completed','Failed','Cancelled'])[1 + i % 5], '{}',
       now() - (i || ' seconds')::interval * 13, now(), now()
  FROM generate_series(1, $RUNS) AS i;
INSERT INTO workflow_steps (run_id, step_id, iteration, step_type, status, failed_attempts)
SELECT md5(i::text), 'a', 0, 'llm', 'Completed', i % 3 FROM generate_series(1, $RUNS) AS i;
ANALYZE workflow_states; ANALYZE workflow_steps;
SQL

python3 - "$PORT" "$RUNS" "$BENCH_API_KEY" "$DB" <<'PY'
import json, subprocess, sys, time, urllib.request, concurrent.futures as cf
port, runs, key, db = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}"
def get(path, auth=True):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"} if auth else {})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    return (time.perf_counter() - t0) * 1000, body
def median(xs):
    xs = sorted(xs); return xs[len(xs) // 2]
def sample(path, n=20, auth=True):
    return median([get(path, auth)[0] for _ in range(n)])

first = sample("/api/v1/workflows?status=Running&limit=50")
cursor, pages = None, 0
target = min(1000, runs // 5 // 50 - 1)  # deep in the Running runs
while pages < target:
    _, body = get("/api/v1/workflows?status=Running&limit=50" + (f"&cursor={cursor}" if cursor else ""))
    cursor = json.loads(body)["nextCursor"]; pages += 1
deep = sample(f"/api/v1/workflows?status=Running&limit=50&cursor={cursor}")
offset_sql = f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM workflow_states WHERE status = 'Running' ORDER BY created_at DESC, id DESC OFFSET {pages * 50} LIMIT 50"
plan = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-At", "-c", offset_sql],
                      capture_output=True, text=True, env={"PGPASSWORD": "postgres", "PATH": "/usr/bin:/bin"}).stdout
offset_ms = json.loads(plan)[0]["Execution Time"]

def series(name):
    _, body = get("/metrics", auth=False)
    line = next(l for l in body.decode().splitlines() if l.startswith(name + " "))
    return float(line.split()[1])
def reads():
    return series("llm_orchestrator_metrics_database_reads_total")
time.sleep(6)
time.sleep(6)
cold = get("/metrics", auth=False)[0]
cached = sample("/metrics", auth=False)
before = reads()
t0 = time.perf_counter()
with cf.ThreadPoolExecutor(50) as pool:
    latencies = list(pool.map(lambda _: get("/metrics", auth=False)[0], range(200)))
storm_s = time.perf_counter() - t0
after = reads()

print(f"runs in workflow_states: {runs}")
print(f"list, first page of Running (50): {first:.1f} ms median")
print(f"list, page {pages + 1} of Running through the cursor: {deep:.1f} ms median (the same depth with OFFSET in SQL alone: {offset_ms:.1f} ms)")
count_sql = "EXPLAIN (ANALYZE, FORMAT JSON) SELECT status, count(*) FROM workflow_states GROUP BY status"
count_ms = json.loads(subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-At", "-c", count_sql],
                      capture_output=True, text=True, env={"PGPASSWORD": "postgres", "PATH": "/usr/bin:/bin"}).stdout)[0]["Execution Time"]
print(f"metrics, scrape that recomputes the shared run counts: {cold:.1f} ms (the COUNT alone: {count_ms:.1f} ms, once per cache period for the whole cluster); cached: {cached:.1f} ms median")
print(f"metrics, 200 scrapes 50 at a time: {storm_s:.2f} s, p50 {median(latencies):.1f} ms, max {max(latencies):.1f} ms, database reads {after - before:.0f}")
PY

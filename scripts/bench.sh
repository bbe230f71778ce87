#!/usr/bin/env bash
# Throughput benchmark of the Server on local infrastructure (prints numbers; asserts nothing).
#   scripts/bench.sh [RUNS] [CONCURRENCY]     default 200 runs of a 3-step workflow, 50 submitted at a time
# Starts its own Server on a free port with the simulated provider at zero latency and a fresh task hub and database,
# so it measures the orchestration machinery (Durable on Azurite + Postgres), not an LLM.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS="${1:-200}"
CONCURRENCY="${2:-50}"
PORT="${BENCH_PORT:-18080}"
HUB="bench$(date +%s)"
DB="bench_$(date +%s)"

start_bench_server "$PORT" "$HUB" "$DB" Llm__SimulatedLatency=00:00:00
pid=$BENCH_SERVER_PID

python3 - "$PORT" "$RUNS" "$CONCURRENCY" "$pid" "$BENCH_API_KEY" <<'PY'
import json, sys, time, urllib.request, concurrent.futures as cf
port, runs, concurrency, pid, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
base = f"http://127.0.0.1:{port}"
definition = {"name": "bench", "steps": [
    {"id": "a", "type": "llm", "prompt": "A {{ input.n }}"},
    {"id": "b", "type": "llm", "prompt": "B {{ steps.a.output }}"},
    {"id": "c", "type": "transform", "value": {"a": "{{ steps.a.output }}", "b": "{{ steps.b.output }}"}}]}
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)
def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
start = time.time()
latencies = []
def one(n):
    t0 = time.time()
    return call("POST", "/api/v1/workflows", {"definition": definition, "input": {"n": n}})["id"], time.time() - t0
with cf.ThreadPoolExecutor(concurrency) as pool:
    results = list(pool.map(one, range(runs)))
submitted = time.time() - start
ids = [r[0] for r in results]
latencies = sorted(r[1] for r in results)
pending, peak = set(ids), rss_mb()
while pending:
    for i in list(pending):
        if call("GET", f"/api/v1/workflows/{i}")["status"] in ("Completed", "Failed", "Cancelled"):
            pending.discard(i)
    peak = max(peak, rss_mb())
    time.sleep(0.5)
total = time.time() - start
failed = sum(1 for i in ids if call("GET", f"/api/v1/workflows/{i}")["status"] != "Completed")
print(f"runs: {runs} (3 steps each: 2 llm + 1 transform), submitted {concurrency} at a time, failed: {failed}")
print(f"start latency: p50 {latencies[len(latencies)//2]*1000:.0f} ms, p95 {latencies[int(len(latencies)*0.95)-1]*1000:.0f} ms; all submitted in {submitted:.1f} s")
print(f"all completed in {total:.1f} s: {runs/total:.1f} runs/s, {3*runs/total:.1f} steps/s")
print(f"server peak RSS: {peak:.0f} MB")
PY

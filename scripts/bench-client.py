#!/usr/bin/env python3
"""The client side of scripts/bench.sh (run by it; not meant to be run alone).

  bench-client.py load   BASE_URL API_KEY SERVER_PID SETTINGS_JSON
  bench-client.py crash-start   BASE_URL API_KEY FAKE_LLM_URL SETTINGS_JSON    prints the run id once step 2 is in flight
  bench-client.py crash-measure BASE_URL API_KEY FAKE_LLM_URL SETTINGS_JSON RUN_ID KILLED_AT RESTARTED_AT HEALTHY_AT

SETTINGS_JSON holds what bench.sh was told and set (backend, runs, steps, latency, concurrency, ...). Each mode
prints a human-readable block, then one JSON line (the last line) with the DBOS peer's field names where they mean
the same thing, so a script can compare the two.
"""
import concurrent.futures as cf
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request

ENGINE = "llm-orchestrator-server"
TERMINAL = ("Completed", "Failed", "Cancelled")


class Api:
    def __init__(self, base, key):
        self.base, self.key = base, key

    def call(self, method, path, body=None, timeout=60):
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.key})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)

    def runs(self, statuses):
        """Every run of the benchmark's definition in one of `statuses`, through the list's cursor (500 a page)."""
        found, cursor = [], None
        while True:
            query = {"definition": "bench", "status": ",".join(statuses), "limit": "500"}
            if cursor:
                query["cursor"] = cursor
            page = self.call("GET", "/api/v1/workflows?" + urllib.parse.urlencode(query))
            found += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return found


def definition(steps):
    """`steps` sequential llm steps, each prompt built from the previous reply; the prompt's head names the step and
    the run ("step2 wf=<run id> :: ..."), as in the DBOS peer's workflow, so the fake LLM's log tells them apart."""
    chain = []
    for k in range(1, steps + 1):
        previous = "input {{ input.n }}" if k == 1 else "{{ steps.s%d.output }}" % (k - 1)
        chain.append({"id": f"s{k}", "type": "llm", "prompt": f"step{k} wf={{{{ run.id }}}} :: {previous}"})
    return {"name": "bench", "steps": chain}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


class PeakRss:
    """The Server's resident set size, sampled every 100 ms on a thread, plus the kernel's own high-water mark."""

    def __init__(self, pid):
        self.pid, self.peak_kb, self.stopping = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def read(self, field):
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def run(self):
        while not self.stopping.is_set():
            self.peak_kb = max(self.peak_kb, self.read("VmRSS"))
            self.stopping.wait(0.1)

    def stop_mb(self):
        self.stopping.set()
        self.thread.join()
        return max(self.peak_kb, self.read("VmHWM")) / 1024


def fake_stats(url):
    with urllib.request.urlopen(url.rstrip("/") + "/_stats", timeout=30) as response:
        return json.load(response)


def load(base, key, pid, settings):
    api = Api(base, key)
    runs, steps, latency = settings["runs"], settings["steps"], settings["latency"]
    concurrency, submit = settings["concurrency"], settings["submit_concurrency"]
    body = definition(steps)
    rss = PeakRss(pid)

    def start(n):
        t0 = time.perf_counter()
        try:
            run_id = api.call("POST", "/api/v1/workflows", {"definition": body, "input": {"n": n}})["id"]
        except Exception as error:  # a refused start is a failed run, not the end of the benchmark
            print(f"start {n} failed: {error}", file=sys.stderr)
            run_id = None
        return run_id, time.perf_counter() - t0

    def wait_for(ids, deadline):
        while time.perf_counter() < deadline:
            unfinished = [r for r in api.runs(["Pending", "Running"]) if r["id"] in ids]
            if not unfinished:
                return []
            time.sleep(0.1)
        return unfinished

    # Warm-up runs (not counted): the Server's code is compiled and its pools are filled before the clock starts.
    warmup = settings.get("warmup", 0)
    if warmup:
        with cf.ThreadPoolExecutor(submit) as pool:
            warm_ids = {run_id for run_id, _ in pool.map(start, range(-warmup, 0)) if run_id}
        wait_for(warm_ids, time.perf_counter() + 300)
        if settings.get("fake_llm_url"):
            urllib.request.urlopen(urllib.request.Request(settings["fake_llm_url"] + "/_reset", data=b"{}", method="POST"), timeout=10).close()
        rss = PeakRss(pid)

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(submit) as pool:
        started = list(pool.map(start, range(runs)))
    submitted_s = time.perf_counter() - t0
    ids = {run_id for run_id, _ in started if run_id}
    start_ms = sorted(seconds * 1000 for _, seconds in started)

    # One list request per poll, however many runs: the poll never becomes the bottleneck it measures.
    ideal = runs * steps * latency / concurrency if latency > 0 else None
    unfinished = wait_for(ids, t0 + 600 + 3 * (ideal or 0))
    wall = time.perf_counter() - t0
    peak_mb = rss.stop_mb()
    completed = sum(1 for r in api.runs(["Completed"]) if r["id"] in ids)
    failed = runs - completed
    stats = fake_stats(settings["fake_llm_url"]) if settings.get("fake_llm_url") else None
    if stats and os.environ.get("BENCH_FAKE_LLM_LOG"):  # every call's time, for a timeline of the calls in flight
        with open(os.environ["BENCH_FAKE_LLM_LOG"], "w") as f:
            json.dump({"t0": time.time() - (time.perf_counter() - t0), "log": stats["log"]}, f)

    scenario = "llm-bound" if latency > 0 else "overhead"
    print(f"backend: {settings['backend']}    provider: {settings['provider']}    scenario: {scenario}")
    print(f"runs: {runs} of {steps} sequential llm steps, latency {latency:g} s a call, at most {concurrency} calls in flight "
          f"({settings['limiter']}), {submit} starts sent at a time, after {warmup} warm-up runs")
    print(f"failed runs: {failed}" + (f" ({len(unfinished)} unfinished after the deadline)" if unfinished else "")
          + (f", runs that could not be started: {runs - len(ids)}" if len(ids) < runs else ""))
    print(f"wall time: {wall:.2f} s (all started after {submitted_s:.2f} s): {completed / wall:.1f} runs/s, {completed * steps / wall:.1f} steps/s")
    if ideal:
        print(f"ideal: {runs} x {steps} x {latency:g} s / {concurrency} = {ideal:.2f} s; wall/ideal {wall / ideal:.2f}")
    print(f"start latency (POST /api/v1/workflows): p50 {percentile(start_ms, 50):.0f} ms, p99 {percentile(start_ms, 99):.0f} ms")
    if stats:
        print(f"fake LLM: {stats['total']} calls, at most {stats['inflight_max']} in flight")
    print(f"server peak RSS: {peak_mb:.0f} MB")
    print(json.dumps({
        "scenario": scenario, "engine": ENGINE, "backend": settings["backend"], "provider": settings["provider"],
        "workflows": runs, "steps_per_workflow": steps, "fake_latency_s": latency, "concurrency": concurrency,
        "limiter": settings["limiter"], "submit_concurrency": submit, "warmup_runs": warmup, "enqueue_s": round(submitted_s, 3),
        "wall_s": round(wall, 3), "workflows_per_s": round(completed / wall, 1), "steps_per_s": round(completed * steps / wall, 1),
        "ideal_s": round(ideal, 3) if ideal else None, "overhead_vs_ideal_s": round(wall - ideal, 3) if ideal else None,
        "wall_over_ideal": round(wall / ideal, 3) if ideal else None,
        "completed_ok": completed, "failed": failed,
        "start_latency_p50_ms": round(percentile(start_ms, 50), 1), "start_latency_p99_ms": round(percentile(start_ms, 99), 1),
        "llm_calls": stats["total"] if stats else None, "fake_inflight_max": stats["inflight_max"] if stats else None,
        "peak_rss_mb": round(peak_mb),
    }))


def step_requests(stats, run_id, k):
    head = f"step{k} wf={run_id} "
    return [entry["t"] for entry in stats["log"] if entry["prompt_head"].startswith(head)]


def crash_start(base, key, fake_url, settings):
    """Starts one run and returns (prints) its id once its step 2 has been in flight for half the latency."""
    api = Api(base, key)
    run_id = api.call("POST", "/api/v1/workflows", {"definition": definition(settings["steps"]), "input": {"n": 0}})["id"]
    deadline = time.time() + 120
    while not step_requests(fake_stats(fake_url), run_id, 2):
        if time.time() > deadline:
            sys.exit(f"step 2 of run {run_id} was never requested from the fake LLM")
        time.sleep(0.02)
    time.sleep(settings["latency"] / 2)
    print(run_id)


def crash_measure(base, key, fake_url, settings, run_id, killed_at, restarted_at, healthy_at):
    api = Api(base, key)
    steps, deadline = settings["steps"], time.time() + 300
    while (status := api.call("GET", f"/api/v1/workflows/{run_id}")["status"]) not in TERMINAL and time.time() < deadline:
        time.sleep(0.1)
    done_at = time.time()
    stats = fake_stats(fake_url)
    requests = [step_requests(stats, run_id, k) for k in range(1, steps + 1)]
    step2_before = [t for t in requests[1] if t < killed_at]
    step2_again = [t for t in requests[1] if t > restarted_at]
    rerun = step2_again[0] - restarted_at if step2_again else None
    print(f"backend: {settings['backend']}    provider: fake LLM over HTTP, {settings['latency']:g} s a call")
    print(f"one run of {steps} llm steps ({run_id}); the Server was killed (SIGKILL) "
          f"{killed_at - step2_before[0]:.2f} s into step 2 and started again with the same worker id, task hub and database")
    print(f"restart to healthy: {healthy_at - restarted_at:.2f} s")
    print("restart to step 2 requested again: " + (f"{rerun:.2f} s" if rerun is not None else "never"))
    print(f"restart to the run finished: {done_at - restarted_at:.2f} s (status {status})")
    print(f"step 1 requested again: {'yes' if len(requests[0]) > 1 else 'no'}; requests per step: {[len(r) for r in requests]}")
    print(json.dumps({
        "scenario": "crash", "engine": ENGINE, "backend": settings["backend"], "fake_latency_s": settings["latency"],
        "steps": steps, "killed_during_step": 2, "killed_after_step2_start_s": round(killed_at - step2_before[0], 3),
        "restart_to_healthy_s": round(healthy_at - restarted_at, 3),
        "restart_to_step2_again_s": round(rerun, 3) if rerun is not None else None,
        "restart_to_workflow_done_s": round(done_at - restarted_at, 3), "final_status": status,
        "step1_requested_again": len(requests[0]) > 1, "step_request_counts": [len(r) for r in requests],
        "recovery_config": f"same Durable__WorkerId, task hub and database; {settings['limiter']}",
    }))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "load":
        load(args[0], args[1], int(args[2]), json.loads(args[3]))
    elif mode == "crash-start":
        crash_start(args[0], args[1], args[2], json.loads(args[3]))
    elif mode == "crash-measure":
        crash_measure(args[0], args[1], args[2], json.loads(args[3]), args[4], *map(float, args[5:8]))
    else:
        sys.exit(f"unknown mode {mode}")

"""HTTP API throughput and latency against the Searcher in-process: `python -m benchmarks.api_bench`.

For each number of concurrent clients (1, 4, 16 by default) the same queries run twice: through
`GET /v1/search` of a real server (`python -m search_app api`, loopback, one or more workers; one
httpx client per thread, a bounded number of requests) and through `Searcher.search` called from as
many threads in this process. Both sides embed every query (query-vector cache 0), so the
difference is what HTTP, FastAPI, JSON and the lease cost. Reports requests/s, p50/p95 per request,
the API's overhead at one client, and the resident memory of each server worker.

    python -m benchmarks.api_bench --index /tmp/api-idx [--workers 1,2] [--clients 1,4,16] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUERY_FILES = [ROOT.parent / "shared" / "eval" / "dev_queries.jsonl",
               ROOT.parent / "shared" / "eval" / "dev_resolutions.jsonl"]
TOP_K = 10


def load_queries(paths: list[Path]) -> list[str]:
    out = []
    for p in paths:
        if p.exists():
            out += [json.loads(line)["query"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not out:
        raise SystemExit(f"no queries found in {', '.join(map(str, paths))}; pass --queries FILE.jsonl")
    return out


def _pct(values: list[float], p: float) -> float:
    return round(float(np.percentile(np.asarray(values), p)) * 1000, 2)


def run_load(call: Any, queries: list[str], clients: int, total: int) -> tuple[list[float], float, int]:
    """`total` calls of `call(client_state, query)` from `clients` threads: (latencies, wall seconds,
    errors)."""
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker(state: Any) -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t = time.perf_counter()
            try:
                call(state, queries[i % len(queries)])
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(repr(e)[:200])
                continue
            dt = time.perf_counter() - t
            with lock:
                lat.append(dt)

    states = [call.make_state() for _ in range(clients)] if hasattr(call, "make_state") else [None] * clients
    threads = [threading.Thread(target=worker, args=(s,)) for s in states]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    for s in states:
        if s is not None:
            s.close()
    return lat, wall, len(errors)


def summary(clients: int, runs: list[tuple[list[float], float, int]]) -> dict[str, Any]:
    lat = [x for r in runs for x in r[0]]
    wall = sum(r[1] for r in runs)
    return {"clients": clients, "requests": len(lat), "errors": sum(r[2] for r in runs),
            "rps": round(len(lat) / wall, 2), "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2)}


class ApiCall:
    def __init__(self, base: str) -> None:
        self.base = base

    def make_state(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=120)

    def __call__(self, client: httpx.Client, query: str) -> None:
        r = client.get("/v1/search", params={"q": query, "top_k": TOP_K})
        r.raise_for_status()
        r.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    """uvicorn's worker processes under `pid` (spawned children; not multiprocessing's tracker)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for c in (task / "children").read_text().split():
            cmd = Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmd:
                out.append(int(c))
    return out


def start_server(index: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "VNSEARCH_API_RATE": "0", "VNSEARCH_QUERY_CACHE": "0", "VNSEARCH_API_ACCESS_LOG": os.devnull}
    env.pop("VNSEARCH_API_TOKEN", None)
    env.pop("VNSEARCH_API_TOKENS_FILE", None)
    proc = subprocess.Popen([sys.executable, "-m", "search_app", "api", "--index", str(index), "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the API server exited with {proc.returncode}")
        try:
            # several workers: each is spawned, then loads; the warm-up pass reaches them all
            ready = httpx.get(base + "/v1/status", timeout=2).status_code == 200
            if ready and (workers == 1 or len(_children(proc.pid)) >= workers):
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the API server did not come up within 180 s")


def worker_rss(proc: subprocess.Popen, workers: int) -> list[float]:
    pids = [proc.pid] if workers == 1 else _children(proc.pid)
    return [round(_rss_mb(p), 1) for p in pids]


def fixed_cost(base: str, n: int = 200) -> dict[str, float]:
    """The round trip of `GET /v1/health` at one client: HTTP, the middleware, the access log and
    JSON with no search — the API's fixed cost per request, less exposed to a busy machine's
    scheduling of the search itself."""
    lat = []
    with httpx.Client(base_url=base, timeout=30) as c:
        for _ in range(n):
            t = time.perf_counter()
            c.get("/v1/health").raise_for_status()
            lat.append(time.perf_counter() - t)
    return {"p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95)}


def serialize_cost(searcher: Any, queries: list[str]) -> float:
    """Milliseconds to shape and encode one answer of TOP_K hits (what the API adds to a search)."""
    from search_app.core import serialize

    hits = [searcher.search(q, TOP_K) for q in queries[:20]]
    t = time.perf_counter()
    for h in hits:
        json.dumps(serialize.search_response(h), ensure_ascii=False).encode()
    return round((time.perf_counter() - t) / len(hits) * 1000, 3)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, default=ROOT / "index")
    p.add_argument("--queries", type=Path, action="append", help="JSONL of {query} (default: ../shared/eval)")
    p.add_argument("--clients", default="1,4,16")
    p.add_argument("--workers", default="1,2", help="server worker counts to measure")
    p.add_argument("--reps", type=int, default=3,
                   help="alternating passes over the queries per measurement (in-process, API, API, in-process, …): "
                        "a busy machine's noise falls on both sides alike")
    p.add_argument("--json", type=Path, default=ROOT / ".cache" / "bench" / "api.json")
    return p


def _workers(args: argparse.Namespace, searcher: Any, queries: list[str], workers: int) -> dict[str, Any]:
    """One server of `workers` workers against the in-process searcher, at each client count."""
    clients = [int(c) for c in args.clients.split(",")]

    def inproc(_state: Any, q: str) -> None:
        searcher.search(q, TOP_K)

    proc, base = start_server(args.index, workers)
    try:
        call = ApiCall(base)
        warm = call.make_state()
        for q in queries * workers:
            call(warm, q)
        warm.close()
        levels = []
        for c in clients:
            mine: list = []
            theirs: list = []
            for rep in range(args.reps):
                order = [(inproc, mine), (call, theirs)]
                for fn, into in order if rep % 2 == 0 else order[::-1]:
                    into.append(run_load(fn, queries, c, len(queries)))
            levels.append({"in_process": summary(c, mine), "api": summary(c, theirs)})
        return {"levels": levels, "rss_mb_per_worker": worker_rss(proc, workers),
                "health_round_trip": fixed_cost(base)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _report(results: dict[str, Any], path: Path) -> None:
    print(f"model {results['model']}, {results['queries']} queries × {results['reps']} alternating passes, "
          f"{os.cpu_count()} cores")
    print(f"{'workers':>7}{'clients':>8}  {'in-process req/s p50 p95':>26}  {'API req/s p50 p95':>26}")
    for w, res in results["workers"].items():
        for lv in res["levels"]:
            a, b = lv["in_process"], lv["api"]
            errors = f"  errors {b['errors']}" if b["errors"] else ""
            print(f"{w:>7}{a['clients']:>8}  {a['rps']:>10}{a['p50_ms']:>8}{a['p95_ms']:>8}"
                  f"  {b['rps']:>10}{b['p50_ms']:>8}{b['p95_ms']:>8}{errors}")
        print(f"  RSS per worker (MB): {res['rss_mb_per_worker']}; /v1/health round trip p50 "
              f"{res['health_round_trip']['p50_ms']} ms")
    o = results["overhead_1_client"]
    print(f"API overhead at 1 client: {o['mean_ms']} ms mean ({o['share_of_query']:.1%} of a query), "
          f"{o['p50_ms']} ms at p50")
    print(f"shaping + encoding one answer: {results['serialize_ms']} ms; load average before / after: "
          f"{results['load_average_before'][0]:.1f} / {os.getloadavg()[0]:.1f} (other processes share the cores)")
    print(f"written to {path}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from search_app.api import quiet_openmp
    from search_app.core.searcher import Searcher

    quiet_openmp()  # the servers' OpenMP setting on the in-process side too: like against like

    queries = load_queries(args.queries or QUERY_FILES)
    searcher = Searcher(args.index, query_cache=0)
    for q in queries:  # warm: model loaded, relation graph built, caches of the OS filled
        searcher.search(q, TOP_K)
    results: dict[str, Any] = {"index": str(args.index), "model": searcher.manifest["model"],
                               "queries": len(queries), "reps": args.reps, "cores": os.cpu_count(),
                               "serialize_ms": serialize_cost(searcher, queries),
                               "load_average_before": os.getloadavg(), "workers": {}}
    for w in (int(x) for x in args.workers.split(",")):
        results["workers"][str(w)] = _workers(args, searcher, queries, w)
    searcher.close()
    first = results["workers"][next(iter(results["workers"]))]["levels"][0]
    one, api1 = first["in_process"], first["api"]
    results["overhead_1_client"] = {"p50_ms": round(api1["p50_ms"] - one["p50_ms"], 2),
                                    "mean_ms": round(api1["mean_ms"] - one["mean_ms"], 2),
                                    "share_of_query": round((api1["mean_ms"] - one["mean_ms"]) / one["mean_ms"], 3)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    _report(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

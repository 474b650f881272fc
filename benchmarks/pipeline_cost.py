"""What a warm search costs beside its query embedding, stage by stage, measured side by side.

A batch of questions (`search --queries`, `POST /v1/search`: `Searcher.search_many` in groups of 64,
which embeds each group's queries in one call) against the same questions embedded by the same model
in the same groups, in alternating rounds in one process so that both see the same machine; the ratio
of the medians is the figure (goal ≤ 1.15). The questions embedded one by one are measured too (the
baseline before a batch embedded its queries together). Each stage's mean milliseconds come from the
results' own timings (core/pipeline.py times every stage; a batch's embedding is outside them).

    python -m benchmarks.pipeline_cost --index .cache/alqac-hash --queries ../shared/datasets/alqac-2023-2025 \
        [--query-model e5-small] [--n 200] [--rounds 3] [--backend-uri …]

With `--query-model`, an index built with the `hash` embedder is searched with that model's query
vectors (benchmarks/bench.py `_TimingOnly`): every stage does the same work on vectors of any value,
so this measures speed, never quality.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from search_app.core.pipeline import SearchRequest
from search_app.core.searcher import Searcher

GROUP = 64  # as the CLI's batch mode and the API's POST


def read_queries(path: Path, n: int) -> list[str]:
    """Questions from a BEIR folder (queries.jsonl's "text") or a JSONL of {"query"} lines."""
    file = path / "queries.jsonl" if path.is_dir() else path
    out = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out.append(item.get("query") or item.get("text") or "")
    return [q for q in out if q][:n]


def _embed_round(searcher: Searcher, queries: list[str]) -> float:
    embedder = searcher.embedder()
    t = time.perf_counter()
    for q in queries:
        embedder.embed_query(q)
    return time.perf_counter() - t


def _embed_batch_round(searcher: Searcher, queries: list[str]) -> float:
    """The same questions embedded in the groups a batch search embeds them in (one call a group)."""
    embedder = searcher.embedder()
    t = time.perf_counter()
    for at in range(0, len(queries), GROUP):
        embedder.embed_queries(queries[at:at + GROUP])
    return time.perf_counter() - t


def _search_round(searcher: Searcher, queries: list[str], stages: dict[str, list[float]]) -> float:
    t = time.perf_counter()
    for at in range(0, len(queries), GROUP):
        for result in searcher.search_many([SearchRequest(q) for q in queries[at:at + GROUP]]):
            for name, secs in result.timings.items():
                stages.setdefault(name, []).append(secs)
    return time.perf_counter() - t


def measure(searcher: Searcher, queries: list[str], rounds: int = 3, n: int = 200) -> dict[str, Any]:
    """Alternating rounds (each query embedded alone, the batch's groups embedded together, then the
    batch search), after one warm-up round of each. The batch search embeds its queries together, so
    its fair baseline is the second (`ratio`); `ratio_to_one_by_one` is against the first. Each round
    asks `n` questions none of the others asks (as far as `queries` goes): asking the same ones again
    would find every passage of their results in the search's caches, which no user's next question does."""
    warm, queries = queries[-10:], queries[:-10] or queries
    _embed_round(searcher, warm)
    _embed_batch_round(searcher, warm)
    _search_round(searcher, warm, {})
    one, batch, search = [], [], []
    stages: dict[str, list[float]] = {}
    for r in range(rounds):
        asked = [queries[(r * n + i) % len(queries)] for i in range(min(n, len(queries)))]
        one.append(_embed_round(searcher, asked) / len(asked))
        batch.append(_embed_batch_round(searcher, asked) / len(asked))
        search.append(_search_round(searcher, asked, stages) / len(asked))
    e1, e, s = (statistics.median(x) * 1000 for x in (one, batch, search))
    asked_total = sum(len(v) for k, v in stages.items() if k == "stage:keyword") or 1
    return {"queries": min(n, len(queries)), "rounds": rounds, "embed_one_ms": round(e1, 2),
            "embed_ms": round(e, 2), "search_ms": round(s, 2), "ratio": round(s / e, 3) if e else None,
            "ratio_to_one_by_one": round(s / e1, 3) if e1 else None, "load": _load(),
            "stages_ms": {k: round(sum(v) / asked_total * 1000, 3) for k, v in sorted(stages.items())}}


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def table(res: dict[str, Any]) -> str:
    lines = [f"{res['queries']} queries × {res['rounds']} rounds (load {res['load']}): query embedding "
             f"{res['embed_one_ms']} ms one by one, {res['embed_ms']} ms in the batch's groups; whole batch "
             f"search {res['search_ms']} ms a query; ratio {res['ratio']} (to one by one "
             f"{res['ratio_to_one_by_one']})", "",
             "| stage | mean ms a query |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in res["stages_ms"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench import _TimingOnly
    from indexer.store import open_backend

    p = argparse.ArgumentParser(prog="python -m benchmarks.pipeline_cost", description=__doc__)
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--queries", type=Path, required=True)
    p.add_argument("--query-model", help="search a hash-built index with this model's query vectors (speed only)")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    embedder = None
    if args.query_model:
        backend = open_backend(args.index)
        embedder = _TimingOnly(backend.manifest["model"], args.query_model)
        backend.close()
    searcher = Searcher(args.index, embedder=embedder, query_cache=0)
    res = measure(searcher, read_queries(args.queries, 100_000), args.rounds, args.n)
    print(table(res))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

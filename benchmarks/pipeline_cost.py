"""What a warm search costs beside its query embedding, stage by stage, measured side by side.

A batch of questions (`search --queries`, `POST /v1/search`: `Searcher.search_many` in groups of 64,
which embeds each group's queries in one call) against the same questions embedded by the same model
in the same groups, group by group in one process (each group embedded, searched, and embedded again),
so that both see the same machine; the ratio of the medians over the rounds is the figure
(goal ≤ 1.15). Each full group's own ratio is reported too, and their median: the host's speed
drifts between groups (one group's embedding 20 ms a query, the next one's 35 ms), and one slow
stretch inside a group's search step moves the ratio of sums more than the typical group. The
searcher starts as the servers start it (`warm_up`, then `heap.settle`). The questions embedded one
by one are measured too (the baseline before a batch embedded its queries together). Each stage's
mean milliseconds come from the results' own timings (core/pipeline.py times every stage; a batch's
embedding and read-ahead are outside them).

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

from search_app.core import heap
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


def _group_times(searcher: Searcher, group: list[str], stages: dict[str, list[float]],
                 one_first: bool) -> dict[str, float]:
    """Seconds for one group: its questions embedded one by one, embedded in one call (as the batch
    search embeds them) and searched as a batch, side by side so that all three see the same machine.
    The embedding in one call runs just before the search and again just after it, and counts as the
    mean of the two: the host's speed drifts by 10-20 % over seconds, and a steady drift then moves
    both sides of the ratio alike, whichever way it goes. `one_first` puts the questions embedded one
    by one before the others or after them."""
    embedder = searcher.embedder()

    def one() -> None:
        for q in group:
            embedder.embed_query(q)

    def search() -> None:
        for result in searcher.search_many([SearchRequest(q) for q in group]):
            for name, secs in result.timings.items():
                stages.setdefault(name, []).append(secs)

    steps = [("batch", lambda: embedder.embed_queries(group)), ("search", search),
             ("batch", lambda: embedder.embed_queries(group))]
    steps = [("one", one), *steps] if one_first else [*steps, ("one", one)]
    out = {"one": 0.0, "batch": 0.0, "search": 0.0}
    for name, fn in steps:
        t = time.perf_counter()
        fn()
        out[name] += (time.perf_counter() - t) / (2 if name == "batch" else 1)
    return out


def _round(searcher: Searcher, asked: list[str], stages: dict[str, list[float]],
           groups: list[float] | None = None) -> dict[str, float]:
    """Seconds a query, each group measured side by side (`_group_times`), the questions embedded one by
    one first in every other group;
    each full group's own ratio (search / embedding in one call) appended to `groups`."""
    total = {"one": 0.0, "batch": 0.0, "search": 0.0}
    for g, at in enumerate(range(0, len(asked), GROUP)):
        times = _group_times(searcher, asked[at:at + GROUP], stages, one_first=not g % 2)
        for k, v in times.items():
            total[k] += v
        if groups is not None and len(asked[at:at + GROUP]) == GROUP and times["batch"] > 0:
            groups.append(times["search"] / times["batch"])
    return {k: v / max(1, len(asked)) for k, v in total.items()}


def measure(searcher: Searcher, queries: list[str], rounds: int = 3, n: int = 200, warm: int = 10) -> dict[str, Any]:
    """Rounds of groups, each group embedded one by one, embedded together and searched as a batch side
    by side, after a warm-up over the last `warm` questions (a server that has answered other questions
    before: the passages they found are in its caches). The batch search embeds each group's queries
    together, so its fair baseline is the group embedded in one call (`ratio`); `ratio_to_one_by_one`
    is against the questions embedded one by one. Each round asks `n` questions none of the others
    asks, nor the warm-up (as far as `queries` goes): asking the same ones again would find every
    passage of their results in the search's caches, which no user's next question does."""
    warm = max(1, warm)
    warm_qs, queries = queries[-warm:], queries[:-warm] or queries
    _round(searcher, warm_qs, {})
    times: dict[str, list[float]] = {}
    stages: dict[str, list[float]] = {}
    groups: list[float] = []
    for r in range(rounds):
        asked = [queries[(r * n + i) % len(queries)] for i in range(min(n, len(queries)))]
        for k, v in _round(searcher, asked, stages, groups).items():
            times.setdefault(k, []).append(v)
    e1, e, s = (statistics.median(times[k]) * 1000 for k in ("one", "batch", "search"))
    asked_total = sum(len(v) for k, v in stages.items() if k == "stage:keyword") or 1
    return {"queries": min(n, len(queries)), "rounds": rounds, "warm": len(warm_qs), "embed_one_ms": round(e1, 2),
            "embed_ms": round(e, 2), "search_ms": round(s, 2), "ratio": round(s / e, 3) if e else None,
            "ratio_to_one_by_one": round(s / e1, 3) if e1 else None, "load": _load(),
            "group_ratios": [round(x, 3) for x in groups],
            "group_ratio_median": round(statistics.median(groups), 3) if groups else None,
            "stages_ms": {k: round(sum(v) / asked_total * 1000, 3) for k, v in sorted(stages.items())}}


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def table(res: dict[str, Any]) -> str:
    lines = [f"{res['queries']} queries × {res['rounds']} rounds after {res['warm']} others (load {res['load']}): "
             f"query embedding "
             f"{res['embed_one_ms']} ms one by one, {res['embed_ms']} ms in the batch's groups; whole batch "
             f"search {res['search_ms']} ms a query; ratio {res['ratio']} (to one by one "
             f"{res['ratio_to_one_by_one']}); each full group's own ratio: median {res['group_ratio_median']} "
             f"of {res['group_ratios']}", "",
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
    p.add_argument("--warm", type=int, default=10, help="other questions asked first (none asked again)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    embedder = None
    if args.query_model:
        backend = open_backend(args.index)
        embedder = _TimingOnly(backend.manifest["model"], args.query_model)
        backend.close()
    searcher = Searcher(args.index, embedder=embedder, query_cache=0)
    searcher.warm_up()  # started as the servers start (LiveIndex.start, the page)
    heap.settle()
    res = measure(searcher, read_queries(args.queries, 100_000), args.rounds, args.n, args.warm)
    print(table(res))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

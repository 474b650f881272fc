"""Round trips of a `search --queries` batch on the Milvus engine: they grow per batch of
BATCH_PREFETCH queries (the read-ahead), not per query (issue 17)."""

from __future__ import annotations

import collections
import math
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytestmark = [pytest.mark.milvus, pytest.mark.slow]

from test_milvus_engine import corpus, local_index  # noqa: E402,F401

from indexer.pipeline.build import build  # noqa: E402
from search_app.cli import BATCH_PREFETCH  # noqa: E402
from search_app.core import serialize  # noqa: E402
from search_app.core.pipeline import SearchRequest  # noqa: E402
from search_app.core.searcher import Searcher  # noqa: E402

CALLS = ("search", "hybrid_search", "query", "query_iterator", "get", "get_load_state", "load_collection",
         "describe_collection", "list_collections")


def _count_calls(client) -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for name in CALLS:
        fn = getattr(client, name, None)
        if fn is None:
            continue

        def wrapped(*a, _fn=fn, _name=name, **kw):
            counts[_name] += 1
            return _fn(*a, **kw)

        setattr(client, name, wrapped)
    return counts


def _run_batches(s: Searcher, queries: list[str]) -> list[str]:
    out = []
    for at in range(0, len(queries), BATCH_PREFETCH):
        part = queries[at : at + BATCH_PREFETCH]
        for q, result in zip(part, s.search_many([SearchRequest(q) for q in part]), strict=True):
            out.append(repr(serialize.batch_line(q, result)))
    return out


def _measure(tmp_path: Path, index: Path) -> tuple[collections.Counter, int, list[str], list[str]]:
    """Round trips of a batch of 90 queries (two read-aheads), its lines, and the same lines one query at
    a time (no read-ahead)."""
    corpus(tmp_path / "c", 30, "thử nghiệm")
    assert build([tmp_path / "c"], index, model="hash", progress=False, backend="milvus").ok
    queries = [f"quy định {k} của văn bản thử nghiệm {i}" for i in range(30) for k in (1, 3, 5)]
    s = Searcher(index, query_cache=0)
    try:
        s.search("văn bản thử nghiệm", top_k=10)  # opening and loading are not the batch's
        counts = _count_calls(s.backend.session.client)
        lines = _run_batches(s, queries)
    finally:
        s.close()
    s = Searcher(index, query_cache=0)
    try:
        single = [repr(serialize.batch_line(q, s.search(q, 10))) for q in queries]
    finally:
        s.close()
    return counts, math.ceil(len(queries) / BATCH_PREFETCH), lines, single


def test_a_batch_hydrates_its_hits_per_batch_not_per_query(tmp_path: Path, local_index: Path) -> None:  # noqa: F811
    counts, batches, lines, single = _measure(tmp_path, local_index)
    # passage and document rows: one query per 500 pids and the documents' table, per batch
    # (before the read-ahead: ~60 for these 90 queries)
    assert counts["query"] + counts["query_iterator"] + counts["get"] <= 4 * batches, dict(counts)
    assert lines == single


def test_a_batch_costs_round_trips_per_batch_not_per_query(tmp_path: Path, local_index: Path) -> None:  # noqa: F811
    counts, batches, lines, single = _measure(tmp_path, local_index)
    # per batch: keyword_many (2 fields, 16 queries a call), dense_many (32 a call), the candidates'
    # rows (a query per 500 pids), sentence scores (a search per group of queries, sentence_scores_many,
    # and a query per 500 pids not yet seen): ~16; a call a query would be 64 more
    assert sum(counts.values()) <= 20 * batches, dict(counts)
    assert lines == single

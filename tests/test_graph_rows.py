"""The relation graph is computed by the writer, per document, and only assembled at search time.

- the first search after an update reads no passage beyond what its hits need (the backend's reads
  are counted) and already answers with the update's validity, on every backend;
- the stored row of a document is exactly what the analysis of its passages gives;
- deleting a file removes its part of the graph.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import BACKEND_PARAMS, backend_uri, write
from test_relations import NEW_LAW, relations_corpus

from indexer.pipeline.build import build
from indexer.store import open_backend
from indexer.text.document_graph import graph_row
from indexer.text.relations import analyse_document
from search_app.core import preload
from search_app.core.graphs import GraphCache
from search_app.core.relations import RelationGraph
from search_app.core.searcher import COVERAGE_PASSAGES, Searcher
from search_app.core.stages import DIVERSIFY_DEPTH

BACKENDS = [p for p in BACKEND_PARAMS
            if getattr(p, "values", (p,))[0] in os.environ.get("VNSEARCH_RELATION_BACKENDS", "embedded,milvus")]
OLD = "luat-kho-thu-nghiem-2020.txt"
NEW = "luat-kho-thu-nghiem-2023.txt"
QUERY = "Văn bản thử nghiệm cũ được lưu giữ trong kho giả định"


class CountingBackend:
    """A backend that counts every call by name and the passages read through `passages`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()
        self.passages_read = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == "passages":
                self.passages_read += len(args[0])
            return attr(*args, **kwargs)

        return counted


@pytest.fixture(params=BACKENDS)
def index(request, tmp_path) -> tuple[Path, Path, dict[str, Any]]:
    kw: dict[str, Any] = {"backend": request.param, "milvus_uri": backend_uri(request, request.param)}
    corpus = relations_corpus(tmp_path)
    report = build([corpus], tmp_path / "index", model="hash", progress=False, **kw)
    assert report.ok and report.documents == 7, report.summary()
    return corpus, tmp_path / "index", kw


def test_first_search_after_an_update_reads_no_corpus(index, monkeypatch):
    corpus, path, kw = index
    # what the search itself reads: no passage read ahead at the switch (tests/test_warm_up.py)
    monkeypatch.setattr(preload, "PRELOAD_PASSAGES", 0)
    inner = open_backend(path)
    backend = CountingBackend(inner)
    s = Searcher(path, backend=backend)  # type: ignore[arg-type]
    try:
        old = next(h for h in s.search(QUERY, top_k=5) if h.doc_id == OLD)
        assert old.validity["status"] == "repealed"
        # the repealing law leaves the folder: an update, then the first search after it
        (corpus / NEW).unlink()
        assert build([corpus], path, model="hash", progress=False, incremental=True, **kw).removed == [NEW]
        built = []
        real_init = RelationGraph.__init__

        def counted_init(self: RelationGraph, b: Any) -> None:
            real_init(self, b)
            built.append(self.generation)

        monkeypatch.setattr(RelationGraph, "__init__", counted_init)
        before = s.manifest["generation"]
        # the refresh assembles the new generation's graph before it switches ...
        assert s.refresh()
        assert built == [s.manifest["generation"]] != [before]
        # ... so the first search after it reads no graph and no passage beyond what its hits need
        backend.calls.clear()
        backend.passages_read = 0
        hits = s.search(QUERY, top_k=5)
        old = next(h for h in hits if h.doc_id == OLD)
        assert old.validity["status"] == "in_force" and "hết hiệu lực" not in old.citation
        assert s.relations().generation == s.manifest["generation"]
        assert len(built) == 1 and backend.calls["graph_rows"] == 0
        assert backend.calls["doc_passages"] == 0 and backend.calls["neighbours"] == 0
        assert not hasattr(inner, "all_passages")
        # the rows the ranking's head needs: coverage, the diversified head, the hits (each read once)
        assert 0 < backend.passages_read <= COVERAGE_PASSAGES + DIVERSIFY_DEPTH * 5
        # it comes back: the update's new rows say again that the old law is repealed
        write(corpus / NEW, NEW_LAW)
        build([corpus], path, model="hash", progress=False, incremental=True, **kw)
        assert s.refresh()
        assert s.relations().validity(doc_id=OLD)["status"] == "repealed"
        assert s.relations().excluded_doc_ids() == {OLD}
    finally:
        s.close()


def test_stored_rows_are_the_analysis_of_the_passages(index):
    _corpus, path, _kw = index
    b = open_backend(path)
    try:
        rows = {r["doc_id"]: r for r in b.graph_rows()}
        assert set(rows) == {d["doc_id"] for d in b.documents()}
        for doc in b.documents():
            passages = b.doc_passages(doc["doc_id"])
            refs = b.refs_of([p["pid"] for p in passages])
            keys = [(k, b.key_label(k)) for k, _label in rows[doc["doc_id"]]["keys"]]
            assert rows[doc["doc_id"]] == graph_row(doc, passages, refs, keys)
        new = rows[NEW]
        assert [r["type"] for r in new["relations"]] == [r.type for r in analyse_document(
            b.doc_passages(NEW), b.refs_of([p["pid"] for p in b.doc_passages(NEW)]))]
        assert {"repeals", "amends", "basis"} <= {r["type"] for r in new["relations"]}
        assert new["effective"][0] == "2024-01-01"
    finally:
        b.close()


def test_a_deleted_file_takes_its_part_of_the_graph_with_it(tmp_path):
    corpus = relations_corpus(tmp_path)
    build([corpus], tmp_path / "index", model="hash", progress=False)
    shutil.move(corpus / NEW, tmp_path / NEW)
    build([corpus], tmp_path / "index", model="hash", progress=False, incremental=True)
    b = open_backend(tmp_path / "index")
    try:
        assert NEW not in {r["doc_id"] for r in b.graph_rows()} and len(b.graph_rows()) == 6
    finally:
        b.close()


def test_searches_answer_from_the_current_index_while_a_refresh_prepares_the_next(index, monkeypatch):
    """A refresh assembles the next graph before it switches; searches meanwhile neither wait for it
    nor see the next generation, and once it switched the first search finds the graph ready."""
    corpus, path, kw = index
    s = Searcher(path)
    try:
        assert next(h for h in s.search(QUERY, top_k=5) if h.doc_id == OLD).validity["status"] == "repealed"
        before = s.manifest["generation"]
        (corpus / NEW).unlink()
        build([corpus], path, model="hash", progress=False, incremental=True, **kw)
        started, release = threading.Event(), threading.Event()
        real_init = RelationGraph.__init__

        def slow_init(self: RelationGraph, b: Any) -> None:
            started.set()
            assert release.wait(30)
            real_init(self, b)

        monkeypatch.setattr(RelationGraph, "__init__", slow_init)
        s.refresh_soon()  # the page's call: returns at once
        assert started.wait(30)
        t = time.perf_counter()
        hits = s.search(QUERY, top_k=5)  # while the next graph is being assembled
        assert time.perf_counter() - t < 10 and s.manifest["generation"] == before
        assert next(h for h in hits if h.doc_id == OLD).validity["status"] == "repealed"
        s.refresh_soon()  # a second call while one runs starts nothing
        monkeypatch.setattr(RelationGraph, "__init__", real_init)
        release.set()
        deadline = time.monotonic() + 30
        while s.manifest["generation"] == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert s.manifest["generation"] != before
        built = []
        monkeypatch.setattr(RelationGraph, "__init__", lambda self, b: built.append(b) or real_init(self, b))
        old = next(h for h in s.search(QUERY, top_k=5) if h.doc_id == OLD)
        assert old.validity["status"] == "in_force" and built == []
    finally:
        s.close()


def test_a_failed_preparation_does_not_stop_the_switch(index, monkeypatch, caplog):
    corpus, path, kw = index
    s = Searcher(path)
    try:
        s.search(QUERY, top_k=5)
        (corpus / NEW).unlink()
        build([corpus], path, model="hash", progress=False, incremental=True, **kw)
        monkeypatch.setattr(GraphCache, "prepare", lambda self, ahead: 1 / 0)
        assert s.refresh()  # switched regardless: the new generation is published and is served
        assert "preparing the newer index version failed" in caplog.text
        old = next(h for h in s.search(QUERY, top_k=5) if h.doc_id == OLD)  # its graph made here
        assert old.validity["status"] == "in_force"
    finally:
        s.close()

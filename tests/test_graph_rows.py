"""The relation graph is computed by the writer, per document, and only assembled at search time.

- the first search after an update reads no passage beyond what its hits need (the backend's reads
  are counted) and already answers with the update's validity, on every backend;
- the stored row of a document is exactly what the analysis of its passages gives;
- deleting a file removes its part of the graph.
"""

from __future__ import annotations

import os
import shutil
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
from search_app.core.searcher import COVERAGE_PASSAGES, Searcher

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


def test_first_search_after_an_update_reads_no_corpus(index):
    corpus, path, kw = index
    inner = open_backend(path)
    backend = CountingBackend(inner)
    s = Searcher(path, backend=backend)  # type: ignore[arg-type]
    try:
        old = next(h for h in s.search(QUERY, top_k=5) if h.doc_id == OLD)
        assert old.validity["status"] == "repealed"
        # the repealing law leaves the folder: an update, then the first search after it
        (corpus / NEW).unlink()
        assert build([corpus], path, model="hash", progress=False, incremental=True, **kw).removed == [NEW]
        backend.calls.clear()
        backend.passages_read = 0
        assert s.refresh()
        hits = s.search(QUERY, top_k=5)
        old = next(h for h in hits if h.doc_id == OLD)
        assert old.validity["status"] == "in_force" and "hết hiệu lực" not in old.citation
        assert s.relations().generation == s.manifest["generation"]
        assert backend.calls["graph_rows"] == 1  # the graph came from the stored rows, once
        assert backend.calls["doc_passages"] == 0 and backend.calls["neighbours"] == 0
        assert not hasattr(inner, "all_passages")
        assert 0 < backend.passages_read <= COVERAGE_PASSAGES + len(hits)
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

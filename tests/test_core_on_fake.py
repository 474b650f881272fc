"""The search core over the in-memory fake backend (tests/fake_backend.py): fast unit tests that need no
index on disk, no model and no server."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from fake_backend import DOCS, EMBEDDER, FakeBackend, make_records

from indexer.records import Filters
from search_app.core.prefetch import read_ahead
from search_app.core.searcher import Searcher


@pytest.fixture
def fake(tmp_path: Path) -> FakeBackend:
    store = FakeBackend.create(tmp_path / "fake")
    w = store.begin(full=True)
    for d in DOCS:
        w.add(make_records(d))
    w.publish({"model": EMBEDDER.name, "dimension": EMBEDDER.dimension})
    store.refresh()
    return store


def test_the_searcher_runs_on_any_backend(fake: FakeBackend) -> None:
    s = Searcher(fake.index_dir, embedder=EMBEDDER, backend=fake)
    for method in ("hybrid", "keyword"):
        hits = s.search("zyxwv", top_k=3, method=method)
        assert hits and hits[0].doc_id == "nq-999", method
    law = s.search("văn bản thử nghiệm", top_k=10, filters=Filters(doc_types={"Luật"}))
    assert law and {h.doc_id for h in law} == {"luat-999"}
    assert s.search("999/2099/QH99", top_k=1)[0].doc_id == "luat-999"  # a number puts its document first


class _RemoteFake(FakeBackend):
    remote: ClassVar[bool] = True


def test_read_ahead_only_where_reads_are_remote_and_it_reads_what_each_search_would(fake: FakeBackend) -> None:
    qs = ["zyxwv", "kho văn bản giả định"]
    assert read_ahead(fake, EMBEDDER.embed_query, qs, set(), 20, 5, None, "hybrid") is None
    remote = _RemoteFake(fake.index_dir, fake._state)
    ahead = read_ahead(remote, EMBEDDER.embed_query, qs, set(), 20, 5, None, "hybrid")
    assert ahead is not None and set(ahead) == set(qs)
    for q in qs:
        got = ahead[q]
        assert got.keyword == fake.keyword(q, 20) and got.vector is not None
        assert got.dense == fake.dense(got.vector, 20)
        assert got.sentences is not None and set(got.sentences.scores) <= got.sentences.asked

"""The search core over the in-memory fake backend (tests/fake_backend.py): fast unit tests that need no
index on disk, no model and no server."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from fake_backend import DOCS, EMBEDDER, FakeBackend, make_records

from indexer.records import Filters
from search_app.core.pipeline import SearchRequest
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
    law = s.search("văn bản thử nghiệm", top_k=10, filters=Filters(type={"Luật"}))
    assert law and {h.doc_id for h in law} == {"luat-999"}
    assert s.search("999/2099/QH99", top_k=1)[0].doc_id == "luat-999"  # a number puts its document first


class _RemoteFake(FakeBackend):
    remote: ClassVar[bool] = True


def test_read_ahead_on_each_backend_reads_what_each_search_would(fake: FakeBackend) -> None:
    qs = ["zyxwv", "kho văn bản giả định", "kho van ban gia dinh"]
    embed = EMBEDDER.embed_queries
    # a local backend: the vectors, embedded together, and their dense rankings; none for an unaccented
    # query (its dense side embeds the text the keyword side restores)
    local = read_ahead(fake, embed, qs, {qs[2]}, 20, 5, None, "hybrid")
    assert local is not None and set(local) == set(qs[:2])
    for q in qs[:2]:
        assert local[q].keyword is None and local[q].sentences is None
        assert local[q].vector is not None and np.array_equal(local[q].vector, EMBEDDER.embed_query(q))
        assert local[q].dense == fake.dense(local[q].vector, 20)
    assert read_ahead(fake, embed, qs, set(), 20, 5, None, "keyword") is None
    qs = qs[:2]
    remote = _RemoteFake(fake.index_dir, fake._state)
    ahead = read_ahead(remote, embed, qs, set(), 20, 5, None, "hybrid")
    assert ahead is not None and set(ahead) == set(qs)
    for q in qs:
        got = ahead[q]
        assert got.keyword == fake.keyword(q, 20) and got.vector is not None
        assert got.dense == fake.dense(got.vector, 20)
        assert got.sentences is not None and set(got.sentences.scores) <= got.sentences.asked


def test_a_batch_of_searches_gives_what_each_search_gives_alone(fake: FakeBackend) -> None:
    """search_many embeds its queries together: the hits, scores and answers are each search's own."""
    s = Searcher(fake.index_dir, embedder=EMBEDDER, backend=fake, query_cache=0)
    qs = ["zyxwv", "văn bản thử nghiệm", "van ban thu nghiem", "what is the test document", "zyxwv"]
    for method in ("hybrid", "dense", "keyword"):
        batch = s.search_many([SearchRequest(q, top_k=5, method=method) for q in qs])
        for q, got in zip(qs, batch, strict=True):
            alone = s.search(q, top_k=5, method=method)
            assert [(h.pid, h.score, h.answer) for h in got] == [(h.pid, h.score, h.answer) for h in alone], q
            assert got.answerable == alone.answerable and got.understood == alone.understood


def test_a_batch_of_several_groups_keeps_each_search_and_the_order(fake: FakeBackend,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests of several groups (method, top_k) interleaved: embedded a group a model call, answered in
    the order asked, each its own search."""
    s = Searcher(fake.index_dir, embedder=EMBEDDER, backend=fake, query_cache=0)
    qs = ["zyxwv", "văn bản thử nghiệm", "van ban thu nghiem", "what is the test document", "999-NQ/TEST"]
    methods = ("hybrid", "keyword", "dense")
    asked = [SearchRequest(q, top_k=3 + i % 2, method=methods[i % 3]) for i, q in enumerate(qs * 2)]
    calls: list[int] = []
    embed = s.embed_queries
    monkeypatch.setattr(s, "embed_queries", lambda q: calls.append(len(q)) or embed(q))
    batch = s.search_many(asked)
    assert len(batch) == len(asked) and sum(calls) <= len(asked) and len(calls) <= 6
    for r, got in zip(asked, batch, strict=True):
        alone = s.search(r)
        assert got.query == r.query and got.understood == alone.understood and got.answerable == alone.answerable
        assert [(h.pid, h.score, h.answer) for h in got] == [(h.pid, h.score, h.answer) for h in alone], r


def test_a_failed_read_ahead_stops_the_batch(fake: FakeBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Searcher(fake.index_dir, embedder=EMBEDDER, backend=fake, query_cache=0)

    def broken(queries: list[str]) -> list[np.ndarray]:
        raise RuntimeError("model gone")

    monkeypatch.setattr(s, "embed_queries", broken)
    with pytest.raises(RuntimeError, match="model gone"):
        s.search_many([SearchRequest("văn bản thử nghiệm")])

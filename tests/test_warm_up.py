"""What a start (warm_up) and a refresh (_prepare) assemble before the first search asks for it."""

from fastapi.testclient import TestClient

from search_app.api.app import create_app
from search_app.api.settings import ApiSettings
from search_app.core import stages
from search_app.core.searcher import Searcher


def test_warm_up_assembles_the_keyword_columns_and_the_subject_index(hash_index):
    s = Searcher(hash_index)
    try:
        segments = s.backend._live.segments
        assert not any(seg.keyword._columns for seg in segments if seg.keyword is not None)
        s.warm_up()
        assert any(seg.keyword._columns for seg in segments if seg.keyword is not None)
        assert s.relations() in stages._SUBJECT_INDEX
    finally:
        s.close()


def test_the_api_warms_its_searcher_before_the_first_request(hash_index, monkeypatch):
    warmed = []
    monkeypatch.setattr(Searcher, "warm_up", lambda self: warmed.append(self.index_dir))
    app = create_app(ApiSettings(index_dir=hash_index, refresh_interval=0))
    assert warmed == []
    with TestClient(app):
        assert warmed == [hash_index]


def test_settle_lets_go_of_what_it_froze_before():
    import gc
    import weakref

    from search_app.core import heap

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a reference cycle: only the collector frees it
    gone = weakref.ref(a)
    heap.settle()
    assert gc.get_freeze_count() > 0  # what lives now is left out of later passes
    del a, b
    gc.collect()
    assert gone() is not None  # frozen: a collection does not look at it
    heap.settle()  # a switch to a newer generation: the retired one's cycles go
    assert gone() is None


def test_the_servers_settle_the_heap_once_warm(hash_index, monkeypatch):
    from search_app.core import heap, live

    settled = []
    monkeypatch.setattr(heap, "settle", lambda: settled.append(True))
    index = live.LiveIndex(hash_index, interval=0)
    try:
        index.start()
        assert settled == [True]
        # a newer generation published: the swap settles again (the retired one's cycles go)
        monkeypatch.setattr(index, "published_generation", lambda: "newer")
        assert index.check()
        assert settled == [True, True]
        with index.lease() as searcher:  # warmed before the swap: its passages already read (core/preload.py)
            assert len(searcher._rows) == searcher.manifest["passages"]
    finally:
        index.close()


def _counting(backend, name, calls):
    """Record the pids (or the document) each call of backend.`name` asks for."""
    real = getattr(backend, name)

    def spy(arg, *rest, **kw):
        calls.append(arg)
        return real(arg, *rest, **kw)

    return spy


def test_a_small_index_is_read_whole_at_start_and_a_search_then_works_out_nothing_new(hash_index, monkeypatch):
    """warm_up reads every passage of an index that fits the caches (core/preload.py): a search after it
    reads no row, splits no passage nor sentence, and finds what a searcher that did not preload finds."""
    from indexer.text import words
    from search_app.core import answerable, answers, preload
    from search_app.core.serialize import search_response

    cold = Searcher(hash_index)
    monkeypatch.setattr(preload, "PRELOAD_PASSAGES", 0)
    cold.warm_up()  # an index "larger" than the limit: nothing read ahead
    monkeypatch.undo()
    for cache in (words.passage_words, stages.folded_words, answers._folded_words, answers._not_answers_of,
                  answerable._passage):
        cache.cache_clear()
    s = Searcher(hash_index)
    try:
        s.warm_up()
        reads: list = []
        monkeypatch.setattr(s.backend, "passages", _counting(s.backend, "passages", reads))
        # a passage's words, its sentences' words, its marks (the words of the best sentences the
        # judgement reads, query by query, are not among them)
        caches = (stages.folded_words, answers._folded_words, answers._not_answers_of)
        misses = [c.cache_info().misses for c in caches]
        queries = ["quy định về kiểm thử tự động", "phong van thu nghiem", "What does the test law say?"]
        warm = [s.search(q) for q in queries]
        assert [r for r in reads if r] == []  # every row from the cache
        assert [c.cache_info().misses for c in caches] == misses
        assert sum(len(r) for r in warm) > 0
        assert [search_response(r) | {"took_ms": 0} for r in warm] == \
            [search_response(cold.search(q)) | {"took_ms": 0} for q in queries]
    finally:
        s.close()
        cold.close()


def test_an_index_larger_than_the_caches_is_not_read_ahead(hash_index, monkeypatch):
    from search_app.core import preload

    s = Searcher(hash_index)
    try:
        reads: list = []
        monkeypatch.setattr(s.backend, "sentences", _counting(s.backend, "sentences", reads))
        monkeypatch.setattr(preload, "PRELOAD_PASSAGES", int(s.manifest["passages"]) - 1)
        s.warm_up()
        assert reads == [] and not s._rows
        monkeypatch.setattr(preload, "PRELOAD_PASSAGES", int(s.manifest["passages"]))
        s.warm_up()
        assert len(reads) == 1 and len(reads[0]) == len(s._rows) == s.manifest["passages"]
    finally:
        s.close()


def test_a_refresh_reads_the_newer_generation_before_the_switch(synthetic_corpus, hash_index, monkeypatch):
    from indexer.pipeline.build import build

    s = Searcher(hash_index)
    try:
        s.warm_up()
        (synthetic_corpus / "moi.txt").write_text("Văn bản thử nghiệm bổ sung có từ zyxwv.", encoding="utf-8")
        build([synthetic_corpus], hash_index, model="hash", progress=False)
        assert s.refresh()
        assert s._rows_generation == s.manifest["generation"] and len(s._rows) == s.manifest["passages"]
        reads: list = []
        monkeypatch.setattr(s.backend, "passages", _counting(s.backend, "passages", reads))
        hits = s.search("zyxwv", top_k=1, method="keyword").hits
        assert hits and hits[0].doc_id == "moi.txt" and [r for r in reads if r] == []
    finally:
        s.close()

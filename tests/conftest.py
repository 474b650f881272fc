"""Shared fixtures. Most tests use the `hash` embedder: instant, deterministic, no model needed."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from helpers import APP, FONT_CANDIDATES, INTERVIEW_FIXTURE, LAW_FIXTURE, shared_dir, write


@pytest.fixture(autouse=True)
def _unfreeze():
    """What a test's server start froze (search_app/core/heap.py) goes back to the collector after it,
    so that no later test's garbage outlives it."""
    yield
    gc.unfreeze()


@pytest.fixture
def font_path() -> Path:
    for p in FONT_CANDIDATES:
        if p.exists():
            return p
    pytest.fail("no DejaVuSans.ttf: install the Debian package fonts-dejavu-core (.ci/run does)")


@pytest.fixture
def synthetic_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    write(corpus / "luat-thu-nghiem.txt", LAW_FIXTURE)
    write(corpus / "phong-van-thu-nghiem.txt", INTERVIEW_FIXTURE)
    write(corpus / "phong-van-thu-nghiem.txt.meta.json", json.dumps({
        "title": "Phỏng vấn thử nghiệm", "doc_type": "Phỏng vấn", "source": "Trang thử nghiệm",
        "date": "02/03/2099", "interviewee": "Nhân vật giả định, Trưởng ban thử nghiệm"}, ensure_ascii=False))
    write(corpus / "xss.html", "<html><head><title>Văn bản thử nghiệm &lt;b&gt;</title></head><body>"
          "<nav>Trang chủ | Đăng nhập</nav><article><h1>Văn bản thử nghiệm chứa mã</h1>"
          "<p>Đoạn thử nghiệm có chuỗi &lt;script&gt;alert(1)&lt;/script&gt; phải hiện ra như chữ.</p>"
          "<script>alert('x')</script></article></body></html>")
    return corpus


@pytest.fixture
def hash_index(synthetic_corpus: Path, tmp_path: Path) -> Path:
    from indexer.pipeline.build import build

    index = tmp_path / "index"
    report = build([synthetic_corpus], index, model="hash", progress=False)
    assert report.ok, report.summary()
    return index


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory) -> str:
    """One local Milvus engine server for the whole run; each index keeps collections of its own."""
    from indexer.store import milvus

    home = tmp_path_factory.mktemp("milvus-server")
    uri = milvus.ensure_lite_server(home)
    yield uri
    milvus.stop_lite_server(home)


@pytest.fixture
def shared() -> Path:
    return shared_dir()


@pytest.fixture
def app(hash_index, monkeypatch):
    """The page over the synthetic hash index, run once (AppTest); its resource cache cleared after."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    yield at
    import streamlit as st

    st.cache_resource.clear()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (tests/test_browser.py's CHROMIUM and FLAGS)."""
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, FLAGS

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()

"""The page under attack (issue 19): a file swapped between render and click, hostile URL parameters,
uploads that lie about who sends them or are named like a folder's README."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import APP, ROOT, write
from streamlit.testing.v1 import AppTest

from indexer.pipeline.build import build
from indexer.store import open_backend

SECRET = b"root:x:0:0 bi mat thu nghiem ngoai kho\n"


@pytest.fixture
def pdf_index(tmp_path, font_path):
    from test_loaders import _pdf

    corpus = tmp_path / "corpus"
    _pdf(corpus / "quet" / "ok.pdf", font_path, ["Văn bản thử nghiệm có bản gốc để tải về."])
    index = tmp_path / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    backend = open_backend(index)
    try:
        doc = backend.document("quet/ok.pdf")
    finally:
        backend.close()
    return corpus, doc


def test_the_original_is_checked_and_read_in_one_step_on_click(pdf_index, tmp_path):
    from search_app.page.originals import original_download

    corpus, doc = pdf_index
    pdf = corpus / "quet" / "ok.pdf"
    good = pdf.read_bytes()
    secret = write(tmp_path / "ngoai" / "passwd", SECRET)
    name, read = original_download([corpus], doc)  # the page renders the button
    assert name == "ok.pdf" and read() == good
    pdf.unlink()
    pdf.symlink_to(secret)  # swapped after the render, before the click
    assert SECRET not in read()
    pdf.unlink()
    write(pdf, b"%PDF-1.4 another file")  # replaced by another regular file
    assert read() != b"%PDF-1.4 another file"
    # its folder swapped for a link to a folder outside the corpus that holds an identical copy
    outside = tmp_path / "ngoai-kho"
    outside.mkdir()
    (outside / "ok.pdf").write_bytes(good)
    shutil.rmtree(corpus / "quet")
    (corpus / "quet").symlink_to(outside, target_is_directory=True)
    assert read() != good
    shutil.rmtree(corpus / "quet") if not (corpus / "quet").is_symlink() else (corpus / "quet").unlink()
    write(pdf, good)  # put back as it was: served again
    assert read() == good


@pytest.fixture
def page(hash_index, monkeypatch):
    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    yield
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("p", ["²", "٣", "9" * 5000, "-1", "1e9", "", "０"])
def test_hostile_url_parameters_never_show_a_traceback(page, p):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["doc"] = "luat-thu-nghiem.txt"
    at.query_params["p"] = p
    at.run()
    assert not at.exception, at.exception
    assert not any("Traceback" in e.value for e in at.error)


def test_an_unexpected_error_shows_a_vietnamese_message_and_logs_the_traceback(page, monkeypatch, caplog):
    from search_app.core import searcher as searcher_mod

    def broken(self, *a, **k):
        raise RuntimeError("/secret/server/path exploded")

    monkeypatch.setattr(searcher_mod.Searcher, "search", broken)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="q").input("kiểm thử").run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "Đã xảy ra lỗi" in shown and "/secret/server/path" not in shown
    assert "exploded" in caplog.text


def _upload(name, data, corpus, index, **kw):
    from search_app.page.uploads import UploadPolicy, add_and_index

    return add_and_index(name, data, corpus, index, [str(corpus)], "hash", policy=UploadPolicy(True),
                         audit_log=corpus.parent / "audit.jsonl", **kw)


def _audit(corpus):
    return [json.loads(x) for x in (corpus.parent / "audit.jsonl").read_text().splitlines()]


def test_an_upload_named_readme_is_refused_with_the_truth(synthetic_corpus, hash_index):
    from search_app.page.uploads import UploadError

    with pytest.raises(UploadError, match="README"):
        _upload("README.md", "Văn bản thử nghiệm tải lên.".encode(), synthetic_corpus, hash_index)
    rec = _audit(synthetic_corpus)[-1]
    assert rec["result"].startswith("refused") and "README" in rec["result"]
    assert not (synthetic_corpus / "uploads" / "README.md").exists()


def test_uploads_over_the_limit_reach_the_audit_log(synthetic_corpus, hash_index):
    """The app sees uploads up to Streamlit's server.maxUploadSize: it must be above the app's limit, or
    uploads between the two would be refused by Streamlit before the page (and its audit log) sees them."""
    import tomllib

    from search_app.page.uploads import MAX_UPLOAD_BYTES, UploadError

    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxUploadSize"] * 2**20 > MAX_UPLOAD_BYTES
    makefile = (ROOT / "Makefile").read_text()
    assert "--server.maxUploadSize 50 " not in makefile
    with pytest.raises(UploadError):
        _upload("lon.txt", b"a" * (MAX_UPLOAD_BYTES + 1), synthetic_corpus, hash_index, ip="10.0.0.9")
    rec = _audit(synthetic_corpus)[-1]
    assert rec["size"] == MAX_UPLOAD_BYTES + 1 and rec["result"].startswith("refused") and rec["ip"] == "10.0.0.9"


def test_proxy_headers_are_trusted_only_from_configured_proxies():
    from search_app.page.uploads import client_identity

    headers = {"X-Remote-User": "giam-doc", "X-Forwarded-For": "10.9.9.9"}
    # straight to the port: the headers are the client's own claims
    assert client_identity(headers, "192.0.2.5", {}) == (None, "192.0.2.5")
    env = {"VNSEARCH_TRUSTED_PROXIES": "127.0.0.1, 192.0.2.1"}
    assert client_identity(headers, "192.0.2.5", env) == (None, "192.0.2.5")
    assert client_identity(headers, "192.0.2.1", env) == ("giam-doc", "10.9.9.9")
    # a client's own X-Forwarded-For in front of the proxy's entry is not believed
    chain = {"X-Remote-User": "an", "X-Forwarded-For": "6.6.6.6, 203.0.113.7"}
    assert client_identity(chain, "127.0.0.1", env) == ("an", "203.0.113.7")
    assert client_identity({}, "127.0.0.1", {}) == (None, "127.0.0.1")  # a direct local upload: not null

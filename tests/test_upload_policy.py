"""Uploads on a shared page: off unless the operator turns them on, optional token, audit log of every attempt."""

from __future__ import annotations

import hashlib
import json

import pytest
from helpers import APP
from streamlit.testing.v1 import AppTest

from search_app.page.uploads import (
    AUDIT_NAME,
    UploadError,
    UploadPolicy,
    add_and_index,
    audit_log_path,
    upload_policy,
)

FIELDS = {"time", "client_name", "stored_name", "sha256", "size", "documents", "passages", "embedded", "user", "ip",
          "result"}
SAMPLE = "Văn bản tải lên thử nghiệm\n\nĐoạn thử nghiệm về chương trình qxzvw trong kho giả định.".encode()


def _log(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _upload(corpus, index, **kw):
    return add_and_index("mau.txt", SAMPLE, corpus, index, [str(corpus)], "hash", **kw)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("VNSEARCH_UPLOADS", "VNSEARCH_UPLOAD_TOKEN", "VNSEARCH_AUDIT_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("env,enabled,token", [
    ({}, False, None),
    ({"VNSEARCH_UPLOADS": "0"}, False, None),
    ({"VNSEARCH_UPLOADS": "off"}, False, None),
    ({"VNSEARCH_UPLOADS": "1"}, True, None),
    ({"VNSEARCH_UPLOADS": "On"}, True, None),
    ({"VNSEARCH_UPLOADS": "1", "VNSEARCH_UPLOAD_TOKEN": "s3cret"}, True, "s3cret"),
    ({"VNSEARCH_UPLOAD_TOKEN": "s3cret"}, False, "s3cret"),  # a token alone does not turn uploads on
])
def test_policy_comes_from_the_environment(env, enabled, token):
    policy = upload_policy(env)
    assert (policy.enabled, policy.token) == (enabled, token)
    assert policy.needs_token == (enabled and token is not None)


def test_policy_check():
    with pytest.raises(UploadError, match="đang tắt.*VNSEARCH_UPLOADS=1"):
        UploadPolicy(False).check(None)
    UploadPolicy(True).check(None)
    with pytest.raises(UploadError, match="Cần nhập mã"):
        UploadPolicy(True, "s3cret").check("")
    with pytest.raises(UploadError, match="không đúng"):
        UploadPolicy(True, "s3cret").check("s3cre")
    with pytest.raises(UploadError, match="không đúng"):
        UploadPolicy(True, "mã-bí-mật").check("mã-bí-mậT")  # non-ASCII tokens compare too
    UploadPolicy(True, "mã-bí-mật").check("mã-bí-mật")


def test_refused_while_off_saves_nothing_and_is_logged(synthetic_corpus, hash_index):
    with pytest.raises(UploadError, match="đang tắt"):
        _upload(synthetic_corpus, hash_index)  # policy from the (empty) environment
    assert not (synthetic_corpus / "uploads").exists()
    [rec] = _log(synthetic_corpus / AUDIT_NAME)
    assert rec["result"].startswith("refused: Chức năng thêm văn bản đang tắt")
    assert rec["stored_name"] is None and rec["client_name"] == "mau.txt" and rec["size"] == len(SAMPLE)


def test_accepted_and_logged_when_on(synthetic_corpus, hash_index, monkeypatch):
    monkeypatch.setenv("VNSEARCH_UPLOADS", "1")
    path, report = _upload(synthetic_corpus, hash_index, user="an", ip="10.0.0.7")
    assert path == (synthetic_corpus / "uploads" / "mau.txt").resolve() and path.read_bytes() == SAMPLE
    [rec] = _log(synthetic_corpus / AUDIT_NAME)
    assert set(rec) == FIELDS
    assert rec["result"] == "indexed" and rec["stored_name"] == "uploads/mau.txt"
    assert rec["sha256"] == hashlib.sha256(SAMPLE).hexdigest() and rec["size"] == len(SAMPLE)
    assert (rec["documents"], rec["passages"], rec["embedded"]) == (report.documents, report.passages, report.embedded)
    assert rec["documents"] == 4 and rec["user"] == "an" and rec["ip"] == "10.0.0.7"
    assert rec["time"].endswith("+00:00") and "T" in rec["time"]  # ISO 8601, UTC


def test_the_default_log_inside_the_corpus_is_never_indexed(synthetic_corpus, hash_index, tmp_path):
    from indexer.pipeline.build import build

    _upload(synthetic_corpus, hash_index, policy=UploadPolicy(True))
    assert audit_log_path(synthetic_corpus, {}) == synthetic_corpus / AUDIT_NAME
    assert (synthetic_corpus / AUDIT_NAME).exists()
    report = build([synthetic_corpus], tmp_path / "fresh", model="hash", progress=False)
    assert report.documents == 4 and not any(AUDIT_NAME in f for f in report.files_indexed)
    # hidden files are noted, not silently dropped (issue 19); the audit log is one of them
    assert "name starts with a dot" in dict(report.skipped)[AUDIT_NAME]


def test_token_wrong_refused_right_accepted_all_logged(synthetic_corpus, hash_index, tmp_path, monkeypatch):
    log = tmp_path / "logs" / "audit.jsonl"
    monkeypatch.setenv("VNSEARCH_UPLOADS", "on")
    monkeypatch.setenv("VNSEARCH_UPLOAD_TOKEN", "s3cret")
    monkeypatch.setenv("VNSEARCH_AUDIT_LOG", str(log))
    with pytest.raises(UploadError, match="không đúng"):
        _upload(synthetic_corpus, hash_index, token="guess")
    with pytest.raises(UploadError, match="Cần nhập mã"):
        _upload(synthetic_corpus, hash_index)
    assert not (synthetic_corpus / "uploads").exists()
    _upload(synthetic_corpus, hash_index, token="s3cret")
    assert [r["result"] for r in _log(log)] == ["refused: Mã tải lên không đúng.", "refused: Cần nhập mã tải lên.",
                                                 "indexed"]
    assert not (synthetic_corpus / AUDIT_NAME).exists()  # VNSEARCH_AUDIT_LOG moved it
    assert "s3cret" not in log.read_text(encoding="utf-8") and "guess" not in log.read_text(encoding="utf-8")


def test_log_is_append_only_json_lines(synthetic_corpus, hash_index, tmp_path):
    log = tmp_path / "audit.jsonl"
    earlier = '{"time": "2000-01-01T00:00:00+00:00", "result": "indexed"}\n'
    log.write_text(earlier, encoding="utf-8")
    on = UploadPolicy(True)
    with pytest.raises(UploadError, match="PDF"):  # refused by content: logged, nothing stored
        add_and_index("gia.pdf", b"not a pdf", synthetic_corpus, hash_index, [str(synthetic_corpus)], "hash",
                      policy=on, audit_log=log)
    _upload(synthetic_corpus, hash_index, policy=on, audit_log=log)
    _upload(synthetic_corpus, hash_index, policy=on, audit_log=log)  # same name again: stored as mau-1.txt
    text = log.read_text(encoding="utf-8")
    assert text.startswith(earlier) and text.endswith("\n")
    records = _log(log)[1:]
    assert all(set(r) == FIELDS for r in records)
    assert records[0]["result"].startswith("refused: Nội dung không phải PDF") and records[0]["stored_name"] is None
    assert [r["stored_name"] for r in records[1:]] == ["uploads/mau.txt", "uploads/mau-1.txt"]


def test_an_unwritable_log_refuses_the_upload(synthetic_corpus, hash_index, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(UploadError, match="nhật ký"):
        _upload(synthetic_corpus, hash_index, policy=UploadPolicy(True), audit_log=blocker / "audit.jsonl")
    assert not (synthetic_corpus / "uploads").exists()


def test_an_indexing_crash_is_logged_as_error_and_leaves_no_file(synthetic_corpus, hash_index, monkeypatch):
    import search_app.page.uploads as uploads

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(uploads, "build", boom)
    with pytest.raises(RuntimeError):
        _upload(synthetic_corpus, hash_index, policy=UploadPolicy(True))
    [rec] = _log(synthetic_corpus / AUDIT_NAME)
    assert rec["result"] == "error: RuntimeError: disk full"
    assert not (synthetic_corpus / "uploads" / "mau.txt").exists()


# --- the page ---------------------------------------------------------------------------------------------------

@pytest.fixture
def page_env(synthetic_corpus, hash_index, tmp_path, monkeypatch):
    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    monkeypatch.setenv("VNSEARCH_CORPUS", str(synthetic_corpus))
    monkeypatch.setenv("VNSEARCH_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    yield tmp_path / "audit.jsonl"
    import streamlit as st

    st.cache_resource.clear()


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_sidebar_has_no_upload_form_while_off(page_env):
    at = _page()
    assert not at.sidebar.file_uploader and not at.file_uploader
    assert not any(e.label == "Thêm văn bản vào kho" for e in at.expander)
    # said in words a user can read; the variable that turns it on is the operator's (docs/operations.md)
    assert any("chưa được người quản trị mở" in c.value for c in at.sidebar.caption)
    assert not any("VNSEARCH" in c.value for c in at.sidebar.caption)


def test_page_upload_with_token(page_env, synthetic_corpus, monkeypatch):
    monkeypatch.setenv("VNSEARCH_UPLOADS", "1")
    monkeypatch.setenv("VNSEARCH_UPLOAD_TOKEN", "s3cret")
    at = _page()
    assert len(at.sidebar.file_uploader) == 1
    at.sidebar.file_uploader[0].set_value(("mau.txt", SAMPLE, "text/plain")).run()
    at.text_input(key="upload_token").input("guess").run()
    at.button(key="upload_go").click().run()
    assert at.error and "không đúng" in at.error[0].value
    at.text_input(key="upload_token").input("s3cret").run()
    at.button(key="upload_go").click().run()
    assert not at.exception and at.success and "Đã thêm mau.txt" in at.success[0].value
    assert (synthetic_corpus / "uploads" / "mau.txt").exists()
    assert [r["result"] for r in _log(page_env)] == ["refused: Mã tải lên không đúng.", "indexed"]


def test_page_without_token_shows_no_token_field(page_env, monkeypatch):
    monkeypatch.setenv("VNSEARCH_UPLOADS", "1")
    at = _page()
    assert len(at.sidebar.file_uploader) == 1
    assert not [t for t in at.text_input if t.key == "upload_token"]

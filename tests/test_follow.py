"""Follows: a document key or a question, what is new after an update (once), and the Atom feed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import write
from implementation_fixtures import resolution_corpus

from indexer.pipeline.build import build
from search_app.cli import main
from search_app.core import follow
from search_app.core.searcher import Searcher

ATOM = "{http://www.w3.org/2005/Atom}"
CITING = ("Văn bản thử nghiệm mới\nKế hoạch thử nghiệm triển khai thực hiện Nghị quyết số 999-NQ/TEST "
          "về mua sắm máy chủ thử nghiệm cho kho giả định.\n")


@pytest.fixture
def corpus_index(tmp_path: Path) -> tuple[Path, Path]:
    corpus = resolution_corpus(tmp_path)
    index = tmp_path / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    return corpus, index


def _add_citing(corpus: Path) -> None:
    write(corpus / "ke-hoach-moi.txt", CITING)
    # its own number, else the number it cites, read in its first lines, would be taken for its own
    write(corpus / "ke-hoach-moi.txt.meta.json", json.dumps({"title": "Kế hoạch thử nghiệm mới",
                                                             "doc_number": "997/KH-TEST", "doc_type": "Kế hoạch"}))


def _update(corpus: Path, index: Path) -> None:
    assert build([corpus], index, model="hash", progress=False, incremental=True).ok


def test_key_follow_reports_a_new_citing_file_once(corpus_index):
    corpus, index = corpus_index
    item = follow.add(index, "999-NQ/TEST")
    assert item["kind"] == "key" and item["target"] == "999-NQ/TEST" and item["seen"]  # today's citers are seen
    s = Searcher(index)
    assert [r["new"] for r in follow.check(s, index)["follows"]] == [[]]
    _add_citing(corpus)
    _update(corpus, index)
    new = follow.check(s, index)["follows"][0]["new"]
    assert [e["doc_id"] for e in new] == ["ke-hoach-moi.txt"] and "999-NQ/TEST" in new[0]["text"]
    assert follow.check(s, index)["follows"][0]["new"] == []  # seen now
    _update(corpus, index)  # an update that changes nothing: still nothing new
    assert follow.check(s, index)["follows"][0]["new"] == []
    stored = json.loads(follow.store_path(index).read_text(encoding="utf-8"))
    assert stored["follows"][0]["recent"][0]["doc_id"] == "ke-hoach-moi.txt"


def test_question_follow_reports_new_answering_passages(corpus_index):
    corpus, index = corpus_index
    assert follow.add(index, "mua sắm máy chủ thử nghiệm cho kho giả định như thế nào?")["kind"] == "question"
    s = Searcher(index)
    follow.check(s, index)
    _add_citing(corpus)
    _update(corpus, index)
    new = follow.check(s, index)["follows"][0]["new"]
    assert "ke-hoach-moi.txt" in [e["doc_id"] for e in new]
    assert follow.check(s, index)["follows"][0]["new"] == []


def test_cli_add_list_check_and_atom_feed(corpus_index, tmp_path, capsys):
    corpus, index = corpus_index
    assert main(["follow", "add", "999-NQ/TEST", "--index", str(index)]) == 0
    assert main(["follow", "add", "999-NQ/TEST", "--index", str(index)]) == 0  # twice: one follow
    assert main(["follow", "list", "--index", str(index), "--json"]) == 0
    capsys.readouterr()
    assert len(follow.load(index)["follows"]) == 1
    _add_citing(corpus)
    _update(corpus, index)
    feeds = tmp_path / "feeds"
    assert main(["follow", "check", "--index", str(index), "--json", "--atom", str(feeds)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["doc_id"] for e in report["follows"][0]["new"]] == ["ke-hoach-moi.txt"]
    root = ET.parse(next(feeds.glob("*.xml"))).getroot()
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{tag}") is not None and root.find(f"{ATOM}{tag}").text
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    for tag in ("id", "title", "updated"):
        assert entries[0].find(f"{ATOM}{tag}").text
    assert "999-NQ/TEST" in entries[0].find(f"{ATOM}content").text
    assert main(["follow", "check", "--index", str(index)]) == 0
    assert "0 mới kể từ lần cập nhật trước" in capsys.readouterr().out


def test_the_store_is_written_atomically_and_a_bad_one_is_refused(corpus_index, monkeypatch):
    _corpus, index = corpus_index
    follow.add(index, "999-NQ/TEST")
    before = follow.store_path(index).read_text(encoding="utf-8")

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(follow.os, "replace", boom)
    with pytest.raises(OSError):
        follow.add(index, "một câu hỏi thử nghiệm khác về kho giả định")
    monkeypatch.undo()
    assert follow.store_path(index).read_text(encoding="utf-8") == before  # the old file, whole
    assert not list(follow.store_path(index).parent.glob(".*.follows.json.*"))  # no temp file left
    follow.store_path(index).write_text("{not json", encoding="utf-8")
    with pytest.raises(follow.FollowError, match="cannot be read"):
        follow.load(index)
    with pytest.raises(follow.FollowError, match="give a document key"):
        follow.classify("   ")


def test_follow_of_57_nq_tw_on_the_real_files_reports_a_new_citing_file_once(shared, tmp_path):
    # the follow reads references, not vectors: the hash model is enough here
    docs, extra = shared / "documents", tmp_path / "extra"
    index = tmp_path / "index"
    assert build([docs], index, model="hash", progress=False).ok
    follow.add(index, "57-NQ/TW")
    s = Searcher(index)
    assert follow.check(s, index)["follows"][0]["new"] == []
    write(extra / "ke-hoach-thu-nghiem.txt", "Văn bản thử nghiệm\nKế hoạch thử nghiệm triển khai thực hiện "
          "Nghị quyết số 57-NQ/TW tại một đơn vị giả định.\n")
    write(extra / "ke-hoach-thu-nghiem.txt.meta.json", json.dumps({"doc_number": "996/KH-TEST"}))
    assert build([docs, extra], index, model="hash", progress=False, incremental=True).ok
    assert [e["doc_id"] for e in follow.check(s, index)["follows"][0]["new"]] == ["ke-hoach-thu-nghiem.txt"]
    assert follow.check(s, index)["follows"][0]["new"] == []


def test_page_shows_what_is_new_per_follow_escaped_and_marks_it_seen(corpus_index, monkeypatch):
    from streamlit.testing.v1 import AppTest
    from test_app import APP

    corpus, index = corpus_index
    follow.add(index, "999-NQ/TEST")
    follow.add(index, "<b>máy chủ</b> thử nghiệm của kho giả định được mua sắm thế nào?")
    _add_citing(corpus)
    _update(corpus, index)
    monkeypatch.setenv("VNSEARCH_INDEX", str(index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    side = "\n".join(m.value for m in at.sidebar.markdown)
    assert "**999&#45;NQ/TEST**: 1 đoạn mới" in side and "997/KH&#45;TEST" in side
    assert "<b>máy chủ</b>" not in side and "&#60;b&#62;máy chủ&#60;/b&#62;" in side
    at.button(key="follow_seen").click().run()
    side = "\n".join(m.value for m in at.sidebar.markdown)
    assert "**999&#45;NQ/TEST**: 0 đoạn mới" in side
    import streamlit as st

    st.cache_resource.clear()


def test_a_failed_feed_or_report_loses_no_notification(corpus_index, tmp_path, monkeypatch, capsys):
    corpus, index = corpus_index
    follow.add(index, "999-NQ/TEST")
    _add_citing(corpus)
    _update(corpus, index)
    feeds = tmp_path / "feeds"

    def broken(_item: dict) -> bytes:
        raise ValueError("All strings must be XML compatible")

    monkeypatch.setattr(follow, "feed_xml", broken)
    with pytest.raises(ValueError):
        follow.check(Searcher(index), index, atom_dir=feeds)
    assert not [p for p in feeds.iterdir()]  # no 0-byte temporary file left behind
    with pytest.raises(RuntimeError):  # the report could not be delivered (printed): still new
        follow.check(Searcher(index), index, deliver=lambda _r: (_ for _ in ()).throw(RuntimeError("pipe")))
    monkeypatch.undo()
    new = follow.check(Searcher(index), index, atom_dir=feeds)["follows"][0]["new"]
    assert [e["doc_id"] for e in new] == ["ke-hoach-moi.txt"]


def test_control_characters_reach_the_feed_as_text_and_never_break_it():
    item = {"id": "abc", "target": "câu hỏi\x01 thử nghiệm", "checked_at": "2099-01-01T00:00:00+00:00",
            "recent": [{"pid": 1, "citation": "Văn bản\x1b[31m 999-NQ/TEST", "found_at": "2099-01-01T00:00:00+00:00",
                        "text": "đoạn\x00 thử\ud800 nghiệm \x0b"}]}
    root = ET.fromstring(follow.feed_xml(item))
    entry = root.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}content").text.startswith("đoạn\ufffd thử\ufffd nghiệm")
    assert root.find(f"{ATOM}title").text == "Theo dõi: câu hỏi\ufffd thử nghiệm"


def test_follow_remove_and_bad_targets_on_the_cli(corpus_index, capsys):
    _corpus, index = corpus_index
    assert main(["follow", "add", "999-NQ/TEST", "--index", str(index)]) == 0
    (fid,) = [f["id"] for f in follow.load(index)["follows"]]
    for bad in ("câu hỏi \x01 thử", "tra cứu \udcff\udcfe"):  # a control character; bytes not UTF-8 (argv)
        assert main(["follow", "add", bad, "--index", str(index)]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["follow", "remove", fid, "--index", str(index)]) == 0
    assert follow.load(index)["follows"] == []
    assert main(["follow", "remove", fid, "--index", str(index)]) == 2

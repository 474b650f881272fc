"""One number, several documents: Party and Government numbers restart every term or year."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import ROOT, write

from indexer.pipeline.build import build
from indexer.text.docnumbers import has_own_year, year_after
from search_app.core.relations import pick_document
from search_app.core.searcher import Searcher

OLD = """BAN THỬ NGHIỆM TRUNG ƯƠNG
Số: 999-NQ/TEST
Hà Nội, ngày 01 tháng 11 năm 2098
NGHỊ QUYẾT
VỀ KHO VĂN BẢN THỬ NGHIỆM CŨ
I. MỤC TIÊU
Văn bản thử nghiệm này bàn về kho văn bản giả định thứ nhất.
"""
NEW = OLD.replace("năm 2098", "năm 2099").replace("CŨ", "MỚI").replace("thứ nhất", "thứ hai")


def test_the_year_given_with_a_number():
    text = "theo Nghị quyết số 999-NQ/TEST, ngày 01/11/2098 và 999-NQ/TEST năm 2099, 999-NQ/TEST về"
    ends = [i + len("999-NQ/TEST") for i in range(len(text)) if text.startswith("999-NQ/TEST", i)]
    assert [year_after(text, e) for e in ends] == ["2098", "2099", None]
    assert has_own_year("68/2099/QH99") and not has_own_year("999-NQ/TEST")


def test_a_bare_number_names_a_document_only_when_one_has_it():
    docs = {"a": {"date": "2098-11-01"}, "b": {"date": "2099-11-01"}}
    assert pick_document(["a"], docs, None) == ("a", [])
    assert pick_document(["a", "b"], docs, None) == (None, ["a", "b"])
    assert pick_document(["a", "b"], docs, "2099") == ("b", [])
    assert pick_document(["a"], docs, "2097") == (None, [])  # another year's 999-NQ/TEST: not this one


@pytest.fixture
def two_of_one_number(tmp_path):
    write(tmp_path / "c" / "cu.txt", OLD)
    write(tmp_path / "c" / "moi.txt", NEW)
    build([tmp_path / "c"], tmp_path / "ix", model="hash", progress=False)
    return tmp_path / "ix"


@pytest.mark.slow
def test_references_say_when_a_number_is_ambiguous(two_of_one_number):
    s = Searcher(two_of_one_number)
    res = s.references("999-NQ/TEST")
    assert res["document"] is None and sorted(d["doc_id"] for d in res["ambiguous"]) == ["cu.txt", "moi.txt"]
    assert res["validity"]["status"] == "unknown" and res["identity"]["indexed"] is False
    dated = s.references("999-NQ/TEST ngày 01/11/2099")
    assert dated["document"]["doc_id"] == "moi.txt" and dated["ambiguous"] == []
    out = subprocess.run([sys.executable, "-m", "search_app", "refs", "999-NQ/TEST", "--index",
                          str(two_of_one_number)], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    assert "2 văn bản trong kho có số hiệu này" in out.stdout
    js = json.loads(subprocess.run([sys.executable, "-m", "search_app", "refs", "999-NQ/TEST", "--json", "--index",
                                    str(two_of_one_number)], cwd=ROOT, capture_output=True, text=True, check=True,
                                   timeout=120).stdout)
    assert js["document"] is None and len(js["ambiguous"]) == 2


@pytest.mark.slow
def test_the_card_says_it_is_ambiguous(two_of_one_number, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(two_of_one_number))
    at = AppTest.from_file(str(ROOT / "search_app" / "page" / "app.py"), default_timeout=60)
    at.run()
    try:
        at.text_input(key="q").input("999-NQ/TEST").run()
        assert not at.exception
        assert any("ứng với 2 văn bản trong kho" in m.value for m in at.markdown)
    finally:
        import streamlit as st

        st.cache_resource.clear()

"""References between documents: the parser on real sentences of ../shared, and the refs graph."""

import json
import subprocess
import sys

import pytest
from helpers import ROOT

from indexer.pipeline.build import build
from indexer.text.normalise import clean_text
from indexer.text.references import find_references, reference_key


def _sentence_with(path, needle: str) -> str:
    text = clean_text(path.read_text(encoding="utf-8"))
    i = text.index(needle)
    start = max(text.rfind("\n", 0, i), text.rfind(". ", 0, i)) + 1
    end = text.find("\n", i)
    return text[start : end if end > 0 else None]


def test_parser_on_the_interview(shared):
    interview = shared / "corpus" / "phong-van-trach-nhiem-cap-uy-2024.txt"
    s = _sentence_with(interview, "Nghị quyết số 11-NQ/TW")
    keys = [r.key for r in find_references(s)]
    # the dates the sentence gives are part of the keys: numbers restart every term
    assert keys == ["NQ DAI HOI DANG BO TINH XII", "11-NQ/TW@2022", "1288/QD-TTG@2023"]
    s2 = _sentence_with(interview, "không trái với Hiến pháp")
    assert [r.label for r in find_references(s2)] == ["Hiến pháp", "Điều lệ Đảng"]


def test_parser_on_the_government_resolution(shared):
    nq03 = shared / "documents" / "nghi-quyet-03-NQ-CP-2025.md"
    s = _sentence_with(nq03, "Căn cứ Nghị quyết số 57-NQ/TW")
    assert [r.key for r in find_references(s)] == ["57-NQ/TW@2024"]
    s2 = _sentence_with(nq03, "Căn cứ Luật Tổ chức Chính phủ ngày")
    assert [r.label for r in find_references(s2)] == ["Luật Tổ chức Chính phủ"]
    # its own number is not a reference of its own
    assert find_references("Số: 03/NQ-CP", own_key="03/NQ-CP") == []


def test_reference_key_from_a_query():
    assert reference_key("so 57-nq/tw") == "57-NQ/TW"
    assert reference_key("Điều lệ Đảng") == "DIEU LE DANG"
    assert reference_key("chuyện khác") is None


@pytest.fixture(scope="module")
def full_index(tmp_path_factory):
    index = tmp_path_factory.mktemp("refs") / "index"
    report = build([ROOT / "corpus"], index, model="hash", progress=False)  # the interview and the resolutions
    assert report.documents == 5, report.summary()  # the 57-NQ/TW file also holds 69-KL/TW
    return index


def _refs(index, *args):
    out = subprocess.run([sys.executable, "-m", "search_app", "refs", *args, "--index", str(index), "--json"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


@pytest.mark.slow
def test_refs_57_returns_the_resolution_and_the_government_passages(full_index):
    res = _refs(full_index, "57-NQ/TW")
    assert res["key"] == "57-NQ/TW"
    assert res["document"]["doc_number"] == "57-NQ/TW"
    assert res["document"]["issuer"] == "Bộ Chính trị" and res["document"]["date"] == "2024-12-22"
    citing = [h for h in res["cited_by"] if h["doc_id"] == "nghi-quyet-03-NQ-CP-2025.md"]
    assert len(citing) >= 5
    assert all("57-NQ/TW" in h["text"] for h in citing)
    assert citing[0]["citation"].startswith("Nghị quyết số 03/NQ-CP ngày 09/01/2025 của Chính phủ")


@pytest.mark.slow
def test_refs_11_is_cited_by_the_interview_but_not_indexed(full_index):
    res = _refs(full_index, "11-NQ/TW")
    assert res["document"] is None
    assert [h["doc_id"] for h in res["cited_by"]] == ["phong-van-trach-nhiem-cap-uy-2024.txt"]
    assert "Nghị quyết số 11-NQ/TW ngày 10/02/2022" in res["cited_by"][0]["text"]


@pytest.mark.slow
def test_refs_list_counts_indexed_and_missing_documents(full_index):
    items = {it["key"]: it for it in _refs(full_index, "--list")}
    assert items["57-NQ/TW"]["doc_ids"] == ["nghi-quyet-57-NQ-TW-2024.md"]
    assert items["57-NQ/TW"]["citing_passages"] >= 5
    assert items["11-NQ/TW"]["doc_ids"] == [] and items["11-NQ/TW"]["citing_passages"] == 1
    assert "03/NQ-CP" in items  # indexed, even if nothing cites it
    assert items["69-KL/TW"]["doc_ids"] == ["nghi-quyet-57-NQ-TW-2024.md#69-KL-TW"]

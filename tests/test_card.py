"""The card of the document a query names: resolution of everyday names, validity with its evidence.

Over the synthetic relations corpus of test_relations.py (both backends) and a small corpus of two
same-number resolutions of different years; everything visibly made up ("thử nghiệm", "TEST").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import write
from test_relations import relations_index, searcher  # noqa: F401 - the shared fixtures

from indexer.pipeline.build import build
from search_app import cli, labels
from search_app.core.searcher import Searcher

RESOLUTION_2012 = """BAN THỬ NGHIỆM TRUNG ƯƠNG
Số: 950-NQ/TEST
Hà Nội, ngày 01 tháng 11 năm 2012
NGHỊ QUYẾT
VỀ KHO DỮ LIỆU THỬ NGHIỆM
I. MỤC TIÊU
1. Xây dựng kho dữ liệu thử nghiệm phục vụ kiểm thử phần mềm giả định.
"""

RESOLUTION_2017 = """BAN THỬ NGHIỆM TRUNG ƯƠNG
Số: 950-NQ/TEST
Hà Nội, ngày 03 tháng 06 năm 2017
NGHỊ QUYẾT
VỀ ĐÀO TẠO NGƯỜI KIỂM THỬ
I. MỤC TIÊU
1. Đào tạo người kiểm thử cho các ban thử nghiệm giả định.
"""


@pytest.mark.parametrize("query", ["Nghị quyết 998", "NQ 998", "nghi quyet so 998", "Resolution 998",
                                   "nghi quyet 998 nam 2019 cua Ban Thu nghiem Trung uong"])
def test_a_document_is_found_by_the_names_people_give_it(searcher, query):  # noqa: F811
    res = searcher.search(query, 5)
    assert res.card is not None and res.card["key"] == "998-NQ/TEST", query
    assert res.card["document"]["doc_id"] == "nghi-quyet-998-thu-nghiem.txt"
    assert res.hits[0].doc_id == "nghi-quyet-998-thu-nghiem.txt"  # its own text first


def test_a_name_with_another_year_resolves_to_nothing_rather_than_the_wrong_document(searcher):  # noqa: F811
    assert searcher.search("Nghị quyết 998 năm 2015", 5).card is None


def test_a_document_only_cited_gets_the_card_of_what_the_corpus_says_of_it(searcher):  # noqa: F811
    card = searcher.search("Kết luận 995", 5).card
    assert card is not None and card["key"].startswith("995-KL/TEST") and card["document"] is None
    assert card["identity"]["indexed"] is False and card["cited_by"] >= 1


def test_a_validity_question_is_answered_with_the_passage_that_establishes_it(searcher):  # noqa: F811
    res = searcher.search("Luật 990/2020/QH99 còn hiệu lực không", 5)
    answer = res.card["answer"]
    assert answer["asks"] == "validity" and answer["status"] == "repealed" and res.answerable
    first = answer["evidence"][0]
    said = first["text"][first["answer"][0]["start"]:first["answer"][0]["end"]]
    assert "990/2020/QH99" in said and "hết hiệu lực" in said and first["doc_id"] == "luat-kho-thu-nghiem-2023.txt"
    assert first["citation"].startswith("Luật")
    assert labels.answer_lines(answer)[0].startswith("Hiệu lực: Hết hiệu lực từ 01/01/2024")
    # a hit marks as its answer only the evidence sentence, never a sentence sharing a word
    for h in res.hits:
        assert not h.answer or h.pid in {e["pid"] for e in answer["evidence"]}


@pytest.mark.parametrize("query", ["Luật 990/2020/QH99 ban hành ngày nào", "Nghị quyết 998 ban hành ngày nào",
                                   "Luật 990/2020/QH99 còn hiệu lực không"])
def test_the_evidence_passage_among_the_hits_is_labelled_by_what_it_establishes(searcher, query):  # noqa: F811
    # not "Ít liên quan" (a similarity margin) under the card whose answer it establishes
    res = searcher.search(query, 5)
    evidence = {e["pid"] for e in res.card["answer"]["evidence"]}
    shown = [h for h in res.hits if h.pid in evidence]
    assert shown and all(h.match == "Rất phù hợp" for h in shown), query


def test_a_document_asked_by_its_name_alone_gets_no_closeness_label_on_its_passages(searcher):  # noqa: F811
    res = searcher.search("Nghị quyết 998", 5)
    assert res.card is not None and res.hits and all(h.match is None for h in res.hits)
    asked = searcher.search("Nghị quyết 998 giao nhiệm vụ gì cho Ban Thử nghiệm", 5)  # a question besides
    assert any(h.match is not None for h in asked.hits)


def test_in_force_is_shown_with_what_carries_the_document_out(searcher):  # noqa: F811
    answer = searcher.search("nghi quyet 998 con hieu luc khong", 5).card["answer"]
    assert answer["status"] == "in_force" and answer["evidence"]
    assert any(r["direction"] == "in" and r["type"] == "implements" for r in answer["carried_out_by"])
    assert all(e["citation"] and e["text"] for e in answer["evidence"])


def test_no_answer_is_claimed_without_evidence(searcher):  # noqa: F811
    # asked who carries out a law nothing implements: the card has no answer, rather than a made-up one
    card = searcher.search("văn bản nào triển khai Luật 987/2018/QH99", 5).card
    assert card is None or card["answer"] is None


def test_the_card_is_in_every_json_answer(relations_index, capsys):  # noqa: F811
    assert cli.main(["search", "Nghị quyết 998", "--index", str(relations_index), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["card"]["key"] == "998-NQ/TEST" and {"pid", "ordinal"} <= set(out["results"][0])
    assert cli.main(["search", "kiểm thử phần mềm", "--index", str(relations_index), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["card"] is None


@pytest.fixture(scope="module")
def two_years(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("two-years")
    write(root / "c" / "nq-950-2012.txt", RESOLUTION_2012)
    write(root / "c" / "nq-950-2017.txt", RESOLUTION_2017)
    assert build([root / "c"], root / "index", model="hash", progress=False).ok
    return root / "index"


@pytest.mark.parametrize("query, doc", [("Nghị quyết 950", None), ("Nghị quyết 950 năm 2017", "nq-950-2017.txt"),
                                        ("Nghị quyết 950 khóa XI", "nq-950-2012.txt"),
                                        ("nghi quyet 950 ve dao tao nguoi kiem thu", "nq-950-2017.txt")])
def test_same_numbers_of_different_years_are_told_apart_or_listed(two_years, query, doc):
    card = Searcher(two_years).search(query, 5).card
    assert card is not None
    if doc is None:
        assert card["document"] is None and len(card["ambiguous"]) == 2
        assert "2 văn bản" in labels.card_lines(card)[0]
    else:
        assert card["document"]["doc_id"] == doc and not card["ambiguous"], query


@pytest.mark.slow
def test_the_page_shows_the_card_first_with_its_evidence_and_no_results_count_without_an_answer(
        relations_index, monkeypatch):  # noqa: F811
    from helpers import APP, page_text
    from streamlit.testing.v1 import AppTest

    from search_app.page.render import escape

    monkeypatch.setenv("VNSEARCH_INDEX", str(relations_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="q").input("Luật 990/2020/QH99 còn hiệu lực không").run()
    assert not at.exception
    text = page_text(at)
    assert escape("Hiệu lực: Hết hiệu lực từ 01/01/2024") in text
    assert '<span class="answer"' in text.split('class="card-evidence"')[1]  # the evidence sentence, marked
    at.text_input(key="q").input("Cách nấu phở bò ngon nhất").run()
    assert not at.exception
    assert any("Không tìm thấy đoạn văn trả lời" in w.value for w in at.warning)
    assert not any("kết quả" in c.value for c in at.caption) and not at.get("download_button")


def test_a_document_no_passage_cites_says_so_in_words_not_as_zero_passages():
    card = {"key": "999-NQ/TEST", "label": "Nghị quyết số 999-NQ/TEST", "document": None, "ambiguous": [],
            "validity": {}, "relations": [], "cited_by": 0}
    lines = labels.card_lines(card)
    assert lines[-1] == "Chưa có đoạn văn nào trong kho dẫn chiếu văn bản này"
    assert not any("0 đoạn văn" in line for line in lines)
    assert labels.card_lines({**card, "cited_by": 3})[-1] == "Được dẫn chiếu trong 3 đoạn văn"


@pytest.mark.parametrize("query", [
    "co quan nao bao cao ket qua thuc hien nghi quyet 998",
    "Ai chịu trách nhiệm tổ chức thực hiện Nghị quyết 998?",
    "Who must report the results of implementing Resolution 998?",
    "Kết quả thực hiện Nghị quyết 998 sau 5 năm thế nào?",
    "Nghị quyết 998 giao thực hiện nhiệm vụ gì?",
    "Cơ quan nào chủ trì Nghị quyết 998?",
    "When should localities report on Resolution 998?",
])
def test_a_question_on_carrying_a_document_out_is_not_read_as_a_relation_or_issue_question(query):
    # who carries it out, or what carrying it out brought: a passage answers it, not the relation
    # "implemented by …" or the date of issue
    from search_app.core import card

    assert card.asks(query) is None


def test_ai_the_acronym_is_not_ai_the_question_word():
    from search_app.core import card

    assert card.asks("văn bản nào triển khai Nghị quyết 998 về AI") == "implements"
    assert card.asks("ai triển khai Nghị quyết 998") is None


def test_the_card_leaves_such_a_question_to_the_passages(searcher):  # noqa: F811
    res = searcher.search("Ai chịu trách nhiệm tổ chức thực hiện Nghị quyết 998?", 5)
    assert res.card is not None and res.card["answer"] is None  # the card says what 998 is, not what implements it

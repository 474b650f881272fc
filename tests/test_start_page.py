"""The page a first-time user understands: the start page, admin details folded away, the document
view's header and search, validity badges only where validity means something."""

from __future__ import annotations

import pytest
from helpers import page_text

from search_app.core.searcher import Searcher
from search_app.page.start_view import corpus_table, example_questions, question


def _md(at):
    return page_text(at)


@pytest.mark.slow
def test_start_page_lists_the_corpus_and_offers_examples_from_it(app, hash_index):
    assert not app.exception
    assert "Kho đang có **3** văn bản" in _md(app)
    table = app.dataframe[0].value
    assert set(table["Số hiệu"]) >= {"999/2099/QH99"} and "Phỏng vấn thử nghiệm" in set(table["Văn bản"])
    # an interview has no validity to show
    assert table[table["Văn bản"] == "Phỏng vấn thử nghiệm"]["Hiệu lực"].iloc[0] == "Không áp dụng"
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert examples
    s = Searcher(hash_index)
    for b in examples:  # every example is one the corpus answers
        res = s.search(b.label, 5)
        assert res and res.answerable, b.label
    examples[0].click().run()
    assert '<div class="hit-title">' in _md(app)
    # admin details under "Quản trị", not in the sidebar's open view
    assert any(e.label == "Quản trị" for e in app.sidebar.expander)


def test_examples_are_built_from_the_documents():
    class Fake:
        def doc_passages(self, doc_id):
            return [{"section": ["Nghị quyết số 999-NQ/TEST", "I. Mục tiêu thử nghiệm"]},
                    {"section": ["Nghị quyết số 999-NQ/TEST", "II. Nhiệm vụ giả định của kho"]}]

    docs = [{"doc_id": "a", "doc_type": "Nghị quyết", "doc_number": "999-NQ/TEST"}]
    out = example_questions(Fake(), docs)
    assert out == ["Nghị quyết 999-NQ/TEST nói gì về mục tiêu thử nghiệm?",
                   "nghi quyet 999-nq/test noi gi ve nhiem vu gia dinh cua kho?",
                   "What does Resolution 999-NQ/TEST set out?"]


def test_examples_are_questions_never_heading_fragments(tmp_path):
    from helpers import ROOT

    from indexer.pipeline.build import build

    assert question("Bài phỏng vấn", "Đối với cấp ủy các cấp") == "Bài phỏng vấn nêu yêu cầu gì đối với cấp ủy các cấp?"
    assert question("Nghị quyết 57-NQ/TW", "Đến năm 2030") is None
    # the demo corpus, whose headings include fragments ("Đối với cấp ủy các cấp", "Đến năm 2030")
    build([ROOT / "corpus"], tmp_path / "ix", model="hash", progress=False)
    s = Searcher(tmp_path / "ix")
    docs = s.documents()
    out = example_questions(s, docs)
    heads = {h.lower() for d in docs for p in s.doc_passages(d["doc_id"]) for h in p["section"]}
    assert len(out) == 6 and all(q.endswith("?") for q in out), out
    assert not any(q.lower().rstrip("?") in heads or q.lower().startswith(("đối với", "đến ")) for q in out)
    assert "Bài phỏng vấn nêu yêu cầu gì đối với cấp ủy các cấp?" in out


@pytest.mark.slow
def test_document_view_has_a_header_search_and_no_badge_on_an_interview(app):
    app.query_params["doc"] = "phong-van-thu-nghiem.txt"
    app.run()
    assert not app.exception
    md = _md(app)
    assert "### Phỏng vấn thử nghiệm" in md and "Nhân vật giả định" in md and '<div class="citation">' in md
    assert '<span class="badge' not in md  # no "Không có văn bản nào trong kho bãi bỏ" on an interview
    app.text_input(key="find_in_doc").input("kiểm thử tự động").run()
    assert any("1 đoạn có" in c.value for c in app.caption)
    app.query_params["doc"] = "luat-thu-nghiem.txt"
    app.run()
    assert any(b.label.startswith("Xem quan hệ văn bản") for b in app.button)


def test_corpus_table_says_validity_only_for_numbered_documents(hash_index):
    s = Searcher(hash_index)
    rows = {r["Văn bản"]: r for r in corpus_table(s, s.documents())}
    assert rows["Phỏng vấn thử nghiệm"]["Hiệu lực"] == "Không áp dụng"
    law = next(r for r in rows.values() if r["Số hiệu"] == "999/2099/QH99")
    assert law["Hiệu lực"] and law["Ngày"] == "05/06/2099"

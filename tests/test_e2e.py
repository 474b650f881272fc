"""End to end with the real default model (e5-small, bundled) on the interview of the project's corpus/."""

import json
import shutil

import pytest
from helpers import ROOT

from benchmarks.eval import evaluate_gold
from indexer.pipeline.build import build
from search_app.core.searcher import Searcher

pytestmark = [pytest.mark.slow, pytest.mark.model]
INTERVIEW = "phong-van-trach-nhiem-cap-uy-2024.txt"


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    corpus = work / "corpus"  # the interview alone: the gold set is about it
    corpus.mkdir()
    for name in (INTERVIEW, INTERVIEW + ".meta.json"):
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    index = work / "index"
    report = build([corpus], index, progress=False)
    assert report.ok and not report.skipped, report.summary()
    return index


@pytest.fixture(scope="module")
def searcher(corpus_index):
    return Searcher(corpus_index)


def test_dev_queries_hit_at_5(searcher, shared):
    result = evaluate_gold(searcher, shared / "eval" / "dev_queries.jsonl", methods=("hybrid",))
    scores = result["methods"]["hybrid"]["scores"]["overall"]
    assert scores["hit@5"] >= 0.8, json.dumps(result["methods"]["hybrid"], ensure_ascii=False, indent=1)


def test_query_without_diacritics_finds_the_passage_first(searcher):
    hit = searcher.search("phat huy khoi dai doan ket toan dan toc", top_k=1)[0]
    assert "phát huy khối đại đoàn kết toàn dân tộc" in hit.text


def test_document_number_query_puts_citing_passage_first(searcher):
    for q in ("Quyết định 1288/QĐ-TTg", "qd 1288/qd-ttg", "nghị quyết số 11-nq/tw"):
        hit = searcher.search(q, top_k=1)[0]
        assert "Quyết định số 1288/QĐ-TTg" in hit.text, q


def test_citation_of_the_interview(searcher):
    hit = searcher.search("Dĩ công vi thượng", top_k=1)[0]
    assert "Dĩ công vi thượng" in hit.text
    assert hit.citation.startswith("Trần Thị Lộc, Ủy viên Ban Thường vụ – Trưởng Ban Tuyên giáo Tỉnh ủy")
    assert "Trang Thông tin điện tử Đảng bộ tỉnh Bắc Kạn" in hit.citation and "01/04/2024" in hit.citation


def test_the_readme_example_is_answerable_on_the_one_document_demo_corpus(searcher):
    # the interview cites "Nghị quyết số 11-NQ/TW … vùng Trung du và miền núi Bắc Bộ": a passage
    # citing a document the corpus does not hold answers a question about that document
    hits = searcher.search("nghi quyet 11 ve trung du mien nui", 10)
    assert hits.answerable is True, hits.evidence
    assert "Nghị quyết số 11-NQ/TW" in hits[0].text


def test_scores_mean_the_same_across_queries(searcher):
    # an off-topic question gets no first hit of 1.0: the score is the fused score times the
    # query's confidence that the corpus answers it
    far = searcher.search("What is the capital of France?", 5)
    near = searcher.search("Ai là Trưởng Ban Tuyên giáo Tỉnh ủy Bắc Kạn được phỏng vấn?", 5)
    assert far.answerable is False and near.answerable is True
    assert far[0].score <= far.evidence["confidence"] + 1e-4 < near[0].score  # evidence: 4 decimals
    assert [h.score for h in near] == sorted((h.score for h in near), reverse=True)

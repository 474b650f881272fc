"""Sentences (the units an answer is marked in), the stub rule of the splitter, and the stored
sentence vectors of an index."""

import re

import numpy as np
from helpers import INTERVIEW_FIXTURE, LAW_FIXTURE, write

from indexer.pipeline.build import build
from indexer.split import split_document
from indexer.store import open_backend
from indexer.text.normalise import clean_text
from indexer.text.sentences import sentence_spans, sentences


def test_spans_are_trimmed_in_order_and_cover_every_word():
    for fixture in (LAW_FIXTURE, INTERVIEW_FIXTURE):
        text = clean_text(fixture)
        spans = sentence_spans(text)
        assert spans and all(a < b for a, b in spans)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))
        assert all(text[a:b] == text[a:b].strip() for a, b in spans)
        covered = " ".join(text[a:b] for a, b in spans)
        assert re.findall(r"\w+", covered) == re.findall(r"\w+", text)


def test_abbreviations_and_headings_do_not_end_a_sentence():
    text = ("Đoàn thử nghiệm làm việc tại TP. Hồ Chí Minh trong ba ngày. TS. Nguyễn Văn Thử trình bày báo cáo "
            "thử nghiệm.\nĐiều 3. Hiệu lực của văn bản thử nghiệm")
    assert sentences(text) == [
        "Đoàn thử nghiệm làm việc tại TP. Hồ Chí Minh trong ba ngày.",
        "TS. Nguyễn Văn Thử trình bày báo cáo thử nghiệm.",
        "Điều 3. Hiệu lực của văn bản thử nghiệm",
    ]


def test_long_enumerations_split_into_clauses_short_ones_do_not():
    long_a = "xây dựng kho văn bản thử nghiệm đầy đủ phục vụ việc kiểm tra tự động các chức năng tra cứu"
    long_b = "rà soát định kỳ các lỗi còn tồn tại của phần mềm giả định và báo cáo ban thử nghiệm hằng quý"
    assert sentences(f"Nhiệm vụ: {long_a}; {long_b}.") == [f"Nhiệm vụ: {long_a};", f"{long_b}."]
    assert len(sentences("Kho thử nghiệm; đoạn thử nghiệm; văn bản giả định.")) == 1


def test_a_closing_stub_joins_the_passage_before_it():
    body = "Nhân vật giả định: " + "Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn văn bản. " * 8
    text = clean_text(f"BBT: Câu hỏi thử nghiệm thứ nhất là gì?\n\n{body}\n\nBBT: Xin trân trọng cảm ơn đồng chí!")
    passages = split_document("d", text)
    assert len(passages) == 1
    assert passages[0].text.endswith("cảm ơn đồng chí!")
    assert passages[0].section == ["Câu hỏi thử nghiệm thứ nhất là gì?"]  # the stub names no section


def test_a_short_numbered_article_keeps_its_own_passage():
    text = clean_text(LAW_FIXTURE + "Điều 4. Văn bản thử nghiệm có hiệu lực từ ngày ký.\n")
    last = split_document("d", text)[-1]
    assert last.text == "Điều 4. Văn bản thử nghiệm có hiệu lực từ ngày ký."


def test_every_passage_stores_its_sentences_and_rebuilds_reuse_them(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "luat.txt", LAW_FIXTURE)
    write(corpus / "phong-van.txt", INTERVIEW_FIXTURE)
    index = tmp_path / "index"
    report = build([corpus], index, model="hash", progress=False)
    backend = open_backend(index)
    rows = [r for d in backend.documents() for r in backend.doc_passages(d["doc_id"])]
    stored = backend.sentences([r["pid"] for r in rows])
    assert report.sentences_embedded == sum(len(sentence_spans(r["text"])) for r in rows) > len(rows)
    for r in rows:
        spans, vectors = stored[r["pid"]]
        assert [tuple(s) for s in spans.tolist()] == sentence_spans(r["text"])
        assert vectors.shape == (len(spans), 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)
    backend.close()
    again = build([corpus], tmp_path / "index2", model="hash", progress=False, vectors_from=index)
    assert again.embedded == 0 and again.sentences_embedded == 0


def test_sentence_scores_are_the_inner_products_of_the_stored_vectors(hash_index):
    backend = open_backend(hash_index)
    pids = [r["pid"] for d in backend.documents() for r in backend.doc_passages(d["doc_id"])][:3] + [12345]
    q = np.ones(384, dtype=np.float32) / np.sqrt(384)
    stored = backend.sentences(pids)
    scored = backend.sentence_scores(q, pids)
    assert set(scored) == set(stored) and 12345 not in scored
    for pid, (spans, sims) in scored.items():
        assert np.array_equal(spans, stored[pid][0])
        assert np.allclose(sims, stored[pid][1] @ q, atol=1e-5)
    assert backend.sentence_scores(q, []) == {}


def test_a_short_last_piece_joins_the_sentence_before_it():
    assert sentences("Văn bản thử nghiệm có hiệu lực từ ngày ký. Cảm ơn.") == [
        "Văn bản thử nghiệm có hiệu lực từ ngày ký. Cảm ơn."]
    assert sentences("Một. Hai.") == ["Một. Hai."]
    assert sentences("") == [] and sentences("  \n ") == []

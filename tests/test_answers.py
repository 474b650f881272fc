"""The answering sentence of each hit, and the fusion weight that follows what the keyword side knows."""

import numpy as np
import pytest

from search_app.core import answers as A
from search_app.core.searcher import COVERAGE_HIGH, COVERAGE_LOW, DENSE_WEIGHT, Searcher
from search_app.core.stages import dense_weight

TEXT = ("Văn bản thử nghiệm nêu ba nhiệm vụ. Thứ nhất, xây dựng kho dữ liệu thử nghiệm dùng chung. "
        "Thứ hai, đào tạo cán bộ thử nghiệm. Thứ ba, báo cáo kết quả hằng năm.")


def _spans(text):
    from indexer.text.sentences import sentence_spans

    return np.array(sentence_spans(text))


def _sims(values):
    return np.array(values, dtype=np.float32)


def test_the_best_sentence_is_marked_and_only_it():
    spans = _spans(TEXT)
    assert len(spans) == 4
    marked = A.answers("kho dữ liệu", [TEXT], [(spans, _sims([0.70, 0.90, 0.72, 0.71]))])
    assert marked == [[{"start": int(spans[1][0]), "end": int(spans[1][1])}]]
    assert TEXT[marked[0][0]["start"]:marked[0][0]["end"]] == "Thứ nhất, xây dựng kho dữ liệu thử nghiệm dùng chung."


def test_a_neighbour_as_good_as_the_best_is_marked_with_it():
    spans = _spans(TEXT)
    marked = A.answers("nhiệm vụ", [TEXT], [(spans, _sims([0.70, 0.90, 0.895, 0.60]))])[0]
    assert [(m["start"], m["end"]) for m in marked] == [tuple(spans[1]), tuple(spans[2])]


def test_weak_evidence_marks_nothing():
    spans = _spans(TEXT)
    one = np.array([[0, len(TEXT)]])
    strong, weak, alone = A.answers(
        "kho dữ liệu", [TEXT, TEXT, TEXT],
        [(spans, _sims([0.7, 0.95, 0.7, 0.7])), (spans, _sims([0.6, 0.8, 0.6, 0.6])), (one, _sims([0.99]))])
    assert strong and not weak  # far below the best sentence of the results
    assert alone == []  # a one-sentence passage: marking it would mark the whole passage
    assert A.answers("x", [TEXT], [None]) == [[]]


def test_marking_never_covers_most_of_the_passage():
    text = "Câu ngắn thử nghiệm một. " + "Câu thử nghiệm rất dài nói về kho văn bản giả định " * 6 + "."
    spans = _spans(text)
    assert len(spans) == 2
    assert A.answers("kho văn bản", [text], [(spans, _sims([0.5, 0.9]))]) == [[]]


def test_without_a_query_vector_the_words_decide():
    spans = _spans(TEXT)
    marked = A.answers("đào tạo cán bộ", [TEXT], [(spans, None)], lexical_only=True)[0]
    assert [TEXT[m["start"]:m["end"]] for m in marked] == ["Thứ hai, đào tạo cán bộ thử nghiệm."]
    assert A.answers("ngân sách quốc phòng", [TEXT], [(spans, None)], lexical_only=True) == [[]]


def test_dense_weight_follows_coverage():
    assert dense_weight(1.0) == pytest.approx(DENSE_WEIGHT)
    assert dense_weight(COVERAGE_HIGH) == pytest.approx(DENSE_WEIGHT)
    assert dense_weight(0.0) == pytest.approx(1.0)
    assert dense_weight(COVERAGE_LOW) == pytest.approx(1.0)
    mid = dense_weight((COVERAGE_LOW + COVERAGE_HIGH) / 2)
    assert DENSE_WEIGHT < mid < 1.0


def test_english_questions_leave_the_keyword_side_out(hash_index):
    s = Searcher(hash_index)
    vi = "trách nhiệm của cơ quan thử nghiệm"
    en = "What are the responsibilities of the testing agency?"
    read = s.search(vi)
    assert read.coverage >= COVERAGE_HIGH and read.dense_weight == DENSE_WEIGHT
    read = s.search(en)
    assert (read.coverage or 0.0) <= COVERAGE_LOW and read.dense_weight == 1.0


def test_search_hits_carry_their_answer_offsets(hash_index):
    s = Searcher(hash_index)
    hits = s.search("Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn", top_k=3)
    top = hits[0]
    assert top.answer, top.text
    for a in top.answer:
        assert 0 <= a["start"] < a["end"] <= len(top.text)
    assert "Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn" in top.text[top.answer[0]["start"]:]
    assert sum(a["end"] - a["start"] for a in top.answer) < len(top.text)
    assert top.to_dict()["answer"] == top.answer
    # the keyword method marks by the query's words alone
    kw = s.search("Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn", top_k=1, method="keyword")[0]
    assert kw.answer and "tách đoạn" in kw.text[kw.answer[0]["start"]:kw.answer[0]["end"]]


def test_a_repeated_query_is_embedded_once(hash_index, monkeypatch):
    s = Searcher(hash_index)
    calls = []
    emb = s.embedder()
    real = emb.embed_query
    monkeypatch.setattr(emb, "embed_query", lambda q: calls.append(q) or real(q))
    first = s.search("kiểm thử tự động", top_k=3)
    again = s.search("kiểm thử tự động", top_k=3, method="dense")
    assert calls == ["kiểm thử tự động"]
    assert first and again and first[0].answer == s.search("kiểm thử tự động", top_k=3)[0].answer


def test_questions_and_the_passage_headings_are_never_the_answer():
    text = ("BBT: Các giải pháp thử nghiệm gồm những gì?\n\n* Đối với nhóm thử nghiệm thứ nhất\n\n"
            "– Thực hiện việc kiểm thử tự động đối với mọi thay đổi của phần mềm giả định.")
    spans = _spans(text)
    assert len(spans) == 3
    heads = ["BBT: Các giải pháp thử nghiệm gồm những gì?", "* Đối với nhóm thử nghiệm thứ nhất"]
    marked = A.answers("giải pháp đối với nhóm thử nghiệm thứ nhất", [text], [(spans, _sims([0.95, 0.93, 0.80]))],
                       headings=[heads])[0]
    assert [text[m["start"]:m["end"]] for m in marked] == [
        "– Thực hiện việc kiểm thử tự động đối với mọi thay đổi của phần mềm giả định."]
    # labels as stored since issue 18, without the line's "BBT:" and "*": the same choice
    bare = ["Các giải pháp thử nghiệm gồm những gì?", "Đối với nhóm thử nghiệm thứ nhất"]
    assert A.answers("giải pháp đối với nhóm thử nghiệm thứ nhất", [text], [(spans, _sims([0.95, 0.93, 0.80]))],
                     headings=[bare])[0] == marked
    lexical = A.answers("giải pháp thử nghiệm", [text], [(spans, None)], lexical_only=True, headings=[heads])[0]
    assert all(not text[m["start"]:m["end"]].endswith("?") for m in lexical)


def test_sentence_scores_add_the_word_bonus_to_the_sentences_read():
    from indexer.text.sentences import sentence_spans

    text = "Văn bản thử nghiệm một. Câu này nói về đất đai. Câu khác hẳn."
    spans = np.array(sentence_spans(text)).reshape(-1, 2)
    sims = np.array([0.80, 0.79, 0.50], dtype=np.float32)
    plain = A.sentence_scores("đất đai", text, spans, sims, below=0.7)
    assert plain.tolist() == [np.float32(0.80), np.float32(0.79) + np.float32(A.LEXICAL_WEIGHT), np.float32(0.50)]
    strict = A.sentence_scores("đất đai", text, spans, sims, below=0.7, require_words=True)
    assert np.isneginf(strict[[0, 2]]).all() and strict[1] == plain[1]  # no word shared / not read
    # the batch form over several hits gives each hit the same scores (then -inf at questions and headings)
    both = A._scored("đất đai", [(text, spans, sims, ()), (text, spans, sims, ())], 0.7, False)
    assert [b.tolist() for b in both] == [plain.tolist(), plain.tolist()]

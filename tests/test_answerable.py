"""Knowing when there is no answer (search_app/core/answerable.py) in the core, the CLI and the page."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, page_text

from search_app.core import answerable
from search_app.core.searcher import HIT_FIELDS, Searcher
from search_app.core.serialize import batch_line, search_response

OFF_TOPIC = ["Công thức làm bánh chưng ngày Tết", "cach lam banh xeo mien tay",
             "How do I merge two dictionaries in Python?"]


def _inputs(query: str, texts: list[str], sims: list[float], **kw):
    import numpy as np

    from indexer.embed import get_embedder

    embedder = get_embedder("hash")
    sentences = [(np.array([[0, len(t)]]), np.array([s], dtype=np.float32)) for t, s in zip(texts, sims, strict=True)]
    return answerable.JudgeInputs(query=query, query_vector=embedder.embed_query(query), embedder=embedder,
                                  texts=texts, sentences=sentences, candidates=sims, **kw)


def test_decide_on_synthetic_inputs():
    text = "Thực hiện Nghị quyết số 999-NQ/TEST ngày 01/01/2099 về vùng thử nghiệm."
    nothing = answerable.decide(answerable.JudgeInputs("q", None, None, [], []))
    assert nothing.answerable is False and nothing.confidence == 0.0
    # a short reference to the document a passage cites is evidence, whatever the similarities say
    cited = answerable.decide(_inputs("nghi quyet 999 ve vung thu nghiem", [text], [-1.0]))
    assert cited.number_known and cited.answerable and cited.confidence == 1.0
    # far from every passage, words and pairs nowhere: not answerable, with a low confidence
    far = answerable.decide(_inputs("công thức làm bánh chưng", [text, "Văn bản thử nghiệm khác."], [-1.0, -1.0]))
    assert not far.answerable and far.confidence < answerable.THRESHOLD and far.coverage == 0.0
    assert answerable.calibrated(1.0, far) == round(far.confidence, 6)


def test_the_exact_signals_and_the_labels():
    assert answerable.has_phrase(["zyxwvu"], answerable.spaced(["ma", "zyxwvu", "thu"]))
    assert answerable.has_phrase(["bong", "da"], answerable.spaced(["bong", "da"]))
    assert not answerable.has_phrase(["da", "bong"], answerable.spaced(["bong", "da"]))
    assert not answerable.has_phrase(["bong"], answerable.spaced(["bongda"]))  # whole syllables only
    assert not answerable.has_phrase([], answerable.spaced(["bong", "da"]))
    assert answerable.label(0.95, 0.80) == "Rất phù hợp"
    assert answerable.label(0.80 + answerable.MARGIN, 0.80) == "Phù hợp"
    assert answerable.label(0.70, 0.80) == "Ít liên quan" and answerable.label(None, 0.8) is None


def _words(text: str) -> list[str]:
    from indexer.text.normalise import fold_token, syllables

    return [fold_token(w) for w in syllables(text)]


def test_content_coverage_leaves_function_words_out():
    passage = _words("Văn bản thử nghiệm quy định việc tách đoạn của kho.")
    # "là gì", "của", "như thế nào" are everywhere: only "tách đoạn" and "kho" count here
    assert answerable.content_coverage(_words("tách đoạn là gì"), [answerable.read_words(passage)]) == (1.0, 1.0)
    cov, pairs = answerable.content_coverage(_words("tach doan cua kho nhu the nao"), [answerable.read_words(passage)])
    assert cov == 1.0 and pairs == 1.0
    cov, pairs = answerable.content_coverage(_words("giấy phép lái xe của kho"), [answerable.read_words(passage)])
    assert cov == 0.25 and pairs == 0.0  # "giấy phép", "xe" are not there, "kho" is ("lái" folds to "lai", lại)
    assert answerable.content_coverage(_words("là gì"), [answerable.read_words(passage)]) == (None, None)


def test_a_short_reference_to_a_document_a_hit_cites_is_known():
    never = (lambda key: False, lambda code, n: False)
    cites = ["Thực hiện Nghị quyết số 999-NQ/TEST ngày 01/01/2099 về vùng thử nghiệm."]
    assert answerable.names_known_number("nghi quyet 999 ve vung thu nghiem", cites, *never)
    assert not answerable.names_known_number("nghi quyet 998 ve vung thu nghiem", cites, *never)
    assert not answerable.names_known_number("Kết luận 999", cites, *never)  # another type
    assert answerable.names_known_number("999-NQ/TEST", [], lambda key: key == "999-NQ/TEST", never[1])
    assert answerable.names_known_number("Nghị quyết 999", [], never[0], lambda code, n: (code, n) == ("NQ", 999))


def test_confidence_grows_with_each_signal_and_the_threshold_decides():
    weak = {"best": 0.80, "typical": 0.79, "margin": -0.02, "coverage": 0.0, "bigrams": 0.0, "near_domain": 0.81}
    strong = {"best": 0.92, "typical": 0.80, "margin": 0.08, "coverage": 1.0, "bigrams": 1.0, "near_domain": 0.84}
    assert 0.0 <= answerable.confidence(weak) < answerable.THRESHOLD <= answerable.confidence(strong) <= 1.0
    # the margin over everyday text, the best sentence over the near-domain texts and the query's
    # phrases found raise it; a closer near-domain text lowers it
    for key, value in (("margin", 0.08), ("best", 0.85), ("bigrams", 1.0), ("near_domain", 0.70)):
        assert answerable.confidence({**weak, key: value}) > answerable.confidence(weak), key
    assert answerable.confidence({**weak, "near_domain": 0.90}) < answerable.confidence(weak)
    assert answerable.is_foreign(["what", "is", "it"]) and not answerable.is_foreign(["the", "nao", "la", "dung"])
    assert answerable.features({**weak, "best": None, "margin": None, "coverage": None, "bigrams": None}) == \
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def test_everyday_texts_leave_out_what_the_documents_are_about():
    words = " ".join(answerable.EVERYDAY).casefold()
    for subject in ("nghị quyết", "đảng", "chính phủ", "quốc hội", "resolution", "government", "party"):
        assert subject not in words


def test_near_domain_texts_name_subjects_not_documents():
    # generic sentences: no document number, no year, no quotation; Vietnamese and NFC like the rest
    import re
    import unicodedata

    from indexer.text.docnumbers import find_numbers

    vietnamese = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
    assert len(answerable.NEAR_DOMAIN) == len(set(answerable.NEAR_DOMAIN)) >= 40
    for text in answerable.NEAR_DOMAIN:
        assert not find_numbers(text) and not re.search(r"\d", text) and '"' not in text, text
        assert unicodedata.normalize("NFC", text) == text and vietnamese & set(text.casefold()), text


def test_the_background_vectors_are_kept_in_the_cache_folder(tmp_path, monkeypatch):
    """Embedded once, then read back (the same vectors) by a later process: its embedder is not asked."""
    from indexer.embed import get_embedder

    monkeypatch.setenv("VNSEARCH_CACHE", str(tmp_path))
    embedder = get_embedder("hash")
    answerable._background_vectors.cache_clear()
    first = answerable.background_vectors(embedder)
    assert list((tmp_path / "background").glob("*.npz"))
    answerable._background_vectors.cache_clear()  # as a new process
    monkeypatch.setattr(type(embedder), "embed_passages", lambda self, texts: pytest.fail("embedded again"))
    assert np.array_equal(answerable.background_vectors(embedder), first)
    answerable._background_vectors.cache_clear()


def test_everyday_texts_are_in_the_documents_language():
    # an English everyday text would meet English questions in their own language on one side of
    # the comparison only (answerable.py); every text carries Vietnamese letters
    vietnamese = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
    assert all(vietnamese & set(t.casefold()) for t in answerable.EVERYDAY)


def test_the_tuned_threshold_never_flags_the_answerable_question_it_stands_on():
    from benchmarks.answerable import tune

    rows = [{"in_corpus": True, "number_known": False, "phrase": False, "margin": m} for m in (0.0266, 0.04, 0.05)]
    threshold = tune(rows)  # 3 questions: 2.5% of them allows none to be flagged
    assert threshold == 0.026 and all(r["margin"] >= threshold for r in rows)


@pytest.fixture
def searcher(hash_index):
    return Searcher(hash_index)


def test_a_question_the_documents_answer_is_answerable(searcher):
    hits = searcher.search("Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn", 5)
    assert hits and hits.answerable is True
    assert set(hits.evidence) == {"best", "everyday", "margin", "number_known", "phrase", "answerable",
                                  "typical", "coverage", "bigrams", "foreign", "sentence_pairs", "confidence",
                                  "unseen_numbers", "near_domain"}
    assert all(h.match in answerable.LABELS for h in hits)


@pytest.mark.parametrize("query", OFF_TOPIC)
@pytest.mark.parametrize("method", ["hybrid", "dense", "keyword"])
def test_off_topic_questions_are_flagged_and_nothing_is_marked_as_their_answer(searcher, query, method):
    hits = searcher.search(query, 5, method=method)
    assert hits.answerable is False
    assert all(h.answer == [] for h in hits)  # the nearest passages, none of them an answer


def test_a_known_number_is_answerable(searcher):
    res = searcher.search("999-NQ/TEST", 5)
    assert res.answerable is True and res.evidence["number_known"] is True


def test_short_references_are_read_from_the_query():
    from indexer.text.docnumbers import find_short_references, short_reference_matches

    assert find_short_references("Nghị quyết 57 thừa nhận điều gì") == [("NQ", 57)]
    assert find_short_references("nghi quyet so 20 nam 2012") == [("NQ", 20)]
    assert find_short_references("Does Conclusion No. 69 say") == [("KL", 69)]
    assert find_short_references("Nghị quyết 57-NQ/TW ngày 22/12/2024") == []  # a full number is not short
    assert find_short_references("ngày 10/02/2022, năm 2024") == []
    assert short_reference_matches("NQ", 3, "03/NQ-CP") and short_reference_matches("NQ", 20, "20-NQ/TW@2012")
    assert not short_reference_matches("KL", 57, "57-NQ/TW") and not short_reference_matches("NQ", 68, "68/2020/QH14")


def test_an_empty_query_is_not_answerable(searcher):
    res = searcher.search("", 5)
    assert not res and res.answerable is False


def test_the_response_shape(searcher):
    result = searcher.search("kiểm thử tự động", 2)
    res = search_response(result)
    assert list(res) == ["query", "understood", "answerable", "card", "results"]
    assert list(res["results"][0]) == list(HIT_FIELDS)
    assert list(batch_line("a", result)) == ["id", "understood", "answerable", "card", "results"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "search_app", "search", *args], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=120)


@pytest.mark.slow
def test_cli_json_and_text_say_whether_there_is_an_answer(hash_index, tmp_path):
    res = json.loads(_cli(OFF_TOPIC[0], "--index", str(hash_index), "--json").stdout)
    assert res["query"] == OFF_TOPIC[0] and res["answerable"] is False and res["results"]
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"id": "x", "query": OFF_TOPIC[2]}) + "\n"
                 + json.dumps({"id": "y", "query": "kiểm thử tự động"}) + "\n", encoding="utf-8")
    lines = [json.loads(x) for x in _cli("--queries", str(q), "--index", str(hash_index)).stdout.splitlines()]
    assert [(x["id"], x["answerable"]) for x in lines] == [("x", False), ("y", True)]
    text = _cli(OFF_TOPIC[0], "--index", str(hash_index)).stdout
    assert text.startswith("Không tìm thấy đoạn văn trả lời câu hỏi này trong kho") and "Trả lời:" not in text


@pytest.mark.slow
def test_page_says_there_is_no_answer_and_folds_the_nearest_passages(hash_index, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(hash_index))
    at = AppTest.from_file(str(ROOT / "search_app" / "page" / "app.py"), default_timeout=60)
    at.run()
    try:
        at.text_input(key="q").input(OFF_TOPIC[0]).run()
        assert not at.exception
        assert any("Không tìm thấy đoạn văn trả lời câu hỏi này trong kho" in w.value for w in at.warning)
        fold = [e for e in at.expander if e.label.startswith("Các đoạn văn gần nhất")]
        assert fold and fold[0].get("html")  # the passages are there, inside the fold
        md = page_text(at)
        assert 'class="answer"' not in md and "Điểm:" not in md
        at.text_input(key="q").input("Kho văn bản thử nghiệm giúp kiểm tra việc tách đoạn").run()
        assert not at.warning and "Mức phù hợp:" in page_text(at)
    finally:
        import streamlit as st

        st.cache_resource.clear()


def test_a_word_pair_matches_as_typed_or_folded_and_only_adjacent():
    from indexer.text.normalise import syllables

    read = answerable.read_words(syllables("Quy định về đất đai và đạt chuẩn"))
    assert answerable.has_pair("đất", "đai", read) and answerable.has_pair("dat", "dai", read)
    assert answerable.has_pair("đất", "dai", read) and answerable.has_pair("dat", "đai", read)
    assert not answerable.has_pair("đạt", "đai", read)  # typed with diacritics: only itself
    assert answerable.has_pair("dat", "chuan", read) and not answerable.has_pair("đất", "chuẩn", read)
    assert not answerable.has_pair("đai", "đất", read) and not answerable.has_pair("quy", "về", read)


def test_has_pair_is_the_pair_sets_it_replaced():
    """Against the definition: (a, b) is found when some i has a in {w_i, fold(w_i)} and b in
    {w_i+1, fold(w_i+1)}; on random texts over a few syllables that fold alike."""
    import random

    from indexer.text.normalise import fold_token

    pool = ["đất", "đạt", "dat", "đai", "dài", "dai", "và", "va", "luật"]
    rnd = random.Random(7)
    for _ in range(400):
        words = [rnd.choice(pool) for _ in range(rnd.randint(0, 9))]
        read = answerable.read_words(words)
        pairs = {(x, y) for i in range(len(words) - 1)
                 for x in (words[i], fold_token(words[i])) for y in (words[i + 1], fold_token(words[i + 1]))}
        for a in pool:
            for b in pool:
                assert answerable.has_pair(a, b, read) == ((a, b) in pairs), (words, a, b)

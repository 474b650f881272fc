"""Diacritics put back on a query typed without them, from the passages its keyword side found."""

import pytest

from search_app.core import accents
from search_app.core.searcher import Searcher, is_unaccented


def test_each_syllable_takes_the_form_the_passages_write():
    texts = ["Quy hoạch tỉnh thử nghiệm thời kỳ 2021-2030 được phê duyệt.",
             "Văn bản thử nghiệm nói về tình hình, tình cảm và tình nghĩa."]
    assert accents.restore("quy hoach tinh thu nghiem", texts) == "quy hoạch tỉnh thử nghiệm"
    # "tinh" alone is most often "tình" here; next to "hinh" it is too
    assert accents.restore("tinh hinh", texts) == "tình hình"


def test_typed_accents_and_unknown_words_stay():
    texts = ["Văn bản thử nghiệm về kho dữ liệu."]
    assert accents.restore("kho dữ lieu zyx", texts) == "kho dữ liệu zyx"
    assert accents.restore("kho du lieu", []) == "kho du lieu"
    assert accents.restore("", texts) == ""


def test_a_word_takes_the_form_its_phrase_has_not_the_most_frequent_one():
    # "dữ" is far more frequent than "du" here, but next to "trung" the texts write "du"
    texts = ["Văn bản thử nghiệm: Trung du và miền núi thử nghiệm."] + ["Kho dữ liệu thử nghiệm, dữ liệu giả định."] * 5
    assert accents.restore("trung du mien nui", texts) == "trung du miền núi"
    assert accents.restore("kho du lieu", texts) == "kho dữ liệu"
    # alone, with forms the texts disagree on, "du" stays as typed; "mien" has one form only
    assert accents.restore("du", texts) == "du" and accents.restore("mien", texts) == "miền"
    # a neighbour typed with its accents chooses among the pairs that write it that way
    assert accents.restore("kho dữ lieu", texts) == "kho dữ liệu"


def test_a_word_the_texts_spell_several_ways_with_no_phrase_to_tell_stays_as_typed():
    texts = ["Văn bản thử nghiệm về kho.", "Văn bản thử nghiệm bảo vệ kho."]
    assert accents.restore("ve kho moi", texts) == "ve kho moi"  # "về kho" / "vệ kho": no "kho mới" to tell
    assert accents.restore("bao ve", texts) == "bảo vệ"


@pytest.mark.slow
def test_the_understood_question_on_the_real_documents_is_the_phrase_they_write(shared, tmp_path):
    """With ../shared/documents indexed beside the interview, "trung du" stays "trung du" (the
    interview writes "Trung du và miền núi"), though the resolutions write "dữ liệu" far more often."""
    import shutil

    from indexer.pipeline.build import build

    corpus = tmp_path / "corpus"
    shutil.copytree(shared / "documents", corpus / "documents")
    shutil.copy2(shared / "corpus" / "phong-van-trach-nhiem-cap-uy-2024.txt", corpus)
    assert build([corpus], tmp_path / "index", model="hash", progress=False).ok
    understood = Searcher(tmp_path / "index").search("nghi quyet 11 ve trung du mien nui", top_k=10).understood
    assert "trung du miền núi" in understood and "dữ" not in understood, understood


def test_unaccented_queries_are_recognised():
    assert is_unaccented("quy hoach tinh bac kan") and is_unaccented("What is the plan?")
    assert not is_unaccented("quy hoạch") and not is_unaccented("đi") and not is_unaccented("2024")


def test_an_unaccented_query_is_embedded_with_its_accents_back(hash_index, monkeypatch):
    s = Searcher(hash_index, query_cache=0)
    seen = []
    emb = s.embedder()
    real = emb.embed_query
    monkeypatch.setattr(emb, "embed_query", lambda q: seen.append(q) or real(q))
    hits = s.search("kiem thu tu dong", top_k=3)
    assert hits and "kiểm thử tự động" in hits[0].text
    assert seen == ["kiểm thử tự động"]
    s.search("kiem thu tu dong", top_k=3, method="dense")  # the dense method gets the accents too
    assert seen[-1] == "kiểm thử tự động"
    s.search("kiểm thử tự động", top_k=3)  # typed with accents: embedded as typed
    assert seen[-1] == "kiểm thử tự động"
    s.search("What are the responsibilities of the testing agency?", top_k=3)  # English: as typed
    assert seen[-1] == "What are the responsibilities of the testing agency?"


def test_search_details_tell_how_the_query_was_read(hash_index):
    s = Searcher(hash_index)
    res = s.search("kiem thu tu dong", top_k=3)
    assert res.understood == "kiểm thử tự động" and res.dense_weight is not None and 0 < res.dense_weight < 1
    res = s.search("What are the responsibilities of the testing agency?", top_k=3)
    assert res.understood is None and res.dense_weight == 1.0
    # read without a diacritic put back ("TRA KHO" as "tra kho"): nothing to tell, the query is what was read
    assert s.search("TRA KHO", top_k=3).understood is None

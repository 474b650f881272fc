from indexer.store.keyword import KeywordIndex, exact_tokens, folded_tokens

PASSAGES = [
    "Văn bản thử nghiệm về quỹ đất của tỉnh.",
    "Văn bản thử nghiệm về quy hoạch đất của tỉnh.",
    "Một đoạn khác hoàn toàn, có số hiệu 999-NQ/TEST.",
    "Ở đây có ý kiến của nhân dân.",
]


def _rank(ki: KeywordIndex, q: str) -> list[int]:
    s = ki.scores(q)
    return [int(i) for i in s.argsort()[::-1] if s[i] > 0]


def test_unaccented_query_matches_through_the_folded_field():
    ki = KeywordIndex().index(PASSAGES)
    assert _rank(ki, "quy hoach dat")[0] == 1


def test_exact_accented_match_ranks_above_a_folded_one():
    # two passages that differ only by the accents of one word
    ki = KeywordIndex().index(["Văn bản thử nghiệm về quỹ đất của tỉnh.", "Văn bản thử nghiệm về quý đất của tỉnh."])
    assert _rank(ki, "quỹ đất") == [0, 1]
    assert _rank(ki, "quý đất") == [1, 0]
    # and an unaccented query still finds both
    assert sorted(_rank(ki, "quy dat")) == [0, 1]


def test_document_numbers_match_in_any_spelling():
    ki = KeywordIndex().index(PASSAGES)
    assert _rank(ki, "nghị quyết 999-nq/test")[0] == 2
    assert "#999-NQ/TEST" in exact_tokens("số 999 - NQ/TEST")


def test_one_syllable_words_are_kept_and_no_english_stop_words():
    assert "ở" in exact_tokens("Ở đây") and "ý" in exact_tokens("ý kiến")
    ki = KeywordIndex().index(PASSAGES)
    assert _rank(ki, "ở")[0] == 3
    assert "the" in folded_tokens("the rule of law")


def test_round_trip_save_load(tmp_path):
    ki = KeywordIndex().index(PASSAGES)
    ki.save(tmp_path)
    again = KeywordIndex.load(tmp_path)
    assert list(again.scores("quy hoạch")) == list(ki.scores("quy hoạch"))

"""core/words.py: a passage's words worked out once, a sentence's words taken from them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.text.normalise import fold_token, syllables
from search_app.core.words import passage_words, sentence_words

# Vietnamese letters with and without marks, a bare combining mark, characters that lower-case to
# several ("ß", "İ", "ﬁ"), digits, spaces and punctuation: where offsets could go wrong.
ALPHABET = "aăâeêioôơuưyđAĂÂĐ áàảãạếỀộữ\u0301\u0323ßİﬁ09 ,.;:-\n?!"


def _definition(text: str, start: int, end: int) -> frozenset[str]:
    return frozenset(map(fold_token, syllables(text[start:end])))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60), st.data())
def test_a_sentences_words_are_those_of_the_span_alone(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert sentence_words(text, start, end) == _definition(text, start, end)


def test_a_word_the_span_cuts_is_cut_there_too() -> None:
    text = "Văn bản thử nghiệm số 999-NQ/TEST. Điều khoản thứ hai."
    words, folded = passage_words(text)
    assert words[:2] == ("văn", "bản") and folded[:2] == ("van", "ban")
    for start, end in [(0, 34), (35, len(text)), (2, 9), (5, 6), (0, 0), (4, 40)]:
        assert sentence_words(text, start, end) == _definition(text, start, end), (start, end)

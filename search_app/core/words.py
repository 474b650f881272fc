"""A passage's words as the search reads them, worked out once for every stage that reads them.

The keyword side's coverage (stages.coverage), the no-answer decision (answerable) and the marked
sentence (answers: the folded words of each sentence) all read a passage's lower-cased syllables and
their folds; splitting and folding text costs more than the rest of what those stages do with it,
and the same passages come back at the top of the rankings query after query.
"""

from __future__ import annotations

import functools
import unicodedata
from bisect import bisect_left, bisect_right

from indexer.text.normalise import fold_token, nfc, syllables

WORDS_CACHE = 4096  # texts whose words are kept (see passage_words)
SENTENCE_CACHE = 16384  # sentences whose folded words are kept (see sentence_words)


@functools.lru_cache(maxsize=WORDS_CACHE)
def passage_words(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text's lower-cased NFC syllables (`syllables`), and each one folded (`fold_token`)."""
    words = tuple(syllables(text))
    return words, tuple(map(fold_token, words))


@functools.lru_cache(maxsize=WORDS_CACHE)
def _word_spans(text: str) -> tuple[list[int], list[int]] | None:
    """Where each of `passage_words(text)`'s words starts and ends in `text`; None when offsets in the
    lower-cased text are not offsets in `text` (a text not in NFC, or a character lower-cased to several)."""
    lowered = nfc(text).casefold()
    if len(lowered) != len(text) or not unicodedata.is_normalized("NFC", text):
        return None
    starts, ends, at = [], [], 0
    for word in passage_words(text)[0]:
        at = lowered.find(word, at)  # the next run of word characters: only other characters lie between
        starts.append(at)
        at += len(word)
        ends.append(at)
    return starts, ends


def _folded_words(text: str) -> frozenset[str]:
    return frozenset(map(fold_token, syllables(text)))


@functools.lru_cache(maxsize=SENTENCE_CACHE)
def sentence_words(text: str, start: int, end: int) -> frozenset[str]:
    """The folded words of `text[start:end]` — `frozenset(map(fold_token, syllables(text[start:end])))` —
    taken from the passage's words (a word the span cuts is cut there too, as splitting the span alone
    would cut it), and kept for the sentences last scored: a passage's sentences are scored again
    whenever it comes back in a ranking."""
    if end <= start:
        return frozenset()
    spans = _word_spans(text)
    if spans is None or not unicodedata.is_normalized("NFC", text[start:end]):
        return _folded_words(text[start:end])
    starts, ends = spans
    words, folded = passage_words(text)
    first, stop = bisect_right(ends, start), bisect_left(starts, end)
    out = list(folded[first:stop])
    for i in {first, stop - 1} if first < stop else ():
        if starts[i] < start or ends[i] > end:
            out[i - first] = fold_token(words[i][max(start, starts[i]) - starts[i]:min(end, ends[i]) - starts[i]])
    return frozenset(out)

"""A passage's words as the search reads them, worked out once for every stage that reads them.

The keyword side's coverage (stages.coverage) and the no-answer decision (answerable) both read a
passage's lower-cased syllables and their folds; splitting and folding a passage
costs more than the rest of what those stages do with it, and the same passages come back at the
top of the rankings query after query.
"""

from __future__ import annotations

import functools

from indexer.text.normalise import fold_token, syllables

WORDS_CACHE = 4096  # texts whose words are kept (see passage_words)


@functools.lru_cache(maxsize=WORDS_CACHE)
def passage_words(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text's lower-cased NFC syllables (`syllables`), and each one folded (`fold_token`)."""
    words = tuple(syllables(text))
    return words, tuple(map(fold_token, words))

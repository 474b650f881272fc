"""A passage's words as the search reads them, worked out once.

The keyword side's coverage and the no-answer decision (search_app/core) read a passage's lower-cased
syllables and their folds; splitting a passage costs more than the rest of what those stages do with
it. The embedded index stores each passage's syllables at build time (`line`, one line a vector row:
store/embedded/writer.py); the reader hands them over (`remember`) when it reads the passage's row, so
a search does not split it again. A text no index stored words for (Milvus, an older index) is split
at the first search that meets it. Either way the same tuples: `line` joins the syllables with single
spaces, and a syllable (a run of word characters) holds no whitespace.
"""

from __future__ import annotations

import functools
import threading

from indexer.text.normalise import fold_token, syllables

WORDS_CACHE = 4096  # texts whose words are kept (see passage_words)
STORED_CACHE = 8192  # stored lines kept until their passage is first read for its words

_stored: dict[str, str] = {}
_lock = threading.Lock()  # the page reads rows from several threads


def line(text: str) -> str:
    """What the index stores for a passage: its syllables (`syllables`) joined by single spaces."""
    return " ".join(syllables(text))


def remember(text: str, stored: str) -> None:
    """The stored `line` of `text`, for `passage_words` to take instead of splitting the text (the oldest
    forgotten past STORED_CACHE)."""
    with _lock:
        if text not in _stored:
            while len(_stored) >= STORED_CACHE:
                _stored.pop(next(iter(_stored)), None)
        _stored[text] = stored


@functools.lru_cache(maxsize=WORDS_CACHE)
def passage_words(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text's lower-cased NFC syllables (`syllables`), and each one folded (`fold_token`)."""
    stored = _stored.pop(text, None)
    words = tuple(stored.split()) if stored is not None else tuple(syllables(text))
    return words, tuple(map(fold_token, words))

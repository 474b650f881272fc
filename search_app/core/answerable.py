"""Whether the index holds an answer to a query: no answer is better than a wrong one.

The signal is a comparison, not an absolute similarity. The embedding model's similarities sit in
a narrow band that moves with the query's language and form (an English question scores about
0.78 against its right Vietnamese sentence, a Vietnamese one 0.88–0.95; a cooking question 0.82
against the best sentence of a political resolution), so no fixed similarity separates questions
the documents answer from those they do not. What does: the query's best sentence in the index
against its best sentence in a small set of everyday texts written for this purpose (everyday.py:
food, sport, weather, code, greetings… and nothing on the indexed subjects). A question about the
documents is closer to some sentence of theirs than to any everyday text; a question about
cooking is closer to the everyday recipe. `margin` = best index sentence − best everyday text.

The everyday texts are in the documents' language, Vietnamese, and only in it: both sides of the
comparison then pay the same price for a query in another language. With English everyday texts
beside the Vietnamese documents, an English question met its own language on the everyday side
only, and English questions the documents answer fell below the threshold (2 of 5 on a held-out
half) while no Vietnamese one did (CHANGELOG.md, issue 18.4).

MARGIN is chosen by benchmarks/answerable.py on the tuning half of the development questions and
the tuning out-of-corpus set only, and reported on question sets it never saw.

A query that names a document number known to the index (indexed, or cited by a passage) is
answerable whatever the margin: the number itself is the evidence. So is a query whose words stand
in a passage exactly as typed, in that order (a quotation, a name, a rare term such as "zyxwvu"):
the keyword side has found it, whatever the model makes of it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from indexer.embed.base import Embedder
from search_app.core.everyday import EVERYDAY

# Chosen on the tuning half by benchmarks/answerable.py: the largest threshold (to 0.001) that
# wrongly flags at most 2.5% of the tuning half's answerable questions (half the 5% floor, room
# for questions not seen).
MARGIN = 0.026
# Display labels for a hit's own margin (its best sentence against the everyday texts): a reader
# is told how well a passage matches in words, never a 4-decimal score.
STRONG_MARGIN = MARGIN + 0.05
LABELS = ("Rất phù hợp", "Phù hợp", "Ít liên quan")

_lock = threading.Lock()


@dataclass(frozen=True)
class Evidence:
    """What the decision saw; `details["evidence"]` of a search."""

    best: float | None  # best sentence similarity among the searched passages (None: no vector)
    everyday: float | None  # best similarity among the everyday texts
    margin: float | None
    number_known: bool  # the query names a document number the index knows
    phrase: bool  # the query's words stand in a passage as typed, in that order
    answerable: bool

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@functools.lru_cache(maxsize=8)
def _everyday_vectors(model: str, embedder: Embedder) -> np.ndarray:
    return embedder.embed_passages(list(EVERYDAY))


def everyday_vectors(embedder: Embedder) -> np.ndarray:
    """The everyday texts embedded as passages by `embedder` (once per model and process)."""
    with _lock:  # one embedding run, even when the first searches come together
        return _everyday_vectors(embedder.name, embedder)


def everyday_best(embedder: Embedder, query_vector: np.ndarray) -> float:
    return float(np.max(everyday_vectors(embedder) @ np.asarray(query_vector, dtype=np.float32)))


def judge(best: float | None, everyday: float | None, number_known: bool = False, phrase: bool = False) -> Evidence:
    """The decision from the two similarities and the two exact signals (see the module docstring)."""
    margin = None if best is None or everyday is None else best - everyday
    answerable = number_known or phrase or (margin is not None and margin >= MARGIN)
    return Evidence(best, everyday, margin, number_known, phrase, answerable)


def has_phrase(query_words: Sequence[str], passage_words: Sequence[str]) -> bool:
    """True when `query_words` (folded syllables) occur in `passage_words` contiguously, in order."""
    n = len(query_words)
    if not n or n > len(passage_words):
        return False
    starts = (i for i, w in enumerate(passage_words[: len(passage_words) - n + 1]) if w == query_words[0])
    wanted = tuple(query_words)
    return any(tuple(passage_words[i : i + n]) == wanted for i in starts)


def label(best_sentence: float | None, everyday: float | None) -> str | None:
    """"Rất phù hợp" / "Phù hợp" / "Ít liên quan" for one hit, or None when there is nothing to say."""
    if best_sentence is None or everyday is None:
        return None
    margin = best_sentence - everyday
    if margin >= STRONG_MARGIN:
        return LABELS[0]
    return LABELS[1] if margin >= MARGIN else LABELS[2]

"""The numbers a whole index holds, for the answerable decision (core/answerable.py).

A number is the one part of a question that reads the same in every language and that the embedding
model barely sees: "by 2045", "năm 2023", "59-NQ/TW", "the 13th Congress". A question naming a year,
a count or a document number that no passage of the index contains asks about something the index
does not cover, however close its words and its meaning come to the documents'. The ten passages
shown cannot tell a number absent from them from one absent from the corpus, so this is read once
per published generation, from the passages themselves (any backend).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from indexer.store.base import Backend
from search_app.core.per_generation import GenerationCache

_DIGITS = re.compile(r"\d+")
MIN_DIGITS = 2  # "1", "5" of "1,5%" or "khoản 2" are everywhere and prove nothing


def numbers(text: str) -> list[str]:
    """The runs of digits in `text` with at least MIN_DIGITS digits once leading zeros are dropped
    ("10/02/2022" gives "10", "2022"; "13th" gives "13"), as written without those zeros."""
    out = []
    for run in _DIGITS.findall(text):
        run = run.lstrip("0")
        if len(run) >= MIN_DIGITS:
            out.append(run)
    return out


class CorpusNumbers:
    """The set of `numbers` in every text of a corpus."""

    def __init__(self, texts: Iterable[str]) -> None:
        held: set[str] = set()
        for text in texts:
            held.update(numbers(text))
        self._held = frozenset(held)

    def __contains__(self, number: object) -> bool:
        return number in self._held

    def __len__(self) -> int:
        return len(self._held)

    def unseen(self, query: str) -> float:
        """The share of the query's numbers that no text holds (0.0 for a query without one)."""
        asked = numbers(query)
        return sum(n not in self._held for n in asked) / len(asked) if asked else 0.0


def of_backend(backend: Backend) -> CorpusNumbers:
    """The numbers of every passage `backend` serves, document by document."""
    return CorpusNumbers(p["text"] for d in backend.documents() for p in backend.doc_passages(d["doc_id"]))


class CorpusNumbersCache(GenerationCache[CorpusNumbers]):
    """One CorpusNumbers per published generation (core/per_generation.py)."""

    def __init__(self) -> None:
        super().__init__(of_backend)

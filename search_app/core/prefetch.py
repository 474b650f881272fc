"""Read-ahead for a batch of searches (`search --queries`, `POST /v1/search`: Searcher.search_many). On a
local backend the query vectors (one model call) and their dense rankings (one pass over the vector
index); on a remote backend (`remote`: many queries a call, Milvus) both rankings, the query vectors,
the sentence scores of each query's candidates and the passage rows the rankings hydrate, read in a
few calls for the searches that follow.

The searches' results are the same as without it: each value read ahead is what that search would
have read itself (the same call, or one whose answer holds it: a sentence's score does not depend on
what else is scored with it, nor a query's nearest vectors on the other queries of the batch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from indexer.records import Filters
from indexer.store.base import Backend, SentenceScores
from search_app.core import fusion


@dataclass
class Sentences:
    """Sentence scores read ahead for one query vector: `scores` holds the pids of `asked` that have
    sentences (a pid without any is asked, and left out, as the backend's sentence_scores does)."""

    asked: frozenset[int]
    scores: SentenceScores

    def take(self, pids: list[int], cache: SentenceScores) -> list[int]:
        """Into `cache`, what is known of `pids`; the pids left to ask the backend."""
        cache.update((p, self.scores[p]) for p in pids if p in self.scores)
        return [p for p in pids if p not in self.asked]


@dataclass
class Prefetched:
    """One query's rankings read ahead by `Searcher.prefetch` (None: not read ahead)."""

    keyword: dict[int, float] | None
    vector: np.ndarray | None
    dense: dict[int, float] | None
    sentences: Sentences | None = None  # of `vector`

    def sentences_for(self, qv: np.ndarray | None) -> Sentences | None:
        """The sentence scores read ahead, if `qv` is the vector they were scored with."""
        return self.sentences if qv is not None and qv is self.vector else None


def read_ahead(backend: Backend, embed: Callable[[list[str]], list[np.ndarray]], qs: list[str],
               unaccented: set[str], n: int, head: int, filters: Filters | None,
               method: str) -> dict[str, Prefetched] | None:
    """query → what its search will read (`qs`: clipped, distinct, non-empty; `head`: how much of each
    ranking the search hydrates: its coverage passages and hits). On a local backend, the query vectors,
    embedded together (the model's batch is faster than one by one), and their dense rankings, one call
    over the vector index for the batch (it is read once for all of them, not once a query)."""
    # an unaccented query's dense side waits for its keyword side, which decides what it embeds
    dense_qs = [q for q in qs if method in ("hybrid", "dense") and q not in unaccented]
    vectors = embed(dense_qs) if dense_qs else []
    if not backend.remote:
        found = backend.dense_many(vectors, n, filters) if dense_qs else []
        return {q: Prefetched(None, v, d) for q, v, d in zip(dense_qs, vectors, found, strict=True)} or None
    kw_qs = [q for q in qs if method in ("hybrid", "keyword") or (method == "dense" and q in unaccented)]
    keyword = dict(zip(kw_qs, backend.keyword_many(kw_qs, n, filters), strict=True)) if kw_qs else {}
    dense = dict(zip(dense_qs, backend.dense_many(vectors, n, filters), strict=True)) if dense_qs else {}
    vector = dict(zip(dense_qs, vectors, strict=True))
    # each dense candidate's sentences (the sentence match), and the keyword side's head: a hit that the
    # dense side did not find has its sentences scored for its answer
    sentences: dict[str, Sentences] = {}
    if dense_qs:
        asked = [sorted({*dense[q], *(fusion.top(keyword[q], head) if q in keyword else [])}) for q in dense_qs]
        for q, pids, scores in zip(dense_qs, asked, backend.sentence_scores_many(vectors, asked), strict=True):
            sentences[q] = Sentences(frozenset(pids), scores)
    ahead = {p for side in (*keyword.values(), *dense.values()) for p in fusion.top(side, head)}
    backend.passages(sorted(ahead))
    if int(backend.manifest.get("documents") or 1e9) <= 50_000:  # every document's row, if few
        backend.documents()
    return {q: Prefetched(keyword.get(q), vector.get(q), dense.get(q), sentences.get(q)) for q in qs}

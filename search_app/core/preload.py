"""A small index read whole when a searcher starts: what a search works out the first time it meets a
passage, worked out for every passage before the first question.

The first time a passage comes up, a search reads its row, splits its words and its sentences' words,
marks its questions and headings, and makes its citation; the first time a document does, it works
out the document's validity. Each is kept (the row cache of searcher.py; the caches of
indexer/text/words.py, stages.py, answers.py, answerable.py and citation.py; the validity per day of
relations.py), so a server that has answered many questions pays none of it, but right after a start
or a switch to a newer generation every new passage costs its share: on ALQAC a third of what a
search costs beside its query embedding (docs/benchmarks.md). A local index whose passages all fit
those caches (PRELOAD_PASSAGES) is therefore read whole at start, as a search engine's warmers do. A
larger one is not (what it read would push itself out of the caches), nor one on a remote engine (a
round trip per document at every start). The results are the same either way: every cache holds
what the search would have worked out itself.
"""

from __future__ import annotations

import numpy as np

from indexer.records import PassageRow
from indexer.store.base import Backend
from indexer.text.words import WORDS_CACHE
from search_app.core import answerable, answers, citation, stages
from search_app.core.relations import RelationGraph

# the smallest of the caches it fills (and of the searcher's rows: Searcher._warm passes its ROW_CACHE)
PRELOAD_PASSAGES = min(WORDS_CACHE, answerable.PASSAGE_CACHE, answers.PASSAGE_CACHE, citation.PLACE_CACHE)


def preload(backend: Backend, graph: RelationGraph, limit: int | None = None) -> list[PassageRow]:
    """Every passage row of a local index of at most `limit` (PRELOAD_PASSAGES) passages, each with
    its words, its sentences' words and marks, and its citation worked out and kept (the sentences
    while they fit answers.SENTENCE_CACHE), and every document's validity; [] for any other index."""
    limit = PRELOAD_PASSAGES if limit is None else limit
    if backend.remote or not 0 < int(backend.manifest.get("passages") or 0) <= limit:
        return []
    docs = backend.documents()
    rows = [row for doc in docs for row in backend.doc_passages(doc["doc_id"])]
    sentences = backend.sentences([r["pid"] for r in rows])
    room = answers.SENTENCE_CACHE
    by_id = {d["doc_id"]: d for d in docs}
    for row in rows:
        stages.make_hit(by_id[row["doc_id"]], row, 1, 0.0, graph)  # the validity and the place cited
        stages.folded_words(row["text"])
        answerable.prepare(row["text"])
        spans = sentences.get(row["pid"], (np.zeros((0, 2), dtype=np.int64), None))[0]
        if 0 < len(spans) <= room:
            room -= len(spans)
            answers.prepare(row["text"], spans, row["section"])
    return rows

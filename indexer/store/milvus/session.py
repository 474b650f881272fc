"""One connection to the Milvus server that holds an index, and the low-level calls its reader and its
writers make through it: names, loading, bounded queries and scans, the pointer and the state chunks."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexer.settings import current
from indexer.store.base import StoreConfig
from indexer.store.milvus.common import (
    CONSISTENCY,
    KINDS,
    LITE_GRPC_OPTIONS,
    OPTIONAL_KINDS,
    POINTER_ID,
    QUERY_WINDOW,
    MilvusUnavailable,
    is_unreachable,
)
from indexer.store.milvus.schema import _create, _schema
from indexer.store.milvus.server import ensure_lite_server
from indexer.store.milvus.view import Pointer, _View, visibility

POINTER_READS = 5  # reads of an absent pointer row before it counts as absent (see `pointer`)


class Session:
    """A client of the server holding the index of `index_dir` (its config names the collections' prefix)."""

    def __init__(self, index_dir: Path | str, config: StoreConfig, client: Any, url: str) -> None:
        if not config.prefix:
            raise ValueError("a Milvus index needs a collection prefix")
        self.index_dir = Path(index_dir)
        self.config = config
        self.prefix: str = config.prefix
        self.uri = config.uri
        self.url = url
        self.client = client
        self._loaded: set[str] = set()
        # The local server is flushed after bulk writes (see MilvusWriter._seal); a shared server seals
        # segments itself and rate-limits flush calls, so it is left alone. Decided by the config alone:
        # the Milvus engine does not implement get_server_version, so nothing may depend on it.
        self.is_local = config.uri is None

    @classmethod
    def connect(cls, index_dir: Path | str, config: StoreConfig) -> Session:
        """A session with the index's server: its `uri`, or the local server (started if need be)."""
        return cls.at(config.uri or ensure_lite_server(Path(index_dir)), index_dir, config)

    @classmethod
    def at(cls, url: str, index_dir: Path | str, config: StoreConfig) -> Session:
        """A session with the server at `url`; MilvusUnavailable (a clear message) when none answers there."""
        from pymilvus import MilvusClient

        token = current().milvus_token if config.uri else ""
        # The keepalive settings go to every server: a local server reached by URI (a shared one, as in
        # the tests) may answer pymilvus's default 10 s pings with GOAWAY "too_many_pings" after an idle
        # spell, and a cluster is as well served by a 10-minute keepalive.
        try:
            client = MilvusClient(uri=url, token=token, db_name=config.db_name, grpc_options=LITE_GRPC_OPTIONS)
        except Exception as e:
            if not is_unreachable(e):
                raise
            raise MilvusUnavailable(f"no Milvus server answers at {url}: start it, or check --milvus-uri "
                                    f"in {Path(index_dir)}/backend.json") from None
        return cls(index_dir, config, client, url)

    def reconnect(self) -> None:
        """After a failed call: reach the (restarted) local server again; every collection is loaded again."""
        if self.uri is None:
            url = ensure_lite_server(self.index_dir)
            if url != self.url:
                from pymilvus import MilvusClient

                old, self.client, self.url = self.client, MilvusClient(uri=url, grpc_options=LITE_GRPC_OPTIONS), url
                with contextlib.suppress(Exception):
                    old.close()
        self._loaded.clear()  # a restarted server has every collection released
        if self.client.has_collection(self.state_name):
            self.load(self.state_name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()

    # --- names ----------------------------------------------------------------------------------

    @property
    def state_name(self) -> str:
        return f"{self.prefix}_state"

    def set_names(self, set_id: str) -> dict[str, str]:
        return {k: f"{self.prefix}_{set_id}_{k}" for k in KINDS}

    def ensure_state(self) -> None:
        if not self.client.has_collection(self.state_name):
            s, ip = _schema(self.client, "state", None)
            try:
                _create(self.client, self.state_name, s, ip)
            except Exception:
                if not self.client.has_collection(self.state_name):  # else: another process created it
                    raise
        self.load(self.state_name)

    def load(self, name: str) -> None:
        """A new process (or a restarted server) must load a collection before reading it."""
        if name in self._loaded:
            return
        from pymilvus.client.types import LoadState

        state = self.client.get_load_state(name).get("state")
        if state != LoadState.Loaded:
            self.client.load_collection(name)
        self._loaded.add(name)

    # --- reads ----------------------------------------------------------------------------------

    def query(self, name: str, expr: str, fields: list[str], limit: int = QUERY_WINDOW) -> list[dict[str, Any]]:
        """A query whose result is bounded by construction; falls back to a scan if it hits the window."""
        rows = self.client.query(name, filter=expr, output_fields=fields, limit=limit, consistency_level=CONSISTENCY)
        if len(rows) >= limit:
            return list(self.scan(name, expr, fields))
        return [dict(r) for r in rows]

    def scan(self, name: str, expr: str, fields: list[str], batch: int = 2_000) -> Iterator[dict[str, Any]]:
        """Every row matching `expr` (the query iterator: no 16,384-row window)."""
        it = self.client.query_iterator(name, batch_size=batch, filter=expr, output_fields=fields,
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

    def count(self, name: str, expr: str) -> int:
        rows = self.client.query(name, filter=expr, output_fields=["count(*)"], consistency_level=CONSISTENCY)
        return int(rows[0]["count(*)"]) if rows else 0

    # --- the published state --------------------------------------------------------------------

    def pointer(self) -> Pointer | None:
        # An upsert is a delete and an insert: the engine has been seen (once, in a SIGKILL test's
        # polling) to answer a read between the two with no pointer row at all. Only an index never
        # published has none for good, so an empty answer is asked again a few times first.
        for attempt in range(POINTER_READS):
            rows = self.client.get(self.state_name, ids=[POINTER_ID], output_fields=["data"],
                                   consistency_level=CONSISTENCY)
            if rows:
                return Pointer.from_json(rows[0]["data"])
            if attempt + 1 < POINTER_READS:
                time.sleep(0.02)
        return None

    def state_chunks(self, epoch: int, counts: dict[str, int]) -> dict[str, list[str]] | None:
        """The first counts[kind] chunks of each kind written by `epoch`; None if one is missing."""
        rows = self.query(self.state_name, f'born == {int(epoch)} and kind in ["manifest", "hidden"]',
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

    def read_view(self) -> _View | None:
        """The published version, read consistently: pointer, then its manifest and hidden chunks."""
        for _ in range(10):
            ptr = self.pointer()
            if ptr is None or ptr.epoch == 0 or ptr.set is None:
                return None
            chunks = self.state_chunks(ptr.epoch, {"manifest": ptr.manifest_chunks, "hidden": ptr.hidden_chunks})
            if chunks is None:
                # A publish or a garbage collection ran between the two reads: read again.
                time.sleep(0.05)
                continue
            manifest = json.loads("".join(chunks["manifest"]))
            hidden = json.loads("".join(chunks["hidden"])) if chunks["hidden"] else []
            names = self.set_names(ptr.set)
            for kind, name in list(names.items()):
                if kind in OPTIONAL_KINDS and name not in self._loaded and not self.client.has_collection(name):
                    del names[kind]  # a set of an older format: read as empty (a rebuild adds it)
                    continue
                self.load(name)
            return _View(ptr, manifest, hidden, names, visibility(ptr.epoch, hidden))
        raise RuntimeError(f"could not read a consistent published version of {self.prefix}")

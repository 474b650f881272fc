"""The Milvus writer: claims an epoch, writes rows invisible to readers, publishes with one pointer write."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from indexer.records import DocumentRecords
from indexer.store.base import IndexFormatError, ShardedWriter
from indexer.store.index_types import FLAT_MAX, HNSW_EF_SEARCH
from indexer.store.keyword import BM25_B, BM25_K1
from indexer.store.locks import WriterBusy, writer_lock
from indexer.store.milvus.common import (
    DUMMY,
    FLUSH_EVERY,
    FORMAT_VERSION,
    HIDDEN_GC_NOW,
    HIDDEN_GC_SHARE,
    IN_CHUNK,
    INDEX_TYPES,
    INSERT_BATCH,
    KINDS,
    OPTIONAL_KINDS,
    PATH_CHUNK,
    POINTER_ID,
    SHARD_SHIFT,
    MilvusUnavailable,
    is_unreachable,
    log,
)
from indexer.store.milvus.encode import Encoder, checked_vectors
from indexer.store.milvus.expressions import (
    _chunks,
    lit,
    lit_list,
)
from indexer.store.milvus.schema import _create, _dense_index, _index_params, _schema
from indexer.store.milvus.session import Session
from indexer.store.milvus.view import Pointer

# --- the writer ---------------------------------------------------------------------------------



F = TypeVar("F", bound=Callable[..., Any])


def _unreachable_is_clear(method: F) -> F:
    """A server that dies mid-update gives one clear error, not a gRPC traceback. Nothing is retried:
    rows of the unfinished epoch stay invisible (born > the published epoch) and the next writer
    deletes them (`_recover`), so the published index is intact and the next update completes."""

    @functools.wraps(method)
    def wrapper(self: MilvusWriter, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as e:
            if not is_unreachable(e):
                raise
            self._give_up()
            raise MilvusUnavailable(
                f"the Milvus server at {self.s.url} stopped answering during the update ({method.__name__}); "
                "the update was not published: searches keep the index published before it, and the next "
                "update completes this one") from None

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Shard:
    """An epoch a claiming writer holds, as one more writer joins it (`shard_specs`)."""

    epoch: int
    shard: int
    set_id: str
    dim: int
    vector_index: str


class MilvusWriter(ShardedWriter):
    """Writes one epoch. Nothing it writes is visible before `publish` switches the pointer.

    Without `shard` it claims a new epoch (holding the index's writer lock until it publishes or
    aborts); with one it joins that epoch as one more writer (`ShardWriter`)."""

    @_unreachable_is_clear
    def __init__(self, session: Session, full: bool, shard: Shard | None = None) -> None:
        self.s = session
        self.client = session.client
        self.full = full
        self.done = False
        self._seq = 0
        self._unsealed = 0
        self._shards = 0
        self._buffers: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
        self.hidden: set[str] = set()
        self.added: dict[str, tuple[str, int]] = {}  # doc_id → (path, passages) written by this writer
        self.replaced_passages = self.passages_shown = 0  # counted at publish
        self._lock = None if shard is not None else writer_lock(session.index_dir)
        if shard is not None:
            self.base = Pointer()
            self.epoch, self.shard, self.set_id = shard.epoch, shard.shard, shard.set_id
            self.names = session.set_names(self.set_id)
            self.dim: int | None = shard.dim
            self.vector_index, self._created = shard.vector_index, True
            return
        self.shard = 0
        try:
            session.ensure_state()
            self.base = self._recover()
            self.epoch = max(self.base.epoch, self.base.claimed) + 1
            # Claim the epoch before writing anything: a crash leaves rows born > E that the next
            # writer can tell apart, and no epoch is ever used twice (row ids contain it).
            self._write_pointer(Pointer(**{**self.base.__dict__, "claimed": self.epoch}))
            self.set_id = f"s{self.epoch}" if full else str(self.base.set)
            self.names = session.set_names(self.set_id)
            self.dim = None if full else self.base.dim
            self.vector_index = "flat" if full else self.base.vector_index
            self._created = not full and self.client.has_collection(self.names["passages"])
            if self._created:
                for kind, name in self.names.items():
                    if kind in OPTIONAL_KINDS and not self.client.has_collection(name):
                        # a set of an older format: add the collection it lacks (empty until written)
                        _create(self.client, name, *_schema(self.client, kind, self.dim))
                    session.load(name)
        except BaseException:
            self._release_lock()
            self.done = True  # released: a later _give_up must not release the (re-entrant) lock again
            raise

    # --- locking and recovery -------------------------------------------------------------------

    def _release_lock(self) -> None:
        if self._lock is not None:  # a joined writer holds none: its claiming writer does
            self._lock.release()

    def _give_up(self) -> None:
        """The server is gone: stop, and leave the cleanup to the next writer."""
        if not self.done:
            self.done = True
            with contextlib.suppress(Exception):
                self._release_lock()

    def _write_pointer(self, ptr: Pointer) -> None:
        self.client.upsert(self.s.state_name, [{"rid": POINTER_ID, "born": 0, "path": "", "kind": "pointer",
                                                "chunk_no": 0, "data": ptr.to_json(), "_v": DUMMY}])

    def _set_collections(self) -> dict[str, list[str]]:
        """Collection sets of this prefix on the server: set id → collection names."""
        pattern = re.compile(rf"^{re.escape(self.s.prefix)}_(s\d+)_({'|'.join(KINDS)})$")
        out: dict[str, list[str]] = {}
        for name in self.client.list_collections():
            m = pattern.match(name)
            if m:
                out.setdefault(m.group(1), []).append(name)
        return out

    def _recover(self) -> Pointer:
        """Clean up after a writer that died, and finish the last publish's garbage collection."""
        b = self.s
        ptr = b.pointer() or Pointer()
        # Sets that are not live: a full build that died, or the previous set of a finished one.
        for set_id, names in self._set_collections().items():
            if set_id != ptr.set:
                for name in names:
                    self.client.drop_collection(name)
        existing = set(self.client.list_collections())
        # (a set of an older format lacks the optional kinds)
        live = {k: n for k, n in b.set_names(ptr.set).items() if n in existing} if ptr.set else {}
        if ptr.claimed > ptr.epoch:  # a writer claimed an epoch and never published it
            for name in live.values():
                b.load(name)
                self.client.delete(name, filter=f"born > {ptr.epoch}")
            self.client.delete(b.state_name, filter=f"born > {ptr.epoch}")
        if ptr.hidden_chunks:
            chunks = b.state_chunks(ptr.epoch, {"hidden": ptr.hidden_chunks})
            if chunks is None:
                raise RuntimeError(f"the published list of replaced files of {b.prefix} is incomplete")
            hidden = json.loads("".join(chunks["hidden"]))
            self._collect(live, hidden, ptr.epoch)
            ptr = Pointer(**{**ptr.__dict__, "hidden_chunks": 0})
            self._write_pointer(ptr)
            self.client.delete(b.state_name, filter=f'kind == "hidden" and born <= {ptr.epoch}')
        if ptr.epoch:
            self.client.delete(b.state_name, filter=f'kind in ["manifest", "hidden"] and born < {ptr.epoch}')
            if not ptr.hidden_chunks:  # a collection cut short between clearing the list and deleting it
                self.client.delete(b.state_name, filter=f'kind == "hidden" and born == {ptr.epoch}')
        return ptr

    def _collect(self, names: dict[str, str], hidden: list[str], epoch: int) -> None:
        """Delete the rows of `hidden` files older than `epoch` (invisible to readers of `epoch`)."""
        for s in range(0, len(hidden), PATH_CHUNK):
            expr = f"path in {lit_list(hidden[s : s + PATH_CHUNK])} and born < {int(epoch)}"
            for name in names.values():
                self.s.load(name)
                self.client.delete(name, filter=expr)

    # --- writing --------------------------------------------------------------------------------

    def _rid(self) -> int:
        self._seq += 1
        if self._seq >= 1 << SHARD_SHIFT:
            raise RuntimeError(f"more than {1 << SHARD_SHIFT} rows from one writer in one epoch: use more writers")
        # unique: epochs are never reused, and the writers of one epoch have shards of their own
        return (self.epoch << 32) | (self.shard << SHARD_SHIFT) | self._seq

    def _ensure_collections(self, dim: int) -> None:
        if self.dim is not None and dim != self.dim:
            raise IndexFormatError(f"vectors of dimension {dim} do not fit this index ({self.dim}); "
                                   f"run a full build (python -m indexer build)")
        self.dim = dim
        if self._created:
            return
        for kind, name in self.names.items():
            if not self.client.has_collection(name):
                s, ip = _schema(self.client, kind, dim)
                _create(self.client, name, s, ip)
            self.s.load(name)
        self._created = True

    def _put(self, kind: str, rows: list[dict[str, Any]]) -> None:
        buf = self._buffers[kind]
        buf.extend(rows)
        if len(buf) >= INSERT_BATCH:
            self._flush(kind)

    def _flush(self, kind: str | None = None) -> None:
        for k in [kind] if kind else list(KINDS):
            buf = self._buffers[k]
            for s in range(0, len(buf), INSERT_BATCH):
                self.client.insert(self.names[k], buf[s : s + INSERT_BATCH])
            if k == "passages":
                self._unsealed += len(buf)
            buf.clear()
        if self._unsealed >= FLUSH_EVERY:
            self._seal()

    def _seal(self) -> None:
        """Flush the collections of the local server (ours alone, so no flush rate limit): sealed
        segments get their indexes built, where growing ones are searched by brute force, and readers
        of the live set pay for the rows an update has not sealed yet. A shared server seals by itself.
        Not a visibility step: visibility comes from the pointer alone."""
        if self.s.is_local:
            for name in self.names.values():
                self.client.flush(name)
        self._unsealed = 0

    def _delete_mine(self, expr: str, texts_expr: str | None = None) -> None:
        """Delete rows this writer already wrote (a document added twice, a file added then deleted);
        `texts_expr` for the `texts` collection, which has `owner` where the others have `doc_id`."""
        self._flush()
        if self._created:
            for kind, name in self.names.items():
                e = (texts_expr or expr) if kind == "texts" else expr
                self.client.delete(name, filter=f"born == {self.epoch} and ({e})")

    def _check(self) -> None:
        if self.done:
            raise RuntimeError("this writer was already published or aborted")

    @_unreachable_is_clear
    def delete_file(self, path: str) -> None:
        """Hide the published rows of `path` at publish (they stay visible until then)."""
        self._check()
        if not self.full:
            self.hidden.add(path)
        mine = [doc_id for doc_id, (p, _) in self.added.items() if p == path]
        if mine:
            self._delete_mine(f"path == {lit(path)}")
            for doc_id in mine:
                del self.added[doc_id]

    @_unreachable_is_clear
    def add(self, records: DocumentRecords) -> None:
        """Write one document (rows born at this writer's epoch).

        In an update, the document's file is replaced: older rows of the same path are hidden at
        publish, so a file re-indexed without `delete_file` is not indexed twice.
        """
        self._check()
        rec, d = records, records.doc
        vectors, svecs, dim = checked_vectors(rec, self.dim)  # before anything is written: a bad record leaves no trace
        if dim:
            self._ensure_collections(dim)
        elif not self._created:
            raise ValueError(f"{d.doc_id}: no vectors to tell the index dimension from")
        if not self.full:
            self.hidden.add(d.path)
        if d.doc_id in self.added:
            self._delete_mine(f"doc_id == {lit(d.doc_id)}", f"owner == {lit(d.doc_id)}")
        self.added[d.doc_id] = (d.path, len(rec.passages))
        enc = Encoder(self.epoch, self._rid, d)
        document, texts = enc.document()
        self._put("documents", [document])
        passages, spilled = enc.passages(rec, vectors)
        self._put("texts", texts + spilled)
        self._put("passages", passages)
        self._put("refs", enc.refs(rec))
        self._put("graph", enc.graph(rec))
        self._put("keys", enc.keys(rec))
        if len(svecs):
            self._put("sentences", enc.sentences(rec, svecs))

    def _counts(self, hidden: list[str]) -> tuple[int, int]:
        """Documents and passages visible after publishing, at a cost proportional to the change:
        the published counts, minus the rows of the replaced files, plus what this writer wrote.
        (Counting the whole collection costs 0.7 s per 4,000 rows on Milvus Lite.)"""
        docs = len(self.added)
        passages = sum(n for _, n in self.added.values())
        if self.full or not self.base.epoch:
            return docs, passages
        chunks = self.s.state_chunks(self.base.epoch, {"manifest": self.base.manifest_chunks})
        if chunks is None:
            raise RuntimeError(f"the published manifest of {self.s.prefix} is incomplete")
        old = json.loads("".join(chunks["manifest"]))
        docs += int(old.get("documents", 0))
        passages += int(old.get("passages", 0))
        for s in range(0, len(hidden), IN_CHUNK):
            expr = f"path in {lit_list(hidden[s : s + IN_CHUNK])} and born <= {self.base.epoch}"
            docs -= self.s.count(self.names["documents"], expr)
            replaced = self.s.count(self.names["passages"], expr)
            passages -= replaced
            self.replaced_passages += replaced
        return docs, passages

    def _choose_index(self, passages: int, wanted: str) -> None:
        """A full build picks the dense index once it knows its size (FLAT exact, HNSW beyond)."""
        if wanted not in INDEX_TYPES:
            raise IndexFormatError(f"a Milvus index cannot be built with a {wanted!r} vector index; choose one of "
                                   f"{', '.join(INDEX_TYPES)}")
        kind = "flat" if wanted == "flat" or (wanted == "auto" and passages <= FLAT_MAX) else "hnsw"
        if kind == "hnsw" and self.s.is_local:
            # The local engine (milvus-lite 2.5.1) builds FLAT, IVF_FLAT and AUTOINDEX only ("invalid
            # index type: HNSW, local mode only support ..."): it keeps the exact index, HNSW is for
            # standalone servers and clusters.
            if wanted == "hnsw":
                log.warning("the local Milvus engine cannot build HNSW: the dense index stays FLAT (exact)")
            kind = "flat"
        if kind == self.vector_index:
            return
        name = self.names["passages"]
        index_type, params = _dense_index(kind)
        # Nobody reads this new set yet: release, swap the index, load again.
        self.client.release_collection(name)
        self.client.drop_index(name, "dense")
        ip = self.client.prepare_index_params()
        ip.add_index("dense", index_type=index_type, metric_type="IP", params=_index_params(params))
        self.client.create_index(name, ip)  # waits: the index is built over the whole set here
        self.client.load_collection(name)
        self.vector_index = kind

    @_unreachable_is_clear
    def publish(self, manifest: dict[str, Any]) -> None:
        """Make the epoch visible: one upsert of the pointer row. Idempotent."""
        if self.done:
            return
        try:
            ptr, hidden = self._publish(manifest)
        except BaseException:
            current = None
            with contextlib.suppress(Exception):
                current = self.s.pointer()
            if current is None or current.epoch != self.epoch:
                with contextlib.suppress(Exception):  # the published version stays; what we wrote goes
                    self.abort()
                raise
            # The switch reached the server though its answer did not come back: published.
            self.done = True
            ptr, hidden = current, sorted(self.hidden)
        try:
            self._after_publish(ptr, hidden)
        except Exception:  # noqa: BLE001 - the index is published; the next writer finishes the cleanup
            log.warning("garbage collection after publishing %s failed; the next update finishes it",
                        ptr.generation, exc_info=True)
        finally:
            self._release_lock()

    def _publish(self, manifest: dict[str, Any]) -> tuple[Pointer, list[str]]:
        self._flush()
        dim = self.dim or int(manifest.get("dimension") or 0) or 1
        self._ensure_collections(dim)
        hidden = sorted(self.hidden)
        self.replaced_passages = 0  # _counts adds them up
        n_docs, n_passages = self._counts(hidden)
        self.passages_shown = n_passages
        self._seal()
        if self.full:
            self._choose_index(n_passages, str(manifest.get("index_type", "auto")).lower())
        generation = f"e{self.epoch}-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        index_type, params = _dense_index(self.vector_index)
        full_manifest = {
            **manifest, "backend": "milvus", "uri": self.s.uri, "server": self.s.url, "prefix": self.s.prefix,
            "collections": self.names, "epoch": self.epoch, "generation": generation,
            "format_version": FORMAT_VERSION, "documents": n_docs, "passages": n_passages, "dimension": dim,
            "vector_index": {"type": self.vector_index, "milvus_index": index_type, "metric": "IP", **params,
                             **({"ef": HNSW_EF_SEARCH} if self.vector_index == "hnsw" else {})},
            "keyword_index": {"engine": "milvus BM25 function", "k1": BM25_K1, "b": BM25_B,
                              "fields": ["kw_exact", "kw_folded"]},
        }
        state_rows = []
        for kind, value in (("manifest", json.dumps(full_manifest, ensure_ascii=False)),
                            ("hidden", json.dumps(hidden, ensure_ascii=False) if hidden else None)):
            if value is None:
                continue
            state_rows += [{"rid": self._rid(), "born": self.epoch, "path": "", "kind": kind, "chunk_no": i,
                            "data": c, "_v": DUMMY} for i, c in enumerate(_chunks(value))]
        for s in range(0, len(state_rows), INSERT_BATCH):
            self.client.insert(self.s.state_name, state_rows[s : s + INSERT_BATCH])
        current = self.s.pointer()
        if current is None or current.claimed != self.epoch or current.epoch != self.base.epoch:
            raise WriterBusy(f"another writer changed {self.s.prefix} while this one ran; not publishing")
        ptr = Pointer(epoch=self.epoch, set=self.set_id, claimed=self.epoch, generation=generation,
                      manifest_chunks=sum(1 for r in state_rows if r["kind"] == "manifest"),
                      hidden_chunks=sum(1 for r in state_rows if r["kind"] == "hidden"), dim=dim,
                      vector_index=self.vector_index)
        self._write_pointer(ptr)  # ← the switch
        self.done = True
        return ptr, hidden

    def _replaced_share(self) -> float:
        """The replaced passages' share of the passages shown and replaced."""
        return self.replaced_passages / max(1, self.passages_shown + self.replaced_passages)

    def _after_publish(self, ptr: Pointer, hidden: list[str]) -> None:
        self.client.delete(self.s.state_name, filter=f'kind in ["manifest", "hidden"] and born < {self.epoch}')
        if self.full:
            # The previous set: readers still on it get an error, refresh and retry on the new one.
            for set_id, names in self._set_collections().items():
                if set_id != self.set_id:
                    for name in names:
                        self.client.drop_collection(name)
        elif len(hidden) > HIDDEN_GC_NOW or self._replaced_share() > HIDDEN_GC_SHARE:
            # Many replaced files: collect now and clear the list, so that readers' filters stay short.
            # Many replaced rows: the same, so that BM25's statistics are those of the rows shown.
            self._collect(self.names, hidden, self.epoch)
            self._write_pointer(Pointer(**{**ptr.__dict__, "hidden_chunks": 0}))
            self.client.delete(self.s.state_name, filter=f'kind == "hidden" and born <= {self.epoch}')
        # Otherwise the old rows stay (invisible) until the next writer starts: a reader one
        # publish behind still sees its version whole.

    # --- several writers in one epoch (bulk builds) --------------------------------------------

    def sharded(self) -> MilvusWriter | None:
        return self

    def shard_specs(self, count: int, dim: int) -> list[dict[str, Any]]:
        """What `count` more writers of this epoch need (picklable: for other processes or Ray workers).
        They write rows born at this epoch, invisible like this writer's own, and hand back what they
        wrote (`ShardWriter.close`) to `absorb`; this writer alone publishes, once, for all of them."""
        self._check()
        if count < 1 or count >= 1 << (32 - SHARD_SHIFT):
            raise ValueError(f"1 to {(1 << (32 - SHARD_SHIFT)) - 1} writers, not {count}")
        self._ensure_collections(dim)  # created once, here: the shards only insert
        specs = []
        for _ in range(count):
            self._shards += 1
            specs.append({"index_dir": str(self.s.index_dir), "config": self.s.config.to_json(), "url": self.s.url,
                          "epoch": self.epoch, "shard": self._shards, "full": self.full, "set": self.set_id,
                          "dim": dim, "vector_index": self.vector_index})
        return specs

    def absorb(self, written: dict[str, Any]) -> None:
        """Count what a shard writer wrote (its `close()`), for the manifest and the replaced files."""
        self._check()
        clash = set(written["added"]) & set(self.added)
        if clash:
            raise ValueError(f"document ids written by two writers: {sorted(clash)[:5]}")
        self.added.update({k: (p, int(n)) for k, (p, n) in written["added"].items()})
        self.hidden.update(written["hidden"])

    def abort(self) -> None:
        """Drop what this writer wrote; the published version stays as it was."""
        if self.done:
            return
        self.done = True
        try:
            for k in KINDS:
                self._buffers[k].clear()
            if self.full:
                for name in self.names.values():
                    if self.client.has_collection(name):
                        self.client.drop_collection(name)
            elif self._created:
                for name in self.names.values():
                    self.client.delete(name, filter=f"born == {self.epoch}")
            self.client.delete(self.s.state_name, filter=f"born == {self.epoch}")
        finally:
            self._release_lock()


"""The Milvus writer: claims an epoch, writes rows invisible to readers, publishes with one pointer write."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from indexer.records import DocumentRecords, doc_year
from indexer.store.base import IndexFormatError
from indexer.store.keyword import BM25_B, BM25_K1, exact_tokens, folded_tokens
from indexer.store.locks import WriterBusy, writer_lock
from indexer.store.milvus.common import (
    DUMMY,
    FILTER_MAX,
    FLUSH_EVERY,
    FORMAT_VERSION,
    HIDDEN_GC_NOW,
    HIDDEN_GC_SHARE,
    IN_CHUNK,
    INSERT_BATCH,
    KINDS,
    MAX_VARCHAR,
    NO_PAGE,
    NO_TEXT,
    NO_YEAR,
    OPTIONAL_KINDS,
    PATH_CHUNK,
    POINTER_ID,
    SHARD_SHIFT,
    MilvusUnavailable,
    is_unreachable,
    log,
)
from indexer.store.milvus.expressions import (
    _chunks,
    _clip,
    _nbytes,
    keyword_field,
    lit,
    lit_list,
)
from indexer.store.milvus.schema import _create, _dense_index, _index_params, _schema
from indexer.store.milvus.view import Pointer
from indexer.store.vectors import FLAT_MAX, HNSW_EF_SEARCH
from indexer.text.document_graph import document_graph

# --- the writer ---------------------------------------------------------------------------------


def _or(value: Any, sentinel: Any) -> Any:
    return sentinel if value is None else value


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
                f"the Milvus server at {self.b.url} stopped answering during the update ({method.__name__}); "
                "the update was not published: searches keep the index published before it, and the next "
                "update completes this one") from None

    return wrapper  # type: ignore[return-value]


if TYPE_CHECKING:  # the reader creates writers (`begin`); a writer only holds one
    from indexer.store.milvus.reader import MilvusBackend


class MilvusWriter:
    """Writes one epoch. Nothing it writes is visible before `publish` switches the pointer."""

    @_unreachable_is_clear
    def __init__(self, backend: MilvusBackend, full: bool) -> None:
        self.b = backend
        self.client = backend._client
        self.full = full
        self.done = False
        self._lock = writer_lock(backend.index_dir)
        try:
            backend._ensure_state()
            self.base = self._recover()
            self.epoch = max(self.base.epoch, self.base.claimed) + 1
            # Claim the epoch before writing anything: a crash leaves rows born > E that the next
            # writer can tell apart, and no epoch is ever used twice (row ids contain it).
            self._write_pointer(Pointer(**{**self.base.__dict__, "claimed": self.epoch}))
            self.set_id = f"s{self.epoch}" if full else str(self.base.set)
            self.names = backend.set_names(self.set_id)
            self.dim: int | None = None if full else self.base.dim
            self.vector_index = "flat" if full else self.base.vector_index
            self._created = not full and self.client.has_collection(self.names["passages"])
            if self._created:
                for kind, name in self.names.items():
                    if kind in OPTIONAL_KINDS and not self.client.has_collection(name):
                        # a set of an older format: add the collection it lacks (empty until written)
                        _create(self.client, name, *_schema(self.client, kind, self.dim))
                    backend._load(name)
            self._seq = 0
            self._unsealed = 0
            self._buffers: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            self.hidden: set[str] = set()
            self.added: dict[str, tuple[str, int]] = {}  # doc_id → (path, passages) written by this writer
            self.replaced_passages = self.passages_shown = 0  # counted at publish
        except BaseException:
            self._release_lock()
            self.done = True  # released: a later _give_up must not release the (re-entrant) lock again
            raise
        self.shard = 0

    # --- locking and recovery -------------------------------------------------------------------

    def _release_lock(self) -> None:
        self._lock.release()

    def _give_up(self) -> None:
        """The server is gone: stop, and leave the cleanup to the next writer."""
        if not getattr(self, "done", False):
            self.done = True
            with contextlib.suppress(Exception):
                self._release_lock()

    def _write_pointer(self, ptr: Pointer) -> None:
        self.client.upsert(self.b.state_name, [{"rid": POINTER_ID, "born": 0, "path": "", "kind": "pointer",
                                                "chunk_no": 0, "data": ptr.to_json(), "_v": DUMMY}])

    def _set_collections(self) -> dict[str, list[str]]:
        """Collection sets of this prefix on the server: set id → collection names."""
        pattern = re.compile(rf"^{re.escape(self.b.prefix)}_(s\d+)_({'|'.join(KINDS)})$")
        out: dict[str, list[str]] = {}
        for name in self.client.list_collections():
            m = pattern.match(name)
            if m:
                out.setdefault(m.group(1), []).append(name)
        return out

    def _recover(self) -> Pointer:
        """Clean up after a writer that died, and finish the last publish's garbage collection."""
        b = self.b
        ptr = b._pointer() or Pointer()
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
                b._load(name)
                self.client.delete(name, filter=f"born > {ptr.epoch}")
            self.client.delete(b.state_name, filter=f"born > {ptr.epoch}")
        if ptr.hidden_chunks:
            chunks = b._state_chunks(ptr.epoch, {"hidden": ptr.hidden_chunks})
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
                self.b._load(name)
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
            self.b._load(name)
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
        if self.b.is_local:
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
        rec = records
        d = rec.doc
        vectors = np.asarray(rec.vectors, dtype=np.float32)
        if len(rec.passages) and vectors.shape != (len(rec.passages), vectors.shape[-1]):
            raise ValueError(f"{d.doc_id}: {len(rec.passages)} passages but vectors of shape {vectors.shape}")
        dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else (self.dim or 0)
        n_sent = sum(len(spans) for spans in rec.sentences)
        svecs = np.zeros((0, dim), dtype=np.float32)
        if rec.sentences:  # checked before anything is written: a bad record leaves no trace
            if len(rec.sentences) != len(rec.passages):
                raise ValueError(f"{d.doc_id}: {len(rec.passages)} passages but {len(rec.sentences)} sentence lists")
            if n_sent:
                svecs = np.asarray(rec.sentence_vectors if rec.sentence_vectors is not None else svecs,
                                   dtype=np.float32)
            if len(rec.sentence_hashes) != n_sent or svecs.shape != (n_sent, dim):
                raise ValueError(f"{d.doc_id}: {n_sent} sentences but {len(rec.sentence_hashes)} sentence hashes "
                                 f"and sentence vectors of shape {svecs.shape} (dimension {dim})")
        if dim:
            self._ensure_collections(dim)
        elif not self._created:
            raise ValueError(f"{d.doc_id}: no vectors to tell the index dimension from")
        if not self.full:
            self.hidden.add(d.path)
        if d.doc_id in self.added:
            self._delete_mine(f"doc_id == {lit(d.doc_id)}", f"owner == {lit(d.doc_id)}")
        self.added[d.doc_id] = (d.path, len(rec.passages))
        born, path, year = self.epoch, d.path, _or(doc_year(d.date), NO_YEAR)
        doc_type, issuer = _or(_clip(d.doc_type, FILTER_MAX), NO_TEXT), _or(_clip(d.issuer, FILTER_MAX), NO_TEXT)

        def text_rows(owner: str, kind: str, value: str) -> list[dict[str, Any]]:
            return [{"rid": self._rid(), "born": born, "path": path, "owner": owner, "kind": kind, "chunk_no": i,
                     "data": c, "_v": DUMMY} for i, c in enumerate(_chunks(value))]

        meta = json.dumps({"title": d.title, "doc_number": d.doc_number, "doc_type": d.doc_type, "issuer": d.issuer,
                           "date": d.date, "source": d.source, "file_hash": d.file_hash, "extra": d.extra,
                           "pages": [[p.start, p.end, p.page] for p in d.pages]}, ensure_ascii=False)
        meta_spill = _nbytes(meta) > MAX_VARCHAR
        texts = text_rows(d.doc_id, "text", d.text)
        if meta_spill:
            texts += text_rows(d.doc_id, "meta", meta)
        self._put("documents", [{"rid": self._rid(), "born": born, "path": path, "doc_id": d.doc_id,
                                 "doc_type": doc_type, "issuer": issuer, "year": year,
                                 "meta": "" if meta_spill else meta, "meta_spill": meta_spill,
                                 "text_chunks": len(_chunks(d.text)), "_v": DUMMY}])
        rows = []
        for i, (pid, p) in enumerate(zip(rec.pids, rec.passages, strict=True)):
            et = rec.embed_texts[i]
            whole = not et.endswith(p.text)
            head = et if whole else et[: len(et) - len(p.text)]
            section = json.dumps(p.section, ensure_ascii=False)
            spill = max(_nbytes(p.text), _nbytes(section), _nbytes(head)) > MAX_VARCHAR
            if spill:  # a passage too long for one VARCHAR: its body goes to `texts`
                texts += text_rows(d.doc_id, f"passage:{pid}", json.dumps(
                    {"text": p.text, "section": section, "head": head}, ensure_ascii=False))
            rows.append({
                "rid": self._rid(), "born": born, "path": path, "pid": int(pid), "doc_id": d.doc_id,
                "ordinal": int(p.ordinal), "start": int(p.start), "end": int(p.end),
                "section": "[]" if spill else section, "page": NO_PAGE if p.page is None else int(p.page),
                "text": "" if spill else p.text, "head": "" if spill else head, "head_whole": whole, "spill": spill,
                "embed_hash": rec.embed_hashes[i], "doc_type": doc_type, "issuer": issuer, "year": year,
                "dense": vectors[i].tolist(),
                "kw_exact": keyword_field(exact_tokens(et)), "kw_folded": keyword_field(folded_tokens(et)),
            })
        self._put("texts", texts)
        self._put("passages", rows)
        self._put("refs", [{"rid": self._rid(), "born": born, "path": path, "pid": int(pid), "doc_id": d.doc_id,
                            "key": _clip(r.key), "label": _clip(r.label), "kind": r.kind, "start": int(r.start),
                            "end": int(r.end), "_v": DUMMY}
                           for pid, refs in zip(rec.pids, rec.refs, strict=True) for r in refs])
        graph = json.dumps(document_graph(rec), ensure_ascii=False)
        self._put("graph", [{"rid": self._rid(), "born": born, "path": path, "doc_id": d.doc_id, "chunk_no": i,
                             "data": c, "_v": DUMMY} for i, c in enumerate(_chunks(graph))])
        self._put("keys", [{"rid": self._rid(), "born": born, "path": path, "doc_id": d.doc_id, "key": _clip(k),
                            "label": _clip(label), "_v": DUMMY} for k, label in rec.keys])
        if n_sent:
            svec_list = svecs.tolist()
            flat = ((pid, k, span) for pid, spans in zip(rec.pids, rec.sentences, strict=True)
                    for k, span in enumerate(spans))
            self._put("sentences", [{"rid": self._rid(), "born": born, "path": path, "pid": int(pid),
                                     "doc_id": d.doc_id, "k": k, "start": int(start), "end": int(end),
                                     "embed_hash": rec.sentence_hashes[j], "dense": svec_list[j]}
                                    for j, (pid, k, (start, end)) in enumerate(flat)])

    def _counts(self, hidden: list[str]) -> tuple[int, int]:
        """Documents and passages visible after publishing, at a cost proportional to the change:
        the published counts, minus the rows of the replaced files, plus what this writer wrote.
        (Counting the whole collection costs 0.7 s per 4,000 rows on Milvus Lite.)"""
        docs = len(self.added)
        passages = sum(n for _, n in self.added.values())
        if self.full or not self.base.epoch:
            return docs, passages
        chunks = self.b._state_chunks(self.base.epoch, {"manifest": self.base.manifest_chunks})
        if chunks is None:
            raise RuntimeError(f"the published manifest of {self.b.prefix} is incomplete")
        old = json.loads("".join(chunks["manifest"]))
        docs += int(old.get("documents", 0))
        passages += int(old.get("passages", 0))
        for s in range(0, len(hidden), IN_CHUNK):
            expr = f"path in {lit_list(hidden[s : s + IN_CHUNK])} and born <= {self.base.epoch}"
            docs -= self.b._count(self.names["documents"], expr)
            replaced = self.b._count(self.names["passages"], expr)
            passages -= replaced
            self.replaced_passages += replaced
        return docs, passages

    def _choose_index(self, passages: int, wanted: str) -> None:
        """A full build picks the dense index once it knows its size (FLAT exact, HNSW beyond)."""
        kind = "flat" if wanted == "flat" or (wanted == "auto" and passages <= FLAT_MAX) else "hnsw"
        if kind == "hnsw" and self.b.is_local:
            # The local engine (milvus-lite 2.5.1) builds FLAT, IVF_FLAT and AUTOINDEX only ("invalid
            # index type: HNSW, local mode only support ..."): it keeps the exact index, HNSW is for
            # standalone servers and clusters. Found by the scale simulation past FLAT_MAX passages.
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
                current = self.b._pointer()
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
            **manifest, "backend": "milvus", "uri": self.b.uri, "server": self.b.url, "prefix": self.b.prefix,
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
            self.client.insert(self.b.state_name, state_rows[s : s + INSERT_BATCH])
        current = self.b._pointer()
        if current is None or current.claimed != self.epoch or current.epoch != self.base.epoch:
            raise WriterBusy(f"another writer changed {self.b.prefix} while this one ran; not publishing")
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
        self.client.delete(self.b.state_name, filter=f'kind in ["manifest", "hidden"] and born < {self.epoch}')
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
            self.client.delete(self.b.state_name, filter=f'kind == "hidden" and born <= {self.epoch}')
        # Otherwise the old rows stay (invisible) until the next writer starts: a reader one
        # publish behind still sees its version whole.

    # --- several writers in one epoch (bulk builds) --------------------------------------------

    def shard_specs(self, count: int, dim: int) -> list[dict[str, Any]]:
        """What `count` more writers of this epoch need (picklable: for other processes or Ray workers).
        They write rows born at this epoch, invisible like this writer's own, and hand back what they
        wrote (`ShardWriter.close`) to `absorb`; this writer alone publishes, once, for all of them."""
        self._check()
        if count < 1 or count >= 1 << (32 - SHARD_SHIFT):
            raise ValueError(f"1 to {(1 << (32 - SHARD_SHIFT)) - 1} writers, not {count}")
        self._ensure_collections(dim)  # created once, here: the shards only insert
        self._shards = getattr(self, "_shards", 0)
        specs = []
        for _ in range(count):
            self._shards += 1
            specs.append({"index_dir": str(self.b.index_dir), "config": dict(self.b.config), "url": self.b.url,
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
            self.client.delete(self.b.state_name, filter=f"born == {self.epoch}")
        finally:
            self._release_lock()


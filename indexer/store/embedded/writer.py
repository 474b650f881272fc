"""The embedded writer: builds a new generation in a temporary folder and publishes it atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.records import DocumentRecords, doc_year
from indexer.store import vectors as vector_index
from indexer.store.base import Writer
from indexer.store.embedded.delta import DeltaKeyword
from indexer.store.embedded.generation import (
    CURRENT,
    DB,
    FORMAT_VERSION,
    SCHEMA,
    WORDS,
    Generation,
    Segment,
    fsync_dir,
    keyword_text,
    prune,
)
from indexer.store.keyword import KeywordIndex
from indexer.store.locks import writer_lock
from indexer.store.space import DiskFull, is_disk_full, require_free
from indexer.text import words
from indexer.text.document_graph import document_graph


def _format2_vectors(g: Segment, wanted: set[str]) -> dict[str, np.ndarray]:
    """The embedding cache of a format-2 index: row i of its FAISS file is passage pid i."""
    try:
        index = faiss.read_index(str(g.path / "vectors.faiss"))
        rows = g.query("SELECT pid, embed_hash FROM passages ORDER BY pid")
        mat = index.reconstruct_n(0, index.ntotal)
    except Exception:  # noqa: BLE001 - a damaged old index only costs a full re-embed
        return {}
    return {r["embed_hash"]: mat[r["pid"]] for r in rows if r["embed_hash"] in wanted and r["pid"] < len(mat)}


MERGE_FRACTION = 0.1  # a delta with more passages or hidden documents than this share of its base is merged
TABLES = ("documents", "passages", "refs", "doc_keys", "graph", "sentences")


def _outgrown(live: Generation) -> bool:
    base, delta = live.segments[0], live.segments[-1]
    return (int(delta.manifest.get("delta_passages", 0)) > MERGE_FRACTION * max(1, int(base.manifest["passages"]))
            or len(live.hidden) > MERGE_FRACTION * max(1, len(base.docs)))


def _copied_bytes(live: Generation | None) -> int:
    """What a writer on `live` copies before it starts: nothing, the delta's database, or (a merge)
    the base's and the delta's."""
    if live is None or live.base is None:
        return 0
    delta = (live.segments[-1].path / DB).stat().st_size
    return delta + (live.segments[0].path / DB).stat().st_size if _outgrown(live) else delta


def _hidden_counts(base: Segment, hidden: list[str]) -> tuple[int, int, int]:
    """Documents, passages and sentences of the base that `hidden` leaves out."""
    docs = passages = sentences = 0
    for s in range(0, len(hidden), 500):
        chunk = [d for d in hidden[s : s + 500] if d in base.docs]
        if not chunk:
            continue
        marks = ",".join("?" * len(chunk))
        docs += len(chunk)
        passages += base.query(f"SELECT COUNT(*) FROM passages WHERE doc_id IN ({marks})", tuple(chunk))[0][0]
        sentences += base.query(f"SELECT COUNT(*) FROM sentences WHERE pid IN "
                                f"(SELECT pid FROM passages WHERE doc_id IN ({marks}))", tuple(chunk))[0][0]
    return docs, passages, sentences


def _merge(db: sqlite3.Connection, delta_db: Path, hidden: list[str]) -> None:
    """Into `db` (a copy of the base's database): the hidden documents out, the delta's rows in."""
    for s in range(0, len(hidden), 500):
        chunk = tuple(hidden[s : s + 500])
        marks = ",".join("?" * len(chunk))
        db.execute(f"DELETE FROM sentences WHERE pid IN (SELECT pid FROM passages WHERE doc_id IN ({marks}))", chunk)
        for table in ("passages", "refs", "doc_keys", "graph", "documents"):
            db.execute(f"DELETE FROM {table} WHERE doc_id IN ({marks})", chunk)  # noqa: S608 - fixed names
    db.execute("ATTACH DATABASE ? AS delta", (str(delta_db),))  # only read
    for table in TABLES:
        db.execute(f"INSERT INTO main.{table} SELECT * FROM delta.{table}")  # noqa: S608 - fixed names
    db.execute("INSERT OR REPLACE INTO main.embeddings SELECT * FROM delta.embeddings")
    db.commit()
    db.execute("DETACH DATABASE delta")


class EmbeddedWriter(Writer):
    """Writes a new generation in a temporary folder; `publish` derives FAISS and BM25 and switches.

    A full build (`live` None) writes a base generation. An update writes a delta on the live
    generation's base (see `generation.Generation`): a small database of the documents changed since
    that base, carried over from the live delta, and the base's documents it hides; the base is not
    copied and its FAISS and BM25 are not rebuilt. Once the delta outgrows MERGE_FRACTION of its
    base, the update merges it: a new base, as a full build but without reading any file again.
    """

    def __init__(self, index_dir: Path, live: Generation | None) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._lock = writer_lock(self.index_dir)
        # Holding the writer lock, no other writer is alive: what a killed one left is garbage.
        for leftover in self.index_dir.glob(".tmp-gen-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        try:  # an update copies the live database, then grows it: room for two copies before starting
            require_free(self.index_dir, 2 * _copied_bytes(live),
                         "a new index generation")
        except BaseException:
            self._lock.release()
            raise
        self.name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.tmp = self.index_dir / f".tmp-{self.name}"
        self.tmp.mkdir()
        self.base: Segment | None = None  # the base a delta is written on (None: writing a base)
        self.hidden: set[str] = set()
        try:
            self._start(live)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._lock.release()
            raise
        self.db.execute("PRAGMA synchronous=OFF")  # durability comes from the fsync + rename at publish
        self.dimension: int | None = None
        self.done = False

    def _start(self, live: Generation | None) -> None:
        live_delta = live is not None and live.base is not None
        if live is not None and (not live_delta or not _outgrown(live)):
            self.base = live.segments[0]
            self.hidden = set(live.hidden)
            if live_delta:  # the changes since the base so far: small by construction
                shutil.copyfile(live.segments[-1].path / DB, self.tmp / DB)
                self.db = sqlite3.connect(self.tmp / DB)
                return
        elif live is not None:  # a delta grown too big: merged into a new base
            shutil.copyfile(live.segments[0].path / DB, self.tmp / DB)
            self.db = sqlite3.connect(self.tmp / DB)
            self.db.execute("PRAGMA synchronous=OFF")
            _merge(self.db, live.segments[-1].path / DB, sorted(live.hidden))
            return
        self.db = sqlite3.connect(self.tmp / DB)
        self.db.executescript(SCHEMA)

    def sharded(self) -> None:
        return None  # one process writes the folder: writers elsewhere would only queue on its lock

    def delete_file(self, path: str) -> None:
        if self.base is not None:  # hidden in the base from this generation on
            self.hidden |= {d for d, doc in self.base.docs.items() if doc.get("path") == path}
        doc_ids = [r[0] for r in self.db.execute("SELECT doc_id FROM documents WHERE path=?", (path,))]
        for doc_id in doc_ids:
            self.db.execute("DELETE FROM sentences WHERE pid IN (SELECT pid FROM passages WHERE doc_id=?)", (doc_id,))
            for table in ("passages", "refs", "doc_keys", "graph", "documents"):
                self.db.execute(f"DELETE FROM {table} WHERE doc_id=?", (doc_id,))  # noqa: S608 - fixed names

    def add(self, rec: DocumentRecords) -> None:
        d = rec.doc
        self.db.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (d.doc_id, d.title, d.doc_number, d.doc_type, d.issuer, d.date, doc_year(d.date), d.source, d.file_hash,
             json.dumps(d.extra, ensure_ascii=False), json.dumps([[p.start, p.end, p.page] for p in d.pages]),
             d.text, d.path))
        heads = [t[: len(t) - len(p.text)].rstrip("\n") for t, p in zip(rec.embed_texts, rec.passages, strict=True)]
        self.db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(pid, p.doc_id, p.ordinal, p.start, p.end, json.dumps(p.section, ensure_ascii=False), p.page, p.text,
              head, h)
             for pid, p, head, h in zip(rec.pids, rec.passages, heads, rec.embed_hashes, strict=True)])
        vectors = np.asarray(rec.vectors, dtype=np.float32)
        if len(vectors):
            self.dimension = vectors.shape[1]
        self.db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?)",
                            [(h, v.tobytes()) for h, v in zip(rec.embed_hashes, vectors, strict=True)])
        if rec.sentences:
            svecs = np.asarray(rec.sentence_vectors, dtype=np.float32)
            rows, j = [], 0
            for pid, spans in zip(rec.pids, rec.sentences, strict=True):
                for k, (a, b) in enumerate(spans):
                    rows.append((pid, k, a, b, rec.sentence_hashes[j]))
                    j += 1
            if len(svecs) != j:
                raise ValueError(f"{d.doc_id}: {j} sentences but {len(svecs)} sentence vectors")
            self.db.executemany("INSERT INTO sentences VALUES (?,?,?,?,?)", rows)
            self.db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?)",
                                [(h, v.tobytes()) for h, v in zip(rec.sentence_hashes, svecs, strict=True)])
        self.db.executemany("INSERT INTO doc_keys VALUES (?,?,?)", [(d.doc_id, k, label) for k, label in rec.keys])
        self.db.execute("INSERT INTO graph VALUES (?,?)",
                        (d.doc_id, json.dumps(document_graph(rec), ensure_ascii=False)))
        self.db.executemany(
            "INSERT INTO refs VALUES (?,?,?,?,?,?,?)",
            [(pid, d.doc_id, r.key, r.label, r.kind, r.start, r.end)
             for pid, refs in zip(rec.pids, rec.refs, strict=True) for r in refs])

    def publish(self, manifest: dict[str, Any]) -> None:
        if self.done:
            return
        try:
            # FAISS, BM25 and the sentence vectors together take about as much as the database
            require_free(self.index_dir, (self.tmp / DB).stat().st_size, "publishing the new generation")
            self._derive_and_write(manifest, manifest.get("index_type", "auto"))
            os.rename(self.tmp, self.index_dir / self.name)
        except BaseException as e:
            self.abort()
            if is_disk_full(e) and not isinstance(e, DiskFull):
                raise DiskFull(f"the disk of {self.index_dir} filled up while writing the new generation "
                               f"({e}); it was removed and the published index is unchanged") from e
            raise
        self.done = True
        pointer_tmp = self.index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
        pointer_tmp.write_text(self.name, encoding="utf-8")
        with open(pointer_tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(pointer_tmp, self.index_dir / CURRENT)
        fsync_dir(self.index_dir)
        prune(self.index_dir, keep=self.name)
        self._lock.release()

    def _derive_and_write(self, manifest: dict[str, Any], index_type: str) -> None:
        db = self.db
        db.execute("DELETE FROM embeddings WHERE embed_hash NOT IN (SELECT embed_hash FROM passages) "
                   "AND embed_hash NOT IN (SELECT embed_hash FROM sentences)")
        db.commit()
        dim = int(manifest.get("dimension") or self.dimension or 1)
        # Vector rows in document order: neighbouring rows are neighbouring passages.
        rows = db.execute("SELECT p.pid, e.vector, p.head, p.text FROM passages p "
                          "JOIN embeddings e USING(embed_hash) ORDER BY p.doc_id, p.ordinal")
        pids: list[int] = []
        mats: list[np.ndarray] = []
        texts: list[str] = []
        lines: list[str] = []
        for pid, blob, head, text in rows:
            pids.append(pid)
            mats.append(np.frombuffer(blob, dtype=np.float32))
            texts.append(keyword_text(head, text))
            lines.append(words.line(text))
        n_passages = db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        if len(pids) != n_passages:  # cannot happen unless a writer lost vectors: never publish that
            raise RuntimeError(f"{n_passages - len(pids)} passages have no stored vector; run a full build")
        vectors = np.stack(mats) if mats else np.zeros((0, dim), dtype=np.float32)
        del mats
        index, params = vector_index.build(vectors, "flat" if self.base is not None else index_type)
        faiss.write_index(index, str(self.tmp / "vectors.faiss"))
        np.save(self.tmp / "pids.npy", np.asarray(pids, dtype=np.int64))
        (self.tmp / WORDS).write_text("\n".join(lines), encoding="utf-8")  # a line a vector row
        if self.base is not None:
            DeltaKeyword.index(texts).save(self.tmp)
        else:
            KeywordIndex().index(texts).save(self.tmp)
        n_sentences = self._write_sentences(pids, dim)
        n_docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        n_passages = len(pids)
        db.close()
        extra: dict[str, Any] = {}
        delta_docs = n_docs
        if self.base is not None:
            hidden = sorted(self.hidden)
            gone = _hidden_counts(self.base, hidden)
            n_docs += len(self.base.docs) - gone[0]
            n_passages += int(self.base.manifest["passages"]) - gone[1]
            n_sentences += int(self.base.manifest.get("sentences", 0)) - gone[2]
            # the generation's vector index is its base's; the delta's own (flat) is searched beside it
            extra = {"base": self.base.path.name, "hidden": hidden, "delta_documents": delta_docs,
                     "delta_passages": len(pids), "delta_vector_index": params,
                     "vector_index": self.base.manifest.get("vector_index", params)}
        manifest = {**manifest, "backend": "embedded", "vector_index": params, "format_version": FORMAT_VERSION,
                    "generation": self.name, "documents": n_docs, "passages": n_passages, "sentences": n_sentences}
        manifest.update(extra)
        (self.tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        fsync_dir(self.tmp)

    def _write_sentences(self, pids: list[int], dim: int) -> int:
        """sentences.npy (vectors), sentence_spans.npy and sentence_at.npy (per vector row, where its
        sentences start), in the order of the passage vector rows."""
        row_of = {pid: i for i, pid in enumerate(pids)}
        counts = np.zeros(len(pids) + 1, dtype=np.int64)
        for pid, n in self.db.execute("SELECT pid, COUNT(*) FROM sentences GROUP BY pid"):
            if pid in row_of:
                counts[row_of[pid] + 1] = n
        at = np.cumsum(counts)
        total = int(at[-1])
        # a memory map on a full disk dies with SIGBUS instead of raising: check its size first
        require_free(self.tmp, total * dim * 2, "the sentence vectors")
        vectors = np.lib.format.open_memmap(self.tmp / "sentences.npy", mode="w+", dtype=np.float16,
                                            shape=(total, dim))
        spans = np.zeros((total, 2), dtype=np.int32)
        rows = self.db.execute("SELECT s.pid, s.k, s.start, s.\"end\", e.vector FROM sentences s "
                               "JOIN embeddings e USING(embed_hash) ORDER BY s.pid, s.k")
        filled = 0
        last, k_next = None, 0
        for pid, _k, a, b, blob in rows:
            if pid not in row_of:
                continue
            k_next = k_next + 1 if pid == last else 0
            last = pid
            j = int(at[row_of[pid]]) + k_next
            vectors[j] = np.frombuffer(blob, dtype=np.float32)
            spans[j] = (a, b)
            filled += 1
        if filled != total:  # a sentence without its vector: never publish that
            raise RuntimeError(f"{total - filled} sentences have no stored vector; run a full build")
        vectors.flush()
        del vectors
        np.save(self.tmp / "sentence_spans.npy", spans)
        np.save(self.tmp / "sentence_at.npy", at)
        return total

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._lock.release()

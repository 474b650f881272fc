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
from indexer.store.embedded.generation import (
    CURRENT,
    DB,
    FORMAT_VERSION,
    SCHEMA,
    Generation,
    fsync_dir,
    keyword_text,
    prune,
)
from indexer.store.keyword import KeywordIndex
from indexer.store.locks import writer_lock
from indexer.store.space import DiskFull, is_disk_full, require_free
from indexer.text.document_graph import document_graph


def _format2_vectors(g: Generation, wanted: set[str]) -> dict[str, np.ndarray]:
    """The embedding cache of a format-2 index: row i of its FAISS file is passage pid i."""
    try:
        index = faiss.read_index(str(g.path / "vectors.faiss"))
        rows = g.query("SELECT pid, embed_hash FROM passages ORDER BY pid")
        mat = index.reconstruct_n(0, index.ntotal)
    except Exception:  # noqa: BLE001 - a damaged old index only costs a full re-embed
        return {}
    return {r["embed_hash"]: mat[r["pid"]] for r in rows if r["embed_hash"] in wanted and r["pid"] < len(mat)}


class EmbeddedWriter:
    """Writes a new generation in a temporary folder; `publish` derives FAISS and BM25 and switches."""

    def __init__(self, index_dir: Path, base_db: Path | None) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._lock = writer_lock(self.index_dir)
        # Holding the writer lock, no other writer is alive: what a killed one left is garbage.
        for leftover in self.index_dir.glob(".tmp-gen-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        try:  # an update copies the live database, then grows it: room for two copies before starting
            require_free(self.index_dir, 2 * (base_db.stat().st_size if base_db is not None else 0),
                         "a new index generation")
        except BaseException:
            self._lock.release()
            raise
        self.name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.tmp = self.index_dir / f".tmp-{self.name}"
        self.tmp.mkdir()
        if base_db is not None:
            shutil.copyfile(base_db, self.tmp / DB)  # an update starts from the live database
            self.db = sqlite3.connect(self.tmp / DB)
        else:
            self.db = sqlite3.connect(self.tmp / DB)
            self.db.executescript(SCHEMA)
        self.db.execute("PRAGMA synchronous=OFF")  # durability comes from the fsync + rename at publish
        self.dimension: int | None = None
        self.done = False

    def delete_file(self, path: str) -> None:
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
        for pid, blob, head, text in rows:
            pids.append(pid)
            mats.append(np.frombuffer(blob, dtype=np.float32))
            texts.append(keyword_text(head, text))
        n_passages = db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        if len(pids) != n_passages:  # cannot happen unless a writer lost vectors: never publish that
            raise RuntimeError(f"{n_passages - len(pids)} passages have no stored vector; run a full build")
        vectors = np.stack(mats) if mats else np.zeros((0, dim), dtype=np.float32)
        del mats
        index, params = vector_index.build(vectors, index_type)
        faiss.write_index(index, str(self.tmp / "vectors.faiss"))
        np.save(self.tmp / "pids.npy", np.asarray(pids, dtype=np.int64))
        KeywordIndex().index(texts).save(self.tmp)
        n_sentences = self._write_sentences(pids, dim)
        n_docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        db.close()
        manifest = {**manifest, "backend": "embedded", "vector_index": params, "format_version": FORMAT_VERSION,
                    "generation": self.name, "documents": n_docs, "passages": len(pids), "sentences": n_sentences}
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

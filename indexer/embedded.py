"""The embedded backend: generations of (SQLite + FAISS + bm25s) in the index folder. The default.

Layout of an index folder::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      gen-20241125T101500-ab12/
        manifest.json         model, dimension, counts, per-file hashes, build time
        passages.sqlite       documents, passages, references, document keys, and the
                              embedding cache (embed hash → vector) — the whole index
        vectors.faiss         inner-product index of L2-normalised vectors; row i = pids.npy[i]
        pids.npy              the stable passage id of each vector row
        bm25-*/ bm25.json     keyword index over the same rows

SQLite is the source of truth; FAISS and BM25 are derived from it when a generation is published.
A writer works on a copy of the live SQLite file (an update) or an empty one (a build) in a
temporary folder, renames the folder into place and only then points CURRENT at it, so a crash
at any moment leaves the previous generation loadable.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from . import vectors as vector_index
from .backend import DocumentRecords, Filters, IndexFormatError, IndexNotFound, doc_year
from .keyword import KeywordIndex

FORMAT_VERSION = 4  # 3: stable pids, embeddings table, passage head, document year; 4: sentences
CURRENT = "CURRENT"
KEEP_GENERATIONS = 2  # the live one and the one a running app may still be reading
DB = "passages.sqlite"
FLOAT32_SENTENCES = 2_000_000  # sentence vectors held as float32 up to this many (3 GB), float16 beyond

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT, doc_number TEXT, doc_type TEXT, issuer TEXT,
    date TEXT, year INTEGER, source TEXT, file_hash TEXT, extra TEXT, pages TEXT, text TEXT, path TEXT
);
CREATE INDEX documents_path ON documents(path);
-- head: the title and section path the model saw in front of the text (also keyword-indexed)
CREATE TABLE passages (
    pid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL, page INTEGER,
    text TEXT NOT NULL, head TEXT NOT NULL, embed_hash TEXT NOT NULL
);
CREATE INDEX passages_doc ON passages(doc_id, ordinal);
-- references: passage pid cites document `key` (a number key or a named key, see references.py)
CREATE TABLE refs (
    pid INTEGER NOT NULL, doc_id TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, kind TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX refs_key ON refs(key);
CREATE INDEX refs_pid ON refs(pid);
CREATE INDEX refs_doc ON refs(doc_id);
-- the keys under which a document can be cited: its number, and its name for named documents
CREATE TABLE doc_keys (doc_id TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL);
CREATE INDEX doc_keys_key ON doc_keys(key);
CREATE INDEX doc_keys_doc ON doc_keys(doc_id);
-- sentence k of passage pid: offsets into the passage text; its vector is in embeddings
CREATE TABLE sentences (
    pid INTEGER NOT NULL, k INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    embed_hash TEXT NOT NULL, PRIMARY KEY (pid, k)
);
-- the embedding cache: a passage or sentence whose text is unchanged is never embedded again
CREATE TABLE embeddings (embed_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""


def current_generation(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    gen = Path(index_dir) / name
    return gen if name and (gen / "manifest.json").exists() else None


def keyword_text(head: str, text: str) -> str:
    return f"{head}\n{text}" if head else text


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _row_to_passage(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["section"] = json.loads(d["section"])
    d.pop("head", None)
    d.pop("embed_hash", None)
    return d


def _row_to_document(row: sqlite3.Row, with_text: bool) -> dict[str, Any]:
    d = dict(row)
    d["extra"] = json.loads(d["extra"] or "{}")
    d["pages"] = json.loads(d["pages"] or "[]")
    d.pop("year", None)
    if not with_text:
        d.pop("text", None)
    return d


class _Generation:
    """One loaded generation: vectors, BM25 and document table in memory, passages on demand."""

    def __init__(self, path: Path, check_format: bool = True) -> None:
        self.path = path
        self.manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if check_format and self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"the index in {path.parent} has format {self.manifest.get('format_version')}, this program "
                f"reads format {FORMAT_VERSION}: rebuild it with python -m indexer update (or make index)")
        # Streamlit serves sessions from several threads; one connection guarded by a lock.
        self._db = sqlite3.connect(f"file:{path / DB}?mode=ro", uri=True, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        if not check_format:
            return  # an old generation is only read for its embedding cache
        self.vectors = faiss.read_index(str(path / "vectors.faiss"))
        self.vector_params: dict[str, Any] = self.manifest.get("vector_index", {"type": "flat"})
        vector_index.configure(self.vectors, self.vector_params)
        self.row_pid = np.load(path / "pids.npy")
        self.pid_row = {int(p): i for i, p in enumerate(self.row_pid)}
        self.keyword = KeywordIndex.load(path) if (path / "bm25.json").exists() else None
        cols = "doc_id, title, doc_number, doc_type, issuer, date, source, file_hash, extra, pages, path"
        self.docs = {r["doc_id"]: _row_to_document(r, False)
                     for r in self.query(f"SELECT {cols} FROM documents ORDER BY doc_id")}
        self.doc_order = sorted(self.docs)
        index_of = {d: i for i, d in enumerate(self.doc_order)}
        doc_of_pid = dict(self.query("SELECT pid, doc_id FROM passages"))
        self.row_doc = np.array([index_of[doc_of_pid[int(p)]] for p in self.row_pid], dtype=np.int32)
        # Sentence vectors in vector-row order; passage row i owns rows sentence_at[i]:sentence_at[i + 1].
        # float16 on disk (half the size; they only rank), float32 in memory up to FLOAT32_SENTENCES:
        # gathering ~400 float16 rows and converting them took 0.5 ms a search, float32 rows 0.04 ms
        # (the 208 laws: 130k sentences, 200 MB).
        sv = np.load(path / "sentences.npy")
        self.sentence_vectors = sv.astype(np.float32) if len(sv) <= FLOAT32_SENTENCES else sv
        self.sentence_spans = np.load(path / "sentence_spans.npy")
        self.sentence_at = np.load(path / "sentence_at.npy")

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """The filter as a mask over vector rows (None: everything allowed)."""
        if filters is None or not filters.active():
            return None
        ok_docs = np.array([filters.accepts(self.docs[d]) for d in self.doc_order], dtype=bool)
        return ok_docs[self.row_doc]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class EmbeddedBackend:
    kind = "embedded"

    def __init__(self, index_dir: Path, generation: _Generation | None) -> None:
        self.index_dir = Path(index_dir)
        self._gen = generation
        self._retired: _Generation | None = None
        self._reload_lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path, check_format: bool = True) -> EmbeddedBackend:
        gen = current_generation(Path(index_dir))
        if gen is None:
            raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                                f"python -m indexer build corpus/ --index {index_dir}")
        return cls(index_dir, _Generation(gen, check_format=check_format))

    @classmethod
    def create(cls, index_dir: Path) -> EmbeddedBackend:
        """For writing: the published generation if there is a readable one, else none."""
        gen = current_generation(Path(index_dir))
        if gen is None:
            return cls(index_dir, None)
        try:
            return cls(index_dir, _Generation(gen))
        except IndexFormatError:
            # An older format is re-read from the files, but its vectors still spare the re-embedding.
            return cls(index_dir, _Generation(gen, check_format=False))
        except Exception:  # noqa: BLE001 - a damaged previous index only costs a full re-embed
            return cls(index_dir, None)

    # --- life cycle -----------------------------------------------------------------------------

    @property
    def _live(self) -> _Generation:
        if self._gen is None:
            raise IndexNotFound(f"No index in {self.index_dir}")
        return self._gen

    @property
    def manifest(self) -> dict[str, Any]:
        return self._gen.manifest if self._gen is not None else {}

    @property
    def readable(self) -> bool:
        """Whether the published generation is of this program's format (else: rebuild)."""
        return self._gen is not None and self._gen.manifest.get("format_version") == FORMAT_VERSION

    def refresh(self) -> bool:
        path = current_generation(self.index_dir)
        if path is None or (self._gen is not None and path == self._gen.path):
            return False
        with self._reload_lock:
            if self._gen is not None and path == self._gen.path:
                return False
            try:
                new = _Generation(path)
            except (OSError, sqlite3.Error, ValueError, RuntimeError):
                # Pruned or replaced between reading CURRENT and opening it: keep serving the
                # current generation; the next refresh will find the newest one.
                return False
            # Searches in flight may still read the generation being replaced: it is closed one
            # refresh later, not now.
            if self._retired is not None:
                self._retired.close()
            self._retired, self._gen = self._gen, new
        return True

    def close(self) -> None:
        for g in (self._gen, self._retired):
            if g is not None:
                g.close()

    # --- retrieval ------------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> dict[int, float]:
        g = self._live
        n = min(n, int(g.vectors.ntotal))
        if n <= 0:
            return {}
        allowed = g.allowed_rows(filters)
        rows_allowed = np.flatnonzero(allowed) if allowed is not None else None
        scores, rows = vector_index.search(g.vectors, g.vector_params, vector, n, rows_allowed)
        return {int(g.row_pid[r]): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def keyword(self, query: str, n: int, filters: Filters | None = None) -> dict[int, float]:
        g = self._live
        if g.keyword is None:
            return {}
        s = g.keyword.scores(query)
        allowed = g.allowed_rows(filters)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        nz = np.flatnonzero(s > 0)
        if nz.size > n:
            nz = nz[np.argpartition(-s[nz], n - 1)[:n]]
        return {int(g.row_pid[i]): float(s[i]) for i in nz}

    def vectors_matrix(self) -> np.ndarray:
        """Every stored vector, in row order (for measurements)."""
        g = self._live
        return g.vectors.reconstruct_n(0, int(g.vectors.ntotal))

    # --- hydration ------------------------------------------------------------------------------

    def passages(self, pids: list[int]) -> list[dict[str, Any]]:
        if not pids:
            return []
        marks = ",".join("?" * len(pids))
        rows = {r["pid"]: _row_to_passage(r) for r in
                self._live.query(f"SELECT * FROM passages WHERE pid IN ({marks})", tuple(int(p) for p in pids))}
        return [rows[p] for p in pids if p in rows]

    def doc_passages(self, doc_id: str) -> list[dict[str, Any]]:
        return [_row_to_passage(r) for r in
                self._live.query("SELECT * FROM passages WHERE doc_id=? ORDER BY ordinal", (doc_id,))]

    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        g = self._live
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for pid in pids:
            row = g.pid_row.get(int(pid))
            if row is None:
                continue
            a, b = int(g.sentence_at[row]), int(g.sentence_at[row + 1])
            if b > a:
                out[int(pid)] = (g.sentence_spans[a:b], np.asarray(g.sentence_vectors[a:b], dtype=np.float32))
        return out

    def sentence_scores(self, vector: np.ndarray, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        g = self._live
        rows = np.array([g.pid_row.get(int(p), -1) for p in pids], dtype=np.int64)
        known = rows >= 0
        pids_known = np.asarray(pids, dtype=np.int64)[known]
        starts, ends = g.sentence_at[rows[known]], g.sentence_at[rows[known] + 1]
        has = ends > starts
        pids_known, starts, ends = pids_known[has], starts[has], ends[has]
        if not len(starts):
            return {}
        # one gather and one product for every sentence of every pid (a query asks for ~100 passages)
        counts = ends - starts
        at = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
        sims = g.sentence_vectors[at] @ np.asarray(vector, dtype=g.sentence_vectors.dtype)
        sims = sims.astype(np.float32, copy=False)
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        k = 0
        for pid, a, b in zip(pids_known.tolist(), starts.tolist(), ends.tolist(), strict=True):
            out[pid] = (g.sentence_spans[a:b], sims[k : k + b - a])
            k += b - a
        return out

    def all_passages(self) -> list[dict[str, Any]]:
        return [_row_to_passage(r) for r in self._live.query("SELECT * FROM passages ORDER BY doc_id, ordinal")]

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[dict[str, Any]]:
        return [_row_to_passage(r) for r in self._live.query(
            "SELECT * FROM passages WHERE doc_id=? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (doc_id, ordinal - radius, ordinal + radius))]

    def document(self, doc_id: str, with_text: bool = False) -> dict[str, Any] | None:
        rows = self._live.query("SELECT * FROM documents WHERE doc_id=?", (doc_id,))
        return _row_to_document(rows[0], with_text) if rows else None

    def documents(self, doc_ids: list[str] | None = None) -> list[dict[str, Any]]:
        docs = self._live.docs
        if doc_ids is None:
            return list(docs.values())
        return [docs[d] for d in sorted(set(doc_ids)) if d in docs]

    # --- references -----------------------------------------------------------------------------

    def pids_citing(self, key: str) -> list[int]:
        return [r[0] for r in self._live.query("SELECT DISTINCT pid FROM refs WHERE key=? ORDER BY pid", (key,))]

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not pids:
            return {}
        marks = ",".join("?" * len(pids))
        out: dict[int, list[dict[str, Any]]] = {int(p): [] for p in pids}
        for r in self._live.query(f"SELECT * FROM refs WHERE pid IN ({marks}) ORDER BY pid, start",
                                  tuple(map(int, pids))):
            out[r["pid"]].append(dict(r))
        return out

    def key_label(self, key: str) -> str | None:
        """How `key` is written: the indexed document's own spelling first, else a citing one."""
        g = self._live
        rows = g.query("SELECT label FROM doc_keys WHERE key=? LIMIT 1", (key,)) or \
            g.query("SELECT label FROM refs WHERE key=? ORDER BY label LIMIT 1", (key,))
        return rows[0][0] if rows else None

    def docs_with_key(self, key: str) -> list[str]:
        return [r[0] for r in self._live.query("SELECT doc_id FROM doc_keys WHERE key=? ORDER BY doc_id", (key,))]

    def reference_counts(self) -> list[dict[str, Any]]:
        """Every key that is cited or that names an indexed document, with counts."""
        g = self._live
        rows = g.query(
            "SELECT key, MIN(label) AS label, COUNT(DISTINCT pid) AS passages, COUNT(DISTINCT doc_id) AS documents "
            "FROM refs GROUP BY key")
        out = {r["key"]: {"key": r["key"], "label": r["label"], "citing_passages": r["passages"],
                          "citing_documents": r["documents"], "doc_ids": []} for r in rows}
        for r in g.query("SELECT doc_id, key, label FROM doc_keys"):
            item = out.setdefault(r["key"], {"key": r["key"], "label": r["label"], "citing_passages": 0,
                                             "citing_documents": 0, "doc_ids": []})
            item["label"] = r["label"]
            item["doc_ids"].append(r["doc_id"])
        return sorted(out.values(), key=lambda x: (-x["citing_passages"], x["key"]))

    # --- write side -----------------------------------------------------------------------------

    def file_records(self, path: str) -> list[DocumentRecords]:
        raise NotImplementedError("the embedded backend carries unchanged files over by copying its database")

    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        g = self._gen
        if g is None or not embed_hashes:
            return {}
        out: dict[str, np.ndarray] = {}
        if g.query("SELECT name FROM sqlite_master WHERE type='table' AND name='embeddings'"):
            for s in range(0, len(embed_hashes), 500):
                chunk = embed_hashes[s : s + 500]
                marks = ",".join("?" * len(chunk))
                for h, blob in g.query(f"SELECT embed_hash, vector FROM embeddings WHERE embed_hash IN ({marks})",
                                       tuple(chunk)):
                    out[h] = np.frombuffer(blob, dtype=np.float32)
            return out
        return _format2_vectors(g, set(embed_hashes))

    def begin(self, full: bool) -> EmbeddedWriter:
        base = None if (full or not self.readable) else self._live.path / DB
        return EmbeddedWriter(self.index_dir, base)


def _format2_vectors(g: _Generation, wanted: set[str]) -> dict[str, np.ndarray]:
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
            for table in ("passages", "refs", "doc_keys", "documents"):
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
        self.db.executemany(
            "INSERT INTO refs VALUES (?,?,?,?,?,?,?)",
            [(pid, d.doc_id, r.key, r.label, r.kind, r.start, r.end)
             for pid, refs in zip(rec.pids, rec.refs, strict=True) for r in refs])

    def publish(self, manifest: dict[str, Any]) -> None:
        if self.done:
            return
        try:
            self._derive_and_write(manifest, manifest.get("index_type", "auto"))
            os.rename(self.tmp, self.index_dir / self.name)
        except BaseException:
            self.abort()
            raise
        self.done = True
        pointer_tmp = self.index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
        pointer_tmp.write_text(self.name, encoding="utf-8")
        with open(pointer_tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(pointer_tmp, self.index_dir / CURRENT)
        _fsync_dir(self.index_dir)
        _prune(self.index_dir, keep=self.name)

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
        _fsync_dir(self.tmp)

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


def _prune(index_dir: Path, keep: str) -> None:
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name, reverse=True)
    kept = [g for g in gens if g.name == keep] + [g for g in gens if g.name != keep][: KEEP_GENERATIONS - 1]
    for g in gens:
        if g not in kept:
            shutil.rmtree(g, ignore_errors=True)
    # Leftovers of builds that were killed mid-way.
    for tmp in index_dir.glob(".tmp-gen-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    gen = current_generation(Path(index_dir))
    if gen is None:
        return None
    return json.loads((gen / "manifest.json").read_text(encoding="utf-8"))

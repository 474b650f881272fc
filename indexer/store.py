"""On-disk index: generations of (FAISS vectors + SQLite passages/documents + manifest).

Layout of an index folder::

    index/
      CURRENT                 name of the live generation (replaced atomically)
      gen-20241125T101500-ab12/
        manifest.json         model, dimension, counts, per-file hashes, build time
        passages.sqlite       documents and passages (verbatim text, offsets, sections, pages)
        vectors.faiss         inner-product index of L2-normalised vectors; row i = passage id i

A build writes a complete new generation in a temporary folder, renames it into place and only
then points CURRENT at it, so a crash at any moment leaves the previous index loadable.
"""

from __future__ import annotations

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
from .docnumbers import number_key
from .records import Document, PageSpan, Passage
from .references import find_references

FORMAT_VERSION = 2  # 2: documents.path, refs and doc_keys tables
CURRENT = "CURRENT"
KEEP_GENERATIONS = 2  # the live one and the one a running app may still be reading

SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT, doc_number TEXT, doc_type TEXT, issuer TEXT,
    date TEXT, source TEXT, file_hash TEXT, extra TEXT, pages TEXT, text TEXT, path TEXT
);
CREATE INDEX documents_path ON documents(path);
CREATE TABLE passages (
    pid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL, page INTEGER,
    text TEXT NOT NULL, embed_hash TEXT NOT NULL
);
CREATE INDEX passages_doc ON passages(doc_id, ordinal);
-- references: passage pid cites document `key` (a number key or a named key, see references.py)
CREATE TABLE refs (
    pid INTEGER NOT NULL, doc_id TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, kind TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX refs_key ON refs(key);
CREATE INDEX refs_pid ON refs(pid);
-- the keys under which a document can be cited: its number, and its name for named documents
CREATE TABLE doc_keys (doc_id TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL);
CREATE INDEX doc_keys_key ON doc_keys(key);
"""


class IndexNotFound(FileNotFoundError):
    pass


class IndexFormatError(ValueError):
    pass


def document_keys(doc: Document) -> list[tuple[str, str]]:
    """(key, label) pairs a citation can use for `doc`: its number, and its name if it is a named one."""
    keys: list[tuple[str, str]] = []
    if doc.doc_number:
        keys.append((number_key(doc.doc_number), doc.doc_number))
    named = [r for r in find_references(doc.title or "") if r.kind == "named"]
    if named and named[0].start == 0:
        keys.append((named[0].key, named[0].label))
    return keys


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    gen = index_dir / name
    return gen if name and (gen / "manifest.json").exists() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    gen = current_generation(Path(index_dir))
    if gen is None:
        return None
    return json.loads((gen / "manifest.json").read_text(encoding="utf-8"))


def write_generation(
    index_dir: Path,
    documents: list[Document],
    passages: list[Passage],
    vectors: np.ndarray,
    embed_hashes: list[str],
    manifest: dict[str, Any],
    extra_writers: list[Any] | None = None,
    index_type: str = "auto",
) -> Path:
    """Write a complete generation and make it current. Returns its folder."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    name = f"gen-{stamp}-{secrets.token_hex(3)}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        db = sqlite3.connect(tmp / "passages.sqlite")
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (d.doc_id, d.title, d.doc_number, d.doc_type, d.issuer, d.date, d.source, d.file_hash,
                 json.dumps(d.extra, ensure_ascii=False),
                 json.dumps([[p.start, p.end, p.page] for p in d.pages]), d.text, d.path)
                for d in documents
            ],
        )
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (i, p.doc_id, p.ordinal, p.start, p.end, json.dumps(p.section, ensure_ascii=False), p.page,
                 p.text, h)
                for i, (p, h) in enumerate(zip(passages, embed_hashes, strict=True))
            ],
        )
        own = {d.doc_id: document_keys(d) for d in documents}
        db.executemany("INSERT INTO doc_keys VALUES (?,?,?)",
                       [(doc_id, k, label) for doc_id, keys in own.items() for k, label in keys])
        db.executemany(
            "INSERT INTO refs VALUES (?,?,?,?,?,?,?)",
            [(i, p.doc_id, r.key, r.label, r.kind, r.start, r.end)
             for i, p in enumerate(passages)
             for r in find_references(p.text)
             if r.key not in {k for k, _ in own[p.doc_id]}],
        )
        db.commit()
        db.close()

        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, int(manifest["dimension"]))
        index, params = vector_index.build(vectors, index_type)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        manifest = {**manifest, "vector_index": params}
        for writer in extra_writers or []:
            writer(tmp)

        manifest = {**manifest, "format_version": FORMAT_VERSION, "generation": name,
                    "documents": len(documents), "passages": len(passages)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        _fsync_dir(tmp)
        os.rename(tmp, index_dir / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    pointer_tmp = index_dir / f".{CURRENT}.{secrets.token_hex(3)}"
    pointer_tmp.write_text(name, encoding="utf-8")
    with open(pointer_tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    _prune(index_dir, keep=name)
    return index_dir / name


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def _row_to_passage(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["section"] = json.loads(d["section"])
    return d


def _row_to_document(row: sqlite3.Row, with_text: bool) -> dict[str, Any]:
    d = dict(row)
    d["extra"] = json.loads(d["extra"] or "{}")
    d["pages"] = json.loads(d["pages"] or "[]")
    if not with_text:
        d.pop("text", None)
    return d


class IndexReader:
    """One loaded generation: the vectors in memory, passages and documents read on demand."""

    def __init__(self, generation: Path, check_format: bool = True) -> None:
        self.path = generation
        self.manifest: dict[str, Any] = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
        if check_format and self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"the index in {generation.parent} has format {self.manifest.get('format_version')}, this program "
                f"reads format {FORMAT_VERSION}: rebuild it with python -m indexer build (or make index)")
        self.vectors = faiss.read_index(str(generation / "vectors.faiss"))
        self.vector_params: dict[str, Any] = self.manifest.get("vector_index", {"type": "flat"})
        vector_index.configure(self.vectors, self.vector_params)
        # Streamlit serves sessions from several threads; one connection guarded by a lock.
        self._db = sqlite3.connect(f"file:{generation / 'passages.sqlite'}?mode=ro", uri=True,
                                   check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path, check_format: bool = True) -> IndexReader:
        gen = current_generation(Path(index_dir))
        if gen is None:
            raise IndexNotFound(f"no index in {index_dir}")
        return cls(gen, check_format=check_format)

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    @property
    def size(self) -> int:
        return int(self.vectors.ntotal)

    def passages(self, pids: list[int]) -> list[dict[str, Any]]:
        if not pids:
            return []
        marks = ",".join("?" * len(pids))
        rows = {r["pid"]: _row_to_passage(r) for r in self._query(f"SELECT * FROM passages WHERE pid IN ({marks})",
                                                                   tuple(int(p) for p in pids))}
        return [rows[p] for p in pids if p in rows]

    def doc_passages(self, doc_id: str) -> list[dict[str, Any]]:
        return [_row_to_passage(r) for r in
                self._query("SELECT * FROM passages WHERE doc_id=? ORDER BY ordinal", (doc_id,))]

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[dict[str, Any]]:
        return [_row_to_passage(r) for r in self._query(
            "SELECT * FROM passages WHERE doc_id=? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (doc_id, ordinal - radius, ordinal + radius))]

    def document(self, doc_id: str, with_text: bool = False) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM documents WHERE doc_id=?", (doc_id,))
        return _row_to_document(rows[0], with_text) if rows else None

    def documents(self) -> list[dict[str, Any]]:
        cols = "doc_id, title, doc_number, doc_type, issuer, date, source, file_hash, extra, pages, path"
        return [_row_to_document(r, False) for r in self._query(f"SELECT {cols} FROM documents ORDER BY doc_id")]

    def all_passage_rows(self) -> list[dict[str, Any]]:
        return [_row_to_passage(r) for r in self._query("SELECT * FROM passages ORDER BY pid")]

    def pids_citing(self, key: str) -> list[int]:
        return [r[0] for r in self._query("SELECT DISTINCT pid FROM refs WHERE key=? ORDER BY pid", (key,))]

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not pids:
            return {}
        marks = ",".join("?" * len(pids))
        out: dict[int, list[dict[str, Any]]] = {int(p): [] for p in pids}
        for r in self._query(f"SELECT * FROM refs WHERE pid IN ({marks}) ORDER BY pid, start", tuple(map(int, pids))):
            out[r["pid"]].append(dict(r))
        return out

    def key_label(self, key: str) -> str | None:
        """How `key` is written: the indexed document's own spelling first, else a citing one."""
        rows = self._query("SELECT label FROM doc_keys WHERE key=? LIMIT 1", (key,)) or \
            self._query("SELECT label FROM refs WHERE key=? ORDER BY label LIMIT 1", (key,))
        return rows[0][0] if rows else None

    def docs_with_key(self, key: str) -> list[str]:
        return [r[0] for r in self._query("SELECT doc_id FROM doc_keys WHERE key=? ORDER BY doc_id", (key,))]

    def reference_counts(self) -> list[dict[str, Any]]:
        """Every key that is cited or that names an indexed document, with counts."""
        rows = self._query(
            "SELECT key, MIN(label) AS label, COUNT(DISTINCT pid) AS passages, COUNT(DISTINCT doc_id) AS documents "
            "FROM refs GROUP BY key")
        out = {r["key"]: {"key": r["key"], "label": r["label"], "citing_passages": r["passages"],
                          "citing_documents": r["documents"], "doc_ids": []} for r in rows}
        for r in self._query("SELECT doc_id, key, label FROM doc_keys"):
            item = out.setdefault(r["key"], {"key": r["key"], "label": r["label"], "citing_passages": 0,
                                             "citing_documents": 0, "doc_ids": []})
            item["label"] = r["label"]
            item["doc_ids"].append(r["doc_id"])
        return sorted(out.values(), key=lambda x: (-x["citing_passages"], x["key"]))

    def passage_doc_ids(self) -> list[str]:
        return [r[0] for r in self._query("SELECT doc_id FROM passages ORDER BY pid")]

    def file_records(self, path: str) -> tuple[list[Document], list[Passage], list[str]]:
        """The documents and passages (with embed hashes) indexed from one file, as records."""
        docs = [
            Document(doc_id=r["doc_id"], title=r["title"], text=r["text"], source=r["source"],
                     doc_number=r["doc_number"], doc_type=r["doc_type"], issuer=r["issuer"], date=r["date"],
                     extra=json.loads(r["extra"] or "{}"),
                     pages=[PageSpan(*x) for x in json.loads(r["pages"] or "[]")], file_hash=r["file_hash"],
                     path=r["path"])
            for r in self._query("SELECT * FROM documents WHERE path=? ORDER BY rowid", (path,))
        ]
        passages: list[Passage] = []
        hashes: list[str] = []
        for d in docs:
            for r in self._query("SELECT * FROM passages WHERE doc_id=? ORDER BY ordinal", (d.doc_id,)):
                passages.append(Passage(r["doc_id"], r["ordinal"], r["text"], r["start"], r["end"],
                                        json.loads(r["section"]), r["page"]))
                hashes.append(r["embed_hash"])
        return docs, passages, hashes

    def cached_vectors(self) -> dict[str, np.ndarray]:
        """embed_hash → vector, so a rebuild embeds only passages whose embedded text changed."""
        rows = self._query("SELECT pid, embed_hash FROM passages ORDER BY pid")
        if not rows:
            return {}
        mat = self.vectors.reconstruct_n(0, self.size)
        return {r["embed_hash"]: mat[r["pid"]] for r in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""One generation of the embedded index on disk: its layout, SQLite schema, loading, and pruning."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np

from indexer.records import DocumentRow, Filters, PassageRow
from indexer.store import vectors as vector_index
from indexer.store.base import IndexDamaged, IndexFormatError
from indexer.store.embedded.delta import DeltaKeyword
from indexer.store.keyword import KeywordIndex

# Raised whenever what a generation stores changes: an index of another format is rebuilt (the formats:
# CHANGELOG.md, "Index formats")
FORMAT_VERSION = 6
CURRENT = "CURRENT"
KEEP_GENERATIONS = 2  # the live one and the one a running app may still be reading
DB = "passages.sqlite"
# each vector row's passage syllables, a line a row (indexer/text/words.py); absent from older indexes
WORDS = "words.txt"
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
-- each document's part of the relation graph (indexer/text/document_graph.py), JSON
CREATE TABLE graph (doc_id TEXT PRIMARY KEY, data TEXT NOT NULL);
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


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def row_to_passage(row: sqlite3.Row) -> PassageRow:
    d = dict(row)
    d["section"] = json.loads(d["section"])
    d.pop("head", None)
    d.pop("embed_hash", None)
    return cast(PassageRow, d)


def row_to_document(row: sqlite3.Row, with_text: bool) -> DocumentRow:
    d: Any = dict(row)
    d["extra"] = json.loads(d["extra"] or "{}")
    d["pages"] = json.loads(d["pages"] or "[]")
    d.pop("year", None)
    if not with_text:
        d.pop("text", None)
    return d


class Segment:
    """One folder's files loaded: vectors, BM25 and document table in memory, passages on demand.
    `light`: the database and document table only (what a writer plans and reuses vectors with)."""

    def __init__(self, path: Path, manifest: dict[str, Any], light: bool = False) -> None:
        self.path = path
        self.manifest = manifest
        self.is_delta = "base" in manifest
        # Streamlit serves sessions from several threads; one connection guarded by a lock.
        self._db = sqlite3.connect(f"file:{path / DB}?mode=ro", uri=True, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._graph: list[dict[str, Any]] | None = None
        cols = "doc_id, title, doc_number, doc_type, issuer, date, source, file_hash, extra, pages, path"
        try:
            self.docs = {r["doc_id"]: row_to_document(r, False)
                         for r in self.query(f"SELECT {cols} FROM documents ORDER BY doc_id")}
        except sqlite3.OperationalError:
            if not light:
                raise
            self.docs = {}  # an older format, opened only for its embedding cache
        self.light = light
        if light:
            return
        self.vectors = faiss.read_index(str(path / "vectors.faiss"))
        self.vector_params: dict[str, Any] = manifest.get("delta_vector_index" if self.is_delta else "vector_index",
                                                           {"type": "flat"})
        vector_index.configure(self.vectors, self.vector_params)
        self.row_pid = np.load(path / "pids.npy")
        self.pid_row = {int(p): i for i, p in enumerate(self.row_pid)}
        self.keyword: KeywordIndex | None = None
        self.delta_keyword: DeltaKeyword | None = None
        if self.is_delta:
            self.delta_keyword = DeltaKeyword.load(path)
        elif (path / "bm25.json").exists():
            self.keyword = KeywordIndex.load(path)
        self.doc_order = sorted(self.docs)
        index_of = {d: i for i, d in enumerate(self.doc_order)}
        doc_of_pid: dict[int, str] = {int(r[0]): r[1] for r in self.query("SELECT pid, doc_id FROM passages")}
        self.row_doc = np.array([index_of[doc_of_pid[int(p)]] for p in self.row_pid], dtype=np.int32)
        # Sentence vectors in vector-row order; passage row i owns rows sentence_at[i]:sentence_at[i + 1].
        # float16 on disk (half the size; they only rank), float32 in memory up to FLOAT32_SENTENCES:
        # gathering ~400 float16 rows and converting them took 0.5 ms a search, float32 rows 0.04 ms
        # (the 208 laws: 130k sentences, 200 MB).
        sv = np.load(path / "sentences.npy")
        self.sentence_vectors = sv.astype(np.float32) if len(sv) <= FLOAT32_SENTENCES else sv
        self.sentence_spans = np.load(path / "sentence_spans.npy")
        self.sentence_at = np.load(path / "sentence_at.npy")
        self._words: tuple[bytes, np.ndarray] | None = None

    def word_lines(self, rows: list[int]) -> list[str] | None:
        """The stored syllable lines of vector rows `rows` (None: this index stored none). The file is
        read at the first ask, and only the rows asked for are decoded."""
        if self._words is None:
            file = self.path / WORDS
            data = file.read_bytes() if file.exists() else b""
            ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
            at = np.concatenate(([0], ends + 1, [len(data) + 1])).astype(np.int64)
            # none, or a file of another row count, is not used: the words are then split at search time
            self._words = (data, at if data and len(at) == len(self.row_pid) + 1 else at[:0])
        data, at = self._words
        if not len(at):
            return None
        return [data[at[r]: at[r + 1] - 1].decode("utf-8") for r in rows]

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def graph_rows(self) -> list[dict[str, Any]]:
        """The segment's graph rows, parsed once: a segment never changes, and the base's rows serve
        every delta written on it (the first search after an update parses only the delta's)."""
        if self._graph is None:
            rows = [json.loads(r[0]) for r in self.query("SELECT data FROM graph ORDER BY doc_id")]
            self._graph = rows
        return self._graph

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Generation:
    """One published generation: a base segment, and for an update a delta segment on top of it.

    A full build writes a base (every document). An update writes a delta: the documents it
    changed, and `hidden`, the base's documents it replaced or removed; the base's files are
    shared, not copied. Every read goes to both segments and leaves out the base's hidden rows.
    """

    def __init__(self, path: Path, check_format: bool = True, light: bool = False,
                 reuse: Generation | None = None) -> None:
        try:
            self._load(path, check_format, light, reuse)
        except IndexFormatError:
            raise
        except (OSError, sqlite3.Error, ValueError, RuntimeError, KeyError, TypeError) as e:
            raise damaged(path, e) from e

    def verify(self) -> None:
        """IndexDamaged unless every file a search reads is there and well-formed; cheap (headers,
        memory maps, the small JSON files), for a light generation that a writer will build on."""
        for seg in self.segments:
            try:
                faiss.read_index(str(seg.path / "vectors.faiss"), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
                for name in ("pids.npy", "sentences.npy", "sentence_spans.npy", "sentence_at.npy"):
                    np.load(seg.path / name, mmap_mode="r")
                if (seg.path / "bm25.json").exists() or not seg.is_delta:
                    json.loads((seg.path / "bm25.json").read_text(encoding="utf-8"))
                seg.query("PRAGMA quick_check")
            except (OSError, sqlite3.Error, ValueError, RuntimeError) as e:
                raise damaged(seg.path, e) from e

    def _load(self, path: Path, check_format: bool, light: bool, reuse: Generation | None) -> None:
        self.path = path
        self.manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if check_format and self.manifest.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"the index in {path.parent} has format {self.manifest.get('format_version')}, this program "
                f"reads format {FORMAT_VERSION}: rebuild it with python -m indexer update (or make index)")
        light = light or not check_format  # an old generation is only read for its embedding cache
        self.light = light
        self.hidden: set[str] = set(self.manifest.get("hidden", []))
        base_name = self.manifest.get("base")
        known = {s.path: s for s in (reuse.segments if reuse is not None else []) if s.light == light}
        self.segments: list[Segment] = []
        if base_name:
            base_path = path.parent / base_name
            base = known.get(base_path) or Segment(
                base_path, json.loads((base_path / "manifest.json").read_text(encoding="utf-8")), light)
            self.segments.append(base)
        self.segments.append(Segment(path, self.manifest, light))
        self.base = self.segments[0] if base_name else None
        self.docs: dict[str, DocumentRow] = {}
        for seg in self.segments:
            self.docs.update({d: doc for d, doc in seg.docs.items() if not self.hides(seg, d)})
        self.docs = dict(sorted(self.docs.items()))
        if light:
            return
        # the base's rows still visible: the hidden documents' rows are never returned
        self.visible: dict[int, np.ndarray | None] = {}
        for seg in self.segments:
            if seg is self.base and self.hidden:
                gone = np.array([d in self.hidden for d in seg.doc_order], dtype=bool)
                self.visible[id(seg)] = ~gone[seg.row_doc] if len(seg.row_doc) else np.zeros(0, dtype=bool)
            else:
                self.visible[id(seg)] = None

    def hides(self, seg: Segment, doc_id: str) -> bool:
        return seg is self.base and doc_id in self.hidden

    def rows(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """`sql` run on every segment; rows of the base's hidden documents left out (`sql` must
        select doc_id when the generation hides any)."""
        out: list[sqlite3.Row] = []
        for seg in self.segments:
            rows = seg.query(sql, args)
            if seg is self.base and self.hidden:
                rows = [r for r in rows if r["doc_id"] not in self.hidden]
            out.extend(rows)
        return out

    def allowed_rows(self, seg: Segment, filters: Filters | None) -> np.ndarray | None:
        """The filter (and the hidden rows) as a mask over `seg`'s vector rows (None: all allowed)."""
        visible = self.visible[id(seg)]
        if filters is None or not filters.active():
            return visible
        ok_docs = np.array([filters.accepts(seg.docs[d]) for d in seg.doc_order], dtype=np.bool_)
        mask = ok_docs[seg.row_doc] if len(seg.row_doc) else np.zeros(0, dtype=bool)
        return mask if visible is None else mask & visible

    def close(self, keep: set[int] | None = None) -> None:
        for seg in self.segments:
            if keep is None or id(seg) not in keep:
                seg.close()


def damaged(path: Path, e: BaseException) -> IndexDamaged:
    what = str(e).split("\n")[0][:200] if not isinstance(e, OSError) else f"{e.strerror}: {Path(e.filename or '').name}"
    return IndexDamaged(f"the index in {path.parent} is damaged ({path.name}: {type(e).__name__}: {what}); "
                        f"rebuild it with: python -m indexer update --index {path.parent}")


def referenced(index_dir: Path, names: list[str]) -> set[str]:
    """The generations `names` need: themselves and the bases of the deltas among them."""
    out = set(names)
    for name in names:
        try:
            base = json.loads((index_dir / name / "manifest.json").read_text(encoding="utf-8")).get("base")
        except (OSError, ValueError):
            continue
        if base:
            out.add(base)
    return out


def _published(gen: Path) -> tuple[int, str]:
    """Newest first: when the manifest was written (names tell only the second), then the name."""
    try:
        return (gen / "manifest.json").stat().st_mtime_ns, gen.name
    except OSError:
        return 0, gen.name


def prune(index_dir: Path, keep: str) -> None:
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=_published, reverse=True)
    kept = [g for g in gens if g.name == keep] + [g for g in gens if g.name != keep][: KEEP_GENERATIONS - 1]
    needed = referenced(index_dir, [g.name for g in kept])  # a kept delta keeps its base
    for g in gens:
        if g.name not in needed:
            shutil.rmtree(g, ignore_errors=True)
    # Leftovers of builds that were killed mid-way.
    for tmp in index_dir.glob(".tmp-gen-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)

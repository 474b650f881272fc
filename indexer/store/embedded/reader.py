"""The embedded backend's read side: retrieval and reads by id over the live generation."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np

from indexer.records import Filters
from indexer.store import vectors as vector_index
from indexer.store.base import IndexFormatError, IndexNotFound
from indexer.store.embedded.generation import (
    DB,
    FORMAT_VERSION,
    Generation,
    current_generation,
    row_to_document,
    row_to_passage,
)
from indexer.store.embedded.writer import EmbeddedWriter, _format2_vectors


class EmbeddedBackend:
    kind = "embedded"

    def __init__(self, index_dir: Path, generation: Generation | None) -> None:
        self.index_dir = Path(index_dir)
        self._gen = generation
        self._retired: Generation | None = None
        self._reload_lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path, config: dict[str, Any] | None = None, check_format: bool = True) -> EmbeddedBackend:
        gen = current_generation(Path(index_dir))
        if gen is None:
            raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                                f"python -m indexer build corpus/ --index {index_dir}")
        return cls(index_dir, Generation(gen, check_format=check_format))

    @classmethod
    def create(cls, index_dir: Path, config: dict[str, Any] | None = None) -> EmbeddedBackend:
        """For writing: the published generation if there is a readable one, else none."""
        gen = current_generation(Path(index_dir))
        if gen is None:
            return cls(index_dir, None)
        try:
            return cls(index_dir, Generation(gen))
        except IndexFormatError:
            # An older format is re-read from the files, but its vectors still spare the re-embedding.
            return cls(index_dir, Generation(gen, check_format=False))
        except Exception:  # noqa: BLE001 - a damaged previous index only costs a full re-embed
            return cls(index_dir, None)

    # --- life cycle -----------------------------------------------------------------------------

    @property
    def _live(self) -> Generation:
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
                new = Generation(path)
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
        rows = {r["pid"]: row_to_passage(r) for r in
                self._live.query(f"SELECT * FROM passages WHERE pid IN ({marks})", tuple(int(p) for p in pids))}
        return [rows[p] for p in pids if p in rows]

    def doc_passages(self, doc_id: str) -> list[dict[str, Any]]:
        return [row_to_passage(r) for r in
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

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[dict[str, Any]]:
        return [row_to_passage(r) for r in self._live.query(
            "SELECT * FROM passages WHERE doc_id=? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (doc_id, ordinal - radius, ordinal + radius))]

    def document(self, doc_id: str, with_text: bool = False) -> dict[str, Any] | None:
        if not with_text:  # the metadata of every document is in memory; only the text is on disk
            return self._live.docs.get(doc_id)
        rows = self._live.query("SELECT * FROM documents WHERE doc_id=?", (doc_id,))
        return row_to_document(rows[0], with_text) if rows else None

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

    def graph_rows(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._live.query("SELECT data FROM graph ORDER BY doc_id")]

    # --- write side -----------------------------------------------------------------------------

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

"""The embedded backend's read side: retrieval and reads by id over the live generation."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np

from indexer.records import DocumentRow, Filters, Manifest, PassageRow
from indexer.store import vectors as vector_index
from indexer.store.base import (
    Backend,
    IndexDamaged,
    IndexFormatError,
    IndexNotFound,
    SentenceScores,
    StoreConfig,
    near,
    warm_before_switch,
)
from indexer.store.embedded.generation import (
    FORMAT_VERSION,
    Generation,
    Segment,
    current_generation,
    row_to_document,
    row_to_passage,
)
from indexer.store.embedded.writer import EmbeddedWriter, _format2_vectors
from indexer.store.index_types import INDEX_TYPES
from indexer.text import words

NEIGHBOUR_PLACES = 200  # passages whose neighbours one SQL statement reads (3 bound values each)


class EmbeddedBackend(Backend):
    """The `Backend` roles on the generations in the index folder (see the package docstring)."""

    kind: ClassVar[str] = "embedded"
    remote: ClassVar[bool] = False  # every read is in this process: one query a call costs nothing more
    index_types: ClassVar[tuple[str, ...]] = INDEX_TYPES

    def __init__(self, index_dir: Path, generation: Generation | None, light: bool = False) -> None:
        self.index_dir = Path(index_dir)
        self._light = light  # a writer's view: databases only, no vectors or keyword index loaded
        self._gen = generation
        self._retired: Generation | None = None
        self._reload_lock = threading.Lock()
        self.damage: str | None = None  # why the published generation cannot be built on (then rebuilt)

    @classmethod
    def exists(cls, index_dir: Path, config: StoreConfig) -> bool:
        return current_generation(Path(index_dir)) is not None

    @classmethod
    def open(cls, index_dir: Path, config: StoreConfig | None = None, check_format: bool = True) -> EmbeddedBackend:
        gen = current_generation(Path(index_dir))
        if gen is None:
            raise IndexNotFound(f"No index in {index_dir}. Build one with: "
                                f"python -m indexer build corpus/ --index {index_dir}")
        return cls(index_dir, Generation(gen, check_format=check_format))

    @classmethod
    def create(cls, index_dir: Path, config: StoreConfig | None = None) -> EmbeddedBackend:
        """For writing: the published generation if there is a readable one, else none."""
        gen = current_generation(Path(index_dir))
        if gen is None:
            return cls(index_dir, None, light=True)
        try:
            published = Generation(gen, light=True)
            published.verify()  # a damaged generation is no base for an update: it is rebuilt in full
            return cls(index_dir, published, light=True)
        except IndexDamaged as e:
            fresh = cls(index_dir, None, light=True)
            fresh.damage = str(e)
            return fresh
        except IndexFormatError:
            # An older format is re-read from the files, but its vectors still spare the re-embedding.
            return cls(index_dir, Generation(gen, check_format=False), light=True)
        except Exception:  # noqa: BLE001 - a damaged previous index only costs a full re-embed
            return cls(index_dir, None, light=True)

    # --- life cycle -----------------------------------------------------------------------------

    @property
    def _live(self) -> Generation:
        if self._gen is None:
            raise IndexNotFound(f"No index in {self.index_dir}")
        return self._gen

    @property
    def manifest(self) -> Manifest:
        return cast(Manifest, self._gen.manifest) if self._gen is not None else {}

    @property
    def readable(self) -> bool:
        """Whether the published generation is of this program's format (else: rebuild)."""
        return self._gen is not None and self._gen.manifest.get("format_version") == FORMAT_VERSION

    def refresh(self, warm: Callable[[Backend], object] | None = None) -> bool:
        path = current_generation(self.index_dir)
        if path is None or (self._gen is not None and path == self._gen.path):
            return False
        with self._reload_lock:
            if self._gen is not None and path == self._gen.path:
                return False
            try:
                # the base of a delta already loaded is shared, not read again
                new = Generation(path, light=self._light, reuse=self._gen)
            except (OSError, sqlite3.Error, ValueError, RuntimeError):
                # Pruned or replaced between reading CURRENT and opening it: keep serving the
                # current generation; the next refresh will find the newest one.
                return False
            # a backend of its own over the new generation (never closed: it owns nothing else)
            warm_before_switch(warm, EmbeddedBackend(self.index_dir, new, light=self._light))
            # Searches in flight may still read the generation being replaced: it is closed one
            # refresh later, not now.
            if self._retired is not None:
                self._retired.close(keep=self._segment_ids(self._gen, new))
            self._retired, self._gen = self._gen, new
        return True

    def published_generation(self) -> str | None:
        """The generation CURRENT names (one small file read)."""
        path = current_generation(self.index_dir)
        return path.name if path is not None else None

    def status(self) -> dict[str, Any]:
        return {"backend": self.kind, "uri": None, "where": self.kind}

    @staticmethod
    def _segment_ids(*gens: Generation | None) -> set[int]:
        return {id(s) for g in gens if g is not None for s in g.segments}

    def close(self) -> None:
        if self._retired is not None:
            self._retired.close(keep=self._segment_ids(self._gen))
        if self._gen is not None:
            self._gen.close()

    # --- retrieval ------------------------------------------------------------------------------

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> dict[int, float]:
        return self.dense_many([vector], n, filters)[0]

    def dense_many(self, vectors: list[np.ndarray], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """Each vector's nearest passages, one index call a segment for the whole batch (the index is
        read once for all of them, and each gets what it gets searched alone)."""
        g = self._live
        found: list[dict[int, float]] = [{} for _ in vectors]
        if not vectors:
            return found
        batch = np.stack([np.asarray(v, dtype=np.float32).reshape(-1) for v in vectors])
        for seg in g.segments:
            k = min(n, int(seg.vectors.ntotal))
            if k <= 0:
                continue
            allowed = g.allowed_rows(seg, filters)
            rows_allowed = np.flatnonzero(allowed) if allowed is not None else None
            scores, rows = vector_index.search(seg.vectors, seg.vector_params, batch, k, rows_allowed)
            for out, r_row, s_row in zip(found, rows, scores, strict=True):
                kept = r_row >= 0  # -1: fewer than k allowed
                out.update(zip(seg.row_pid[r_row[kept]].tolist(), s_row[kept].tolist(), strict=True))
        if len(g.segments) == 1:
            return found
        return [dict(sorted(f.items(), key=lambda kv: (-kv[1], kv[0]))[:n]) for f in found]

    def keyword_many(self, queries: list[str], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        return [self.keyword(q, n, filters) for q in queries]

    def keyword(self, query: str, n: int, filters: Filters | None = None) -> dict[int, float]:
        g = self._live
        found: dict[int, float] = {}
        for seg, s in self._keyword_scores(g, query):
            allowed = g.allowed_rows(seg, filters)
            if allowed is not None:
                s = np.where(allowed, s, 0.0)
            nz = np.flatnonzero(s > 0)
            if nz.size > n:
                nz = nz[np.argpartition(-s[nz], n - 1)[:n]]
            found.update(zip(seg.row_pid[nz].tolist(), s[nz].tolist(), strict=True))  # as ints and floats
        if len(g.segments) == 1:
            return found
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))[:n])

    @staticmethod
    def _keyword_scores(g: Generation, query: str) -> list[tuple[Segment, np.ndarray]]:
        """BM25 of each segment's rows: a delta generation scores its base and its delta together,
        with the statistics of the rows it shows (delta.py), as a full build of the same files would."""
        delta = g.segments[-1]
        if delta.delta_keyword is None:
            return [(seg, seg.keyword.scores(query)) for seg in g.segments if seg.keyword is not None]
        base = g.base.keyword if g.base is not None else None
        base_scores, delta_scores = delta.delta_keyword.scores(query, base, g.visible[id(g.base)] if base else None)
        return ([(g.base, base_scores)] if g.base is not None and base is not None else []) + [(delta, delta_scores)]

    def vectors_matrix(self) -> np.ndarray:
        """Every stored vector of a full build's generation, in row order (for measurements)."""
        seg = self._live.segments[-1]
        return seg.vectors.reconstruct_n(0, int(seg.vectors.ntotal))

    # --- hydration ------------------------------------------------------------------------------

    def passages(self, pids: list[int]) -> list[PassageRow]:
        if not pids:
            return []
        marks = ",".join("?" * len(pids))
        rows = {r["pid"]: row_to_passage(r) for r in
                self._live.rows(f"SELECT * FROM passages WHERE pid IN ({marks})", tuple(int(p) for p in pids))}
        self._hand_over_words(rows)
        return [rows[p] for p in pids if p in rows]

    def _hand_over_words(self, rows: dict[int, PassageRow]) -> None:
        """The syllables the index stored for these passages, to the search's word cache (what a search
        would otherwise split each passage's text for)."""
        for seg, mine, at in self._segment_of(list(rows)):
            lines = seg.word_lines(at)
            if lines is not None:
                for pid, stored in zip(mine, lines, strict=True):
                    words.remember(rows[pid]["text"], stored)

    def doc_ids(self, pids: list[int]) -> dict[int, str]:
        """From the segments' row → document arrays, without reading a row from the database."""
        out: dict[int, str] = {}
        for seg, mine, rows in self._segment_of(pids):
            order = seg.doc_order
            out.update(zip(mine, [order[d] for d in seg.row_doc[rows].tolist()], strict=True))
        return out

    def doc_passages(self, doc_id: str) -> list[PassageRow]:
        rows = sorted((row_to_passage(r) for r in
                       self._live.rows("SELECT * FROM passages WHERE doc_id=? ORDER BY ordinal", (doc_id,))),
                      key=lambda r: r["ordinal"])
        self._hand_over_words({r["pid"]: r for r in rows})  # a document read whole (core/preload.py) is not split again
        return rows

    def _segment_of(self, pids: list[int]) -> list[tuple[Segment, list[int], list[int]]]:
        """The visible segment holding each pid, with the pids' rows in it (a pid of a hidden document
        belongs to no segment)."""
        g = self._live
        out = []
        pids = pids if all(type(p) is int for p in pids) else [int(p) for p in pids]  # numpy ints as ints
        for seg in g.segments:
            visible, pid_row = g.visible[id(seg)], seg.pid_row
            at = list(map(pid_row.get, pids))  # a hundred pids a call, several calls a search
            if visible is None and None not in at:  # a full build's one segment: all of them, at once
                out.append((seg, list(pids), cast(list[int], at)))
                continue
            kept = [(p, r) for p, r in zip(pids, at, strict=True) if r is not None and (visible is None or visible[r])]
            if kept:
                out.append((seg, [p for p, _ in kept], [r for _, r in kept]))
        return out

    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for g, mine, rows in self._segment_of(pids):
            for pid, row in zip(mine, rows, strict=True):
                a, b = int(g.sentence_at[row]), int(g.sentence_at[row + 1])
                if b > a:
                    out[pid] = (g.sentence_spans[a:b], np.asarray(g.sentence_vectors[a:b], dtype=np.float32))
        return out

    def sentence_scores(self, vector: np.ndarray, pids: list[int]) -> SentenceScores:
        out: SentenceScores = {}
        for seg, mine, rows in self._segment_of(pids):
            out.update(self._sentence_scores(seg, vector, mine, rows))
        return out

    def sentence_scores_many(self, vectors: list[np.ndarray], pid_lists: list[list[int]]) -> list[SentenceScores]:
        return [self.sentence_scores(v, pids) for v, pids in zip(vectors, pid_lists, strict=True)]

    @staticmethod
    def _sentence_scores(g: Segment, vector: np.ndarray, pids: list[int],
                         rows: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The similarities of the sentences of `pids` (at `rows` of segment `g`) to `vector`."""
        at_rows = np.asarray(rows, dtype=np.int64)
        starts, ends = g.sentence_at[at_rows], g.sentence_at[at_rows + 1]
        has = ends > starts
        pids_known, starts, ends = np.asarray(pids, dtype=np.int64)[has], starts[has], ends[has]
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

    def neighbours_of(self, places: list[tuple[str, int]], radius: int = 1) -> list[list[PassageRow]]:
        out: list[list[PassageRow]] = []
        for i in range(0, len(places), NEIGHBOUR_PLACES):  # well under SQLite's limit of bound values
            chunk = places[i : i + NEIGHBOUR_PLACES]
            where = " OR ".join(["(doc_id=? AND ordinal BETWEEN ? AND ?)"] * len(chunk))
            args = tuple(x for d, o in chunk for x in (d, int(o) - radius, int(o) + radius))
            rows = [row_to_passage(r) for r in self._live.rows(f"SELECT * FROM passages WHERE {where}", args)]
            out += [near(rows, d, o, radius) for d, o in chunk]
        return out

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None:
        if not with_text:  # the metadata of every document is in memory; only the text is on disk
            return self._live.docs.get(doc_id)
        rows = self._live.rows("SELECT * FROM documents WHERE doc_id=?", (doc_id,))
        return row_to_document(rows[0], with_text) if rows else None

    def documents(self, doc_ids: list[str] | None = None) -> list[DocumentRow]:
        docs = self._live.docs
        if doc_ids is None:
            return list(docs.values())
        return [docs[d] for d in sorted(set(doc_ids)) if d in docs]

    # --- references -----------------------------------------------------------------------------

    def pids_citing(self, key: str) -> list[int]:
        return sorted({r["pid"] for r in self._live.rows("SELECT DISTINCT pid, doc_id FROM refs WHERE key=?", (key,))})

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not pids:
            return {}
        marks = ",".join("?" * len(pids))
        out: dict[int, list[dict[str, Any]]] = {int(p): [] for p in pids}
        rows = self._live.rows(f"SELECT * FROM refs WHERE pid IN ({marks}) ORDER BY pid, start", tuple(map(int, pids)))
        for r in sorted(rows, key=lambda r: (r["pid"], r["start"])):  # (a pid lives in one segment: stable)
            out[r["pid"]].append(dict(r))
        return out

    def key_label(self, key: str) -> str | None:
        """How `key` is written: the indexed document's own spelling first, else a citing one."""
        g = self._live
        own = g.rows("SELECT doc_id, label FROM doc_keys WHERE key=? ORDER BY doc_id", (key,))
        if own:
            return min(own, key=lambda r: r["doc_id"])["label"]
        cited = g.rows("SELECT doc_id, MIN(label) AS label FROM refs WHERE key=? GROUP BY doc_id", (key,))
        return min(r["label"] for r in cited) if cited else None

    def docs_with_key(self, key: str) -> list[str]:
        return sorted({r["doc_id"] for r in self._live.rows("SELECT doc_id FROM doc_keys WHERE key=?", (key,))})

    def reference_counts(self) -> list[dict[str, Any]]:
        """Every key that is cited or that names an indexed document, with counts."""
        g = self._live
        # per document, then summed: a pid and a doc_id live in one segment, so the sums are exact
        rows = g.rows("SELECT key, doc_id, MIN(label) AS label, COUNT(DISTINCT pid) AS passages "
                      "FROM refs GROUP BY key, doc_id")
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            item = out.setdefault(r["key"], {"key": r["key"], "label": r["label"], "citing_passages": 0,
                                             "citing_documents": 0, "doc_ids": []})
            item["label"] = min(item["label"], r["label"])
            item["citing_passages"] += r["passages"]
            item["citing_documents"] += 1
        for r in g.rows("SELECT doc_id, key, label FROM doc_keys"):
            item = out.setdefault(r["key"], {"key": r["key"], "label": r["label"], "citing_passages": 0,
                                             "citing_documents": 0, "doc_ids": []})
            item["label"] = r["label"]
            item["doc_ids"].append(r["doc_id"])
        return sorted(out.values(), key=lambda x: (-x["citing_passages"], x["key"]))

    def graph_rows(self) -> list[dict[str, Any]]:
        g = self._live
        rows = [r for seg in g.segments for r in seg.graph_rows() if not g.hides(seg, r["doc_id"])]
        return sorted(rows, key=lambda r: r["doc_id"])

    # --- write side -----------------------------------------------------------------------------

    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        g = self._gen
        if g is None or not embed_hashes:
            return {}
        out: dict[str, np.ndarray] = {}
        for seg in reversed(g.segments):  # a hidden document's vectors are still right for its text
            if not seg.query("SELECT name FROM sqlite_master WHERE type='table' AND name='embeddings'"):
                out.update({h: v for h, v in _format2_vectors(seg, set(embed_hashes)).items() if h not in out})
                continue
            todo = [h for h in embed_hashes if h not in out]
            for s in range(0, len(todo), 500):
                chunk = todo[s : s + 500]
                marks = ",".join("?" * len(chunk))
                for h, blob in seg.query(f"SELECT embed_hash, vector FROM embeddings WHERE embed_hash IN ({marks})",
                                         tuple(chunk)):
                    out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def begin(self, full: bool) -> EmbeddedWriter:
        return EmbeddedWriter(self.index_dir, None if (full or not self.readable) else self._live)

"""Reads by id under the published view: passages, sentences, documents, references, graph rows and the
embedding cache. A part of MilvusBackend (`reader.py`), reading through its session and published view."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np

from indexer.records import DocumentRow, PassageRow
from indexer.store.base import near
from indexer.store.milvus.common import (
    IN_CHUNK,
    NO_PAGE,
)
from indexer.store.milvus.expressions import (
    int_list,
    lit,
    lit_list,
)
from indexer.store.milvus.published import Published
from indexer.store.milvus.view import _View

NEIGHBOUR_PLACES = 100  # places of neighbours_of per query expression
PASSAGE_FIELDS = ["pid", "doc_id", "ordinal", "start", "end", "section", "page", "text", "spill", "born"]
DOC_FIELDS = ["doc_id", "path", "born", "meta", "meta_spill", "text_chunks"]
SENTENCE_FIELDS = ["pid", "born", "k", "start", "end", "embed_hash", "dense"]


def newest(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """One row per `key`: the newest (a document id indexed from two files keeps one version)."""
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        k = r[key]
        if k not in out or int(r.get("born", 0)) > int(out[k].get("born", 0)):
            out[k] = r
    return out


def sentence_rows(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """pid → its sentence rows in order. A pid visible in two versions (a document id indexed from
    two files) keeps the newest one's sentences, as `newest` keeps the newest passage."""
    by_pid: dict[int, dict[int, list[dict[str, Any]]]] = {}
    for r in rows:
        by_pid.setdefault(int(r["pid"]), {}).setdefault(int(r["born"]), []).append(r)
    return {pid: sorted(versions[max(versions)], key=lambda r: int(r["k"])) for pid, versions in by_pid.items()}


def _copy(row: PassageRow) -> PassageRow:
    """A copy of a cached row: a caller may change what it got without changing the cache."""
    return {**row, "section": list(row["section"])}


class MilvusRows:
    """The by-id reads of MilvusBackend; every one runs through `published.read` (one view, retried once)."""

    def __init__(self, published: Published) -> None:
        self.published = published
        self.session = published.session

    def _spilled(self, v: _View, owner_kinds: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(owner, kind) → the reassembled text of a spilled value."""
        out: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for owner in sorted({o for o, _ in owner_kinds}):
            kinds = sorted({k for o, k in owner_kinds if o == owner})
            for s in range(0, len(kinds), IN_CHUNK):
                expr = v.where(f"owner == {lit(owner)} and kind in {lit_list(kinds[s : s + IN_CHUNK])}")
                for r in self.session.scan(v.names["texts"], expr, ["owner", "kind", "chunk_no", "data"]):
                    out.setdefault((r["owner"], r["kind"]), []).append((int(r["chunk_no"]), r["data"]))
        return {k: "".join(d for _, d in sorted(parts)) for k, parts in out.items()}

    def _passage_rows(self, v: _View, rows: list[dict[str, Any]]) -> list[PassageRow]:
        spilled = [(r["doc_id"], f"passage:{r['pid']}") for r in rows if r.get("spill")]
        bodies = self._spilled(v, spilled) if spilled else {}
        out: list[PassageRow] = []
        for r in rows:
            text, section = r["text"], r["section"]
            if r.get("spill"):
                body = json.loads(bodies.get((r["doc_id"], f"passage:{r['pid']}"), "{}") or "{}")
                text, section = body.get("text", ""), body.get("section", "[]")
            out.append({"pid": int(r["pid"]), "doc_id": r["doc_id"], "ordinal": int(r["ordinal"]),
                        "start": int(r["start"]), "end": int(r["end"]), "section": json.loads(section),
                        "page": None if r.get("page") in (None, NO_PAGE) else int(r["page"]), "text": text})
        return out

    def passages(self, pids: list[int]) -> list[PassageRow]:
        if not pids:
            return []
        wanted = sorted({int(p) for p in pids})

        def run(v: _View) -> list[PassageRow]:
            by_pid = v.passages.get_many(wanted)  # read by an earlier call on this version
            missing = [p for p in wanted if p not in by_pid]
            rows: list[dict[str, Any]] = []
            for s in range(0, len(missing), IN_CHUNK):
                expr = v.where(f"pid in {int_list(missing[s : s + IN_CHUNK])}")
                rows += self.session.query(v.names["passages"], expr, PASSAGE_FIELDS)
            fresh = {r["pid"]: r for r in self._passage_rows(v, list(newest(rows, "pid").values()))}
            v.passages.put_many(fresh)
            by_pid.update(fresh)
            # copies: a caller may change what it got without changing the cache
            return [_copy(by_pid[int(p)]) for p in pids if int(p) in by_pid]

        return self.published.read(run)

    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """pid → (spans (k, 2) int64, vectors (k, dim) float32) of its sentences, in order; pids without
        stored sentences are left out. One query per IN_CHUNK pids (a search asks for ~100)."""
        if not pids:
            return {}
        wanted = sorted({int(p) for p in pids})

        def run(v: _View) -> dict[int, tuple[np.ndarray, np.ndarray]]:
            name = v.names.get("sentences")
            if name is None:  # a set of an older format
                return {}
            rows: list[dict[str, Any]] = []
            for s in range(0, len(wanted), IN_CHUNK):
                rows += self.session.query(name, v.where(f"pid in {int_list(wanted[s : s + IN_CHUNK])}"),
                                    ["pid", "born", "k", "start", "end", "dense"])
            return {pid: (np.array([[int(r["start"]), int(r["end"])] for r in rs], dtype=np.int64).reshape(-1, 2),
                          np.asarray([r["dense"] for r in rs], dtype=np.float32))
                    for pid, rs in sentence_rows(rows).items()}

        return self.published.read(run)

    def doc_passages(self, doc_id: str) -> list[PassageRow]:
        def run(v: _View) -> list[PassageRow]:
            rows = list(self.session.scan(v.names["passages"], v.where(f"doc_id == {lit(doc_id)}"), PASSAGE_FIELDS))
            return sorted(self._passage_rows(v, list(newest(rows, "pid").values())), key=lambda r: r["ordinal"])

        return self.published.read(run)

    def neighbours_of(self, places: list[tuple[str, int]], radius: int = 1) -> list[list[PassageRow]]:
        """One query for every place: a page of hits costs one round trip, not one a hit."""
        if not places:
            return []

        def run(v: _View) -> list[list[PassageRow]]:
            r, unique, found = int(radius), list(dict.fromkeys(places)), []
            for i in range(0, len(unique), NEIGHBOUR_PLACES):  # an expression of bounded length
                expr = v.where(" or ".join(f"(doc_id == {lit(d)} and ordinal >= {int(o) - r} and "
                                           f"ordinal <= {int(o) + r})" for d, o in unique[i : i + NEIGHBOUR_PLACES]))
                found += self.session.query(v.names["passages"], expr, PASSAGE_FIELDS)
            rows = self._passage_rows(v, list(newest(found, "pid").values()))
            return [near(rows, d, o, r) for d, o in places]

        return self.published.read(run)

    def _doc_rows(self, v: _View, rows: list[dict[str, Any]], with_text: bool) -> list[DocumentRow]:
        need = [(r["doc_id"], "meta") for r in rows if r.get("meta_spill")]
        if with_text:
            need += [(r["doc_id"], "text") for r in rows]
        spilled = self._spilled(v, need) if need else {}
        out: list[DocumentRow] = []
        for r in rows:
            meta = json.loads(spilled.get((r["doc_id"], "meta"), "{}") if r.get("meta_spill") else r["meta"])
            d: DocumentRow = {"doc_id": r["doc_id"], "title": meta.get("title"), "doc_number": meta.get("doc_number"),
                 "doc_type": meta.get("doc_type"), "issuer": meta.get("issuer"), "date": meta.get("date"),
                 "source": meta.get("source"), "file_hash": meta.get("file_hash"), "extra": meta.get("extra") or {},
                 "pages": meta.get("pages") or [], "path": r["path"]}
            if with_text:
                d["text"] = spilled.get((r["doc_id"], "text"), "")
            out.append(d)
        return out

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None:
        def run(v: _View) -> DocumentRow | None:
            rows = self.session.query(v.names["documents"], v.where(f"doc_id == {lit(doc_id)}"), DOC_FIELDS)
            if not rows:
                return None
            return self._doc_rows(v, [newest(rows, "doc_id")[doc_id]], with_text)[0]

        return self.published.read(run)

    def documents(self, doc_ids: list[str] | None = None) -> list[DocumentRow]:
        def run(v: _View) -> list[DocumentRow]:
            if doc_ids is not None and "documents" not in v.cache:
                # a few documents (hydrating hits): one query, not the whole table
                rows: list[dict[str, Any]] = []
                wanted = sorted(set(doc_ids))
                for s in range(0, len(wanted), 500):
                    expr = v.where(f"doc_id in {lit_list(wanted[s:s + 500])}")
                    rows += self.session.query(v.names["documents"], expr, DOC_FIELDS)
                found = self._doc_rows(v, list(newest(rows, "doc_id").values()), False)
                return sorted(found, key=lambda d: d["doc_id"])
            with v.lock:
                if "documents" not in v.cache:  # a published version never changes: cache it whole
                    rows = list(newest(self.session.scan(v.names["documents"], v.vis, DOC_FIELDS),
                                             "doc_id").values())
                    v.cache["documents"] = sorted(self._doc_rows(v, rows, False), key=lambda d: d["doc_id"])
                    v.cache["documents_by_id"] = {d["doc_id"]: d for d in v.cache["documents"]}
                if doc_ids is not None:  # a search's few documents (each search hydrates its hits'): by id
                    by_id = v.cache["documents_by_id"]
                    return [DocumentRow(**by_id[d]) for d in sorted(set(doc_ids)) if d in by_id]
                return [DocumentRow(**d) for d in v.cache["documents"]]

        return self.published.read(run)

    # --- references -----------------------------------------------------------------------------

    def pids_citing(self, key: str) -> list[int]:
        def run(v: _View) -> list[int]:
            rows = self.session.scan(v.names["refs"], v.where(f"key == {lit(key)}"), ["pid"])
            return sorted({int(r["pid"]) for r in rows})

        return self.published.read(run)

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not pids:
            return {}
        wanted = sorted({int(p) for p in pids})

        def run(v: _View) -> dict[int, list[dict[str, Any]]]:
            out: dict[int, list[dict[str, Any]]] = {int(p): [] for p in pids}
            fields = ["pid", "doc_id", "key", "label", "kind", "start", "end"]
            rows: list[dict[str, Any]] = []
            for s in range(0, len(wanted), IN_CHUNK):
                expr = v.where(f"pid in {int_list(wanted[s : s + IN_CHUNK])}")
                rows += self.session.query(v.names["refs"], expr, fields)
            for r in sorted(rows, key=lambda r: (int(r["pid"]), int(r["start"]), int(r["end"]), r["key"])):
                out[int(r["pid"])].append({k: (int(r[k]) if k in ("pid", "start", "end") else r[k]) for k in fields})
            return out

        return self.published.read(run)

    def key_label(self, key: str) -> str | None:
        """How `key` is written: the indexed document's own spelling first, else a citing one."""

        def run(v: _View) -> str | None:
            own = self.session.query(v.names["keys"], v.where(f"key == {lit(key)}"), ["doc_id", "label"])
            if own:
                return min(own, key=lambda r: r["doc_id"])["label"]
            cited = {r["label"] for r in self.session.scan(v.names["refs"], v.where(f"key == {lit(key)}"), ["label"])}
            return min(cited) if cited else None

        return self.published.read(run)

    def docs_with_key(self, key: str) -> list[str]:
        def run(v: _View) -> list[str]:
            rows = self.session.query(v.names["keys"], v.where(f"key == {lit(key)}"), ["doc_id"])
            return sorted({r["doc_id"] for r in rows})

        return self.published.read(run)

    def reference_counts(self) -> list[dict[str, Any]]:
        """Every key that is cited or that names an indexed document, with counts."""

        def run(v: _View) -> list[dict[str, Any]]:
            with v.lock:
                if "refcounts" not in v.cache:
                    v.cache["refcounts"] = self._reference_counts(v)
                return [{**item, "doc_ids": list(item["doc_ids"])} for item in v.cache["refcounts"]]

        return self.published.read(run)

    def _reference_counts(self, v: _View) -> list[dict[str, Any]]:
        agg: dict[str, dict[str, Any]] = {}
        for r in self.session.scan(v.names["refs"], v.vis, ["pid", "doc_id", "key", "label"]):
            a = agg.setdefault(r["key"], {"labels": set(), "pids": set(), "docs": set()})
            a["labels"].add(r["label"])
            a["pids"].add(int(r["pid"]))
            a["docs"].add(r["doc_id"])
        out = {k: {"key": k, "label": min(a["labels"]), "citing_passages": len(a["pids"]),
                   "citing_documents": len(a["docs"]), "doc_ids": []} for k, a in agg.items()}
        keys = self.session.scan(v.names["keys"], v.vis, ["doc_id", "key", "label"])
        for r in sorted(keys, key=lambda r: r["doc_id"]):
            item = out.setdefault(r["key"], {"key": r["key"], "label": r["label"], "citing_passages": 0,
                                             "citing_documents": 0, "doc_ids": []})
            if not item["doc_ids"]:
                item["label"] = r["label"]  # the indexed document's own spelling
            if r["doc_id"] not in item["doc_ids"]:
                item["doc_ids"].append(r["doc_id"])
        return sorted(out.values(), key=lambda x: (-x["citing_passages"], x["key"]))

    def graph_rows(self) -> list[dict[str, Any]]:
        """Every visible document's graph row: its chunks of the newest version of each doc_id."""

        def run(v: _View) -> list[dict[str, Any]]:
            name = v.names.get("graph")
            if name is None:  # a set of an older format
                return []
            parts: dict[str, dict[int, list[tuple[int, str]]]] = {}
            for r in self.session.scan(name, v.vis, ["doc_id", "born", "chunk_no", "data"]):
                parts.setdefault(r["doc_id"], {}).setdefault(int(r["born"]), []).append((int(r["chunk_no"]), r["data"]))
            return [json.loads("".join(d for _, d in sorted(versions[max(versions)])))
                    for _doc_id, versions in sorted(parts.items())]

        return self.published.read(run)

    # --- the embedding cache ---------------------------------------------------------------------

    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        """embed hash → stored vector, for the hashes some visible passage or sentence already has
        (passages first; the sentences collection is asked only for the hashes still missing)."""
        if self.published.view is None or not embed_hashes:
            return {}
        wanted = sorted(set(embed_hashes))

        def run(v: _View) -> dict[str, np.ndarray]:
            out: dict[str, np.ndarray] = {}
            todo = wanted
            for kind in ("passages", "sentences"):
                if not todo or kind not in v.names:
                    continue
                for s in range(0, len(todo), IN_CHUNK):
                    expr = v.where(f"embed_hash in {lit_list(todo[s : s + IN_CHUNK])}")
                    for r in self.session.query(v.names[kind], expr, ["embed_hash", "dense"]):
                        out.setdefault(r["embed_hash"], np.asarray(r["dense"], dtype=np.float32))
                todo = [h for h in todo if h not in out]
            return out

        return self.published.read(run)

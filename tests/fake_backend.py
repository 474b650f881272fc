"""An in-memory backend: every `Backend` role over Python dicts, for fast unit tests of the search core and
as the third backend of the contract suite (tests/test_backend_contract.py).

Each index folder name maps to a published state in this process (`_PUBLISHED`); a writer works on a copy
and `publish` swaps it in whole, so a reader keeps its version until `refresh`, as on the real backends.
Dense scores are exact inner products, keyword scores the embedded backend's BM25 (`KeywordIndex`).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np

from indexer.embed.cache import fill_vectors
from indexer.embed.hashing import HashEmbedder
from indexer.pipeline.stages import document_records
from indexer.records import Document, DocumentRecords, DocumentRow, Filters, Manifest, PassageRow
from indexer.split import split_document
from indexer.store.base import (
    Backend,
    IndexNotFound,
    SentenceScores,
    StoreConfig,
    Writer,
    near,
    warm_before_switch,
)
from indexer.store.index_types import INDEX_TYPES
from indexer.store.keyword import KeywordIndex
from indexer.text.document_graph import document_graph

EMBEDDER = HashEmbedder(64)

# Three visibly synthetic documents: a law citing a resolution, the resolution, an interview citing it.
LAW = """Điều 1. Phạm vi điều chỉnh
Văn bản thử nghiệm này quy định về kho dữ liệu giả định và vùng thử nghiệm.
Điều 2. Trách nhiệm
Cơ quan thử nghiệm thực hiện Nghị quyết số 999-NQ/TEST về kho văn bản giả định.
Điều 3. Hiệu lực
Văn bản thử nghiệm có hiệu lực kể từ ngày ký ban hành giả định."""

RESOLUTION = """1. Mục tiêu
Nghị quyết thử nghiệm đặt mục tiêu xây dựng kho văn bản giả định có từ khoá zyxwv.
2. Nhiệm vụ
Các cơ quan thử nghiệm tổ chức thực hiện Nghị quyết này trong năm 2099."""

INTERVIEW = """BBT: Xin cho biết kho văn bản thử nghiệm dùng để làm gì?
Nhân vật giả định: Kho giúp kiểm tra việc tách đoạn và việc trích dẫn Nghị quyết số 999-NQ/TEST."""

DOCS = [
    Document(doc_id="luat-999", title="Luật thử nghiệm", text=LAW, path="luat.txt", doc_number="999/2099/QH99",
             doc_type="Luật", issuer="Quốc hội", date="2099-06-05", source="Văn bản thử nghiệm"),
    Document(doc_id="nq-999", title="Nghị quyết thử nghiệm", text=RESOLUTION, path="nq.txt",
             doc_number="999-NQ/TEST", doc_type="Nghị quyết", issuer="Ban thử nghiệm", date="2098-01-02",
             source="Văn bản thử nghiệm"),
    Document(doc_id="phong-van", title="Phỏng vấn thử nghiệm", text=INTERVIEW, path="pv.txt",
             source="Văn bản thử nghiệm", extra={"interviewee": "Nhân vật giả định"}),
]


def make_records(doc: Document, embedder: HashEmbedder = EMBEDDER) -> DocumentRecords:
    """`doc` as the pipeline hands it to a writer: split, references found, embedded (no model loaded)."""
    rec = document_records(doc, split_document(doc.doc_id, doc.text, pages=doc.pages), embedder.name, True)
    fill_vectors([rec], [], embedder)
    return rec


@dataclass
class _State:
    """One published version: every document's records by doc_id, and its manifest."""

    records: dict[str, DocumentRecords] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    _keyword: tuple[list[int], KeywordIndex] | None = None

    def keyword_index(self) -> tuple[list[int], KeywordIndex]:
        if self._keyword is None:
            pids = [p for r in self.records.values() for p in r.pids]
            texts = [t for r in self.records.values() for t in r.embed_texts]
            self._keyword = (pids, KeywordIndex().index(texts))
        return self._keyword


_PUBLISHED: dict[str, _State] = {}
_GENERATIONS = itertools.count(1)


class FakeWriter(Writer):
    def __init__(self, index_dir: Path, base: _State | None) -> None:
        self.index_dir = index_dir
        self.records = dict(base.records) if base is not None else {}
        self.done = False

    def delete_file(self, path: str) -> None:
        self.records = {d: r for d, r in self.records.items() if r.doc.path != path}

    def add(self, records: DocumentRecords) -> None:
        if self.done:
            raise RuntimeError("this writer was already published or aborted")
        if len(records.vectors) != len(records.passages):
            raise ValueError(f"{records.doc.doc_id}: {len(records.passages)} passages, {len(records.vectors)} vectors")
        self.records[records.doc.doc_id] = copy.deepcopy(records)

    def publish(self, manifest: dict[str, Any]) -> None:
        if self.done:
            return
        self.done = True
        n = sum(len(r.passages) for r in self.records.values())
        _PUBLISHED[str(self.index_dir)] = _State(dict(self.records), {
            **manifest, "backend": "fake", "generation": f"fake-{next(_GENERATIONS)}",
            "documents": len(self.records), "passages": n})

    def abort(self) -> None:
        self.done = True

    def sharded(self) -> None:
        return None


class FakeBackend(Backend):
    kind: ClassVar[str] = "fake"
    remote: ClassVar[bool] = False
    index_types: ClassVar[tuple[str, ...]] = INDEX_TYPES

    def __init__(self, index_dir: Path, state: _State | None) -> None:
        self.index_dir = Path(index_dir)
        self._state = state

    # --- life cycle -----------------------------------------------------------------------------

    @classmethod
    def exists(cls, index_dir: Path, config: StoreConfig) -> bool:
        return str(index_dir) in _PUBLISHED

    @classmethod
    def open(cls, index_dir: Path, config: StoreConfig | None = None, check_format: bool = True) -> FakeBackend:
        if str(index_dir) not in _PUBLISHED:
            raise IndexNotFound(f"No index in {index_dir}")
        return cls(index_dir, _PUBLISHED[str(index_dir)])

    @classmethod
    def create(cls, index_dir: Path, config: StoreConfig | None = None) -> FakeBackend:
        return cls(index_dir, _PUBLISHED.get(str(index_dir)))

    @property
    def _live(self) -> _State:
        if self._state is None:
            raise IndexNotFound(f"No index in {self.index_dir}")
        return self._state

    @property
    def manifest(self) -> Manifest:
        return cast(Manifest, self._state.manifest) if self._state is not None else {}

    @property
    def readable(self) -> bool:
        return self._state is not None

    def refresh(self, warm: Callable[[Backend], object] | None = None) -> bool:
        new = _PUBLISHED.get(str(self.index_dir))
        if new is None or new is self._state:
            return False
        warm_before_switch(warm, FakeBackend(self.index_dir, new))
        self._state = new
        return True

    def published_generation(self) -> str | None:
        new = _PUBLISHED.get(str(self.index_dir))
        return new.manifest["generation"] if new is not None else None

    def status(self) -> dict[str, Any]:
        return {"backend": self.kind, "uri": None, "where": "fake (in memory)"}

    def close(self) -> None:
        pass

    # --- retrieval ------------------------------------------------------------------------------

    def _docs_in(self, filters: Filters | None) -> set[str]:
        s = self._live
        return {d for d, r in s.records.items() if filters is None or filters.accepts(_doc_row(r))}

    def dense_many(self, vectors: list[np.ndarray], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        s, docs = self._live, self._docs_in(filters)
        pids = [p for d, r in s.records.items() if d in docs for p in r.pids]
        mat = [r.vectors for d, r in s.records.items() if d in docs and len(r.pids)]
        out: list[dict[int, float]] = []
        for v in vectors:
            scores = np.concatenate(mat) @ np.asarray(v, dtype=np.float32) if mat else np.zeros(0)
            top = sorted(zip(pids, scores.tolist(), strict=True), key=lambda x: (-x[1], x[0]))[: max(n, 0)]
            out.append(dict(top))
        return out

    def keyword_many(self, queries: list[str], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        s, docs = self._live, self._docs_in(filters)
        pids, index = s.keyword_index()
        allowed = {p for d, r in s.records.items() if d in docs for p in r.pids}
        out: list[dict[int, float]] = []
        for q in queries:
            scores = index.scores(q)
            found = [(p, float(x)) for p, x in zip(pids, scores.tolist(), strict=True) if x > 0 and p in allowed]
            out.append(dict(sorted(found, key=lambda x: (-x[1], x[0]))[: max(n, 0)]))
        return out

    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        wanted = {int(p) for p in pids}
        for r in self._live.records.values():
            j = 0
            for pid, spans in zip(r.pids, r.sentences, strict=False):
                if pid in wanted and spans and r.sentence_vectors is not None:
                    out[pid] = (np.array(spans, dtype=np.int64).reshape(-1, 2),
                                np.asarray(r.sentence_vectors[j : j + len(spans)], dtype=np.float32))
                j += len(spans)
        return out

    def sentence_scores_many(self, vectors: list[np.ndarray], pid_lists: list[list[int]]) -> list[SentenceScores]:
        out: list[SentenceScores] = []
        for v, pids in zip(vectors, pid_lists, strict=True):
            q = np.asarray(v, dtype=np.float32)
            out.append({p: (spans, (vecs @ q).astype(np.float32)) for p, (spans, vecs) in self.sentences(pids).items()})
        return out

    # --- rows -----------------------------------------------------------------------------------

    def _rows(self) -> dict[int, PassageRow]:
        return {pid: _passage_row(r, i) for r in self._live.records.values() for i, pid in enumerate(r.pids)}

    def passages(self, pids: list[int]) -> list[PassageRow]:
        rows = self._rows()
        return [rows[int(p)] for p in pids if int(p) in rows]

    def doc_passages(self, doc_id: str) -> list[PassageRow]:
        r = self._live.records.get(doc_id)
        return sorted((_passage_row(r, i) for i in range(len(r.pids))), key=lambda x: x["ordinal"]) if r else []

    def neighbours_of(self, places: list[tuple[str, int]], radius: int = 1) -> list[list[PassageRow]]:
        rows = list(self._rows().values())
        return [near(rows, d, o, radius) for d, o in places]

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None:
        r = self._live.records.get(doc_id)
        if r is None:
            return None
        row = _doc_row(r)
        if with_text:
            row["text"] = r.doc.text
        return row

    def documents(self, doc_ids: list[str] | None = None) -> list[DocumentRow]:
        recs = self._live.records
        wanted = sorted(recs) if doc_ids is None else sorted(set(doc_ids) & set(recs))
        return [_doc_row(recs[d]) for d in wanted]

    def graph_rows(self) -> list[dict[str, Any]]:
        return [document_graph(r) for _d, r in sorted(self._live.records.items())]

    # --- references -----------------------------------------------------------------------------

    def _refs(self) -> list[dict[str, Any]]:
        return [{"pid": pid, "doc_id": r.doc.doc_id, "key": x.key, "label": x.label, "kind": x.kind,
                 "start": x.start, "end": x.end}
                for r in self._live.records.values() for pid, refs in zip(r.pids, r.refs, strict=True) for x in refs]

    def pids_citing(self, key: str) -> list[int]:
        return sorted({x["pid"] for x in self._refs() if x["key"] == key})

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {int(p): [] for p in pids}
        for x in sorted(self._refs(), key=lambda x: (x["pid"], x["start"])):
            if x["pid"] in out:
                out[x["pid"]].append(x)
        return out

    def _keys(self) -> list[tuple[str, str, str]]:
        return sorted((d, k, label) for d, r in self._live.records.items() for k, label in r.keys)

    def key_label(self, key: str) -> str | None:
        own = [label for _d, k, label in self._keys() if k == key]
        if own:
            return own[0]
        cited = [x["label"] for x in self._refs() if x["key"] == key]
        return min(cited) if cited else None

    def docs_with_key(self, key: str) -> list[str]:
        return sorted({d for d, k, _label in self._keys() if k == key})

    def reference_counts(self) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for x in self._refs():
            item = out.setdefault(x["key"], {"key": x["key"], "label": x["label"], "pids": set(), "docs": set(),
                                             "doc_ids": []})
            item["label"] = min(item["label"], x["label"])
            item["pids"].add(x["pid"])
            item["docs"].add(x["doc_id"])
        for d, k, label in self._keys():
            item = out.setdefault(k, {"key": k, "label": label, "pids": set(), "docs": set(), "doc_ids": []})
            item["label"] = label
            item["doc_ids"].append(d)
        rows = [{"key": i["key"], "label": i["label"], "citing_passages": len(i["pids"]),
                 "citing_documents": len(i["docs"]), "doc_ids": i["doc_ids"]} for i in out.values()]
        return sorted(rows, key=lambda x: (-x["citing_passages"], x["key"]))

    # --- writing --------------------------------------------------------------------------------

    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        if self._state is None:
            return {}
        wanted, out = set(embed_hashes), {}
        for r in self._state.records.values():
            out.update({h: r.vectors[i] for i, h in enumerate(r.embed_hashes) if h in wanted})
            if r.sentence_vectors is not None:
                out.update({h: r.sentence_vectors[i] for i, h in enumerate(r.sentence_hashes) if h in wanted})
        return out

    def begin(self, full: bool) -> FakeWriter:
        return FakeWriter(self.index_dir, None if full else self._state)


def _passage_row(r: DocumentRecords, i: int) -> PassageRow:
    p = r.passages[i]
    return {"pid": int(r.pids[i]), "doc_id": p.doc_id, "ordinal": p.ordinal, "start": p.start, "end": p.end,
            "section": list(p.section), "page": p.page, "text": p.text}


def _doc_row(r: DocumentRecords) -> DocumentRow:
    d = r.doc
    return {"doc_id": d.doc_id, "title": d.title, "doc_number": d.doc_number, "doc_type": d.doc_type,
            "issuer": d.issuer, "date": d.date, "source": d.source, "file_hash": d.file_hash, "extra": dict(d.extra),
            "pages": [[p.start, p.end, p.page] for p in d.pages], "path": d.path}


_: type[Backend] = FakeBackend  # the checker sees the fake satisfy every role, as the real backends do

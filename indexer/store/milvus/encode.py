"""A document's records as the rows of the Milvus collections (what `MilvusWriter.add` inserts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from indexer.records import Document, DocumentRecords, doc_year
from indexer.store.keyword import exact_tokens, folded_tokens
from indexer.store.milvus.common import DUMMY, FILTER_MAX, MAX_VARCHAR, NO_PAGE, NO_TEXT, NO_YEAR
from indexer.store.milvus.expressions import _chunks, _clip, _nbytes, keyword_field
from indexer.text.document_graph import document_graph

Row = dict[str, Any]


def _or(value: Any, sentinel: Any) -> Any:
    return sentinel if value is None else value


def checked_vectors(rec: DocumentRecords, dim_now: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """The record's passage and sentence vectors, checked against its passages and sentences, and their
    dimension (`dim_now`, the writer's, when the record has no passage)."""
    d = rec.doc
    vectors = np.asarray(rec.vectors, dtype=np.float32)
    if len(rec.passages) and vectors.shape != (len(rec.passages), vectors.shape[-1]):
        raise ValueError(f"{d.doc_id}: {len(rec.passages)} passages but vectors of shape {vectors.shape}")
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else (dim_now or 0)
    n_sent = sum(len(spans) for spans in rec.sentences)
    svecs = np.zeros((0, dim), dtype=np.float32)
    if rec.sentences:
        if len(rec.sentences) != len(rec.passages):
            raise ValueError(f"{d.doc_id}: {len(rec.passages)} passages but {len(rec.sentences)} sentence lists")
        if n_sent:
            svecs = np.asarray(rec.sentence_vectors if rec.sentence_vectors is not None else svecs, dtype=np.float32)
        if len(rec.sentence_hashes) != n_sent or svecs.shape != (n_sent, dim):
            raise ValueError(f"{d.doc_id}: {n_sent} sentences but {len(rec.sentence_hashes)} sentence hashes "
                             f"and sentence vectors of shape {svecs.shape} (dimension {dim})")
    return vectors, svecs, dim


class Encoder:
    """The rows of one document, born at epoch `born`, with row ids from `rid` (taken in the order the rows
    are made: texts, document, passages, references, graph, keys, sentences)."""

    def __init__(self, born: int, rid: Callable[[], int], doc: Document) -> None:
        self.born, self.rid, self.d = born, rid, doc
        self.filters = {"doc_type": _or(_clip(doc.doc_type, FILTER_MAX), NO_TEXT),
                        "issuer": _or(_clip(doc.issuer, FILTER_MAX), NO_TEXT), "year": _or(doc_year(doc.date), NO_YEAR)}

    def _row(self, **fields: Any) -> Row:
        return {"rid": self.rid(), "born": self.born, "path": self.d.path, **fields}

    def texts(self, owner: str, kind: str, value: str) -> list[Row]:
        """`value` in chunks for the `texts` collection (what does not fit a VARCHAR)."""
        return [self._row(owner=owner, kind=kind, chunk_no=i, data=c, _v=DUMMY) for i, c in enumerate(_chunks(value))]

    def document(self) -> tuple[Row, list[Row]]:
        """The document's row, and its `texts` rows (its text, and its metadata if too long)."""
        d = self.d
        meta = json.dumps({"title": d.title, "doc_number": d.doc_number, "doc_type": d.doc_type, "issuer": d.issuer,
                           "date": d.date, "source": d.source, "file_hash": d.file_hash, "extra": d.extra,
                           "pages": [[p.start, p.end, p.page] for p in d.pages]}, ensure_ascii=False)
        meta_spill = _nbytes(meta) > MAX_VARCHAR
        texts = self.texts(d.doc_id, "text", d.text)
        if meta_spill:
            texts += self.texts(d.doc_id, "meta", meta)
        return self._row(doc_id=d.doc_id, **self.filters, meta="" if meta_spill else meta, meta_spill=meta_spill,
                         text_chunks=len(_chunks(d.text)), _v=DUMMY), texts

    def passages(self, rec: DocumentRecords, vectors: np.ndarray) -> tuple[list[Row], list[Row]]:
        """The passages' rows, and the `texts` rows of those too long for one VARCHAR."""
        texts: list[Row] = []
        rows: list[Row] = []
        for i, (pid, p) in enumerate(zip(rec.pids, rec.passages, strict=True)):
            et = rec.embed_texts[i]
            whole = not et.endswith(p.text)
            head = et if whole else et[: len(et) - len(p.text)]
            section = json.dumps(p.section, ensure_ascii=False)
            spill = max(_nbytes(p.text), _nbytes(section), _nbytes(head)) > MAX_VARCHAR
            if spill:  # a passage too long for one VARCHAR: its body goes to `texts`
                texts += self.texts(self.d.doc_id, f"passage:{pid}", json.dumps(
                    {"text": p.text, "section": section, "head": head}, ensure_ascii=False))
            rows.append(self._row(
                pid=int(pid), doc_id=self.d.doc_id, ordinal=int(p.ordinal), start=int(p.start), end=int(p.end),
                section="[]" if spill else section, page=NO_PAGE if p.page is None else int(p.page),
                text="" if spill else p.text, head="" if spill else head, head_whole=whole, spill=spill,
                embed_hash=rec.embed_hashes[i], **self.filters, dense=vectors[i].tolist(),
                kw_exact=keyword_field(exact_tokens(et)), kw_folded=keyword_field(folded_tokens(et))))
        return rows, texts

    def refs(self, rec: DocumentRecords) -> list[Row]:
        return [self._row(pid=int(pid), doc_id=self.d.doc_id, key=_clip(r.key), label=_clip(r.label), kind=r.kind,
                          start=int(r.start), end=int(r.end), _v=DUMMY)
                for pid, refs in zip(rec.pids, rec.refs, strict=True) for r in refs]

    def graph(self, rec: DocumentRecords) -> list[Row]:
        graph = json.dumps(document_graph(rec), ensure_ascii=False)
        return [self._row(doc_id=self.d.doc_id, chunk_no=i, data=c, _v=DUMMY) for i, c in enumerate(_chunks(graph))]

    def keys(self, rec: DocumentRecords) -> list[Row]:
        return [self._row(doc_id=self.d.doc_id, key=_clip(k), label=_clip(label), _v=DUMMY) for k, label in rec.keys]

    def sentences(self, rec: DocumentRecords, svecs: np.ndarray) -> list[Row]:
        svec_list = svecs.tolist()
        flat = ((pid, k, span) for pid, spans in zip(rec.pids, rec.sentences, strict=True)
                for k, span in enumerate(spans))
        return [self._row(pid=int(pid), doc_id=self.d.doc_id, k=k, start=int(start), end=int(end),
                          embed_hash=rec.sentence_hashes[j], dense=svec_list[j])
                for j, (pid, k, (start, end)) in enumerate(flat)]

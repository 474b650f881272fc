"""A Milvus-only read-back of what a file stored, with its vectors: tests check a round trip through the
collections with it (not part of the Backend roles: the pipeline never reads records back)."""

from __future__ import annotations

import json

import numpy as np

from indexer.records import Document, DocumentRecords, PageSpan, Passage
from indexer.store.milvus import MilvusBackend
from indexer.store.milvus.expressions import lit
from indexer.store.milvus.rows import DOC_FIELDS, PASSAGE_FIELDS, SENTENCE_FIELDS, newest, sentence_rows
from indexer.store.milvus.view import _View
from indexer.text.references import Reference


def file_records(b: MilvusBackend, path: str) -> list[DocumentRecords]:
    """The documents indexed from `path`, rebuilt whole (vectors, embedded texts, references, keys)."""
    s = b.session

    def run(v: _View) -> list[DocumentRecords]:
        where = v.where(f"path == {lit(path)}")
        docs = newest(s.scan(v.names["documents"], where, [*DOC_FIELDS, "rid"]), "doc_id")
        full = {d["doc_id"]: d for d in b.rows._doc_rows(v, list(docs.values()), True)}
        fields = [*PASSAGE_FIELDS, "head", "head_whole", "embed_hash", "dense"]
        prows = list(newest(s.scan(v.names["passages"], where, fields), "pid").values())
        hydrated = {r["pid"]: r for r in b.rows._passage_rows(v, prows)}
        refs: dict[int, list[Reference]] = {}
        for r in s.scan(v.names["refs"], where, ["pid", "key", "label", "kind", "start", "end"]):
            refs.setdefault(int(r["pid"]), []).append(
                Reference(r["key"], r["label"], r["kind"], int(r["start"]), int(r["end"])))
        keys: dict[str, list[tuple[int, str, str]]] = {}
        for r in s.scan(v.names["keys"], where, ["doc_id", "key", "label", "rid"]):
            keys.setdefault(r["doc_id"], []).append((int(r["rid"]), r["key"], r["label"]))
        heads = b.rows._spilled(v, [(r["doc_id"], f"passage:{r['pid']}") for r in prows if r.get("spill")])
        sents = (sentence_rows(s.scan(v.names["sentences"], where, SENTENCE_FIELDS))
                 if "sentences" in v.names else {})
        out: list[DocumentRecords] = []
        for doc_id in sorted(full, key=lambda d: int(docs[d]["rid"])):  # the order they were added in
            d = full[doc_id]
            doc = Document(doc_id=doc_id, title=d["title"] or "", text=d.get("text", ""), source=d["source"] or "",
                           doc_number=d["doc_number"], doc_type=d["doc_type"], issuer=d["issuer"], date=d["date"],
                           extra=d["extra"], pages=[PageSpan(*p) for p in d["pages"]],
                           file_hash=d["file_hash"] or "", path=d["path"])
            mine = sorted((r for r in prows if r["doc_id"] == doc_id), key=lambda r: int(r["ordinal"]))
            passages, texts, hashes, vecs, prefs = [], [], [], [], []
            for r in mine:
                h = hydrated[int(r["pid"])]
                passages.append(Passage(doc_id, h["ordinal"], h["text"], h["start"], h["end"], h["section"],
                                        h["page"]))
                head = r["head"]
                if r.get("spill"):
                    head = json.loads(heads.get((doc_id, f"passage:{r['pid']}"), "{}")).get("head", "")
                texts.append(head if r["head_whole"] else head + h["text"])
                hashes.append(r["embed_hash"])
                vecs.append(np.asarray(r["dense"], dtype=np.float32))
                prefs.append(sorted(refs.get(int(r["pid"]), []), key=lambda x: (x.start, x.end)))
            dim = v.pointer.dim or (len(vecs[0]) if vecs else 0)
            # Sentences as they were added: per passage, flattened hashes and vectors; none stored → none.
            srows = [sents.get(int(r["pid"]), []) for r in mine]
            flat = [r for rs in srows for r in rs]
            out.append(DocumentRecords(
                doc=doc, passages=passages, pids=[int(r["pid"]) for r in mine], embed_texts=texts,
                embed_hashes=hashes, vectors=np.stack(vecs) if vecs else np.zeros((0, dim), dtype=np.float32),
                refs=prefs, keys=[(k, label) for _, k, label in sorted(keys.get(doc_id, []))],
                sentences=[[(int(r["start"]), int(r["end"])) for r in rs] for rs in srows] if flat else [],
                sentence_hashes=[r["embed_hash"] for r in flat],
                sentence_vectors=np.asarray([r["dense"] for r in flat], dtype=np.float32) if flat else None))
        return out

    return b.published.read(run)

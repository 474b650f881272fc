"""One document's part of the relation graph, computed by the writer when the document is indexed.

Everything the relation graph (`search_app/core/relations.py`) needs from a document's text is a
function of that document alone: its typed relations (`relations.analyse_document`), its effective
date, its subject, what its citing sentences say about the documents they cite (identity cards),
and which keys it cites how often. The writers store this small row per document (embedded: the
`graph` table; Milvus: the `graph` collection, under the same epoch visibility as every other row),
so a search never reads passages to learn validity, and an update recomputes only the changed files.

The row is JSON-ready (lists and dicts of str/int/None):

    {"doc_id", "first_pid",
     "effective": [iso date | None, pid, ordinal, matched text] | None,
     "subject": [subject, pid, "title" | "header"] | None,
     "relations": [{type, key, label, pid, ordinal, sentence, subject, subject_label, when, exceptions}],
     "mentions": [[key, pid, {doc_type?, name?, date?, issuer?, subject?}]],  # in text order
     "cited": {key: [smallest label, passages citing it]},
     "keys": [[key, label]]}                                                 # the document's own keys
"""

from __future__ import annotations

from typing import Any

from indexer.records import DocumentRecords
from indexer.text.identity import mention_identity, own_subject
from indexer.text.relations import analyse_document, effective_date


def document_graph(rec: DocumentRecords) -> dict[str, Any]:
    """The graph row of one document as the pipeline hands it to a writer (pids final)."""
    d = rec.doc
    order = sorted(range(len(rec.passages)), key=lambda i: rec.passages[i].ordinal)
    passages = [{"pid": int(rec.pids[i]), "doc_id": d.doc_id, "ordinal": rec.passages[i].ordinal,
                 "text": rec.passages[i].text, "section": rec.passages[i].section} for i in order]
    refs = {int(rec.pids[i]): [{"key": r.key, "label": r.label, "kind": r.kind, "start": r.start, "end": r.end}
                               for r in sorted(rec.refs[i], key=lambda r: (r.start, r.end))]
            for i in order}
    doc = {"doc_id": d.doc_id, "title": d.title, "doc_type": d.doc_type, "doc_number": d.doc_number, "date": d.date}
    return graph_row(doc, passages, refs, rec.keys)


def graph_row(doc: dict[str, Any], passages: list[dict[str, Any]], refs: dict[int, list[dict[str, Any]]],
              keys: list[tuple[str, str]]) -> dict[str, Any]:
    """The graph row of `doc` from its passages in order (pid, ordinal, text, section) and their
    references by pid (key, label, kind, start, end, in text order)."""
    row: dict[str, Any] = {"doc_id": doc["doc_id"], "first_pid": passages[0]["pid"] if passages else None,
                           "effective": None, "subject": None, "relations": [], "mentions": [], "cited": {},
                           "keys": [[k, label] for k, label in keys]}
    if not passages:
        return row
    ordinal_of = {p["pid"]: p["ordinal"] for p in passages}
    cited: dict[str, tuple[str, set[int]]] = {}
    for p in passages:
        text = p["text"]
        if row["effective"] is None and "hiệu lực" in text:
            date, span = effective_date(text, doc.get("date"))
            if span:
                row["effective"] = [date, p["pid"], p["ordinal"], text[span[0] : span[1]]]
        for r in refs.get(p["pid"], []):
            label, pids = cited.get(r["key"], (r["label"], set()))
            pids.add(p["pid"])
            cited[r["key"]] = (min(label, r["label"]), pids)
            if r["kind"] == "number":
                ident = mention_identity(text, r["start"], r["end"], r["key"])
                if ident:
                    row["mentions"].append([r["key"], p["pid"], ident])
    row["cited"] = {k: [label, len(pids)] for k, (label, pids) in sorted(cited.items())}
    subject, where = own_subject(doc, "\n".join(p["text"] for p in passages[:2]))
    if subject:
        row["subject"] = [subject, passages[0]["pid"], where]
    row["relations"] = [
        {"type": rel.type, "key": rel.key, "label": rel.label, "pid": rel.pid, "ordinal": ordinal_of.get(rel.pid),
         "sentence": rel.sentence, "subject": rel.subject, "subject_label": rel.subject_label, "when": rel.when,
         "exceptions": list(rel.exceptions)}
        for rel in analyse_document(passages, refs)]
    return row

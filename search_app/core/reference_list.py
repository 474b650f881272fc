"""The list of referenced documents, one entry per document the graph tells apart.

The stores count references per stored key, and a key carries the year its reference gave
("20-NQ/TW@2012", `docnumbers.dated_key`). A reader thinks in documents: "20-NQ/TW" and
"20-NQ/TW, ngày 01/11/2012" are one entry while they name one document, and the 2012 and the
2017 resolution stay two entries, each labelled with its year.
"""

from __future__ import annotations

from typing import Any

from indexer.store.base import Backend
from indexer.text.docnumbers import split_key
from search_app.core.relations import RelationGraph


def merged_reference_counts(backend: Backend, graph: RelationGraph) -> list[dict[str, Any]]:
    """`Backend.reference_counts` with the keys of one document merged under the graph's key for it."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in backend.reference_counts():
        groups.setdefault(graph.canonical(item["key"]), []).append(item)
    out: list[dict[str, Any]] = []
    for key, items in groups.items():
        own = next((it for it in items if it["key"] == key), None)
        label = own["label"] if own else min(it["label"] for it in items)
        bare, year = split_key(key)
        if year and year not in label:
            label = f"{label} ({year})"  # a number known with several years: say which
        merged = {"key": key, "label": label, "doc_ids": sorted({d for it in items for d in it["doc_ids"]})}
        if len(items) == 1:
            merged.update(citing_passages=items[0]["citing_passages"], citing_documents=items[0]["citing_documents"])
        else:  # a passage may cite the document both ways: count passages, not references
            pids = sorted({p for it in items for p in backend.pids_citing(it["key"])})
            merged.update(citing_passages=len(pids),
                          citing_documents=len({r["doc_id"] for r in backend.passages(pids)}))
        out.append({**items[0], **merged})
    return sorted(out, key=lambda it: (-it["citing_passages"], it["key"]))

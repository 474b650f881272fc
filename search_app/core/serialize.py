"""The JSON objects the product hands to other programs, shaped in one place.

The CLI (`search --json`, batch mode, `refs --json`), the HTTP API (search_app/api) and the MCP
server (search_app/mcp_server.py) all print these, so a client sees the same fields in the same
order whichever door it came in by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indexer.records import section_label
from search_app.core.citation import format_citation
from search_app.core.pipeline import SearchResult
from search_app.core.searcher import Hit, Searcher

# The document fields every object shows (no text: a document's text comes as its passages).
DOC_FIELDS = ("doc_id", "title", "doc_number", "doc_type", "issuer", "date", "source", "extra")


def hit_object(hit: Hit) -> dict[str, Any]:
    return hit.to_dict()


def answer_texts(hit: dict[str, Any]) -> list[str]:
    """The answering sentence(s) of a hit object as text, verbatim (whitespace runs made one space)."""
    return [" ".join(hit["text"][a["start"]:a["end"]].split()) for a in hit.get("answer") or []]


def search_response(result: SearchResult) -> dict[str, Any]:
    """What `search --json` prints for one query, `GET /v1/search` returns and the MCP search tool
    gives: the query, how it was understood, whether the corpus answers it, the card of the document
    it names (or null), the passages."""
    return {"query": result.query, "understood": result.understood, "answerable": bool(result.answerable),
            "card": result.card, "results": [hit_object(h) for h in result.hits]}


def batch_line(qid: Any, result: SearchResult) -> dict[str, Any]:
    """One line of batch mode (`search --queries`), one item of `POST /v1/search`."""
    return {"id": qid, "understood": result.understood, "answerable": bool(result.answerable),
            "card": result.card, "results": [hit_object(h) for h in result.hits]}


def document_fields(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return {k: doc.get(k) for k in DOC_FIELDS} if doc else None


def refs_object(res: dict[str, Any]) -> dict[str, Any]:
    """What `refs KEY --json` prints and `GET /v1/refs` returns, from `Searcher.references`."""
    return {"key": res["key"], "label": res["label"], "document": document_fields(res["document"]),
            "ambiguous": [document_fields(d) for d in res.get("ambiguous", [])],
            "cited_by": [hit_object(h) for h in res["cited_by"]],
            "validity": res["validity"], "relations": res["relations"], "identity": res["identity"]}


def document_object(searcher: Searcher, doc_id: str, offset: int = 0, limit: int = 50,
                    ordinal: int | None = None) -> dict[str, Any] | None:
    """A document's metadata, validity and identity, and its passages `offset`..`offset+limit` in
    document order, each with its citation; with `ordinal`, the page of `limit` passages holding that
    passage. None when the index has no such document."""
    doc = searcher.document(doc_id)
    if doc is None:
        return None
    graph = searcher.relations()
    key = graph.primary_key(doc_id)
    passages = searcher.doc_passages(doc_id)
    if ordinal is not None:
        at = next((i for i, p in enumerate(passages) if p["ordinal"] >= ordinal), len(passages))
        offset = (at // limit) * limit
    subject, note = graph.subject(doc_id), graph.citation_note(doc_id)
    items = [{"pid": p["pid"], "ordinal": p["ordinal"], "section": p["section"],
              "section_label": section_label(p["section"]), "page": p["page"],
              "start": p["start"], "end": p["end"], "text": p["text"],
              "citation": format_citation(doc, p["section"], p["page"], subject=subject, note=note)}
             for p in passages[offset:offset + limit]]
    return {"document": document_fields(doc), "key": key,
            "validity": graph.validity(key, doc_id=doc_id),
            "identity": graph.identity(key) if key else None,
            "passages": {"total": len(passages), "offset": offset, "limit": limit, "items": items}}


def status_object(searcher: Searcher) -> dict[str, Any]:
    """The index's status for other programs: backend, generation, counts, model. The index folder
    is left out: a client has no business knowing the server's paths."""
    st = searcher.status()
    return {k: st[k] for k in ("backend", "generation", "documents", "passages", "model", "built_at")}

"""The one JSON shape of a search answer, shared by the CLI and the HTTP API:
``{"query", "answerable", "results": [hit, …]}`` (a batch line carries ``id`` instead of ``query``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from search_app.core.searcher import Hit


def search_response(query: str, hits: Sequence[Hit], answerable: bool) -> dict[str, Any]:
    """A search's JSON object: the query as searched, whether the index answers it, the hits."""
    return {"query": query, "answerable": bool(answerable), "results": [h.to_dict() for h in hits]}


def batch_line(qid: Any, hits: Sequence[Hit], answerable: bool) -> dict[str, Any]:
    """One line of a batch search (`search --queries FILE`)."""
    return {"id": qid, "answerable": bool(answerable), "results": [h.to_dict() for h in hits]}

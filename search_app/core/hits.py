"""A search hit: a verbatim passage with everything needed to cite it, as every door hands it out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# `pid` names the passage in the index, `ordinal` its place in its document: `/v1/documents/{doc_id}`
# (and the page's `?doc=…&p=…`) take it to show the passage among its neighbours.
HIT_FIELDS = ("rank", "score", "doc_id", "pid", "ordinal", "title", "doc_number", "doc_type", "date", "section",
              "page", "text", "start", "end", "citation", "validity", "answer")


@dataclass
class Hit:
    rank: int
    score: float
    doc_id: str
    title: str
    doc_number: str | None
    doc_type: str | None
    date: str | None
    section: str
    page: int | None
    text: str
    start: int
    end: int
    citation: str
    validity: dict[str, Any] = field(default_factory=dict)  # {status, since, by}, see core/relations.py
    # The sentence(s) of `text` that answer the query: [{"start", "end"}] offsets into `text`, in
    # text order; empty when no sentence answers clearly enough (see core/answers.py).
    answer: list[dict[str, int]] = field(default_factory=list)
    ordinal: int = field(default=0, repr=False)
    # Not part of the JSON contract; the section's headings, for the page's answer marking.
    section_path: list[str] = field(default_factory=list, repr=False)
    pid: int = field(default=-1, repr=False)
    # How well the passage matches, in words ("Rất phù hợp" / "Phù hợp" / "Ít liên quan", see
    # core/answerable.py) or None; for the page, not part of the JSON contract.
    match: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in HIT_FIELDS}

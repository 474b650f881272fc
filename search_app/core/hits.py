"""A search hit: a verbatim passage with everything needed to cite it, as every door hands it out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from indexer.records import section_label

# `pid` names the passage in the index, `ordinal` its place in its document: `/v1/documents/{doc_id}`
# (and the page's `?doc=…&p=…`) take it to show the passage among its neighbours.
HIT_FIELDS = ("rank", "score", "doc_id", "pid", "ordinal", "title", "doc_number", "doc_type", "date", "section",
              "section_label", "page", "text", "start", "end", "citation", "validity", "answer")


@dataclass
class Hit:
    rank: int
    score: float
    doc_id: str
    title: str
    doc_number: str | None
    doc_type: str | None
    date: str | None
    section: list[str]  # the heading path, from the top level down
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
    pid: int = field(default=-1, repr=False)
    # How well the passage matches, in words ("Rất phù hợp" / "Phù hợp" / "Ít liên quan", see
    # core/answerable.py) or None; for the page, not part of the JSON contract.
    match: str | None = field(default=None, repr=False)

    @property
    def section_label(self) -> str:
        """The heading path as one line, as every door shows it: 'Chương II › Điều 3. …'."""
        return section_label(self.section)

    def to_dict(self) -> dict[str, Any]:
        d = {**asdict(self), "section_label": self.section_label}
        return {k: d[k] for k in HIT_FIELDS}

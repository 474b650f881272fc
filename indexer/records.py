"""The records that flow through the pipeline and are stored in the index."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SECTION_SEPARATOR = " › "


def section_label(section: list[str]) -> str:
    """A section path as one line: 'Chương II › Điều 3. …'."""
    return SECTION_SEPARATOR.join(section)


@dataclass
class PageSpan:
    """Characters [start, end) of the extracted text came from PDF page `page` (1-based)."""

    start: int
    end: int
    page: int


@dataclass
class Document:
    doc_id: str
    title: str
    text: str
    source: str = ""
    doc_number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. interviewee, url, benchmark fields
    pages: list[PageSpan] = field(default_factory=list)
    file_hash: str = ""
    path: str = ""  # the file it came from, relative to the folder given to the indexer

    def metadata(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("text")
        d.pop("pages")
        return d


@dataclass
class Passage:
    doc_id: str
    ordinal: int
    text: str  # verbatim span document.text[start:end]
    start: int
    end: int
    section: list[str]  # heading labels from the top level down
    page: int | None = None

    @property
    def section_label(self) -> str:
        return section_label(self.section)

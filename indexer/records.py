"""The records that flow through the pipeline and are stored in the index."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

import numpy as np

from indexer.text.references import Reference

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


def passage_id(doc_id: str, ordinal: int) -> int:
    """A stable id for passage `ordinal` of `doc_id`: the same on every backend and every rebuild."""
    digest = hashlib.blake2b(f"{doc_id}\x00{ordinal}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # 63 bits: a positive signed int64 (Milvus INT64, SQLite)


def doc_year(date: str | None) -> int | None:
    """The year of an ISO date, parsed in one place for filters on every backend."""
    return int(date[:4]) if date and date[:4].isdigit() else None


@dataclass
class Filters:
    """What a user restricts a search to; each backend translates it (mask or filter expression)."""

    type: set[str] | None = None  # document types: the doors' word (--type, ?type=, "type")
    issuer: set[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc: set[str] | None = None  # document ids
    # Documents to leave out: "Chỉ văn bản còn hiệu lực" passes the repealed ones (search_app/core/relations.py).
    exclude_doc: set[str] | None = None

    def active(self) -> bool:
        return any(v not in (None, set()) for v in asdict(self).values())

    def accepts(self, row: Mapping[str, Any]) -> bool:
        """Whether the document `row` (a DocumentRow) passes."""
        if self.type and row.get("doc_type") not in self.type:
            return False
        if self.issuer and row.get("issuer") not in self.issuer:
            return False
        if self.doc and row.get("doc_id") not in self.doc:
            return False
        if self.exclude_doc and row.get("doc_id") in self.exclude_doc:
            return False
        if self.year_from is not None or self.year_to is not None:
            year = doc_year(row.get("date"))
            if year is None:
                return False
            if self.year_from is not None and year < self.year_from:
                return False
            if self.year_to is not None and year > self.year_to:
                return False
        return True


@dataclass
class DocumentRecords:
    """One document and everything derived from it, as the pipeline hands it to a Writer."""

    doc: Document
    passages: list[Passage]
    pids: list[int]
    embed_texts: list[str]  # what the model saw (title + section + text); also the keyword text
    embed_hashes: list[str]
    vectors: np.ndarray  # (len(passages), dim), L2-normalised float32
    refs: list[list[Reference]]  # references found in each passage (own keys removed)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (key, label) the document is cited by
    # The sentences of each passage as (start, end) offsets into the passage text (indexer/text/sentences.py),
    # and one vector per sentence, flattened in passage order: the answer finder and the finer semantic
    # match read them. `sentence_hashes` key the embedding cache like `embed_hashes`.
    sentences: list[list[tuple[int, int]]] = field(default_factory=list)
    sentence_hashes: list[str] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None  # (sum of len(sentences[i]), dim), L2-normalised float32


# --- rows as the backends return them -------------------------------------------------------------
# Typed dicts rather than dataclasses: both backends build them straight from their storage rows, and
# every reader (search core, page, API) reads them by key; the types document and check the contract.


class PassageRow(TypedDict):
    pid: int
    doc_id: str
    ordinal: int
    start: int
    end: int
    section: list[str]
    page: int | None
    text: str


class DocumentRow(TypedDict, total=False):
    doc_id: str
    title: str
    source: str
    doc_number: str | None
    doc_type: str | None
    issuer: str | None
    date: str | None
    extra: dict[str, Any]
    pages: list[list[int]]  # [start, end, page] of each PDF page (PageSpan)
    file_hash: str
    path: str
    text: str  # only when asked for (`with_text`)


class Manifest(TypedDict, total=False):
    """What a published index says about itself (manifest.json / the Milvus state collection)."""

    model: str
    dimension: int
    embed_context: bool
    files: dict[str, str]  # file → sha256 of what was indexed
    file_stamps: dict[str, list[int]]  # file → its size/mtime stamp when it was hashed
    sources: list[str]
    built_at: str
    build_seconds: float
    index_type: str
    skipped: list[dict[str, str]]
    duplicates: list[dict[str, str]]
    documents: int
    passages: int
    generation: str
    format_version: int
    vector_index: dict[str, Any]
    embed_engine: str  # the engine that computed the last build's vectors (indexer/embed/engines.py)
    embed_tokens_per_s: float
    sentence_vectors: str  # "separate" or "late" (indexer/embed/cache.py, sentence_hash)

"""The storage seam: one interface between the pipeline / Searcher and wherever the index lives.

Two backends implement it (txtai's factory pattern: the index folder's config picks one):

- ``embedded`` (default): FAISS + SQLite + bm25s generations in the index folder (`embedded.py`);
- ``milvus``: collections in a Milvus server, Milvus Lite or a cluster (`milvus.py`).

Read side (the Searcher):  ``dense`` / ``keyword`` retrieval with backend-neutral `Filters`
(a mask for the embedded backend, a filter expression for Milvus), then ``passages`` /
``documents`` / ``neighbours`` / references to hydrate hits, ``refresh`` to pick up a newer
published version, ``manifest`` for status.

Write side (the pipeline): ``begin`` opens a `Writer`; the pipeline deletes the records of the
files that changed or vanished and adds the new ones document by document, then ``publish``
makes the whole change visible at once. Until then readers keep seeing the previous version,
and a writer that dies leaves that previous version intact.

Passage ids (`pid`) are stable: a 63-bit hash of (doc_id, ordinal), never a row position.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .records import Document, Passage
from .references import Reference

BACKENDS = ("embedded", "milvus")
CONFIG_FILE = "backend.json"
DEFAULT_INDEX = Path("index")


class IndexNotFound(FileNotFoundError):
    pass


class IndexFormatError(ValueError):
    pass


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

    doc_types: set[str] | None = None
    issuers: set[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    doc_ids: set[str] | None = None
    # Documents to leave out: "Chỉ văn bản còn hiệu lực" passes the repealed ones (search_app/relations.py).
    exclude_doc_ids: set[str] | None = None

    def active(self) -> bool:
        return any(v not in (None, set()) for v in asdict(self).values())

    def accepts(self, doc: dict[str, Any]) -> bool:
        if self.doc_types and doc.get("doc_type") not in self.doc_types:
            return False
        if self.issuers and doc.get("issuer") not in self.issuers:
            return False
        if self.doc_ids and doc.get("doc_id") not in self.doc_ids:
            return False
        if self.exclude_doc_ids and doc.get("doc_id") in self.exclude_doc_ids:
            return False
        if self.year_from is not None or self.year_to is not None:
            year = doc_year(doc.get("date"))
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
    # The sentences of each passage as (start, end) offsets into the passage text (indexer/sentences.py),
    # and one vector per sentence, flattened in passage order: the answer finder and the finer semantic
    # match read them. `sentence_hashes` key the embedding cache like `embed_hashes`.
    sentences: list[list[tuple[int, int]]] = field(default_factory=list)
    sentence_hashes: list[str] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None  # (sum of len(sentences[i]), dim), L2-normalised float32


class Writer(Protocol):
    def delete_file(self, path: str) -> None:
        """Remove every document (and its passages and references) indexed from file `path`."""

    def add(self, records: DocumentRecords) -> None:
        """Add one document with its passages, vectors and references."""

    def publish(self, manifest: dict[str, Any]) -> None:
        """Make everything written visible at once, with this manifest. Idempotent."""

    def abort(self) -> None:
        """Drop what was written; the published version stays as it was."""


class Backend(Protocol):
    kind: str
    index_dir: Path

    # --- life cycle -------------------------------------------------------------------------
    @property
    def manifest(self) -> dict[str, Any]: ...

    def refresh(self) -> bool:
        """Switch to a newer published version if there is one. True when it switched."""

    def close(self) -> None: ...

    # --- retrieval --------------------------------------------------------------------------
    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> dict[int, float]:
        """pid → inner product of the n nearest passages (inside the filter)."""

    def keyword(self, query: str, n: int, filters: Filters | None = None) -> dict[int, float]:
        """pid → BM25 score of the n best passages with a positive score (inside the filter)."""

    # --- hydration --------------------------------------------------------------------------
    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """pid → (spans, vectors) of its sentences: spans an int (k, 2) array of offsets into the
        passage text, vectors a float32 (k, dim) array; pids without stored sentences are left out."""
        ...

    def sentence_scores(self, vector: np.ndarray, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """pid → (spans, scores) of its sentences in order: spans as in `sentences`, scores float32 (k,)
        inner products with `vector`, computed where the vectors are (no vector leaves a remote store)."""
        ...

    def passages(self, pids: list[int]) -> list[dict[str, Any]]:
        """Passage rows in the order of `pids` (pid, doc_id, ordinal, start, end, section, page, text)."""

    def doc_passages(self, doc_id: str) -> list[dict[str, Any]]: ...

    def all_passages(self) -> list[dict[str, Any]]:
        """Every passage row, in no particular order (for whole-corpus analyses: one scan)."""

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[dict[str, Any]]: ...

    def document(self, doc_id: str, with_text: bool = False) -> dict[str, Any] | None: ...

    def documents(self, doc_ids: list[str] | None = None) -> list[dict[str, Any]]:
        """The metadata (no text) of every document, or of those in `doc_ids`, by doc_id."""

    # --- references -------------------------------------------------------------------------
    def pids_citing(self, key: str) -> list[int]: ...

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]: ...

    def key_label(self, key: str) -> str | None: ...

    def docs_with_key(self, key: str) -> list[str]: ...

    def reference_counts(self) -> list[dict[str, Any]]: ...

    # --- write side -------------------------------------------------------------------------
    def file_records(self, path: str) -> list[DocumentRecords]:
        """The documents indexed from `path`, with vectors, to carry an unchanged file over."""

    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        """embed hash → stored vector for the hashes already embedded (the embedding cache)."""

    def begin(self, full: bool) -> Writer:
        """A writer; `full` starts from an empty index, otherwise from the published one."""


def read_config(index_dir: Path) -> dict[str, Any]:
    path = Path(index_dir) / CONFIG_FILE
    if not path.exists():
        return {"backend": "embedded"}
    return json.loads(path.read_text(encoding="utf-8"))


def write_config(index_dir: Path, config: dict[str, Any]) -> None:
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{CONFIG_FILE}.tmp"
    tmp.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(index_dir / CONFIG_FILE)


def open_backend(index_dir: Path | str, check_format: bool = True) -> Backend:
    """The backend that holds the index in `index_dir` (its config names it). Raises IndexNotFound."""
    index_dir = Path(index_dir)
    config = read_config(index_dir)
    kind = config.get("backend", "embedded")
    if kind == "embedded":
        from .embedded import EmbeddedBackend

        return EmbeddedBackend.open(index_dir, check_format=check_format)
    if kind == "milvus":
        from .milvus import MilvusBackend

        return MilvusBackend.open(index_dir, config)
    raise IndexFormatError(f"{index_dir}/{CONFIG_FILE} names an unknown backend {kind!r}")


def create_backend(index_dir: Path | str, kind: str | None = None, uri: str | None = None) -> Backend:
    """The backend to write `index_dir` with: the one it already uses, or `kind` for a new index.

    Switching an existing index to another backend is refused: build into a new folder instead.
    """
    index_dir = Path(index_dir)
    config = read_config(index_dir) if (index_dir / CONFIG_FILE).exists() else None
    if config is not None and kind is not None and config.get("backend") != kind:
        raise IndexFormatError(f"{index_dir} holds a {config.get('backend')} index; build the {kind} one "
                               f"into another folder (--index)")
    if config is not None and uri is not None and config.get("uri") != uri:
        raise IndexFormatError(f"{index_dir} is bound to Milvus at {config.get('uri') or 'its local Milvus Lite'}; "
                               f"build into another folder to use {uri}")
    kind = (config or {}).get("backend") or kind or "embedded"
    if kind not in BACKENDS:
        raise ValueError(f"unknown backend {kind!r}; choose one of {', '.join(BACKENDS)}")
    if kind == "embedded":
        from .embedded import EmbeddedBackend

        return EmbeddedBackend.create(index_dir)
    from .milvus import MilvusBackend

    return MilvusBackend.create(index_dir, config or {"backend": "milvus", "uri": uri})

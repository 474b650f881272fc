"""The storage seam: one interface between the pipeline / Searcher and wherever the index lives.

Two backends implement it (txtai's factory pattern: the index folder's config picks one):

- ``embedded`` (default): FAISS + SQLite + bm25s generations in the index folder (`store/embedded.py`);
- ``milvus``: collections in a Milvus server, Milvus Lite or a cluster (`store/milvus/`).

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

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from indexer.records import DocumentRecords, DocumentRow, Filters, Manifest, PassageRow

CONFIG_FILE = "backend.json"
DEFAULT_INDEX = Path("index")


class IndexNotFound(FileNotFoundError):
    pass


class IndexFormatError(ValueError):
    pass


class IndexDamaged(IndexFormatError):
    """A file of the published index is missing, truncated or invalid: search refuses it in words
    (exit code 2) and the next `indexer update` rebuilds it in full."""


class BackendUnavailable(RuntimeError):
    """The store's server cannot be reached (it died, restarted, or the network dropped); what was
    published stays published."""


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
    def manifest(self) -> Manifest: ...

    @property
    def readable(self) -> bool:
        """A published index of this code's format is there (an older one is rebuilt, not read)."""

    def refresh(self, warm: Callable[[Backend], object] | None = None) -> bool:
        """Switch to a newer published version if there is one. True when it switched.

        `warm`, when given, is called with a backend that reads the newer version before this one
        switches to it: what a search needs of each version (the relation graph) is made there, so
        that no search waits for it. A `warm` that raises does not stop the switch."""

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

    def passages(self, pids: list[int]) -> list[PassageRow]:
        """Passage rows in the order of `pids` (pid, doc_id, ordinal, start, end, section, page, text)."""

    def doc_passages(self, doc_id: str) -> list[PassageRow]: ...

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[PassageRow]: ...

    def neighbours_of(self, places: list[tuple[str, int]], radius: int = 1) -> list[list[PassageRow]]:
        """`neighbours` of each (doc_id, ordinal) in `places`, in that order, in one read."""

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None: ...

    def documents(self, doc_ids: list[str] | None = None) -> list[DocumentRow]:
        """The metadata (no text) of every document, or of those in `doc_ids`, by doc_id."""

    # --- references -------------------------------------------------------------------------
    def pids_citing(self, key: str) -> list[int]: ...

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]: ...

    def key_label(self, key: str) -> str | None: ...

    def docs_with_key(self, key: str) -> list[str]: ...

    def reference_counts(self) -> list[dict[str, Any]]: ...

    def graph_rows(self) -> list[dict[str, Any]]:
        """Every document's relation-graph row, as the writer computed it when the document was
        indexed (`indexer/text/document_graph.py`); one per doc_id, no passage read."""

    # --- write side -------------------------------------------------------------------------
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


def warm_before_switch(warm: Callable[[Backend], object] | None, view: Backend) -> None:
    """Run a refresh's `warm` on `view` (the newer version, not yet switched to). A failure is logged
    and the switch goes on: what `warm` would have made is then made by the first search that needs it."""
    if warm is None:
        return
    try:
        warm(view)
    except Exception:  # noqa: BLE001 - the newer version is published and must be served regardless
        logging.getLogger("vnsearch.store").warning("preparing the newer index version failed; "
                                                    "its first search prepares it", exc_info=True)


def near(rows: list[PassageRow], doc_id: str, ordinal: int, radius: int) -> list[PassageRow]:
    """The rows of `doc_id` within `radius` of `ordinal`, in order (one place of `neighbours_of`)."""
    return sorted((r for r in rows if r["doc_id"] == doc_id and abs(r["ordinal"] - int(ordinal)) <= radius),
                  key=lambda r: r["ordinal"])

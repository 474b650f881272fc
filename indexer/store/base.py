"""The storage seam: small role protocols between the pipeline / the search core and wherever the index lives.

Two backends implement them (txtai's factory pattern: the index folder's config picks one):

- ``embedded`` (default): FAISS + SQLite + bm25s generations in the index folder (`store/embedded/`);
- ``milvus``: collections in a Milvus server, the local one or a cluster (`store/milvus/`).

The roles, each a few plain verbs (txtai's ann/base.py):

- `Retriever`: ``dense_many`` / ``keyword_many`` / ``sentence_scores_many`` rank passages for a batch of
  queries inside backend-neutral `Filters` (a mask for the embedded backend, a filter expression for
  Milvus); one query is a batch of one (``dense``, ``keyword``, ``sentence_scores``);
- `Rows`: passages, documents, neighbours and graph rows by id, to hydrate hits;
- `References`: which passages cite a reference key, and how a key is written;
- `Lifecycle`: ``open`` / ``create`` an index, ``refresh`` to a newer published version,
  ``published_generation`` (a cheap look at what is published), ``status``, ``close``;
- `Writing`: ``cached_vectors`` (the embedding cache) and ``begin``, which opens a `Writer`.

`Backend` is their composition. A `Writer` deletes the records of the files that changed or vanished and
adds the new ones document by document, then ``publish`` makes the whole change visible at once. Until
then readers keep seeing the previous version, and a writer that dies leaves that previous version intact.

Passage ids (`pid`) are stable: a 63-bit hash of (doc_id, ordinal), never a row position.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np

from indexer.records import DocumentRecords, DocumentRow, Filters, Manifest, PassageRow

CONFIG_FILE = "backend.json"
DEFAULT_INDEX = Path("index")

# pid → (spans, scores): spans an int (k, 2) array of offsets into the passage text, scores float32 (k,)
SentenceScores = dict[int, tuple[np.ndarray, np.ndarray]]


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


@dataclass(frozen=True)
class StoreConfig:
    """Where an index is kept: its backend and that backend's options, as `backend.json` records them.

    `uri`: a Milvus server's URL (None: the local server the index folder starts); `prefix`: the names
    of its Milvus collections (chosen when the index is created); `db_name`: the Milvus database."""

    backend: str = "embedded"
    uri: str | None = None
    prefix: str | None = None
    db_name: str = ""

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> StoreConfig:
        return cls(backend=str(data.get("backend") or "embedded"), uri=data.get("uri"), prefix=data.get("prefix"),
                   db_name=str(data.get("db_name") or ""))

    @classmethod
    def read(cls, index_dir: Path | str) -> StoreConfig:
        return cls.of(read_config(Path(index_dir)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"backend": self.backend, "uri": self.uri}
        if self.prefix is not None:
            out["prefix"] = self.prefix
        if self.db_name:
            out["db_name"] = self.db_name
        return out


class Writer(Protocol):
    def delete_file(self, path: str) -> None:
        """Remove every document (and its passages and references) indexed from file `path`."""

    def add(self, records: DocumentRecords) -> None:
        """Add one document with its passages, vectors and references."""

    def publish(self, manifest: dict[str, Any]) -> None:
        """Make everything written visible at once, with this manifest. Idempotent."""

    def abort(self) -> None:
        """Drop what was written; the published version stays as it was."""

    def sharded(self) -> ShardedWriter | None:
        """This writer, if writers in other processes may join its epoch (a bulk build), else None."""


class ShardedWriter(Writer, Protocol):
    """A writer that more writers (in other processes, or Ray actors) may join: each writes rows of this
    writer's epoch, invisible like its own, and this one publishes once for all of them."""

    def shard_specs(self, count: int, dim: int) -> list[dict[str, Any]]:
        """What `count` more writers need to join (picklable)."""

    def absorb(self, written: dict[str, Any]) -> None:
        """Count what a joined writer wrote (its `close()`), for the manifest and the replaced files."""


class Retriever(Protocol):
    """Ranked passage ids. The batched verbs are the primitive; a single query is a batch of one."""

    # Whether every read is a call to a server: then reading a batch of queries ahead in a few calls pays.
    remote: ClassVar[bool]

    def dense_many(self, vectors: list[np.ndarray], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """For each vector: pid → inner product of its n nearest passages (inside the filter)."""

    def keyword_many(self, queries: list[str], n: int, filters: Filters | None = None) -> list[dict[int, float]]:
        """For each query: pid → BM25 score of its n best passages with a positive score (inside the filter)."""

    def sentence_scores_many(self, vectors: list[np.ndarray], pid_lists: list[list[int]]) -> list[SentenceScores]:
        """For each (vector, pids): pid → (spans, scores) of its sentences in order, scores the inner products
        with the vector, computed where the vectors are (no vector leaves a remote store); pids without
        stored sentences are left out."""

    def sentences(self, pids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """pid → (spans, vectors) of its sentences: vectors a float32 (k, dim) array; pids without stored
        sentences are left out."""

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> dict[int, float]:
        return self.dense_many([vector], n, filters)[0]

    def keyword(self, query: str, n: int, filters: Filters | None = None) -> dict[int, float]:
        return self.keyword_many([query], n, filters)[0]

    def sentence_scores(self, vector: np.ndarray, pids: list[int]) -> SentenceScores:
        return self.sentence_scores_many([vector], [pids])[0]


class Rows(Protocol):
    """Passages and documents by id, to hydrate hits and show documents."""

    def passages(self, pids: list[int]) -> list[PassageRow]:
        """Passage rows in the order of `pids` (unknown pids left out)."""

    def doc_passages(self, doc_id: str) -> list[PassageRow]:
        """Every passage of `doc_id`, in order."""

    def doc_ids(self, pids: list[int]) -> dict[int, str]:
        """pid → its document, for the pids `passages` would return: what a ranking needs of the
        passages it reorders and never shows. From the rows by default (on Milvus, those a batch read
        ahead, or one read that hydration then finds in the version's cache); the embedded backend
        reads no row."""
        return {r["pid"]: r["doc_id"] for r in self.passages(pids)}

    def neighbours_of(self, places: list[tuple[str, int]], radius: int = 1) -> list[list[PassageRow]]:
        """The passages of each (doc_id, ordinal) in `places` within `radius` of it, in that order, in one read."""

    def document(self, doc_id: str, with_text: bool = False) -> DocumentRow | None: ...

    def documents(self, doc_ids: list[str] | None = None) -> list[DocumentRow]:
        """The metadata (no text) of every document, or of those in `doc_ids`, by doc_id."""

    def graph_rows(self) -> list[dict[str, Any]]:
        """Every document's relation-graph row, as the writer computed it when the document was
        indexed (`indexer/text/document_graph.py`); one per doc_id, no passage read."""

    def neighbours(self, doc_id: str, ordinal: int, radius: int = 1) -> list[PassageRow]:
        return self.neighbours_of([(doc_id, ordinal)], radius)[0]


class References(Protocol):
    """The reference keys passages cite and documents are known by (`indexer/text/references.py`)."""

    def pids_citing(self, key: str) -> list[int]: ...

    def refs_of(self, pids: list[int]) -> dict[int, list[dict[str, Any]]]: ...

    def key_label(self, key: str) -> str | None:
        """How `key` is written: the indexed document's own spelling first, else a citing one."""

    def docs_with_key(self, key: str) -> list[str]: ...

    def reference_counts(self) -> list[dict[str, Any]]:
        """Every key that is cited or that names an indexed document, with counts."""


class Lifecycle(Protocol):
    kind: ClassVar[str]
    index_types: ClassVar[tuple[str, ...]]  # the `--index-type`s it can build (index_types.INDEX_TYPES)
    index_dir: Path

    @classmethod
    def exists(cls, index_dir: Path, config: StoreConfig) -> bool:
        """Whether `index_dir` looks published, checked without opening it (a clear error before workers start)."""

    @classmethod
    def open(cls, index_dir: Path, config: StoreConfig | None = None, check_format: bool = True) -> Self:
        """The published index of `index_dir`. Raises IndexNotFound when nothing was published."""

    @classmethod
    def create(cls, index_dir: Path, config: StoreConfig | None = None) -> Self:
        """For writing: the index of `index_dir` (its config written first if the folder has none)."""

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

    def published_generation(self) -> str | None:
        """The generation published last (maybe newer than the one this backend reads), read cheaply."""

    def status(self) -> dict[str, Any]:
        """Where the index is kept, for people: {"backend", "uri", "where"}."""

    def close(self) -> None: ...


class Writing(Protocol):
    def cached_vectors(self, embed_hashes: list[str]) -> dict[str, np.ndarray]:
        """embed hash → stored vector for the hashes already embedded (the embedding cache)."""

    def begin(self, full: bool) -> Writer:
        """A writer; `full` starts from an empty index, otherwise from the published one."""


class Backend(Lifecycle, Retriever, Rows, References, Writing, Protocol):
    """Everything an index offers: the composition of the roles above."""


def check_index_type(backend: Lifecycle | type[Lifecycle], index_type: str) -> None:
    """Refuse, with a clear message, an index type `backend` cannot build."""
    if index_type not in backend.index_types:
        raise IndexFormatError(f"the {backend.kind} backend cannot build a {index_type!r} vector index; choose "
                               f"one of {', '.join(backend.index_types)}")


def read_config(index_dir: Path) -> dict[str, Any]:
    """The index folder's `backend.json` as stored (an index without one is embedded)."""
    path = Path(index_dir) / CONFIG_FILE
    if not path.exists():
        return {"backend": "embedded"}
    return json.loads(path.read_text(encoding="utf-8"))


def write_config(index_dir: Path, config: StoreConfig) -> None:
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{CONFIG_FILE}.tmp"
    tmp.write_text(json.dumps(config.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
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

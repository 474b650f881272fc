"""Where the index lives. The index folder's config names its backend (txtai's factory pattern).

- ``embedded`` (default): FAISS + SQLite + bm25s generations in the index folder (`embedded/`);
- ``milvus``: collections in a Milvus server: the local one the indexer starts, or a cluster (`milvus/`).

`open_backend` reads an index, `create_backend` opens one for writing. Implementations are named
here by module path and imported on first use, so the interface (`base.py`) never imports them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from indexer.store.base import CONFIG_FILE, Backend, IndexFormatError, StoreConfig, read_config

BACKENDS: dict[str, str] = {
    "embedded": "indexer.store.embedded:EmbeddedBackend",
    "milvus": "indexer.store.milvus.reader:MilvusBackend",
}


def backend_class(kind: str) -> type[Backend]:
    """The class implementing backend `kind` (a name in BACKENDS)."""
    if kind not in BACKENDS:
        raise ValueError(f"unknown backend {kind!r}; choose one of {', '.join(BACKENDS)}")
    module, name = BACKENDS[kind].split(":")
    cls: type[Backend] = getattr(importlib.import_module(module), name)
    return cls


def open_backend(index_dir: Path | str, check_format: bool = True) -> Backend:
    """The backend that holds the index in `index_dir` (its config names it). Raises IndexNotFound."""
    index_dir = Path(index_dir)
    config = StoreConfig.read(index_dir)
    if config.backend not in BACKENDS:
        raise IndexFormatError(f"{index_dir}/{CONFIG_FILE} names an unknown backend {config.backend!r}")
    return backend_class(config.backend).open(index_dir, config, check_format=check_format)


def create_backend(index_dir: Path | str, store: StoreConfig | None = None) -> Backend:
    """The backend to write `index_dir` with: the one it already uses, or `store`'s for a new index.

    Switching an existing index to another backend (or Milvus server) is refused: build into a new
    folder instead.
    """
    config = writing_config(Path(index_dir), store)
    return backend_class(config.backend).create(Path(index_dir), config)


def writing_config(index_dir: Path, store: StoreConfig | None) -> StoreConfig:
    """Where a build into `index_dir` writes (`create_backend`), decided without opening anything."""
    config = StoreConfig.of(read_config(index_dir)) if (index_dir / CONFIG_FILE).exists() else None
    if config is not None and store is not None and config.backend != store.backend:
        raise IndexFormatError(f"{index_dir} holds a {config.backend} index; build the {store.backend} one "
                               f"into another folder (--index)")
    if config is not None and store is not None and store.uri is not None and config.uri != store.uri:
        raise IndexFormatError(f"{index_dir} is bound to Milvus at {config.uri or 'its local Milvus server'}; "
                               f"build into another folder to use {store.uri}")
    return config or store or StoreConfig()


def index_exists(index_dir: Path | str) -> bool:
    """Whether `index_dir` names a published index, checked without opening it (nor reaching a server)."""
    index_dir = Path(index_dir)
    config = StoreConfig.read(index_dir)
    return config.backend in BACKENDS and backend_class(config.backend).exists(index_dir, config)

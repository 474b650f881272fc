"""Any sentence-transformers model, by name or local folder (`st:` prefix)."""

from __future__ import annotations

import numpy as np

from indexer.embed.base import normalise


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; E5-family models get their query:/passage: prefixes."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = f"st:{model}"
        self._model = SentenceTransformer(model, device="cpu")
        self.dimension = int(self._model.get_sentence_embedding_dimension() or 0)
        is_e5 = "e5" in model.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode(
            [self._passage_prefix + t for t in texts], batch_size=32, normalize_embeddings=True
        )
        return normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        out = self._model.encode([self._query_prefix + text], normalize_embeddings=True)
        return normalise(out[0])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode([self._query_prefix + t for t in texts], normalize_embeddings=True)
        return normalise(out)

    def token_count(self, text: str) -> int:
        """Tokens the model reads for a passage (after its own truncation)."""
        n = len(self._model.tokenizer(self._passage_prefix + text)["input_ids"])
        return min(n, int(self._model.max_seq_length or n))

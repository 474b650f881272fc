"""BM25 for a delta generation: the passages an update wrote, scored with the base's statistics.

A delta generation (see `generation.py`) holds only the documents written since its base was
built. Its keyword side cannot be a bm25s index of its own: BM25's idf and average length would
come from a few dozen passages and the scores would not compare with the base's. So the delta
keeps raw term frequencies (a token × passage CSC matrix per field) and scores them at query time
with the Lucene formula bm25s uses, where N, df and the average length are the base's, with the
delta's own passages added: a passage written by an update ranks as it would after a merge, up
to the statistics of the few passages it replaced (exact again once the writer merges).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from indexer.store.keyword import BM25_B, BM25_K1, FOLDED_WEIGHT, KeywordIndex, exact_tokens, folded_tokens

DELTA_KEYWORD = "keyword-delta.npz"
FIELDS = (("exact", exact_tokens), ("folded", folded_tokens))


def field_stats(model) -> tuple[dict[str, int], np.ndarray, int]:  # noqa: ANN001 - bm25s has no public type
    """vocab, document frequency per token id, and number of passages of a base bm25s field."""
    indptr = np.asarray(model.scores["indptr"])
    return model.vocab_dict, np.diff(indptr), int(model.scores["num_docs"])


class DeltaKeyword:
    """Term frequencies of the delta's passages; `scores` takes the base's field statistics."""

    def __init__(self, vocab: dict[str, dict[str, int]], tf: dict[str, sp.csc_matrix],
                 lengths: dict[str, np.ndarray], size: int) -> None:
        self.vocab, self.tf, self.lengths, self.size = vocab, tf, lengths, size

    @classmethod
    def index(cls, texts: list[str]) -> DeltaKeyword:
        vocab: dict[str, dict[str, int]] = {}
        tf: dict[str, sp.csc_matrix] = {}
        lengths: dict[str, np.ndarray] = {}
        for name, tokenizer in FIELDS:
            v: dict[str, int] = {}
            rows, cols, lens = [], [], []
            for i, text in enumerate(texts):
                toks = tokenizer(text) or [""]  # as KeywordIndex: an empty passage has one empty token
                lens.append(len(toks))
                ids = [v.setdefault(t, len(v)) for t in toks]
                rows += [i] * len(ids)
                cols += ids
            m = sp.coo_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                              shape=(len(texts), max(len(v), 1))).tocsc()
            m.sum_duplicates()
            vocab[name], tf[name], lengths[name] = v, m, np.asarray(lens, dtype=np.float32)
        return cls(vocab, tf, lengths, len(texts))

    def save(self, folder: Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        for name, _ in FIELDS:
            m = self.tf[name]
            arrays.update({f"{name}_data": m.data, f"{name}_indices": m.indices, f"{name}_indptr": m.indptr,
                           f"{name}_shape": np.asarray(m.shape), f"{name}_lengths": self.lengths[name]})
        np.savez(Path(folder) / DELTA_KEYWORD, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        (Path(folder) / "keyword-delta.json").write_text(
            json.dumps({"size": self.size, "vocab": self.vocab}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> DeltaKeyword:
        meta = json.loads((Path(folder) / "keyword-delta.json").read_text(encoding="utf-8"))
        z = np.load(Path(folder) / DELTA_KEYWORD)
        tf, lengths = {}, {}
        for name, _ in FIELDS:
            tf[name] = sp.csc_matrix((z[f"{name}_data"], z[f"{name}_indices"], z[f"{name}_indptr"]),
                                     shape=tuple(z[f"{name}_shape"]))
            lengths[name] = z[f"{name}_lengths"]
        return cls(meta["vocab"], tf, lengths, int(meta["size"]))

    def scores(self, query: str, base: KeywordIndex | None, base_avgdl: dict[str, float]) -> np.ndarray:
        """BM25 of every delta passage for `query`, as if it were in the base's index."""
        out = np.zeros(self.size, dtype=np.float32)
        if not self.size:
            return out
        for name, tokenizer in FIELDS:
            model = getattr(base, f"_{name}", None) if base is not None else None
            b_vocab, b_df, b_n = field_stats(model) if model is not None else ({}, np.zeros(0), 0)
            n_docs = b_n + self.size
            lens = self.lengths[name]
            avgdl = (base_avgdl.get(name, 0.0) * b_n + float(lens.sum())) / n_docs
            norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lens / avgdl)
            m, v = self.tf[name], self.vocab[name]
            weight = 1.0 if name == "exact" else (base.folded_weight if base is not None else FOLDED_WEIGHT)
            for t in tokenizer(query):
                col = v.get(t)
                if col is None:
                    continue
                a, b = m.indptr[col], m.indptr[col + 1]
                rows, tf = m.indices[a:b], m.data[a:b]
                bid = b_vocab.get(t)
                df = (int(b_df[bid]) if bid is not None else 0) + (b - a)
                idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
                out[rows] += weight * idf * tf / (tf + norm[rows])
        return out

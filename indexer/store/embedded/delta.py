"""BM25 for a delta generation: the base's passages and the update's, scored as one index.

A delta generation (see `generation.py`) holds only the documents written since its base was
built. Its keyword side cannot be a bm25s index of its own: BM25's idf and average length would
come from a few dozen passages and the scores would not compare with the base's. So the delta
keeps raw term frequencies (a token × passage CSC matrix per field), and at query time both
segments are scored with the statistics of the passages the generation shows — the base's
visible rows and the delta's: N, df and the average length are those a full build of the same
files computes. The base's stored bm25s scores were computed with the base's own statistics; each
is turned back into its term frequency (score = idf · tf / (tf + norm), norm from the passage's
length, which the base keeps) and scored again. The ranking is then a full build's, whatever
the sizes of the base and the delta, and whichever base documents the delta hides.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from indexer.store.keyword import BM25_B, BM25_K1, FOLDED_WEIGHT, KeywordIndex, exact_tokens, folded_tokens

DELTA_KEYWORD = "keyword-delta.npz"
FIELDS = (("exact", exact_tokens), ("folded", folded_tokens))


def _idf(df: np.ndarray | int, n_docs: int) -> np.ndarray:
    return np.log(1 + (n_docs - df + 0.5) / (np.asarray(df, dtype=np.float64) + 0.5))


def _norm(lengths: np.ndarray, avgdl: float) -> np.ndarray:
    return BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / max(avgdl, 1e-9))


class _BaseField:
    """One field of the base's bm25s index, read for rescoring: its CSC scores, statistics and lengths."""

    def __init__(self, base: KeywordIndex, name: str, visible: np.ndarray | None) -> None:
        model = base.field(name)
        self.vocab: dict[str, int] = model.vocab_dict
        self.data, self.indices, self.indptr = (model.scores[k] for k in ("data", "indices", "indptr"))
        self.size = int(model.scores["num_docs"])
        self.avgdl = float(base.avgdl.get(name, 0.0))
        self.lengths: np.ndarray | None = base.lengths.get(name)
        if self.lengths is not None and len(self.lengths) != self.size:
            self.lengths = None
        self.visible = visible
        self.shown = self.size if visible is None else int(visible.sum())
        if visible is None:
            self.shown_length = self.avgdl * self.size
        elif self.lengths is not None:
            self.shown_length = float(self.lengths[visible].sum())
        else:  # an index written before lengths were kept: the mean stands in for the hidden rows'
            self.shown_length = self.avgdl * self.shown

    def column(self, token: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Rows holding `token`, their stored scores, and how many of them are visible."""
        t = self.vocab.get(token)
        if t is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        rows = np.asarray(self.indices[a:b])
        shown = len(rows) if self.visible is None else int(self.visible[rows].sum())
        return rows, np.asarray(self.data[a:b], dtype=np.float64), shown

    def rescore(self, rows: np.ndarray, stored: np.ndarray, idf: float, avgdl: float) -> np.ndarray:
        """The stored scores of `rows` for one token, again with idf `idf` and average length `avgdl`."""
        idf_base = _idf(len(rows), self.size)
        if self.lengths is None:  # lengths unknown: the idf is corrected, the length norm kept
            return stored * (idf / idf_base)
        lengths = self.lengths[rows]
        ratio = np.minimum(stored / idf_base, 1 - 1e-6)  # tf / (tf + norm): below 1
        tf = np.rint(ratio * _norm(lengths, self.avgdl) / (1 - ratio))
        return idf * tf / (tf + _norm(lengths, avgdl))


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
        np.savez(Path(folder) / DELTA_KEYWORD, **arrays)
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

    def scores(self, query: str, base: KeywordIndex | None,
               visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every base passage and every delta passage for `query`, with the statistics of
        the base's `visible` rows (None: all) and the delta's together."""
        base_out = np.zeros(base.size if base is not None else 0, dtype=np.float64)
        out = np.zeros(self.size, dtype=np.float64)
        for name, tokenizer in FIELDS:
            field = _BaseField(base, name, visible) if base is not None and base.field(name) is not None else None
            n_docs = self.size + (field.shown if field is not None else 0)
            if not n_docs:
                continue
            lens = self.lengths[name]
            avgdl = (float(lens.sum()) + (field.shown_length if field is not None else 0.0)) / n_docs
            norm = _norm(lens, avgdl)
            m, v = self.tf[name], self.vocab[name]
            weight = 1.0 if name == "exact" else (base.folded_weight if base is not None else FOLDED_WEIGHT)
            for t in tokenizer(query):
                col = v.get(t)
                a, b = (int(m.indptr[col]), int(m.indptr[col + 1])) if col is not None else (0, 0)
                rows_b, stored, shown = field.column(t) if field is not None else (None, None, 0)
                if b == a and not shown:
                    continue
                idf = float(_idf(shown + b - a, n_docs))
                if b > a:
                    rows, tf = m.indices[a:b], m.data[a:b]
                    out[rows] += weight * idf * tf / (tf + norm[rows])
                if shown:
                    base_out[rows_b] += weight * field.rescore(rows_b, stored, idf, avgdl)
        return base_out.astype(np.float32), out.astype(np.float32)

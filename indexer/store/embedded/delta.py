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
import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from indexer.store.keyword import BM25_B, BM25_K1, FOLDED_WEIGHT, KeywordIndex, exact_tokens, folded_tokens

DELTA_KEYWORD = "keyword-delta.npz"
CACHED_ENTRIES = 2_000_000  # rescored base entries kept per field (8 MB): the columns of recent tokens
FIELDS = (("exact", exact_tokens), ("folded", folded_tokens))


def _idf(df: int, n_docs: int) -> float:
    """bm25s's (Lucene's) idf of a token in `df` of `n_docs` passages."""
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def _norm(lengths: np.ndarray, avgdl: float) -> np.ndarray:
    return BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / max(avgdl, 1e-9))


class _BaseField:
    """One field of the base's bm25s index, rescored with the statistics of a generation: its visible
    rows and a delta's (`delta_length` tokens in `delta_size` passages). Built once per generation;
    each token's rescored column is kept (up to CACHED_ENTRIES), so a token searched before costs
    what it costs on a base alone."""

    def __init__(self, base: KeywordIndex, name: str, visible: np.ndarray | None,
                 delta_size: int, delta_length: float) -> None:
        model = base.field(name)
        self.vocab: dict[str, int] = model.vocab_dict
        self.indptr, self.indices, self.data = (model.scores[k] for k in ("indptr", "indices", "data"))
        self.size = int(model.scores["num_docs"])
        avgdl = float(base.avgdl.get(name, 0.0))
        lengths: np.ndarray | None = base.lengths.get(name)
        if lengths is not None and len(lengths) != self.size:
            lengths = None
        self.visible = visible
        shown = self.size if visible is None else int(visible.sum())
        # all rows, or an index written before lengths were kept: the mean stands in
        shown_length = float(lengths[visible].sum()) if visible is not None and lengths is not None else avgdl * shown
        self.n_docs = shown + delta_size
        self.avgdl = (shown_length + delta_length) / max(1, self.n_docs)
        # score = idf · tf / (tf + norm), so with r = score / idf, the same tf under another norm
        # scores idf' · r / (r + (1 - r) · norm' / norm): `renorm` is norm' / norm per row
        self.renorm = None if lengths is None else (_norm(lengths, self.avgdl) / _norm(lengths, avgdl)).astype(
            np.float32)
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def column(self, token: str, delta_df: int) -> tuple[np.ndarray, np.ndarray, int]:
        """The base rows holding `token`, their scores under the generation's statistics (the delta
        holds it in `delta_df` passages), and how many of those rows are visible."""
        with self._lock:
            hit = self._cache.get(token)
            if hit is not None:
                self._cache.move_to_end(token)
                return hit
        hit = self._rescored(token, delta_df)
        with self._lock:
            if token not in self._cache:
                self._cache[token] = hit
                self._held += len(hit[0])
            while self._held > CACHED_ENTRIES and len(self._cache) > 1:
                self._held -= len(self._cache.popitem(last=False)[1][0])
        return hit

    def _rescored(self, token: str, delta_df: int) -> tuple[np.ndarray, np.ndarray, int]:
        t = self.vocab.get(token)
        if t is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        rows, stored = np.asarray(self.indices[a:b]), np.asarray(self.data[a:b], dtype=np.float32)
        shown = len(rows) if self.visible is None else int(self.visible[rows].sum())
        idf_base, idf = _idf(len(rows), self.size), _idf(shown + delta_df, self.n_docs)
        if self.renorm is None:  # lengths unknown: the idf is corrected, the length norm kept
            return rows, stored * np.float32(idf / idf_base), shown
        r = np.minimum(stored / np.float32(idf_base), np.float32(1 - 1e-6))  # tf / (tf + norm): below 1
        return rows, np.float32(idf) * r / (r + (1 - r) * self.renorm[rows]), shown


class DeltaKeyword:
    """Term frequencies of the delta's passages; `scores` takes the base's field statistics."""

    def __init__(self, vocab: dict[str, dict[str, int]], tf: dict[str, sp.csc_matrix],
                 lengths: dict[str, np.ndarray], size: int) -> None:
        self.vocab, self.tf, self.lengths, self.size = vocab, tf, lengths, size
        self._fields: dict[tuple[int, int, str], _BaseField] = {}

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

    def _base_field(self, base: KeywordIndex, name: str, visible: np.ndarray | None) -> _BaseField:
        key = (id(base), id(visible), name)  # a delta belongs to one generation: one base, one mask
        field = self._fields.get(key)
        if field is None:
            field = self._fields[key] = _BaseField(base, name, visible, self.size, float(self.lengths[name].sum()))
        return field

    def scores(self, query: str, base: KeywordIndex | None,
               visible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every base passage and every delta passage for `query`, with the statistics of
        the base's `visible` rows (None: all) and the delta's together."""
        base_out = np.zeros(base.size if base is not None else 0, dtype=np.float32)
        out = np.zeros(self.size, dtype=np.float32)
        for name, tokenizer in FIELDS:
            field = self._base_field(base, name, visible) if base is not None and base.field(name) is not None \
                else None
            lens = self.lengths[name]
            n_docs = field.n_docs if field is not None else self.size
            if not n_docs:
                continue
            norm = _norm(lens, field.avgdl if field is not None else float(lens.sum()) / n_docs)
            weight = 1.0 if name == "exact" else (base.folded_weight if base is not None else FOLDED_WEIGHT)
            m, v = self.tf[name], self.vocab[name]
            for t in tokenizer(query):
                col = v.get(t)
                a, b = (int(m.indptr[col]), int(m.indptr[col + 1])) if col is not None else (0, 0)
                rows_b, fresh, shown = field.column(t, b - a) if field is not None else (None, None, 0)
                if b > a:
                    rows, tf = m.indices[a:b], m.data[a:b]
                    out[rows] += weight * _idf(shown + b - a, n_docs) * tf / (tf + norm[rows])
                if shown and rows_b is not None and fresh is not None:
                    base_out[rows_b] += weight * fresh
        return base_out, out

"""Keyword retrieval for Vietnamese: BM25 (bm25s) over two fields.

- ``exact``: NFC lower-cased syllables, so "quy hoạch" matches only "quy hoạch";
- ``folded``: the same syllables with diacritics stripped and đ→d, so "quy hoach" matches too.

A query is scored against both fields and the scores are added: an accented query that matches
exactly gets both contributions and ranks above a passage matching only once folded, while an
unaccented query still finds its passage through the folded field. One-syllable words stay
(they carry meaning in Vietnamese: "ở", "ý"), and no English stop-word list is applied.
Both fields also hold syllable bigrams ("quy_hoạch"): Vietnamese words are mostly two syllables,
and on ALQAC's tuning half they raised keyword MRR@10 (docs/evaluation.md).
Document numbers (57-NQ/TW, 1288/QĐ-TTg) become one extra token each, in canonical form, so a
number in a query matches the number in a passage whatever its spelling.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from indexer.text.docnumbers import find_numbers
from indexer.text.normalise import fold_token, syllables

Tokenizer = Callable[[str], list[str]]
FOLDED_WEIGHT = 1.0
NUMBER_PREFIX = "#"
LENGTHS = "bm25-lengths.npz"

# Okapi BM25 parameters, the same for bm25s here and for Milvus's BM25 function (store/milvus/).
BM25_K1 = 1.2
BM25_B = 0.75


def number_tokens(text: str) -> list[str]:
    return [NUMBER_PREFIX + m.key for m in find_numbers(text)]


def with_bigrams(tokens: list[str]) -> list[str]:
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def exact_tokens(text: str) -> list[str]:
    return with_bigrams(syllables(text)) + number_tokens(text)


def folded_tokens(text: str) -> list[str]:
    return with_bigrams([fold_token(t) for t in syllables(text)])


# A token in more than 1/DENSE_SHARE of the passages is kept as a dense row of scores, up to
# DENSE_BYTES a field: the few hundred common syllables and pairs of a corpus are most of what a
# query adds up (on ALQAC 94-96 % of the scores read), and a contiguous row adds many times faster
# than a scatter.
DENSE_SHARE = 16
DENSE_BYTES = 48 << 20


class _Columns:
    """One field's BM25 scores by token (bm25s's CSC arrays, as plain ndarray views of the memory map:
    slicing the `memmap` subclass costs more than the sums on a short column), with the common
    tokens' columns also as dense rows."""

    def __init__(self, scores: dict, size: int) -> None:
        self.data = np.asarray(scores["data"], dtype=np.float32)
        self.indices = np.asarray(scores["indices"])
        self.indptr = np.asarray(scores["indptr"])
        self.size = size
        df = np.diff(self.indptr)
        common = np.flatnonzero(df > max(size // DENSE_SHARE, 1))
        common = common[np.argsort(-df[common], kind="stable")][: DENSE_BYTES // max(4 * size, 1)]
        self.dense: dict[int, np.ndarray] = {}
        for t in common.tolist():
            row = np.zeros(size, dtype=np.float32)
            a, b = self.indptr[t], self.indptr[t + 1]
            row[self.indices[a:b]] = self.data[a:b]
            self.dense[t] = row

    def sums(self, ids: list[int]) -> np.ndarray:
        """What bm25s's `get_scores(ids)` returns for the "lucene" variant: the same float32 sums in
        the same order. Each passage's score adds its tokens' scores in query order, as bm25s's
        `np.add.at` does: a dense row adds 0.0 where the token is absent (no change), and the columns
        of consecutive rare tokens go in one `np.add.at`, which adds its entries one after another
        (a token repeated in the query adds twice, as in bm25s)."""
        out = np.zeros(self.size, dtype=np.float32)
        if not ids:
            return out
        at = np.asarray(ids)
        pending: list[tuple[int, int]] = []
        for t, a, b in zip(ids, self.indptr[at].tolist(), self.indptr[at + 1].tolist(), strict=True):
            row = self.dense.get(t)
            if row is None:
                pending.append((a, b))
                continue
            self._scatter(out, pending)
            out += row
        self._scatter(out, pending)
        return out

    def _scatter(self, out: np.ndarray, columns: list[tuple[int, int]]) -> None:
        """Add the columns [a, b) to `out`, entry after entry, and forget them."""
        if len(columns) == 1:
            (a, b), = columns
            np.add.at(out, self.indices[a:b], self.data[a:b])
        elif columns:
            np.add.at(out, np.concatenate([self.indices[a:b] for a, b in columns]),
                      np.concatenate([self.data[a:b] for a, b in columns]))
        columns.clear()


class KeywordIndex:
    def __init__(
        self,
        exact_tokenizer: Tokenizer = exact_tokens,
        folded_tokenizer: Tokenizer = folded_tokens,
        folded_weight: float = FOLDED_WEIGHT,
    ) -> None:
        self.exact_tokenizer = exact_tokenizer
        self.folded_tokenizer = folded_tokenizer
        self.folded_weight = folded_weight
        self._exact = None
        self._folded = None
        self._columns: dict[str, _Columns] = {}
        self.size = 0
        # tokens per passage, per field, and their mean: a delta generation rescores the base with them
        self.lengths: dict[str, np.ndarray] = {}
        self.avgdl: dict[str, float] = {}

    @staticmethod
    def _bm25(texts: list[str], tokenizer: Tokenizer) -> tuple:  # bm25s has no public type
        """A bm25s index over `texts`, tokenised one text at a time into compact id arrays, and the
        number of tokens of each text.

        Handing bm25s lists of token strings for the whole corpus held every token as a Python
        object (about 2 GB for the 208 laws); ids in `array('i')` need 4 bytes a token.
        """
        from array import array

        import bm25s

        vocab: dict[str, int] = {"": 0}  # "" stands in for an empty passage, as bm25s's own empty token
        ids: list[array] = []
        for text in texts:
            toks = tokenizer(text) or [""]
            ids.append(array("i", [vocab.setdefault(t, len(vocab)) for t in toks]))
        model = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        model.index((ids, vocab), show_progress=False)
        return model, np.array([len(a) for a in ids], dtype=np.float32)

    def index(self, texts: list[str]) -> KeywordIndex:
        self._columns = {}
        self._exact, self.lengths["exact"] = self._bm25(texts, self.exact_tokenizer)
        self._folded, self.lengths["folded"] = self._bm25(texts, self.folded_tokenizer)
        self.avgdl = {k: float(v.mean()) if len(v) else 0.0 for k, v in self.lengths.items()}
        self.size = len(texts)
        return self

    def field(self, name: str):  # noqa: ANN201 - a bm25s model (no public type), or None before `index`
        """The bm25s model of field `name` ("exact" or "folded")."""
        return self._exact if name == "exact" else self._folded

    def _field_scores(self, name: str, tokens: list[str]) -> np.ndarray:
        model = self.field(name)
        vocab = model.vocab_dict
        ids = [i for i in map(vocab.get, tokens) if i is not None]
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        if model.nonoccurrence_array is not None:  # BM25L/BM25+ (not what `_bm25` builds)
            return np.asarray(model.get_scores(ids), dtype=np.float32)
        columns = self._columns.get(name)
        if columns is None:
            columns = self._columns[name] = _Columns(model.scores, self.size)
        return columns.sums(ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for `query` (zeros where nothing matches)."""
        if self._exact is None or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        s = self._field_scores("exact", self.exact_tokenizer(query))
        folded = self._field_scores("folded", self.folded_tokenizer(query))
        s += folded if self.folded_weight == 1.0 else self.folded_weight * folded  # 1.0 × x is x
        return s

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        if self._exact is None or self._folded is None:
            raise ValueError("an empty keyword index has nothing to save")
        self._exact.save(folder / "bm25-exact", show_progress=False)
        self._folded.save(folder / "bm25-folded", show_progress=False)
        (folder / "bm25.json").write_text(
            json.dumps({"size": self.size, "folded_weight": self.folded_weight, "avgdl": self.avgdl}),
            encoding="utf-8")
        np.savez(folder / LENGTHS, **self.lengths)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        folder = Path(folder)
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        ki = cls(folded_weight=meta["folded_weight"])
        ki._exact = bm25s.BM25.load(folder / "bm25-exact", mmap=True, show_progress=False)
        ki._folded = bm25s.BM25.load(folder / "bm25-folded", mmap=True, show_progress=False)
        ki.size = meta["size"]
        ki.avgdl = meta.get("avgdl", {})
        if (folder / LENGTHS).exists():  # absent from indexes written before it was kept
            with np.load(folder / LENGTHS) as z:
                ki.lengths = {k: z[k] for k in z.files}
        return ki

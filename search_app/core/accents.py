"""Diacritics put back on a query typed without them, from the passages the keyword side found.

The embedding model reads "quy hoach tinh bac kan" as a different text from "quy hoạch tỉnh Bắc
Kạn" (dense MRR@10 0.06 on ALQAC's questions typed without diacritics, 0.88 with them), while the
folded keyword field finds the right passages. Those passages spell the query's words with their
accents, and a word takes an accented form only where they support it:

- in context first: the syllable pairs it forms with its neighbours in the query, as the passages
  write them ("trung du" in "Trung du và miền núi"), the form of the most frequent pair (two forms
  as frequent: the passages do not tell);
- alone only when the passages write it one way (every "nghiem" there is "nghiệm");
- otherwise it stays as typed: "du" next to "trung" never becomes "dữ" because "dữ liệu" is
  frequent, and a word the passages spell several ways with no pair to tell is not guessed.

Nothing is guessed beyond what the corpus itself writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from indexer.text.docnumbers import find_numbers
from indexer.text.normalise import fold_token, syllables


def restore(query: str, texts: Iterable[str]) -> str:
    """`query` with the diacritics the `texts` use for its syllables (lower case, words only).
    Document numbers ("11-NQ/TW") are kept as typed: they are names, not words to accent."""
    numbers = find_numbers(query)
    if not numbers:
        return _restore_words(query, list(texts))
    texts = list(texts)
    out, pos = [], 0
    for n in numbers:
        if query[pos : n.start].strip():
            out.append(_restore_words(query[pos : n.start], texts))
        out.append(query[n.start : n.end])
        pos = n.end
    if query[pos:].strip():
        out.append(_restore_words(query[pos:], texts))
    return " ".join(out)


def _counts(words: list[str], texts: list[str]) -> tuple[dict[str, Counter[str]],
                                                         dict[tuple[str, str], Counter[tuple[str, str]]]]:
    """How the texts write each of the query's folded syllables, alone and in pairs of two of them."""
    singles: dict[str, Counter[str]] = {}
    pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    wanted = {fold_token(w) for w in words}
    for text in texts:
        toks = syllables(text)
        folded = [fold_token(t) for t in toks]
        for i, (t, f) in enumerate(zip(toks, folded, strict=True)):
            if f not in wanted:
                continue
            singles.setdefault(f, Counter())[t] += 1
            if i + 1 < len(toks) and folded[i + 1] in wanted:
                pairs.setdefault((f, folded[i + 1]), Counter())[(t, toks[i + 1])] += 1
    return singles, pairs


def _in_context(words: list[str], i: int, pairs: dict[tuple[str, str], Counter[tuple[str, str]]]) -> Counter[str]:
    """The forms of word i that the texts write next to its neighbours in the query, with counts. A
    neighbour typed with its accents counts only where the texts write it that way."""
    f = fold_token(words[i])
    score: Counter[str] = Counter()
    if i > 0:
        left = words[i - 1]
        for (a, b), n in pairs.get((fold_token(left), f), Counter()).items():
            if left == fold_token(left) or a == left:
                score[b] += n
    if i + 1 < len(words):
        right = words[i + 1]
        for (a, b), n in pairs.get((f, fold_token(right)), Counter()).items():
            if right == fold_token(right) or b == right:
                score[a] += n
    return score


def _restore_words(query: str, texts: list[str]) -> str:
    words = syllables(query)
    if not words:
        return query
    singles, pairs = _counts(words, texts)
    out: list[str] = []
    for i, w in enumerate(words):
        f = fold_token(w)
        if w != f or f not in singles:  # typed with its accents, or unknown to the passages
            out.append(w)
            continue
        ranked = _in_context(words, i, pairs).most_common(2)
        if ranked:  # two forms as often in context: the texts do not tell
            out.append(ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else w)
        elif len(singles[f]) == 1:
            out.append(next(iter(singles[f])))
        else:
            out.append(w)
    return " ".join(out)

"""Diacritics put back on a query typed without them, from the passages the keyword side found.

The embedding model reads "quy hoach tinh bac kan" as a different text from "quy hoạch tỉnh Bắc
Kạn" (dense MRR@10 0.06 on ALQAC's questions typed without diacritics, 0.88 with them), while the
folded keyword field finds the right passages. Those passages spell the query's words with their
accents: each unaccented syllable takes the accented form that the top passages use in the same
context (the syllable pair it forms with a neighbour), else the form they use most, else stays as
typed. Nothing is guessed beyond what the corpus itself writes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from indexer.text.docnumbers import find_numbers
from indexer.text.normalise import fold_token, syllables

PAIR_WEIGHT = 3.0  # a syllable pair seen in the passages outweighs a syllable's frequency alone


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


def _restore_words(query: str, texts: list[str]) -> str:
    words = syllables(query)
    if not words:
        return query
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
    out: list[str] = []
    for i, w in enumerate(words):
        f = fold_token(w)
        if w != f or f not in singles:  # typed with its accents, or unknown to the passages
            out.append(w)
            continue
        score: defaultdict[str, float] = defaultdict(float)
        for form, n in singles[f].items():
            score[form] += n
        if i > 0:
            for (_a, b), n in pairs.get((fold_token(words[i - 1]), f), Counter()).items():
                score[b] += PAIR_WEIGHT * n
        if i + 1 < len(words):
            for (a, _b), n in pairs.get((f, fold_token(words[i + 1])), Counter()).items():
                score[a] += PAIR_WEIGHT * n
        out.append(max(score.items(), key=lambda kv: (kv[1], kv[0]))[0])
    return " ".join(out)

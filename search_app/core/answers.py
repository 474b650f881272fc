"""The answering sentence of a hit, chosen extractively from the passage's own sentences.

Every sentence of a passage has a stored vector (indexer/text/sentences.py splits, the indexer embeds).
A sentence's score is its similarity to the query vector plus a small bonus for the share of the
query's content words it contains (a name or a number the model blurs). The best sentence of a
passage is marked when the evidence is clear enough — no answer is better than a wrong one:

- the passage has at least two sentences, and the sentence is at most MAX_SHARE of the passage
  (marking nearly all of it tells the reader nothing);
- its score is within SLACK of the best sentence score among all hits of the query: a hit whose
  best sentence is much weaker than what the results hold elsewhere is shown unmarked;
- a neighbouring sentence scoring within PAIR_SLACK of the best is marked with it (an answer that
  spans "…; …" or two short sentences);
- a question ("BBT: … như thế nào?") or a heading of the passage's own section path is never
  marked: it repeats the query's words, the answer is what follows it.

A search without a query vector (the keyword method) scores by the word share alone and marks
only a sentence holding at least MIN_LEXICAL of the query's content words.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence

import numpy as np

from indexer.text.normalise import fold, fold_token, syllables

LEXICAL_WEIGHT = 0.05  # word share 1.0 is worth about what separates a good sentence from a fair one
SLACK = 0.06
PAIR_SLACK = 0.01
MAX_SHARE = 0.67
MIN_LEXICAL = 0.5
SENTENCE_CACHE = 16384  # sentences whose folded words are kept (see _folded_words)
PASSAGE_CACHE = 4096  # passages whose question and heading masks are kept (see _not_answers), as many as
# the searcher keeps rows of (ROW_CACHE) and the words of (WORDS_CACHE)
# Function words of questions: no content for choosing a sentence, nor worth marking on the page
# (retrieval keeps them). Here an accented query word is compared as written ("tự" in "tự động" is
# content, "từ" is not) and an unaccented one folded; the page compares as written only (render.py).
FUNCTION_WORDS = frozenset((
    "và", "của", "các", "là", "có", "cho", "với", "trong", "những", "này", "để", "đã", "về", "được", "một",
    "nào", "gì", "ra", "sao", "thế", "như", "không", "hay", "hoặc", "thì", "mà", "theo", "từ", "đến", "tại",
    "còn", "vẫn", "đang", "bao", "nhiêu", "ai", "đâu", "khi",
    "the", "of", "and", "to", "in", "a", "an", "for", "on", "is", "are", "what", "does", "do", "how", "which",
    "did", "will", "be", "by", "with", "that", "this", "at", "as", "it"))
_FOLDED_FUNCTION_WORDS = frozenset(map(fold, FUNCTION_WORDS))


@functools.lru_cache(maxsize=1024)
def _content_terms(query: str) -> frozenset[str]:
    out = set()
    for word in syllables(query):
        folded = fold_token(word)
        if word not in FUNCTION_WORDS and (word != folded or folded not in _FOLDED_FUNCTION_WORDS):
            out.add(folded)
    return frozenset(out)


def content_terms(query: str) -> set[str]:
    """The query's content words, folded."""
    return set(_content_terms(query))


@functools.lru_cache(maxsize=SENTENCE_CACHE)
def _folded_words(sentence: str) -> frozenset[str]:
    """A sentence's folded words, kept for the sentences last scored: a passage's sentences are scored
    again whenever it comes back in a ranking."""
    return frozenset(map(fold_token, syllables(sentence)))


def lexical_share(terms: set[str] | frozenset[str], text: str) -> float:
    if not terms:
        return 0.0
    return len(terms & _folded_words(text)) / len(terms)


def sentence_scores(query: str, text: str, spans: np.ndarray, similarities: np.ndarray | None,
                    below: float = -np.inf, require_words: bool = False) -> np.ndarray:
    """One score per sentence of `text` (see the module docstring). Sentences whose similarity is
    under `below` keep their bare similarity: the word bonus could not make them count. With
    `require_words`, a sentence sharing no content word with the query scores -inf (never marked)."""
    terms = _content_terms(query)
    if similarities is None or len(similarities) != len(spans):
        shares = np.array([lexical_share(terms, text[int(a):int(b)]) for a, b in spans], dtype=np.float32)
        if require_words:
            shares[shares == 0] = -np.inf
        return shares
    return _with_bonus(terms, [(text, spans)], np.asarray(similarities, dtype=np.float32), below, require_words)


def _with_bonus(terms: frozenset[str], parts: list[tuple[str, np.ndarray]], sims: np.ndarray, below: float,
                require_words: bool) -> np.ndarray:
    """`sims`, the similarities of the sentences of `parts` (text, sentence spans) in order, each
    read at or above `below` plus its word bonus (`sentence_scores`: one passage; `_scored`: all the
    hits of a query in one set of array operations)."""
    read = sims >= below
    flags = iter(read.tolist())
    shares = np.array([lexical_share(terms, text[a:b]) if next(flags) else 0.0
                       for text, spans in parts for a, b in np.asarray(spans).tolist()])
    # the bonus in float32, as a float32 similarity plus a Python float adds it
    out = np.where(read, sims + (LEXICAL_WEIGHT * shares).astype(np.float32), sims)
    if require_words:
        out[~read | (shares == 0)] = -np.inf  # too weak to be marked anyway: its words are not read
    return out


def choose(text: str, spans: np.ndarray, scores: np.ndarray, floor: float,
           lexical_only: bool = False) -> list[dict[str, int]]:
    """The marked sentence(s) of one passage: [{"start", "end"}], possibly empty."""
    if len(spans) < 2 or not len(text.strip()):
        return []
    best = int(np.argmax(scores))
    top = scores[best]  # compared as the scores' own float32
    if top < floor:
        return []
    chosen = [best]
    if not lexical_only:
        close = (scores >= top - PAIR_SLACK).tolist()
        chosen += [nb for nb in (best - 1, best + 1) if 0 <= nb < len(close) and close[nb]]
    chosen.sort()
    bounds = np.asarray(spans).tolist()  # Python numbers: a dozen reads, each a numpy scalar otherwise
    marked = sum(bounds[i][1] - bounds[i][0] for i in chosen)
    if marked > MAX_SHARE * len(text):
        if len(chosen) == 1:
            return []
        chosen = [best]
        if bounds[best][1] - bounds[best][0] > MAX_SHARE * len(text):
            return []
    return [{"start": int(bounds[i][0]), "end": int(bounds[i][1])} for i in chosen]


def prepare(text: str, spans: np.ndarray, headings: Sequence[str]) -> None:
    """Work out and keep what `answers` reads of a passage the first time it scores it: its sentences'
    words and its question and heading marks (core/preload.py)."""
    _not_answers_of(text, np.asarray(spans, dtype=np.int64).tobytes(), tuple(headings))
    for a, b in np.asarray(spans).tolist():
        _folded_words(text[a:b])


_MARKER = re.compile(r"^(?:(?:BBT|PV|Phóng viên|Hỏi|Câu hỏi)\s*:\s*|\*\s+)")


def _not_answers(text: str, spans: np.ndarray, headings: Sequence[str]) -> np.ndarray:
    """Sentences that cannot answer: a question ("BBT: … như thế nào?"), or a heading of the
    passage's own section path ("* Đối với cấp ủy các cấp") — they repeat the question's words,
    the answer is what follows them. Kept for the passages last read: they come back query after query."""
    return _not_answers_of(text, np.asarray(spans, dtype=np.int64).tobytes(), tuple(headings)).copy()


@functools.lru_cache(maxsize=PASSAGE_CACHE)
def _not_answers_of(text: str, spans: bytes, headings: tuple[str, ...]) -> np.ndarray:
    # (label, cut): a long heading's label is cut after a few words and ends with "…"
    labels = [(_MARKER.sub("", " ".join(h.replace("**", "").rstrip("…").split())), h.rstrip().endswith("…"))
              for h in headings if h.strip()]
    bounds = np.frombuffer(spans, dtype=np.int64).reshape(-1, 2)
    flags = []
    for a, b in bounds.tolist():
        raw = text[a:b]
        cleaned = raw.replace("**", "")
        # labels are stored without the line's "BBT:" or "*" (indexer/split.py): compared without them.
        # A question ends with "?" however its white space and marker read; a heading line joined
        # with the content after it (no full stop between) is content.
        if cleaned.rstrip().endswith("?"):
            flags.append(True)
        elif not labels or "\n" in raw.strip():
            flags.append(False)
        else:
            sentence = _MARKER.sub("", " ".join(cleaned.split()))
            flags.append(any(lab and sentence.startswith(lab) and (cut or len(sentence) <= len(lab) + 2)
                             for lab, cut in labels))
    return np.array(flags, dtype=bool)


def answers(query: str, texts: Sequence[str], sentences: Sequence[tuple[np.ndarray, np.ndarray | None] | None],
            lexical_only: bool = False, headings: Sequence[Sequence[str]] | None = None,
            require_words: bool = False) -> list[list[dict[str, int]]]:
    """The answer spans of each hit. `sentences[i]` holds (spans, similarities to the query vector)
    of hit i's sentences, or None; `lexical_only` when there is no query vector (similarities None);
    `headings[i]` the section path of hit i (its heading lines are never the answer). With
    `require_words` (a query in the corpus's own words, not English) a sentence sharing none of the
    query's content words is never marked: what it shares is at most "còn", "không", "của"…"""
    # The word bonus is at most LEXICAL_WEIGHT, so a sentence more than SLACK + PAIR_SLACK +
    # LEXICAL_WEIGHT below the best similarity can neither be marked nor join a marked neighbour:
    # its words are not read (the same choice, a millisecond less per search).
    sims = [float(x[1].max()) for x in sentences if x is not None and x[1] is not None and len(x[1])]
    below = max(sims) - SLACK - PAIR_SLACK - LEXICAL_WEIGHT if sims and not lexical_only else -np.inf
    heads = headings if headings else [()] * len(texts)
    # one set of array operations for every sentence of every hit whose similarities are given
    given = {} if lexical_only else {i: (texts[i], x[0], x[1], heads[i]) for i, x in enumerate(sentences)
                                     if x is not None and x[1] is not None and len(x[0]) and len(x[1]) == len(x[0])}
    fast = dict(zip(given, _scored(query, list(given.values()), below, require_words), strict=True))
    scored = [fast[i] if i in fast else _one(query, text, sent, heads[i], lexical_only, below, require_words)
              for i, (text, sent) in enumerate(zip(texts, sentences, strict=True))]
    tops = [m for s in scored if s is not None and len(s) and math.isfinite(m := float(s.max()))]
    if not tops:
        return [[] for _ in texts]
    floor = MIN_LEXICAL if lexical_only else max(tops) - SLACK
    return [[] if s is None or sent is None else choose(text, sent[0], s, floor, lexical_only)
            for text, sent, s in zip(texts, sentences, scored, strict=True)]


def _one(query: str, text: str, sent: tuple[np.ndarray, np.ndarray | None] | None, headings: Sequence[str],
         lexical_only: bool, below: float, require_words: bool) -> np.ndarray | None:
    """One hit's `sentence_scores`, questions and headings at -inf; None without sentences."""
    if sent is None or not len(sent[0]):
        return None
    score = sentence_scores(query, text, sent[0], None if lexical_only else sent[1], below, require_words)
    score[_not_answers(text, sent[0], headings)] = -np.inf
    return score


def _scored(query: str, hits: list[tuple[str, np.ndarray, np.ndarray, Sequence[str]]], below: float,
            require_words: bool) -> list[np.ndarray]:
    """`_one` of each of `hits` (text, sentence spans, similarities, headings), worked out over all
    their sentences at once (a tenth of the array operations)."""
    if not hits:
        return []
    sims = np.concatenate([np.asarray(h[2], dtype=np.float32) for h in hits])
    out = _with_bonus(_content_terms(query), [(text, spans) for text, spans, _, _ in hits], sims, below, require_words)
    # the cached masks themselves (concatenated: a copy), not `_not_answers`'s copies of them
    out[np.concatenate([_not_answers_of(text, np.asarray(spans, dtype=np.int64).tobytes(), tuple(heads))
                        for text, spans, _, heads in hits])] = -np.inf
    bounds = np.cumsum([0] + [len(h[1]) for h in hits]).tolist()
    return [out[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

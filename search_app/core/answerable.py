"""Whether the index holds an answer to a query: no answer is better than a wrong one.

The signal is a comparison, not an absolute similarity. The embedding model's similarities sit in
a narrow band that moves with the query's language and form (an English question scores about
0.78 against its right Vietnamese sentence, a Vietnamese one 0.88–0.95; a cooking question 0.82
against the best sentence of a political resolution), so no fixed similarity separates questions
the documents answer from those they do not. What does: the query's best sentence in the index
against its best sentence in a small set of everyday texts written for this purpose (everyday.py:
food, sport, weather, code, greetings… and nothing on the indexed subjects). A question about the
documents is closer to some sentence of theirs than to any everyday text; a question about
cooking is closer to the everyday recipe. `margin` = best index sentence − best everyday text.

The everyday texts are in the documents' language, Vietnamese, and only in it: both sides of the
comparison then pay the same price for a query in another language. With English everyday texts
beside the Vietnamese documents, an English question met its own language on the everyday side
only, and English questions the documents answer fell below the threshold (2 of 5 on a held-out
half) while no Vietnamese one did (CHANGELOG.md, issue 18.4).

The margin alone was tuned on one corpus and does not carry: on a corpus of one document, or on
law articles, a question from the documents' own field ("near-domain": a law or an event the corpus
does not cover) is as far above the everyday texts as one the corpus answers. More signals, which
adapt to any corpus without re-tuning, are weighed with the margin (`features`, a logistic
`confidence` in 0–1 and one THRESHOLD for every corpus):
- the near-domain margin: the best sentence against the best of a second background,
  everyday.NEAR_DOMAIN, generic sentences that only name the subjects of official texts (taxes,
  land, exams, Party discipline…). A question on a subject the corpus does not cover is about as
  close to such a sentence as to the corpus; a question the corpus answers comes closer to the
  passage that says something specific about it;
- the lift: the best sentence against this corpus's typical one for the query (the median best
  sentence over the passages the dense side looked at). Reported, and weighed 0 since the
  near-domain margin came: beside it the lift adds nothing in cross-validation;
- the words: the share of the query's content words (FUNCTION_WORDS left out; a word typed with
  diacritics must match as typed, "đất" is not "đạt") found in the passages shown, and the share of
  its adjacent content-word pairs found as pairs in the first three and in their closest sentences.
  A near-domain question shares the corpus's vocabulary word by word but not its phrases ("lương cơ
  sở", "nồng độ cồn"). An English
  query (`is_foreign`) has no words to find in Vietnamese text; it is marked so the weights do not
  count that against it;
- the numbers: the share of the query's numbers (two digits or more: a year, a count, a document
  number) that no passage of the whole index holds (corpus_numbers.py). A number reads the same in
  every language and the model barely sees it: "by 2045" asked of an interview that never names 2045
  is about something else, however close its words come. The passages shown cannot say a number is
  absent from the corpus, so the index's numbers are read once per generation.

WEIGHTS and THRESHOLD are fitted by benchmarks/answerable_corpora.py on every question of three
corpora (the demo interview alone, the political corpus, a sample of laws), the signals chosen by
cross-validation inside them; the figure to quote is that of a question set written apart, asked
once the rule was frozen (`--sets`, docs/evaluation.md).

A query that names a document number known to the index (indexed, or cited by a passage) is
answerable whatever the margin: the number itself is the evidence. So is a query whose words stand
in a passage exactly as typed, in that order (a quotation, a name, a rare term such as "zyxwvu"):
the keyword side has found it, whatever the model makes of it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import statistics
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from indexer.embed.base import Embedder
from indexer.embed.kept import kept
from indexer.text.docnumbers import find_numbers, find_short_references, short_reference_matches
from indexer.text.normalise import fold_token, syllables
from indexer.text.words import passage_words
from search_app.core.corpus_numbers import CorpusNumbers
from search_app.core.everyday import EVERYDAY, NEAR_DOMAIN

# Chosen on the tuning half by benchmarks/answerable.py: the largest threshold (to 0.001) that
# wrongly flags at most 2.5% of the tuning half's answerable questions (half the 5% floor, room
# for questions not seen).
MARGIN = 0.026
# Display labels for a hit's own margin (its best sentence against the everyday texts): a reader
# is told how well a passage matches in words, never a 4-decimal score.
STRONG_MARGIN = MARGIN + 0.05
LABELS = ("Rất phù hợp", "Phù hợp", "Ít liên quan")
PASSAGE_CACHE = 4096  # passages whose syllables and keys are kept (see _passage)
TOP_PASSAGES = 3  # the hits whose words the query's content words are looked for in
# The rule's logistic weights over (1, *features(evidence)) and the confidence an answerable query
# reaches: fitted by benchmarks/answerable_corpora.py (`--fit`) on every question of three corpora,
# the lift left out (weight 0); frozen before the question set written apart was asked.
WEIGHTS: tuple[float, ...] = (-4.015, 61.491, 0.0, -2.072, 4.489, 2.169, 0.454, -6.168, 32.264)
THRESHOLD = 0.31

_lock = threading.Lock()


@dataclass(frozen=True)
class JudgeInputs:
    """Everything the decision needs from one search, gathered by the searcher."""

    query: str
    query_vector: np.ndarray | None  # None: nothing to compare (no hits)
    embedder: Embedder | None
    texts: list[str]  # the hits' passages, in rank order
    # each hit's sentences: (spans as [start, end] rows into its text, similarities to the query)
    sentences: list[tuple[np.ndarray, np.ndarray] | None]
    # best sentence similarity of every passage the dense side looked at (hits included): how close
    # this corpus typically comes to the query
    candidates: list[float] = field(default_factory=list)
    knows_number: Callable[[str], bool] = lambda key: False  # a bare number the index holds or cites
    knows_short: Callable[[str, int], bool] = lambda code, n: False  # ("NQ", 57) names an indexed document
    numbers: CorpusNumbers | None = None  # the numbers the whole index holds (None: none looked for)


@dataclass(frozen=True)
class Evidence:
    """What the decision saw; `details["evidence"]` of a search."""

    best: float | None  # best sentence similarity among the searched passages (None: no vector)
    everyday: float | None  # best similarity among the everyday texts
    margin: float | None
    number_known: bool  # the query names a document number the index knows
    phrase: bool  # the query's words stand in a passage as typed, in that order
    answerable: bool
    typical: float | None = None  # median best-sentence similarity over the dense candidates
    coverage: float | None = None  # share of the query's content words in the passages shown
    bigrams: float | None = None  # share of the query's content word pairs in the top passages
    foreign: bool = False  # the query reads as English: the keyword side cannot speak for it
    sentence_pairs: float | None = None  # share of its content word pairs in the top hits' closest sentences
    confidence: float = 0.0  # calibrated chance the index answers the query, comparable across queries
    unseen_numbers: float | None = None  # share of the query's numbers no passage of the index holds
    near_domain: float | None = None  # best similarity among the near-domain texts (everyday.NEAR_DOMAIN)

    def to_dict(self) -> dict[str, Any]:
        # every field is a scalar: read them as they are (dataclasses.asdict copies deeply, a tenth of
        # a millisecond a search)
        out = {}
        for k in _EVIDENCE_FIELDS:
            v = getattr(self, k)
            out[k] = round(v, 4) if isinstance(v, float) else v
        return out


_EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))
NOTHING = Evidence(None, None, None, False, False, False)


@functools.lru_cache(maxsize=8)
def _background_vectors(model: str, embedder: Embedder) -> np.ndarray:
    """Read from the cache folder when this embedder has embedded these very texts before (keyed by
    their content, the model and the embedder's class): embedding them costs a one-shot CLI search
    most of its second; computed, and kept there, otherwise."""
    texts = [*EVERYDAY, *NEAR_DOMAIN]
    key = "\x00".join([type(embedder).__qualname__, model, str(embedder.dimension), *texts])
    name = f"background/{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}.npz"
    return kept(name, lambda: {"vectors": np.asarray(embedder.embed_passages(texts), dtype=np.float32)},
                lambda a: a.get("vectors", np.zeros(0)).shape == (len(texts), embedder.dimension))["vectors"]


def background_vectors(embedder: Embedder) -> np.ndarray:
    """The everyday texts, then the near-domain ones, embedded as passages by `embedder` (once per
    model and process)."""
    with _lock:  # one embedding run, even when the first searches come together
        return _background_vectors(embedder.name, embedder)


def everyday_vectors(embedder: Embedder) -> np.ndarray:
    """The everyday texts embedded as passages by `embedder`."""
    return background_vectors(embedder)[:len(EVERYDAY)]


def background_best(embedder: Embedder, query_vector: np.ndarray) -> tuple[float, float]:
    """The query's best similarity among the everyday texts and among the near-domain ones (one
    product over both)."""
    sims = background_vectors(embedder) @ np.asarray(query_vector, dtype=np.float32)
    return float(np.max(sims[:len(EVERYDAY)])), float(np.max(sims[len(EVERYDAY):]))


def everyday_best(embedder: Embedder, query_vector: np.ndarray) -> float:
    return background_best(embedder, query_vector)[0]


def spaced(words: Sequence[str]) -> str:
    """Syllables as one string with a space on each side of each: a phrase is then a substring."""
    return f" {' '.join(words)} "


def has_phrase(query_words: Sequence[str], passage: str) -> bool:
    """True when `query_words` (folded syllables) occur contiguously, in order, in the passage given
    as `spaced` folded syllables (syllables hold no space, so this is a substring search)."""
    return bool(query_words) and spaced(query_words) in passage


def label(best_sentence: float | None, everyday: float | None) -> str | None:
    """"Rất phù hợp" / "Phù hợp" / "Ít liên quan" for one hit, or None when there is nothing to say."""
    if best_sentence is None or everyday is None:
        return None
    margin = best_sentence - everyday
    if margin >= STRONG_MARGIN:
        return LABELS[0]
    return LABELS[1] if margin >= MARGIN else LABELS[2]


# Folded syllables that carry no subject: question words, particles, prepositions, and the English
# ones a question is built with. A query's share of content words found in a passage is counted
# without them, so "là gì", "bao nhiêu", "what is the" match everywhere and prove nothing.
_FUNCTION_WORDS = """
a ai anh ay bao biet bo boi cac cach can cho chu chua co con cua cung da dang day de den deu di do
duoc gi gom ha hay hoac hon khi khong la lai lam len luc ma moi mot nao nay neu nen nhieu nhu nhung
ni noi nua o phai ra rang rat roi sao se sau tai tam thi the theo thuoc toi tren trong truoc tu tung
va vao ve vi voi xin
about an and any are as at be by can could did do does for from has have how i if in into is it its
may must my of on or should so than that the their there this to under was were what when where which
who whom why will with would you your
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


# Words that mark a query as English: none is a Vietnamese syllable, typed with diacritics or
# without. The keyword side cannot speak for such a query; the weights treat it apart instead of
# counting it uncovered.
ENGLISH = frozenset(["are", "does", "did", "how", "is", "of", "should", "this", "was", "were", "what", "when",
                     "where", "which", "who", "why", "will", "with"])


def content_words(words: list[str]) -> list[str]:
    return [w for w in words if fold_token(w) not in FUNCTION_WORDS]


def is_foreign(query_words: list[str]) -> bool:
    """The query reads as English: one of its (folded) words is an English function word."""
    return any(w in ENGLISH for w in query_words)


Read = tuple[tuple[str, ...], tuple[str, ...], frozenset[str], str]


def read_words(words: Sequence[str], folded: Sequence[str] | None = None) -> Read:
    """A passage's syllables, folded syllables (`folded`, when already known), their set (as typed and
    folded: a query word typed with diacritics matches only itself, "đất" is not "đạt"; one typed
    without matches either), and the folded syllables as one `spaced` string (a phrase is a substring
    of it: see `has_phrase`)."""
    words = tuple(words)
    folded = tuple(map(fold_token, words)) if folded is None else tuple(folded)
    return words, folded, frozenset(words).union(folded), spaced(folded)


@functools.lru_cache(maxsize=PASSAGE_CACHE)
def _passage(text: str) -> Read:
    """`read_words` of a text, kept for the passages last judged: the same passages come back in the
    head of many queries' rankings (their words are shared with the other stages: indexer/text/words.py)."""
    return read_words(*passage_words(text))


def prepare(text: str) -> None:
    """Work out and keep what a judgement reads of the passage `text` (core/preload.py)."""
    _passage(text)


def has_pair(a: str, b: str, read: Read, needle: str | None = None) -> bool:
    """True when the query's adjacent words `a` `b` stand adjacent in the passage `read`, each as typed
    or folded (a word typed with diacritics matches only itself). Found where the folded pair stands
    in the spaced folded text (`needle`: `pair_needle(a, b)`, made once for many passages), and
    checked there word by word."""
    words, folded, _, text = read
    needle = needle or pair_needle(a, b)
    at = text.find(needle)
    while at >= 0:
        i = text.count(" ", 0, at)  # the words before this one: each follows one space
        if a in (words[i], folded[i]) and b in (words[i + 1], folded[i + 1]):
            return True
        at = text.find(needle, at + 1)
    return False


def pair_needle(a: str, b: str) -> str:
    """The folded pair `a` `b` as it stands in a `spaced` text."""
    return f" {fold_token(a)} {fold_token(b)} "


def content_coverage(query_words: list[str], passages: Sequence[Read],
                     pair_passages: int = TOP_PASSAGES) -> tuple[float | None, float | None]:
    """The share of the query's content words (lower-cased syllables) found in `passages` (each
    `read_words`), and the share of its adjacent content-word pairs found as adjacent pairs in the
    first `pair_passages`; None when the query has none."""
    words = content_words(query_words)
    if not words:
        return None, None
    content = [fold_token(w) not in FUNCTION_WORDS for w in query_words]
    pairs = [(a, b, pair_needle(a, b)) for i, (a, b) in enumerate(zip(query_words, query_words[1:], strict=False))
             if content[i] and content[i + 1]]
    wanted, seen = set(words), set()
    for p in passages:
        seen |= wanted & p[2]  # a set with a frozenset: walks the query's few words, not the passage's
    unigrams = sum(w in seen for w in words) / len(words)
    if not pairs:
        return unigrams, None
    head = passages[:pair_passages]
    return unigrams, sum(any(n in p[3] and has_pair(a, b, p, n) for p in head) for a, b, n in pairs) / len(pairs)


def names_known_number(query: str, texts: list[str], knows_number: Callable[[str], bool],
                       knows_short: Callable[[str, int], bool]) -> bool:
    """The query names a document the index knows: a number it holds or cites ("57-NQ/TW"), or a
    short reference ("Nghị quyết 11") to a document indexed or cited by one of `texts`."""
    if any(knows_number(m.key) for m in find_numbers(query)):  # bare: known under any year counts
        return True
    shorts = find_short_references(query)
    if not shorts:
        return False
    cited = {m.key for t in texts for m in find_numbers(t)}
    return any(knows_short(code, n) or any(short_reference_matches(code, n, k) for k in cited) for code, n in shorts)


def decide(inputs: JudgeInputs) -> Evidence:
    """Whether the passages searched answer `inputs.query` (see the module docstring)."""
    if inputs.query_vector is None or inputs.embedder is None or not inputs.texts:
        return NOTHING
    scored = [float(s[1].max()) for s in inputs.sentences if s is not None and len(s[1])] + list(inputs.candidates)
    best = max(scored) if scored else None
    everyday, near = background_best(inputs.embedder, inputs.query_vector)
    words = syllables(inputs.query)
    read = [_passage(t) for t in inputs.texts]
    folded = [fold_token(w) for w in words]
    phrase = any(has_phrase(folded, p[3]) for p in read)
    known = names_known_number(inputs.query, inputs.texts, inputs.knows_number, inputs.knows_short)
    coverage, bigrams = content_coverage(words, read)
    # the closest sentences, read and kept as passages are: each recurs with its passage
    _, in_sentences = content_coverage(words, [_passage(t) for t in best_sentences(inputs)])
    unseen_numbers = None if inputs.numbers is None else inputs.numbers.unseen(inputs.query)
    foreign = is_foreign(folded)
    # the median as numpy gives it (the middle value, or the mean of the middle two), a sort of a
    # hundred floats being cheaper than numpy's call
    typical = float(statistics.median(inputs.candidates)) if inputs.candidates else None
    margin = None if best is None else best - everyday
    seen = {"best": best, "typical": typical, "margin": margin, "coverage": coverage, "bigrams": bigrams,
            "foreign": foreign, "sentence_pairs": in_sentences, "unseen_numbers": unseen_numbers,
            "near_domain": near}
    sure = confidence(seen) if margin is not None else 0.0
    return Evidence(best, everyday, margin, known, phrase, known or phrase or sure >= THRESHOLD, typical, coverage,
                    bigrams, foreign, in_sentences, 1.0 if known or phrase else sure, unseen_numbers, near)


def best_sentences(inputs: JudgeInputs) -> list[str]:
    """The closest sentence of each of the first TOP_PASSAGES hits."""
    out = []
    for text, sent in zip(inputs.texts[:TOP_PASSAGES], inputs.sentences[:TOP_PASSAGES], strict=False):
        if sent is not None and len(sent[1]):
            start, end = (int(x) for x in sent[0][int(np.argmax(sent[1]))])
            out.append(text[start:end])
    return out


def features(evidence: Mapping[str, Any]) -> tuple[float, ...]:
    """What the rule weighs: the margin over everyday text, the best sentence's lift over this
    corpus's typical one, the shares of the query's content words and word pairs in the passages
    shown, whether it reads as English, the share of its pairs in the top hits' closest sentences
    (a query without content words counts as covered by none; one without a pair counts its words),
    the share of its numbers the whole index never holds (none looked for counts as none), and the
    best sentence against the best near-domain text (none: 0)."""
    best, typical = evidence["best"], evidence["typical"]
    lift = best - typical if best is not None and typical is not None else 0.0
    coverage = evidence["coverage"] or 0.0
    pairs = evidence["bigrams"] if evidence["bigrams"] is not None else coverage
    in_sentences = evidence.get("sentence_pairs")
    near = evidence.get("near_domain")
    near_margin = best - near if best is not None and near is not None else 0.0
    return (float(evidence["margin"] or 0.0), float(lift), float(coverage), float(pairs),
            1.0 if evidence.get("foreign") else 0.0, float(pairs if in_sentences is None else in_sentences),
            float(evidence.get("unseen_numbers") or 0.0), float(near_margin))


def confidence(evidence: Mapping[str, Any], weights: tuple[float, ...] = WEIGHTS) -> float:
    """The calibrated chance that the index answers the query, from `features` (logistic)."""
    z = weights[0] + sum(w * x for w, x in zip(weights[1:], features(evidence), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def calibrated(score: float, evidence: Evidence) -> float:
    """A hit's score as returned: its fused score (within one query, 1.0 for a passage first on
    both sides) times the query's `confidence`. The order within a query is the fused order; across
    queries the first hit's score says how likely the index answers at all, so a question the
    corpus cannot answer never shows a first hit of 1.0."""
    return round(float(score) * evidence.confidence, 6)

"""Sentences of a passage, as character offsets into its text.

The units that answer a question: a sentence, or a clause of a legal enumeration (Vietnamese legal
text lists tasks as "…; …; …" inside one sentence, and one clause is what answers). Boundaries come
from `sentencex` (rule-based, ~300 languages); on top of it a few Vietnamese repairs: "TP. Hà Nội",
"TS. …", "Điều 3. Hiệu lực" are not two sentences, and a piece of one or two words is no sentence.
"""

from __future__ import annotations

import re

import sentencex

# Abbreviations after which sentencex wrongly ends a sentence (title case and upper case forms).
_ABBREV = re.compile(
    r"\b(?:TP|Tp|TS|ThS|PGS|GS|BS|KS|NXB|Nxb|tr|Tr|No|v\.v|[A-ZĐ])\.\s*$"
)
_CLAUSE = re.compile(r";\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_WORDS = 3  # a shorter piece (a list marker, "Điều 3.") joins the piece after it
CLAUSE_WORDS = 12  # a clause split off at ";" keeps at least this many words on both sides


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split text[start:end] at "; " where both sides stay long enough to be read alone."""
    out: list[tuple[int, int]] = []
    cur = start
    for m in _CLAUSE.finditer(text, start, end):
        if _words(text[cur:m.start()]) >= CLAUSE_WORDS and _words(text[m.end():end]) >= CLAUSE_WORDS:
            out.append((cur, m.start() + 1))  # the ";" stays with its clause
            cur = m.end()
    out.append((cur, end))
    return out


def sentence_spans(text: str, clauses: bool = True) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, trimmed of surrounding whitespace, in order,
    covering every word of `text`. With `clauses`, a long "…; …" enumeration is cut into its clauses
    (what answers a question); without, it stays one sentence (what a relation is read from)."""
    pieces: list[tuple[int, int]] = []
    for b in sentencex.get_sentence_boundaries("vi", text):
        pieces.append((int(b["start_index"]), int(b["end_index"])))
    # Repair abbreviation splits and too-short pieces by joining with the next piece (same line only
    # for abbreviations: a line break always ends a unit in legal text).
    joined: list[list[int]] = []
    for s, e in pieces:
        if joined:
            ps, pe = joined[-1]
            prev = text[ps:pe]
            same_line = "\n" not in prev.rstrip(" \t")[:-1] and not prev.endswith("\n")
            if (same_line and _ABBREV.search(prev.rstrip())) or _words(prev) < MIN_WORDS:
                joined[-1][1] = e
                continue
        joined.append([s, e])
    if len(joined) > 1 and _words(text[joined[-1][0]:joined[-1][1]]) < MIN_WORDS:
        last = joined.pop()
        joined[-1][1] = last[1]
    spans: list[tuple[int, int]] = []
    for s, e in joined:
        for cs, ce in (_clauses(text, s, e) if clauses else [(s, e)]):
            while cs < ce and text[cs].isspace():
                cs += 1
            while ce > cs and text[ce - 1].isspace():
                ce -= 1
            if cs < ce and _WORD.search(text, cs, ce):
                spans.append((cs, ce))
    return spans


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def line_sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each whole sentence, line by line (a header line is a unit of its own, however
    short), enumerations uncut: what a relation is read from (text/relations.py) — a repeal list is
    one sentence."""
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        out.extend((pos + s, pos + e) for s, e in sentence_spans(line, clauses=False))
        pos += len(line) + 1
    return out

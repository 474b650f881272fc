"""Safe HTML for document text shown in the page.

Text from documents is escaped first — HTML and the characters Markdown would act on — and only
then are <mark> tags added around the query's words. Matching is on folded syllables, so a query
typed without diacritics still highlights the accented words. The sentence(s) that answer the query
(`Hit.answer`, character offsets into the passage) are wrapped in <span class="answer">, with the
<mark>s nested inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from indexer.text.docnumbers import find_numbers
from indexer.text.normalise import fold, fold_token, syllables
from search_app.core.answers import FUNCTION_WORDS
from search_app.core.escape import page_text

_WORD = re.compile(r"\w+", re.UNICODE)


def escape(text: str) -> str:
    """Every character that HTML or Streamlit's Markdown would interpret, as a numeric entity."""
    return page_text(text)


def escape_block(text: str) -> str:
    """Escaped text with its line breaks kept (a line break is nothing escape() replaces)."""
    return escape(text).replace("\n", "<br>")


# A date in a passage: its digits are never a match for a number of the query ("11" of 11-NQ/TW is
# not the month in "03/11/2023").
_DATE = re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}\b|\bngày\s+\d{1,2}\s+tháng\s+\d{1,2}"
                   r"(?:\s+năm\s+\d{4})?", re.IGNORECASE)


def _without_numbers(query: str) -> str:
    """The query with its document numbers ("11-NQ/TW") blanked: they are matched whole, not by parts."""
    for n in reversed(find_numbers(query)):
        query = query[: n.start] + " " + query[n.end :]
    return query


def query_terms(query: str) -> set[str]:
    """The folded words worth marking: the query's words but the function words as written (the
    answer finder's list) and one-letter words other than numbers. Unlike the answer finder, an
    unaccented "tu" is kept — it may be "tự": marking a word too many costs less than missing one.
    A document number of the query is matched whole (_number_spans), not by its parts."""
    return {fold(t) for t in syllables(_without_numbers(query))
            if t.casefold() not in FUNCTION_WORDS and (len(t) > 1 or t.isdigit())}


def _number_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where `text` cites a document number the query names, in any spelling (57-NQ/TW, 57/NQ-TW)."""
    keys = {n.key for n in find_numbers(query)}
    return [(n.start, n.end) for n in find_numbers(text) if n.key in keys] if keys else []


def _marks(words: list[str], query: str) -> list[bool]:
    """Which words to mark.

    A folded match alone is weak evidence ("tinh" in an unaccented query also matches "tình",
    "tính", "tinh"), so a word is marked when it matches exactly with its accents, is a number, or
    stands next to another matching word ("quy hoạch", "Bắc Kạn").
    """
    terms = query_terms(query)
    exact = {t.casefold() for t in syllables(query) if t != fold(t)}
    hit = [fold_token(w) in terms for w in words]  # cached: a passage repeats its syllables
    out = []
    for i, w in enumerate(words):
        if not hit[i]:
            out.append(False)
            continue
        strong = w.casefold() in exact or w.isdigit() or len(terms) == 1
        near = (i > 0 and hit[i - 1]) or (i + 1 < len(words) and hit[i + 1])
        out.append(strong or near)
    return out


def answer_spans(text: str, answer: Iterable[Mapping[str, int]] | None) -> list[tuple[int, int]]:
    """The usable `(start, end)` spans of `answer` in `text`: sorted, overlaps merged.

    A span that is empty, malformed or reaches outside `text` is dropped rather than clipped: its
    offsets belong to some other text, so clipping would mark the wrong words.
    """
    spans = []
    for a in answer or ():
        try:
            start, end = a["start"], a["end"]
        except (KeyError, TypeError):
            continue
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def split_answer(text: str, answer: Iterable[Mapping[str, int]] | None) -> list[tuple[str, bool]]:
    """`text` cut at the answer's boundaries: `(piece, is_answer)` in order, joining back to `text`."""
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for start, end in answer_spans(text, answer):
        if start > pos:
            pieces.append((text[pos:start], False))
        pieces.append((text[start:end], True))
        pos = end
    if pos < len(text) or not pieces:
        pieces.append((text[pos:], False))
    return pieces


ANSWER_OPEN = f'<span class="answer" title="{escape("Câu trả lời")}">'


def highlight(text: str, query: str, answer: Iterable[Mapping[str, int]] | None = None) -> str:
    """Escaped `text` as HTML, the query's words wrapped in <mark>, line breaks as <br>, and the
    `answer` spans (`[{"start", "end"}]` offsets into `text`) wrapped in <span class="answer">."""
    matches = list(_WORD.finditer(text))
    # Words are chosen on the whole text, not per answer piece, so that a word's neighbours (see
    # _marks) and a word cut by an answer boundary are judged the same as without an answer.
    marks = _marks([m.group(0) for m in matches], _without_numbers(query))
    numbers = _number_spans(text, query)
    dates = [(d.start(), d.end()) for d in _DATE.finditer(text)]

    def inside(m: re.Match[str], spans: list[tuple[int, int]]) -> bool:
        return any(a <= m.start() and m.end() <= b for a, b in spans)

    marked = [(m.start(), m.end()) for m, mark in zip(matches, marks, strict=True)
              if mark and not inside(m, numbers) and not (m.group(0).isdigit() and inside(m, dates))]
    marked = sorted(marked + numbers)
    out: list[str] = []
    pos = 0
    for piece, is_answer in split_answer(text, answer):
        end = pos + len(piece)
        # A mark cut by an answer boundary is closed and reopened on each side, so that the tags nest.
        inner, cur = [], pos
        for ms, me in marked:
            ms, me = max(ms, pos), min(me, end)
            if ms < me:
                inner.append(escape_block(text[cur:ms]))
                inner.append(f"<mark>{escape(text[ms:me])}</mark>")
                cur = me
        inner.append(escape_block(text[cur:end]))
        body = "".join(inner)
        out.append(f"{ANSWER_OPEN}{body}</span>" if is_answer else body)
        pos = end
    return "".join(out)


def code_span(value: str) -> str:
    """A Markdown code span; its content is shown literally, so it is not entity-escaped."""
    return "`" + value.replace("`", "'") + "`"

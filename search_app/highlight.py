"""Safe HTML for document text shown in the page.

Text from documents is escaped first — HTML and the characters Markdown would act on — and only
then are <mark> tags added around the query's words. Matching is on folded syllables, so a query
typed without diacritics still highlights the accented words.
"""

from __future__ import annotations

import re

from indexer.text import fold, syllables

# Every character that HTML or Streamlit's Markdown would interpret, as a numeric entity.
_SPECIAL = {c: f"&#{ord(c)};" for c in "&<>\"'`*_[]()#~\\$:|!{}+-=^"}
_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to be worth marking (display only; retrieval keeps them).
_NO_MARK = {fold(w) for w in ("và", "của", "các", "là", "có", "cho", "với", "trong", "the", "of", "and", "to", "in",
                              "a", "an", "for", "on", "is", "are", "được", "những", "này", "để", "đã", "về")}


def escape(text: str) -> str:
    return "".join(_SPECIAL.get(c, c) for c in text)


def escape_block(text: str) -> str:
    """Escaped text with its line breaks kept."""
    return "<br>".join(escape(line) for line in text.split("\n"))


def query_terms(query: str) -> set[str]:
    return {fold(t) for t in syllables(query) if fold(t) not in _NO_MARK and (len(t) > 1 or t.isdigit())}


def _marks(words: list[str], query: str) -> list[bool]:
    """Which words to mark.

    A folded match alone is weak evidence ("tinh" in an unaccented query also matches "tình",
    "tính", "tinh"), so a word is marked when it matches exactly with its accents, is a number, or
    stands next to another matching word ("quy hoạch", "Bắc Kạn").
    """
    terms = query_terms(query)
    exact = {t.casefold() for t in syllables(query) if t != fold(t)}
    hit = [fold(w) in terms for w in words]
    out = []
    for i, w in enumerate(words):
        if not hit[i]:
            out.append(False)
            continue
        strong = w.casefold() in exact or w.isdigit() or len(terms) == 1
        near = (i > 0 and hit[i - 1]) or (i + 1 < len(words) and hit[i + 1])
        out.append(strong or near)
    return out


def highlight(text: str, query: str) -> str:
    """Escaped `text` as HTML, the query's words wrapped in <mark>, line breaks as <br>."""
    matches = list(_WORD.finditer(text))
    marks = _marks([m.group(0) for m in matches], query)
    out: list[str] = []
    pos = 0
    for m, mark in zip(matches, marks, strict=True):
        out.append(escape_block(text[pos : m.start()]))
        out.append(f"<mark>{escape(m.group(0))}</mark>" if mark else escape(m.group(0)))
        pos = m.end()
    out.append(escape_block(text[pos:]))
    return "".join(out)


def code_span(value: str) -> str:
    """A Markdown code span; its content is shown literally, so it is not entity-escaped."""
    return "`" + value.replace("`", "'") + "`"

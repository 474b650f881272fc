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


def highlight(text: str, query: str) -> str:
    """Escaped `text` as HTML, the query's words wrapped in <mark>, line breaks as <br>."""
    terms = query_terms(query)
    out: list[str] = []
    pos = 0
    for m in _WORD.finditer(text):
        out.append(escape_block(text[pos : m.start()]))
        word = m.group(0)
        if fold(word) in terms:
            out.append(f"<mark>{escape(word)}</mark>")
        else:
            out.append(escape(word))
        pos = m.end()
    out.append(escape_block(text[pos:]))
    return "".join(out)

"""One escaping rule per output format. Text from a document (or a query, a file name) goes out
through exactly one of these, at the one place its format is written:

- `csv_cell`: CSV cells (search results, the implementation table) — a cell a spreadsheet would
  read as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe, shown as text;
- `xml_text`: XML-based files (DOCX, XLSX, Atom) — characters XML 1.0 cannot hold (C0 controls but
  tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, so the file is always written;
- `markdown_text`: the Markdown export — every character CommonMark acts on inline is
  backslash-escaped (no raw HTML, link, image or emphasis from a document), and so is a line's
  first character where it would open a block (heading, list, quote);
- `page_text` / `label_text`: the Streamlit page — HTML and Markdown characters as numeric
  entities (labels: on one line), so a title with `:red[…]`, `$$…$$` or `![i](url)` is shown as typed;
- `terminal_text`: a terminal — control and format characters shown escaped (\\x1b), never obeyed.

Every function also replaces lone surrogates (not encodable in UTF-8) with U+FFFD.
"""

from __future__ import annotations

import re

from indexer.text.normalise import for_terminal

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Inline syntax of CommonMark (and GFM: ~ strikethrough, | tables) plus $ (math in many viewers).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>!~|$&])")
# What opens a block at the start of a line: "#", ">", "-", "+", "=", "1." / "1)".
_MD_BLOCK_START = re.compile(r"^(\s*(?:\d+(?=[.)]))?)([#>+=.)-])")
_PAGE = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'`*_[]()#~\\$:|!{}+-=^"})


def unicode_text(text: str) -> str:
    """`text` encodable as UTF-8: a lone surrogate becomes U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text)


def csv_cell(value: object) -> object:
    """A CSV cell: text never starts a formula; numbers and None pass as they are."""
    if not isinstance(value, str):
        return value
    value = unicode_text(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub(REPLACEMENT, text)


def markdown_text(text: str) -> str:
    """`text` as literal Markdown, its line breaks kept; control characters but newline and tab replaced."""
    text = _XML_ILLEGAL.sub(REPLACEMENT, text).replace("\r", REPLACEMENT)
    lines = _MD_INLINE.sub(r"\\\1", text).split("\n")
    return "\n".join(_MD_BLOCK_START.sub(r"\1\\\2", line) for line in lines)


def markdown_line(text: str) -> str:
    """Literal Markdown on one line (a heading, a table cell): line breaks become spaces."""
    return markdown_text(" ".join(text.splitlines()))


def page_text(text: str) -> str:
    # one C-level pass: a generator over the characters was a third of a search's rendering time
    return unicode_text(text).translate(_PAGE)


def label_text(text: str) -> str:
    """A Streamlit widget label (buttons, expanders): rendered as Markdown on one line."""
    return page_text(" ".join(xml_text(text).split()))


def terminal_text(text: str) -> str:
    return for_terminal(text)

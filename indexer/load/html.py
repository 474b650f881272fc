"""HTML pages (and Markdown, rendered to HTML by markdown-it-py): the article's text and headings,
without the page's chrome."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from indexer.load.base import (
    Assembler,
    RawDocument,
    decode_text,
    read_bytes,
    require_text,
)

_DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "button",
              "nav", "header", "footer", "aside", "select", "input", "head"]
_CHROME = re.compile(r"(^|[-_ ])(nav|navbar|menu|breadcrumbs?|footer|sidebar|share|social|comments?|"
                     r"related|cookie|banner|advert|ads)([-_ ]|$)", re.IGNORECASE)
# A rule of dashes or underscores under an issuer's name ("BAN CHẤP HÀNH TRUNG ƯƠNG" over "--------"),
# drawn with characters: layout, not words.
_RULE = re.compile(r"(?<!\S)[-–—_=]{3,}(?!\S)")
_BLOCK = {"p", "div", "section", "article", "main", "li", "tr", "blockquote", "pre", "h1", "h2", "h3",
          "h4", "h5", "h6", "dd", "dt", "figcaption", "caption", "table", "ul", "ol", "br", "hr", "td", "th"}


def html_to_document(html: str) -> RawDocument:
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(html, "lxml")
    hints: dict[str, Any] = {}
    if soup.title and soup.title.get_text(strip=True):
        hints["title"] = soup.title.get_text(" ", strip=True)
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or not isinstance(tag, Tag) or tag.attrs is None:
            continue
        ident = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
        if ident.strip() and _CHROME.search(ident) and tag.name not in ("body", "html", "main", "article"):
            tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    if h1 and h1.get_text(strip=True):
        hints["title"] = h1.get_text(" ", strip=True)

    asm = Assembler()
    buf: list[str] = []
    level: list[int | None] = [None]
    # A list item's marker ("1. ", "– ") waits for the item's first text: in a loose list the text
    # sits in a <p> of its own, and a marker flushed alone ("1." on a line) loses the numbering.
    marker: list[str] = [""]

    def flush() -> None:
        # a block with no letter or digit ("** **", a rule) holds no words: nothing to index
        if buf and any(c.isalnum() for c in "".join(buf)):
            asm.add(" ".join((marker[0] + "".join(buf).lstrip()).split("\n")), heading=level[0])
            marker[0] = ""
        buf.clear()
        level[0] = None

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child).__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                    continue
                buf.append(_RULE.sub(" ", str(child)))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _BLOCK:
                flush()
                if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
                    level[0] = int(name[1])
                if name == "li":
                    parent = child.parent
                    if parent is not None and parent.name == "ol":
                        start = int(parent.get("start") or 1) if str(parent.get("start") or "1").isdigit() else 1
                        idx = [c for c in parent.find_all("li", recursive=False)].index(child)
                        marker[0] = f"{start + idx}. "
                    else:
                        marker[0] = "– "
                if name in ("td", "th"):
                    buf.append(" ")
                walk(child)
                if name not in ("td", "th"):
                    flush()
                if name == "li":
                    marker[0] = ""  # an item with no text of its own leaves no marker behind
            else:
                walk(child)

    walk(root)
    flush()
    return RawDocument(require_text(asm.text()), headings=asm.headings, hints=hints)


def load_html(path: Path) -> list[RawDocument]:
    notes: list[str] = []
    doc = html_to_document(decode_text(read_bytes(path), notes))
    doc.notes.extend(notes)
    return [doc]


def join_table_rows(source: str) -> str:
    """Markdown with each table row on one line. Converters often break a header cell over two lines
    ("| BAN CHẤP HÀNH TRUNG ƯƠNG" / "\\-------- | ĐẢNG CỘNG SẢN VIỆT NAM"); the parser then sees no
    table and keeps the pipes as text. A line opening a row ("|" first, not last) is joined with the
    lines that continue it, up to one that closes it, when a table's delimiter row follows."""
    lines = source.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        j = i
        if line.lstrip().startswith("|") and not line.rstrip().endswith("|"):
            while j + 1 < len(lines) and lines[j + 1].strip() and not lines[j + 1].lstrip().startswith("|"):
                j += 1
                if lines[j].rstrip().endswith("|"):
                    break
            rest = lines[j + 1 : j + 3]
            if j > i and lines[j].rstrip().endswith("|") and any(_DELIMITER_ROW.match(r) for r in rest):
                out.append(" ".join(x.strip() for x in lines[i : j + 1]))
                i = j + 1
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


# "**1- **Text": CommonMark does not close emphasis after a space, so the markers would stay in the
# text as "**"; the space (often a no-break space) moves out of the run ("**1-** Text") and the run parses.
_SPACE_BEFORE_CLOSE = re.compile(r"(\*\*|__)([^*_\n]*?\S)([^\S\n]+)\1")
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$")


def load_md(path: Path) -> list[RawDocument]:
    from markdown_it import MarkdownIt

    notes: list[str] = []
    source = _SPACE_BEFORE_CLOSE.sub(r"\1\2\1\3", join_table_rows(decode_text(read_bytes(path), notes)))
    # html=False: raw HTML inside Markdown is shown as text, never interpreted.
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(source)
    doc = html_to_document(html)
    doc.hints.pop("title", None)
    first = next((lvl for lvl in sorted(doc.headings.items())), None)
    if first:
        line_end = doc.text.find("\n", first[0])
        doc.hints["title"] = doc.text[first[0] : line_end if line_end >= 0 else None]
    doc.notes.extend(notes)
    return [doc]

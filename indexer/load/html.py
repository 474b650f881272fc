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


# Elements nested deeper than this are read as plain text: the walk is iterative and linear whatever the
# depth, and a page nested this deep is a generated one, not an article with structure worth keeping.
MAX_DEPTH = 256


def _decomposed(tag: Any) -> bool:
    # Tag.decomposed reads an attribute a live tag lacks, and bs4 answers a missing attribute with a
    # search of the tag's descendants: quadratic over a page. The flag itself is read directly.
    return bool(vars(tag).get("_decomposed", False))


def _drop_chrome(soup: Any) -> None:
    from bs4 import Tag

    for tag in soup(_DROP_TAGS):
        if not _decomposed(tag):
            tag.decompose()
    for tag in soup.find_all(True):
        if _decomposed(tag) or not isinstance(tag, Tag) or tag.attrs is None:
            continue
        ident = " ".join([str(tag.get("id") or ""), *(tag.get("class") or [])])
        if ident.strip() and _CHROME.search(ident) and tag.name not in ("body", "html", "main", "article"):
            tag.decompose()


class _Walker:
    """The text of a page's blocks, one paragraph per line, with heading levels and list markers."""

    def __init__(self) -> None:
        self.asm = Assembler()
        self.buf: list[str] = []
        self.level: int | None = None
        # A list item's marker ("1. ", "– ") waits for the item's first text: in a loose list the text
        # sits in a <p> of its own, and a marker flushed alone ("1." on a line) loses the numbering.
        self.marker = ""
        self.flattened = 0
        self._ol_index: dict[int, dict[int, int]] = {}  # id(<ol>) → id(<li>) → position, built once per list

    def flush(self) -> None:
        # a block with no letter or digit ("** **", a rule) holds no words: nothing to index
        if self.buf and any(c.isalnum() for c in "".join(self.buf)):
            self.asm.add(" ".join((self.marker + "".join(self.buf).lstrip()).split("\n")), heading=self.level)
            self.marker = ""
        self.buf.clear()
        self.level = None

    def _li_marker(self, li: Any) -> str:
        parent = li.parent
        if parent is None or parent.name != "ol":
            return "– "
        start = int(parent.get("start") or 1) if str(parent.get("start") or "1").isdigit() else 1
        index = self._ol_index.get(id(parent))
        if index is None:
            items = parent.find_all("li", recursive=False)
            index = self._ol_index[id(parent)] = {id(x): i for i, x in enumerate(items)}
        return f"{start + index.get(id(li), 0)}. "

    def open(self, tag: Any) -> None:
        name = tag.name
        if name not in _BLOCK:
            return
        self.flush()
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.level = int(name[1])
        if name == "li":
            self.marker = self._li_marker(tag)
        if name in ("td", "th"):
            self.buf.append(" ")

    def close(self, tag: Any) -> None:
        name = tag.name
        if name in _BLOCK and name not in ("td", "th"):
            self.flush()
        if name == "li":
            self.marker = ""  # an item with no text of its own leaves no marker behind

    def walk(self, root: Any) -> None:
        from bs4 import NavigableString, Tag

        stack: list[tuple[Any, Any]] = [(iter(root.children), None)]
        while stack:
            it, owner = stack[-1]
            child = next(it, None)
            if child is None:
                stack.pop()
                if owner is not None:
                    self.close(owner)
            elif isinstance(child, NavigableString):
                if type(child).__name__ not in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                    self.buf.append(_RULE.sub(" ", str(child)))
            elif isinstance(child, Tag):
                self.open(child)
                if len(stack) > MAX_DEPTH:
                    self.flattened += 1
                    self.buf.append(_RULE.sub(" ", child.get_text(" ")))
                    self.close(child)
                else:
                    stack.append((iter(child.children), child))


def html_to_document(html: str) -> RawDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    hints: dict[str, Any] = {}
    if soup.title and soup.title.get_text(strip=True):
        hints["title"] = soup.title.get_text(" ", strip=True)
    _drop_chrome(soup)
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    if h1 and h1.get_text(strip=True):
        hints["title"] = h1.get_text(" ", strip=True)
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    doc = RawDocument(require_text(walker.asm.text()), headings=walker.asm.headings, hints=hints)
    if walker.flattened:
        doc.notes.append(f"elements nested deeper than {MAX_DEPTH} levels: their text was read without "
                         "its structure (headings and lists inside them are plain paragraphs)")
    return doc


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

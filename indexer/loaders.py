"""File loaders: bytes on disk → clean NFC text plus the structure the format itself declares.

Every loader returns `RawDocument`s or raises `LoadError` with a reason a user can act on;
the pipeline turns that into a "skipped: reason" line and goes on with the other files.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ocr
from .legacy_encodings import to_unicode
from .records import PageSpan
from .text import clean_text

MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(Exception):
    """A file that cannot be indexed; the message says why."""


@dataclass
class RawDocument:
    text: str
    pages: list[PageSpan] = field(default_factory=list)
    headings: dict[int, int] = field(default_factory=dict)  # line start offset → level (1 = top)
    hints: dict[str, Any] = field(default_factory=dict)  # weak metadata from the format
    explicit: dict[str, Any] = field(default_factory=dict)  # metadata given as data (JSONL fields)
    doc_id: str | None = None  # set when the source names its own id (JSONL)
    notes: list[str] = field(default_factory=list)


class _Assembler:
    """Joins cleaned paragraphs into one text, one paragraph per line, keeping offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.headings: dict[int, int] = {}

    def add(self, paragraph: str, heading: int | None = None) -> None:
        for line in clean_text(paragraph).split("\n"):
            if not line:
                continue
            if self.parts:
                self.parts.append("\n")
                self.length += 1
            if heading:
                self.headings[self.length] = heading
            self.parts.append(line)
            self.length += len(line)

    def text(self) -> str:
        return "".join(self.parts)


LEGACY_NAMES = {"cp1258": "Windows-1258", "tcvn3": "TCVN3 (ABC)", "vni": "VNI"}


def decode_text(data: bytes, notes: list[str] | None = None) -> str:
    """UTF-8 (or UTF-16 with a BOM); failing that, a pre-Unicode Vietnamese encoding, converted
    to Unicode NFC with a note saying which."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise LoadError(f"bytes do not decode as UTF-16: {e.reason} at byte {e.start}") from e
    if b"\x00" in data[:4096]:
        raise LoadError("binary content (NUL bytes), not a text document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        utf8_error = f"bytes do not decode as UTF-8 ({e.reason} at byte {e.start})"
    try:
        text, conversion = to_unicode(data)
    except ValueError as e:
        raise LoadError(f"{utf8_error}, nor as Vietnamese Windows-1258, TCVN3 or VNI text ({e})") from e
    if conversion and notes is not None:
        notes.append(f"converted from {LEGACY_NAMES.get(conversion, conversion)} to Unicode")
    return text


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > MAX_FILE_BYTES:
        raise LoadError(f"file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 10**6} MB limit")
    return path.read_bytes()


def _require_text(text: str) -> str:
    if not text.strip():
        raise LoadError("no text in the file")
    return text


def load_txt(path: Path) -> list[RawDocument]:
    notes: list[str] = []
    text = clean_text(decode_text(_read(path), notes))
    return [RawDocument(_require_text(text), notes=notes)]


# --- HTML --------------------------------------------------------------------------------------

_DROP_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "button",
              "nav", "header", "footer", "aside", "select", "input", "head"]
_CHROME = re.compile(r"(^|[-_ ])(nav|navbar|menu|breadcrumbs?|footer|sidebar|share|social|comments?|"
                     r"related|cookie|banner|advert|ads)([-_ ]|$)", re.IGNORECASE)
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

    asm = _Assembler()
    buf: list[str] = []
    level: list[int | None] = [None]
    # A list item's marker ("1. ", "– ") waits for the item's first text: in a loose list the text
    # sits in a <p> of its own, and a marker flushed alone ("1." on a line) loses the numbering.
    marker: list[str] = [""]

    def flush() -> None:
        if buf and "".join(buf).strip():
            asm.add(" ".join((marker[0] + "".join(buf).lstrip()).split("\n")), heading=level[0])
            marker[0] = ""
        buf.clear()
        level[0] = None

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child).__name__ in ("Comment", "Doctype", "Declaration", "ProcessingInstruction"):
                    continue
                buf.append(str(child))
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
    return RawDocument(_require_text(asm.text()), headings=asm.headings, hints=hints)


def load_html(path: Path) -> list[RawDocument]:
    notes: list[str] = []
    doc = html_to_document(decode_text(_read(path), notes))
    doc.notes.extend(notes)
    return [doc]


def load_md(path: Path) -> list[RawDocument]:
    from markdown_it import MarkdownIt

    notes: list[str] = []
    source = decode_text(_read(path), notes)
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


# --- PDF ---------------------------------------------------------------------------------------

_ENDS_SENTENCE = re.compile(r"[.:;!?…”\"')]$")
_STARTS_BLOCK = re.compile(
    r"^(?:[-–•*+]\s|\d{1,2}[.)]\s|[a-zđ]\)\s|[IVXLC]+[.\-–]\s|Điều\s+\d|Chương\s|Mục\s|Phần\s|[A-ZĐ][A-ZĐ ]{6,}$)"
)


def reflow(lines: list[str]) -> str:
    """Re-join the visual lines of a PDF page into paragraphs.

    A line continues the previous one unless the previous one ends a sentence or the line
    starts a heading or list item; this keeps sentences whole for the splitter.
    """
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            if out and out[-1] != "":
                out.append("")
            continue
        if out and out[-1] and not _ENDS_SENTENCE.search(out[-1]) and not _STARTS_BLOCK.match(line):
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
    return "\n".join(x for x in out if x)


_TONES = "\u0300\u0301\u0303\u0309\u0323"
_NEEDS_CODA = re.compile(r"(?:iê|yê|uô|ươ)$", re.IGNORECASE)  # "điề", "muố": never a syllable alone
_FINAL = re.compile(r"^(?:u|i|o|y|n|ng|nh|m|c|ch|p|t)$", re.IGNORECASE)
_CONSONANT_FINAL = re.compile(r"^(?:n|ng|nh|m|c|ch|p|t)$", re.IGNORECASE)


def _strip_tones(word: str) -> str:
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", word) if c not in _TONES))


def _split_pair(a: str, b: str) -> bool:
    """True when "a b" is one syllable cut in two by PDF extraction."""
    if not (a.isalpha() and b.isalpha()) or any(c in _TONES for c in unicodedata.normalize("NFD", b)):
        return False
    bare = _strip_tones(a)
    if _NEEDS_CODA.search(bare) and _FINAL.match(b):
        return True  # "ĐIỀ U" → "ĐIỀU", "MUỐ N" → "MUỐN"
    # "THIỆ N" → "THIỆN", "HOÀ N" → "HOÀN": a toned vowel, then a lone final consonant
    return bool(_CONSONANT_FINAL.match(b)) and bare[-1].lower() in "aăâeêioôơuưy" and a[-1] != bare[-1]


def repair_split_syllables(text: str) -> str:
    """Re-join syllables that PDF text extraction split ("ĐIỀ U", "THIỆ N" → "ĐIỀU", "THIỆN").

    Only where it is safe without a dictionary: the second part is a lone final letter that
    cannot be a word by itself, and the first part either cannot stand alone ("điề" needs a
    final) or ends in the toned vowel the final belongs to. A split before the vowel ("KHO ẢN")
    is left alone: "CHO ẢNH" looks the same and is two words.
    """
    def fix(line: str) -> str:
        words = line.split(" ")
        i = 0
        while i < len(words) - 1:
            if _split_pair(words[i], words[i + 1]):
                words[i : i + 2] = [words[i] + words[i + 1]]
            else:
                i += 1
        return " ".join(words)

    return "\n".join(fix(line) for line in text.split("\n"))


def load_pdf(path: Path) -> list[RawDocument]:
    """Text layer page by page; pages without a usable one (`ocr.needs_ocr`) are read by OCR.

    Recognised pages are recorded in the document's metadata (explicit["ocr"] → Document.extra:
    engine, pages, per-page and mean word confidence), so citations can say so, and noted in
    the build summary, low-confidence pages by number.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = _read(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as e:  # pypdf raises several types for unsupported crypto
                raise LoadError(f"encrypted PDF that cannot be opened ({e})") from e
            if not ok:
                raise LoadError("encrypted PDF: a password is required")
        pages_text = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError) as e:
        raise LoadError(f"corrupt or unreadable PDF ({type(e).__name__}: {e})") from e
    except Exception as e:
        raise LoadError(f"unreadable PDF ({type(e).__name__}: {e})") from e

    page_texts = [_pdf_page_text(raw) for raw in pages_text]
    notes: list[str] = []
    explicit: dict[str, Any] = {}
    scanned = [n for n, t in enumerate(page_texts, start=1) if ocr.needs_ocr(t)]
    if scanned:
        _ocr_pages(data, scanned, page_texts, notes, explicit)

    parts: list[str] = []
    spans: list[PageSpan] = []
    pos = 0
    for number, page_text in enumerate(page_texts, start=1):
        if not page_text:
            continue
        if parts:
            parts.append("\n")
            pos += 1
        spans.append(PageSpan(pos, pos + len(page_text), number))
        parts.append(page_text)
        pos += len(page_text)
    text = "".join(parts)
    if not text.strip():
        # Only reached after OCR ran (a missing Tesseract raised above): say what it found.
        raise LoadError("no text layer, and OCR recognised no text" + (f" ({notes[0]})" if notes else ""))
    return [RawDocument(text, pages=spans, explicit=explicit, notes=notes)]


def _pdf_page_text(raw: str) -> str:
    return repair_split_syllables(clean_text(reflow(clean_text(raw).split("\n"))))


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _ocr_pages(data: bytes, scanned: list[int], page_texts: list[str], notes: list[str],
               explicit: dict[str, Any]) -> None:
    """Recognise the scanned pages in place (page_texts), recording how in explicit["ocr"] and notes.

    A PDF whose pages are all scans is refused with the install command when Tesseract is
    missing; one with some text pages keeps those and notes the pages left out.
    """
    try:
        engine = ocr.engine()
        results = ocr.recognise(data, scanned)
    except ocr.OcrError as e:
        if len(scanned) == len(page_texts):
            raise LoadError(f"no text layer — needs OCR: {e}") from e
        notes.append(f"page(s) {ocr.page_list(scanned)} have no usable text layer and were not recognised: {e}")
        return
    used: list[ocr.OcrPage] = []
    for result in results:
        if result.error:
            notes.append(f"page {result.page}: OCR failed ({result.error})")
            continue
        text = _pdf_page_text(result.text)
        # A short but real text layer ("Nơi nhận: …") beats OCR that finds no more than it.
        if _letters(text) > _letters(page_texts[result.page - 1]):
            page_texts[result.page - 1] = text
            used.append(result)
    if not used:
        return
    summary = ocr.summary(engine, used)
    explicit["ocr"] = summary
    notes.append(f"scanned page(s) {ocr.page_list(summary['pages'])} recognised by OCR ({engine}), "
                 f"mean word confidence {summary['mean_confidence'] or 0:.0f}%")
    if low := summary["low_confidence_pages"]:
        pages = ", ".join(f"{p} ({summary['page_confidence'][str(p)] or 0:.0f}%)" for p in low)
        notes.append(f"low OCR confidence (under {ocr.LOW_CONFIDENCE:.0f}%) on page(s) {pages}: "
                     "check the text against the original")


# --- DOCX --------------------------------------------------------------------------------------

_DOCX_MAX_UNCOMPRESSED = 200 * 1024 * 1024


def load_docx(path: Path) -> list[RawDocument]:
    import docx
    from docx.table import Table

    data = _read(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > _DOCX_MAX_UNCOMPRESSED:
                raise LoadError(f"DOCX expands to {total / 1e6:.0f} MB: refused as a possible zip bomb")
        document = docx.Document(io.BytesIO(data))
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(f"not a readable DOCX file ({type(e).__name__}: {e})") from e

    asm = _Assembler()
    hints: dict[str, Any] = {}
    if document.core_properties.title:
        hints["title"] = document.core_properties.title
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = []
                for cell in row.cells:
                    t = cell.text.strip()
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                if cells:
                    asm.add(" | ".join(cells))
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = None
        if style == "Title":
            level = 1
            hints.setdefault("title", block.text.strip())
        elif m := re.match(r"Heading (\d)", style):
            level = int(m.group(1))
        asm.add(block.text, heading=level)
    return [RawDocument(_require_text(asm.text()), headings=asm.headings, hints=hints)]


# --- JSONL -------------------------------------------------------------------------------------


def load_jsonl(path: Path) -> list[RawDocument]:
    """One document per line: {"id", "title"?, "text", ...metadata}. Bad lines are noted, not fatal."""
    notes: list[str] = []
    text = decode_text(_read(path), notes)
    docs: list[RawDocument] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            notes.append(f"line {lineno}: not JSON ({e.msg})")
            continue
        if not isinstance(obj, dict):
            notes.append(f"line {lineno}: not a JSON object")
            continue
        doc_id = obj.get("id", obj.get("_id"))
        body = obj.get("text")
        if doc_id is None or not isinstance(body, str) or not body.strip():
            notes.append(f"line {lineno}: needs an \"id\" and a non-empty \"text\"")
            continue
        doc_id = str(doc_id)
        if doc_id in seen:
            notes.append(f"line {lineno}: duplicate id {doc_id!r}")
            continue
        seen.add(doc_id)
        explicit = {k: v for k, v in obj.items() if k not in ("id", "_id", "text") and v is not None}
        docs.append(RawDocument(clean_text(body), explicit=explicit, doc_id=doc_id))
    if not docs:
        raise LoadError("no valid documents in the JSONL file" + (f" ({notes[0]})" if notes else ""))
    if notes:
        docs[0].notes.extend(notes)
    return docs


LOADERS: dict[str, Callable[[Path], list[RawDocument]]] = {
    ".txt": load_txt,
    ".md": load_md,
    ".markdown": load_md,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".jsonl": load_jsonl,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load_file(path: Path) -> list[RawDocument]:
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'!r}")
    return loader(path)

"""PDF files: the text layer page by page, re-flowed into paragraphs; pages without one go to OCR."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexer.load import ocr
from indexer.load.base import (
    LoadError,
    RawDocument,
    read_bytes,
)
from indexer.records import PageSpan
from indexer.text.normalise import clean_text

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


_PDF_ERRORS = (ValueError, KeyError, TypeError, AttributeError, OSError, IndexError)


class _NoteHandler(logging.Handler):
    """pypdf's warnings ("EOF marker not found", "Ignoring wrong pointing object") as notes of the file
    being read, instead of lines on stderr with no file named; only this thread's, each once."""

    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        note = f"PDF reader: {record.getMessage()[:200]}"
        if note not in self.notes:
            self.notes.append(note)


@contextlib.contextmanager
def _pypdf_warnings_to(notes: list[str]) -> Iterator[None]:
    logger = logging.getLogger("pypdf")
    handler = _NoteHandler(notes)
    logger.addHandler(handler)  # a handler on the logger: Python's last-resort stderr print is not used
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def load_pdf(path: Path) -> list[RawDocument]:
    """Text layer page by page; pages without a usable one (`ocr.needs_ocr`) are read by OCR.

    Recognised pages are recorded in the document's metadata (explicit["ocr"] → Document.extra:
    engine, pages, per-page and mean word confidence), so citations can say so, and noted in
    the build summary, low-confidence pages by number.
    """
    from pypdf.errors import PdfReadError

    data = read_bytes(path)
    notes: list[str] = []
    try:
        with _pypdf_warnings_to(notes):
            reader, pages_text = _read_text_layer(data)
    except LoadError:
        raise
    except Exception as e:  # pypdf raises many types for a damaged file; what it warned of says why
        kind = "corrupt or unreadable" if isinstance(e, _PDF_ERRORS + (PdfReadError,)) else "unreadable"
        said = "; ".join(n.removeprefix("PDF reader: ") for n in notes[:2])
        raise LoadError(f"{kind} PDF ({type(e).__name__}: {e}" + (f"; {said}" if said else "") + ")") from e

    page_texts = [_pdf_page_text(raw) for raw in pages_text]
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


def _read_text_layer(data: bytes) -> tuple[Any, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as e:  # pypdf raises several types for unsupported crypto
            raise LoadError(f"encrypted PDF that cannot be opened ({e})") from e
        if not ok:
            raise LoadError("encrypted PDF: a password is required")
    return reader, [page.extract_text() or "" for page in reader.pages]


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
    if len(scanned) > (cap := ocr.max_ocr_pages()):
        notes.append(f"{len(scanned)} pages need OCR, over the limit of {cap} per file "
                     f"(VNSEARCH_OCR_MAX_PAGES): page(s) {ocr.page_list(scanned[cap:])} not recognised")
        scanned = scanned[:cap]
    try:
        engine = ocr.engine()
        results = ocr.recognise(data, scanned)
    except ocr.OcrError as e:
        if len(scanned) == len(page_texts):
            raise LoadError(f"no text layer — needs OCR: {e}") from e
        notes.append(f"page(s) {ocr.page_list(scanned)} have no usable text layer and were not recognised: {e}")
        return
    used: list[ocr.OcrPage] = []
    if late := [r.page for r in results if r.error == ocr.BUDGET_SPENT]:
        notes.append(f"page(s) {ocr.page_list(late)} not recognised: the OCR time budget of "
                     f"{ocr.ocr_budget_s():.0f} s per file (VNSEARCH_OCR_SECONDS) was spent")
    for result in results:
        if result.error == ocr.BUDGET_SPENT:
            continue
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

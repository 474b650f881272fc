"""OCR for scanned PDF pages: Tesseract with its Vietnamese model, through `pytesseract`.

Choice of engine wrapper — `pytesseract` rather than `ocrmypdf`:

- Dependencies. pytesseract is one small pure-Python wheel (it depends on Pillow and packaging,
  already here) around the `tesseract` binary. ocrmypdf adds pikepdf/qpdf, Ghostscript and
  img2pdf, and rewrites the whole PDF, which we would then have to read back with pypdf.
- Page numbers. We ask Tesseract for one page image at a time, so page N of the PDF is page N
  of the text, exactly as for a text-layer PDF (`PageSpan`s). With ocrmypdf we would depend on
  its output PDF keeping the page order and on pypdf re-extracting the invisible text layer
  (which splits Vietnamese syllables like any other PDF text).
- Confidence values. `image_to_data` returns Tesseract's TSV: every word with its confidence,
  so we can record a per-page mean and list doubtful pages. ocrmypdf keeps no confidences.
- Speed on 2 cores. Tesseract's own OpenMP threading is slower than one thread per page: one
  A4 page at 300 dpi took 2.4 s wall with the default threads and 1.0 s with
  OMP_THREAD_LIMIT=1, and two such pages in parallel took 1.06 s together. ocrmypdf does the
  same (one single-threaded Tesseract per page, pages in parallel); we do it ourselves, see below.

Rendering: `pypdfium2` (one ~9 MB wheel, in-process, no temporary PDF tools) rather than
`pdftoppm` (Debian poppler-utils + libpoppler + poppler-data, ~18 MB, a subprocess and image
files per page). Extracting the embedded images with pypdf would need no renderer at all, but
misses JBIG2/CCITT-compressed scans, masks and pages assembled from strips; rendering works for
any page.

Pages run in a small thread pool (one thread per core): each thread renders its page (PDFium
calls are serialised by a lock, rendering takes a fraction of the OCR time) and waits on its own
single-threaded Tesseract process. Only Tesseract's environment gets OMP_THREAD_LIMIT=1 —
setting it in the indexer's process would also cap torch's OpenMP pool. (A process pool was
tried first: `spawn` re-imports the caller's main module, which breaks scripts read from stdin
or without a `__main__` guard.)

When a page is recognised: see `needs_ocr`. Output is Unicode NFC; the loader then cleans it
like any PDF text (`reflow`, `clean_text`, `repair_split_syllables`).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from indexer.settings import current

LANG = "vie"
DPI = 300  # Tesseract's sweet spot for body text of 10–12 pt
MAX_PIXELS = 40_000_000  # an A3 page at 300 dpi is 35 MP; larger pages are rendered at a lower dpi
LOW_CONFIDENCE = 60.0  # mean word confidence (0–100) under which a page is listed as doubtful
PAGE_TIMEOUT_S = 300
# Budgets per file: OCR runs under the writer lock, so no one PDF may hold it unboundedly. Pages past
# either cap are not recognised and the build report lists them.




def tesseract_cmd() -> str:
    """VNSEARCH_TESSERACT: the Tesseract binary (a name on PATH, or its full path)."""
    return current().tesseract


def max_ocr_pages() -> int:
    """VNSEARCH_OCR_MAX_PAGES: pages of one file recognised at most."""
    return current().ocr_max_pages


def ocr_budget_s() -> float:
    """VNSEARCH_OCR_SECONDS: seconds of OCR one file may take."""
    return float(current().ocr_seconds)

BUDGET_SPENT = "skipped: the file's OCR time budget was spent"
MIN_LETTERS = 20  # fewer letters than this in a page's text layer: treat the page as a scan
MAX_BAD_SHARE = 0.1  # more than this share of unprintable characters: the text layer is garbage
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-vie"


class OcrError(RuntimeError):
    """OCR could not run on a file; the message says why."""


class OcrUnavailable(OcrError):
    """Tesseract, its Vietnamese model or a Python package is missing; the message says how to fix it."""


@dataclass
class OcrPage:
    page: int  # 1-based page number in the PDF
    text: str  # NFC, one line per recognised line, a blank line between paragraphs
    confidence: float | None  # mean word confidence 0–100; None when no word was found
    words: int
    error: str | None = None  # why this page could not be recognised


def needs_ocr(page_text: str) -> bool:
    """True when a page's extracted text cannot stand for the page.

    The test is deliberately simple: fewer than MIN_LETTERS letters (no text layer, or only a
    stamped page number over a scan), or more than MAX_BAD_SHARE of its characters unprintable
    (private-use glyph codes, U+FFFD, control characters: fonts without a Unicode mapping).
    Text in a legacy font encoding (TCVN3, VNI) looks printable and is not caught here.
    """
    letters = sum(c.isalpha() for c in page_text)
    if letters < MIN_LETTERS:
        return True
    visible = [c for c in page_text if not c.isspace()]
    bad = sum(1 for c in visible if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cn", "Cc", "Cs"))
    return bad > MAX_BAD_SHARE * len(visible)


@lru_cache(maxsize=4)
def _probe(cmd_path: str) -> str:
    """'tesseract 5.3.0 (vie)' for a working binary with the Vietnamese model, else OcrUnavailable."""
    try:
        out = subprocess.run([cmd_path, "--version"], capture_output=True, text=True, timeout=30)
        version = (out.stdout or out.stderr).split("\n", 1)[0].strip()  # "tesseract 5.3.0"
        langs = subprocess.run([cmd_path, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise OcrUnavailable(f"Tesseract at {cmd_path} does not run ({e}); reinstall with: {INSTALL_HINT}") from e
    available = {ln.strip() for ln in (langs.stdout + langs.stderr).split("\n")}
    if LANG not in available:
        raise OcrUnavailable(f"Tesseract's Vietnamese model ({LANG}) is not installed; install it with: {INSTALL_HINT}")
    return f"{version or 'tesseract'} ({LANG})"


def engine() -> str:
    """The engine that will be used, e.g. 'tesseract 5.3.0 (vie)'; OcrUnavailable with the fix otherwise."""
    cmd_path = shutil.which(tesseract_cmd())
    if cmd_path is None:
        raise OcrUnavailable(f"Tesseract OCR is not installed; install it with: {INSTALL_HINT}")
    for module, package in (("pytesseract", "pytesseract"), ("pypdfium2", "pypdfium2")):
        try:
            __import__(module)
        except ImportError as e:
            raise OcrUnavailable(f"the Python package {package} is missing (a dependency in pyproject.toml); "
                                 "install it with: .venv/bin/pip install -e .") from e
    return _probe(cmd_path)


def text_from_data(data: dict[str, list[Any]]) -> tuple[str, float | None, int]:
    """Tesseract TSV (pytesseract's DICT output) → (text, mean word confidence, word count).

    Lines keep Tesseract's line breaks, paragraphs are separated by a blank line, so the
    loader's `reflow` can join them exactly as it joins a PDF page's visual lines.
    """
    lines: list[tuple[tuple[int, int], list[str]]] = []  # ((block, par), words)
    confidences: list[float] = []
    current: tuple[int, int, int] | None = None
    for i, word in enumerate(data.get("text", [])):
        word = (word or "").strip()
        try:
            conf = float(data["conf"][i])
        except (KeyError, ValueError, TypeError, IndexError):
            conf = -1.0
        if not word or conf < 0:  # conf -1: a block/paragraph/line row, not a word
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        if key != current:
            lines.append((key[:2], []))
            current = key
        lines[-1][1].append(word)
        confidences.append(conf)
    out: list[str] = []
    previous_par = None
    for par, words in lines:
        if previous_par is not None and par != previous_par:
            out.append("")
        out.append(" ".join(words))
        previous_par = par
    text = unicodedata.normalize("NFC", "\n".join(out))
    mean = round(statistics.fmean(confidences), 1) if confidences else None
    return text, mean, len(confidences)


# --- page workers ------------------------------------------------------------------------------

# PDFium is not thread-safe: every call into it (open, render, close) holds this lock.
_PDFIUM_LOCK = threading.Lock()


def _render(pdf: Any, page_index: int, folder: str) -> str:
    with _PDFIUM_LOCK:
        page = pdf[page_index]
        try:
            width, height = page.get_size()  # points
            scale = DPI / 72
            if width * height * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / (width * height)) ** 0.5
            image = page.render(scale=scale, grayscale=True).to_pil()
        finally:
            page.close()
    path = os.path.join(folder, f"page-{page_index + 1}.pgm")
    image.save(path)  # uncompressed PGM: encoding a PNG for Tesseract would cost more than it saves
    return path


def _recognise(pdf: Any, number: int, deadline: float, stop: threading.Event) -> OcrPage:
    import pytesseract

    left = deadline - time.monotonic()
    if stop.is_set() or left <= 0:
        return OcrPage(number, "", None, 0, error=BUDGET_SPENT)
    timeout = max(1, int(min(PAGE_TIMEOUT_S, left)))
    try:
        with tempfile.TemporaryDirectory(prefix="vnsearch-ocr-") as folder:
            image = _render(pdf, number - 1, folder)
            data = pytesseract.image_to_data(image, lang=LANG, config="--psm 3",
                                             output_type=pytesseract.Output.DICT, timeout=timeout)
    except RuntimeError as e:  # pytesseract's timeout
        return OcrPage(number, "", None, 0, error=f"OCR stopped after {timeout} s ({e})")
    except Exception as e:  # a page PDFium cannot render or Tesseract rejects: note it, go on
        return OcrPage(number, "", None, 0, error=f"{type(e).__name__}: {e}")
    except BaseException:
        # Ctrl-C inside a run: the other workers start no page from now on, without waiting for the
        # caller's thread to reach this page's result (on a busy machine it may come much later)
        stop.set()
        raise
    text, conf, words = text_from_data(data)
    return OcrPage(number, text, conf, words)


def recognise(data: bytes, pages: list[int], workers: int | None = None,
              budget_s: float | None = None) -> list[OcrPage]:
    """OCR the given 1-based pages of a PDF (its bytes); one result per page, in order. Pages not
    started within `budget_s` seconds (ocr_budget_s()) come back with error BUDGET_SPENT.

    Call `engine()` first: it raises OcrUnavailable with the install command when Tesseract or
    its Vietnamese model is missing.
    """
    import pypdfium2
    import pytesseract

    if not pages:
        return []
    pytesseract.pytesseract.tesseract_cmd = shutil.which(tesseract_cmd()) or tesseract_cmd()
    # One thread per Tesseract run, pages in parallel (see the module docstring). pytesseract
    # starts Tesseract with the environment in its module-level `environ`; giving it a copy
    # changes only Tesseract's, never this process's (OMP_THREAD_LIMIT here would cap torch).
    # Should a later pytesseract drop that name, OCR stays correct, only slower.
    pytesseract.pytesseract.environ = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    workers = max(1, min(workers or os.cpu_count() or 1, len(pages)))
    try:
        with _PDFIUM_LOCK:
            pdf = pypdfium2.PdfDocument(data)
    except Exception as e:  # pypdfium2.PdfiumError and friends
        raise OcrError(f"PDF pages cannot be rendered for OCR ({type(e).__name__}: {e})") from e
    deadline = time.monotonic() + (ocr_budget_s() if budget_s is None else budget_s)
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        return list(pool.map(lambda n: _recognise(pdf, n, deadline, stop), pages))
    except BaseException:
        stop.set()  # Ctrl-C: no page is started after it, the pages running finish their Tesseract run
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        with _PDFIUM_LOCK:
            pdf.close()


def summary(engine_name: str, used: list[OcrPage]) -> dict[str, Any]:
    """What a document's metadata records about its recognised pages (JSON-safe: string keys)."""
    words = sum(p.words for p in used)
    mean = (round(sum((p.confidence or 0.0) * p.words for p in used) / words, 1) if words else None)
    return {
        "engine": engine_name,
        "pages": [p.page for p in used],
        "page_confidence": {str(p.page): p.confidence for p in used},
        "mean_confidence": mean,
        "low_confidence_pages": [p.page for p in used if p.confidence is None or p.confidence < LOW_CONFIDENCE],
        "dpi": DPI,
    }


def page_list(pages: list[int]) -> str:
    """[1, 2, 3, 5] → '1–3, 5'."""
    out: list[str] = []
    for p in sorted(pages):
        if out and p == int(out[-1].split("–")[-1]) + 1:
            out[-1] = f"{out[-1].split('–')[0]}–{p}"
        else:
            out.append(str(p))
    return ", ".join(out)


"""Loaders by file suffix: bytes on disk → clean NFC text plus the structure the format itself declares.

Each format has its module (`text`, `html` — Markdown too —, `pdf` with `ocr`, `docx`, `jsonl`);
`metadata` reads what a document says about itself. This registry picks the loader by suffix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indexer.load.base import LoadError, RawDocument, decode_text
from indexer.load.docx import load_docx
from indexer.load.html import load_html, load_md
from indexer.load.jsonl import load_jsonl
from indexer.load.pdf import load_pdf
from indexer.load.text import load_txt

__all__ = ["LOADERS", "LoadError", "RawDocument", "decode_text", "is_supported", "load_file"]

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

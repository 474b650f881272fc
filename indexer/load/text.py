"""Plain text files."""

from __future__ import annotations

from pathlib import Path

from indexer.load.article import drop_crumbs
from indexer.load.base import (
    RawDocument,
    decode_text,
    read_bytes,
    require_text,
)
from indexer.text.normalise import clean_text


def load_txt(path: Path) -> list[RawDocument]:
    notes: list[str] = []
    # a web page saved as text keeps the portal's crumbs ("Sign In", "Tag:"): not the document's words
    text = drop_crumbs(clean_text(decode_text(read_bytes(path), notes)))
    return [RawDocument(require_text(text), notes=notes)]

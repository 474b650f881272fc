"""Word (.docx) files: paragraphs with their heading styles, and tables."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from indexer.load.base import (
    Assembler,
    LoadError,
    RawDocument,
    read_bytes,
    require_text,
)

_DOCX_MAX_UNCOMPRESSED = 200 * 1024 * 1024


def load_docx(path: Path) -> list[RawDocument]:
    import docx
    from docx.table import Table

    data = read_bytes(path)
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

    asm = Assembler()
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
    return [RawDocument(require_text(asm.text()), headings=asm.headings, hints=hints)]

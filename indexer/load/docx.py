"""Word (.docx) files: paragraphs with their heading styles, and tables."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
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
_READ = 64 * 1024  # small reads: zipfile inflates at most about this much per call


def check_expansion(data: bytes, budget: int | None = None) -> None:
    """LoadError unless every member inflates, CRC intact, within `budget` bytes in all.

    What is counted is what is actually decompressed, read in small pieces: the sizes an archive
    declares can lie, and zipfile's one-shot read() inflates a whole member before cutting it to
    its declared size (a 150 KB file took 262 MiB so).
    """
    budget = _DOCX_MAX_UNCOMPRESSED if budget is None else budget
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            declared = sum(i.file_size for i in zf.infolist())
            if declared > budget:
                raise LoadError(f"DOCX expands to {declared / 2**20:.0f} MiB: refused as a possible zip bomb")
            for info in zf.infolist():
                with zf.open(info) as member:
                    while chunk := member.read(_READ):
                        total += len(chunk)
                        if total > budget:
                            raise LoadError(f"DOCX inflates to more than {budget // 2**20} MiB: refused as a "
                                            "possible zip bomb")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, OSError,
            ValueError) as e:  # zlib.error: a damaged deflate stream (found by tests/test_fuzz_loaders.py)
        # a size that lies shows up as a CRC error once exactly the declared bytes were read
        raise LoadError(f"not a readable DOCX file ({type(e).__name__}: {e})") from e


def _style_name(paragraph: Any, names: dict[str | None, str]) -> str:
    """The paragraph's style name, looked up once per style id: python-docx scans every style of the
    document for each lookup (a paragraph with no style of its own asks for the default)."""
    sid = paragraph._p.style  # noqa: SLF001 - the id in <w:pStyle>, None for the default
    if sid not in names:
        style = paragraph.style
        names[sid] = (style.name if style is not None else "") or ""
    return names[sid]


def load_docx(path: Path) -> list[RawDocument]:
    import docx
    from docx.table import Table

    data = read_bytes(path)
    check_expansion(data)  # then python-docx reads members whose sizes are known to be true
    try:
        document = docx.Document(io.BytesIO(data))
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(f"not a readable DOCX file ({type(e).__name__}: {e})") from e

    asm = Assembler()
    hints: dict[str, Any] = {}
    style_names: dict[str | None, str] = {}
    if document.core_properties.title:
        hints["title"] = document.core_properties.title
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    t = cell.text.strip()
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                if cells:
                    asm.add(" | ".join(cells))
            continue
        style = _style_name(block, style_names)
        level = None
        if style == "Title":
            level = 1
            hints.setdefault("title", block.text.strip())
        elif m := re.match(r"Heading (\d)", style):
            level = int(m.group(1))
        asm.add(block.text, heading=level)
    return [RawDocument(require_text(asm.text()), headings=asm.headings, hints=hints)]

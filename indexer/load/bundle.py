"""Several documents in one file: a compilation, or a resolution with a conclusion appended.

A new document starts where a new official header does, after the first document's opening:
- a heading naming a document by type and number ("Kết luận số 69-KL/TW", a Markdown heading or a
  short line of its own) followed within a few lines by its own date ("ngày 11/01/2024" or "ngày 11
  tháng 01 năm 2024");
- or an issuer's "Số: 69-KL/TW" line, the first line of an official header.
The number must differ from the one the file opened with (a resolution that repeats its own number
in a heading is one document). Each part keeps its own text, headings and PDF pages, with offsets
made relative to its own text, so passages, pages and the document view stay right.
"""

from __future__ import annotations

import re
from dataclasses import replace

from indexer.load.base import RawDocument
from indexer.records import PageSpan
from indexer.text.docnumbers import find_numbers

_TYPES = (r"Nghị quyết|Nghị định|Quyết định|Chỉ thị|Kết luận|Thông tư(?: liên tịch)?|Quy định|Quy chế"
          r"|Hướng dẫn|Kế hoạch|Thông báo|Luật|Bộ luật|Pháp lệnh|Chương trình|Đề án")
_HEADING = re.compile(rf"^\s*(?:#+\s*)?(?:{_TYPES})\s+số\s+(\S+)\s*$", re.IGNORECASE)
_SO_LINE = re.compile(r"^\s*Số\s*:\s*(\S+)")
_DATE = re.compile(r"ngày\s+\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}",
                   re.IGNORECASE)
_LOOKAHEAD_LINES = 4
_MIN_OPENING = 200  # characters: a header's own "Số:" line near the top is the first document's


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _number(candidate: str) -> str | None:
    found = find_numbers(candidate)
    return found[0].key if found else None


def starts(text: str) -> list[int]:
    """Offsets in `text` where a further document begins (see the module docstring)."""
    lines = _lines(text)
    first_key = next((k for _, ln in lines[:12] if (m := _HEADING.match(ln) or _SO_LINE.match(ln))
                      and (k := _number(m.group(1)))), None)
    seen = {first_key} if first_key else set()
    out: list[int] = []
    for i, (pos, line) in enumerate(lines):
        if pos < _MIN_OPENING:
            continue
        m = _HEADING.match(line) or _SO_LINE.match(line)
        key = _number(m.group(1)) if m else None
        if not key or key in seen:
            continue
        following = "\n".join(ln for _, ln in lines[i : i + 1 + _LOOKAHEAD_LINES])
        if not _DATE.search(following):
            continue
        start = pos
        if _SO_LINE.match(line):  # an official header: start at the issuer above the "Số:" line
            for back in range(i - 1, max(-1, i - 4), -1):
                if lines[back][1].strip() and lines[back][1].strip().isupper():
                    start = lines[back][0]
        seen.add(key)
        out.append(start)
    return out


def split_bundle(raw: RawDocument) -> list[RawDocument]:
    """`raw` as one document per official header it holds (usually just itself)."""
    cuts = starts(raw.text)
    if not cuts:
        return [raw]
    bounds = [0, *cuts, len(raw.text)]
    parts = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        text = raw.text[a:b].rstrip()
        if not text.strip():
            continue
        headings = {k - a: v for k, v in raw.headings.items() if a <= k < a + len(text)}
        pages = [PageSpan(max(p.start, a) - a, min(p.end, a + len(text)) - a, p.page)
                 for p in raw.pages if p.end > a and p.start < a + len(text)]
        hints = dict(raw.hints) if a == 0 else {}
        if a > 0:
            first_line = text.split("\n", 1)[0].strip().lstrip("#").strip()
            if _HEADING.match(first_line):
                hints["title"] = first_line
        parts.append(replace(raw, text=text, headings=headings, pages=pages, hints=hints,
                             notes=list(raw.notes) if a == 0 else []))
    return parts

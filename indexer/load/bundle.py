"""Several documents in one file: a compilation, or a resolution with a conclusion appended.

A new document starts where a new official header does, after the first document's opening:
- a heading naming a document by type and number ("Kết luận số 69-KL/TW", a Markdown heading or a
  short line of its own) followed within a few lines by its own date ("ngày 11/01/2024" or "ngày 11
  tháng 01 năm 2024");
- or an official header: the number line ("Số: 69-KL/TW", "Luật số: 57/2010/QH12") with its place
  and date ("Hà Nội, ngày 15 tháng 11 năm 2010") within a few lines, usually under the national
  emblem line ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") and the issuer, over the type line ("LUẬT"):
  the new document starts at the issuer. This is how laws and resolutions appear in plain text,
  PDF and DOCX, where no Markdown heading marks them.
The number must differ from the one the file opened with (a resolution that repeats its own number
in a heading is one document). Each part keeps its own text, headings and PDF pages, with offsets
made relative to its own text, so passages, pages and the document view stay right.
"""

from __future__ import annotations

import re
from dataclasses import replace

from indexer.load.base import RawDocument
from indexer.load.metadata import EMBLEM
from indexer.records import PageSpan
from indexer.text.docnumbers import find_numbers

_TYPES = (r"Nghị quyết|Nghị định|Quyết định|Chỉ thị|Kết luận|Thông tư(?: liên tịch)?|Quy định|Quy chế"
          r"|Hướng dẫn|Kế hoạch|Thông báo|Luật|Bộ luật|Pháp lệnh|Chương trình|Đề án")
_HEADING = re.compile(rf"^\s*(?:#+\s*)?(?:{_TYPES})\s+số\s+(\S+)\s*$", re.IGNORECASE)
_SO_LINE = re.compile(rf"^\s*(?:(?:{_TYPES})\s+)?số\s*:\s*(\S+)", re.IGNORECASE)
_NUMBER_IN = re.compile(rf"(?:(?:{_TYPES})\s+)?số\s*:\s*(\S+)", re.IGNORECASE)
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


def _header_start(lines: list[tuple[int, str]], i: int) -> int:
    """Where the official header around lines[i] begins: the block of lines in capitals (the issuer,
    "QUỐC HỘI") or holding the national emblem directly above it; the first other line ends the block
    (the previous document's signature "CHỦ TỊCH QUỐC HỘI" sits above a name, never joins it)."""
    start = lines[i][0]
    for back in range(i - 1, max(-1, i - 4), -1):
        line = lines[back][1].strip()
        if not line:
            continue
        if not (line.isupper() or EMBLEM.search(line)):
            break
        start = lines[back][0]
    return start


def _header_key(lines: list[tuple[int, str]], i: int) -> tuple[str | None, str | None]:
    """(number key, the number as written when lines[i] is an official header) when lines[i] opens
    a document: a heading naming a type and number, a number line ("Luật số: …"), or a line with the
    national emblem whose number follows on it or within a few lines (a PDF or DOCX header often
    reads as one joined line)."""
    line = lines[i][1]
    if m := _HEADING.match(line):
        return _number(m.group(1)), None
    if m := _SO_LINE.match(line):
        return _number(m.group(1)), m.group(1)
    if emblem := EMBLEM.search(line):
        window = "\n".join([line[emblem.end():], *(ln for _, ln in lines[i + 1 : i + 1 + _LOOKAHEAD_LINES])])
        if m := _NUMBER_IN.search(window):
            return _number(m.group(1)), m.group(1)
    return None, None


def starts(text: str) -> list[tuple[int, str | None]]:
    """(offset, number as written in its official header, if any) where a further document begins
    in `text` (see the module docstring)."""
    lines = _lines(text)
    first_key = next((k for i in range(min(12, len(lines))) if (k := _header_key(lines, i)[0])), None)
    seen = {first_key} if first_key else set()
    out: list[tuple[int, str | None]] = []
    for i, (pos, _) in enumerate(lines):
        if pos < _MIN_OPENING:
            continue
        key, written = _header_key(lines, i)
        if not key or key in seen:
            continue
        following = "\n".join(ln for _, ln in lines[i : i + 1 + _LOOKAHEAD_LINES])
        if not _DATE.search(following):
            continue
        seen.add(key)
        # an official header starts at its issuer, above the number line
        out.append((_header_start(lines, i), written) if written else (pos, None))
    return out


def split_bundle(raw: RawDocument) -> list[RawDocument]:
    """`raw` as one document per official header it holds (usually just itself)."""
    found = starts(raw.text)
    if not found:
        return [raw]
    # the number each later document's header gives: the metadata reader may not find it in a
    # header that a PDF or DOCX joined into one line
    numbers = dict(found)
    bounds = [0, *numbers, len(raw.text)]
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
            if numbers.get(a):
                hints["doc_number"] = numbers[a]
        parts.append(replace(raw, text=text, headings=headings, pages=pages, hints=hints,
                             notes=list(raw.notes) if a == 0 else []))
    return parts

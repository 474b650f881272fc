"""Citations ready to paste into a report, in Vietnamese, in the official form: type, number, date,
issuer, subject (trích yếu), then the section.

- a numbered document: "Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển
  khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia, mục II.1"
- a law article:       "Luật số 68/2020/QH14 ngày 13/11/2020 của Quốc hội về cư trú, khoản 2 Điều 4"
- an interview:        'Trần Thị Lộc, …: "Title" (phỏng vấn), Source, ngày 01/04/2024, phần: …'
- anything else:       '"Title", Source, ngày …, mục …'
A PDF passage adds ", trang N"; a page recognised by OCR adds
" (bản quét, nhận dạng tự động — cần đối chiếu bản gốc)", so nobody quotes OCR text unchecked; a
document that the corpus says is no longer (wholly) in force ends with that warning, e.g.
" (đã hết hiệu lực từ 01/01/2021, thay thế bởi Luật số 59/2020/QH14)".
"""

from __future__ import annotations

import re
from typing import Any

from indexer.split import heading_marker

# The marker a citation of an OCR'd page carries; the page tests for it to show its notice.
OCR_NOTE = "bản quét, nhận dạng tự động — cần đối chiếu bản gốc"


def is_ocr_page(doc: dict[str, Any], page: int | None) -> bool:
    """True when the passage's text came from OCR: its page is one the loader recognised
    (extra["ocr"]["pages"]), or the page is unknown in a document that was recognised."""
    info = (doc.get("extra") or {}).get("ocr")
    if not isinstance(info, dict):
        return False
    return page is None or page in (info.get("pages") or [])


def vn_date(iso: str | None) -> str | None:
    if not iso or len(iso) != 10 or iso[4] != "-":
        return iso
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def compact_section(section: list[str]) -> str | None:
    """'Điều 4 › 2. … › a) …' → 'điểm a khoản 2 Điều 4'; 'III. … › 2. …' → 'mục III.2'."""
    markers = [heading_marker(label) for label in section]
    dieu = None
    numbering: list[str] = []
    for m in markers:
        if m is None:
            continue
        kind, marker = m
        if kind == "dieu":
            dieu, numbering = marker, []
        elif kind in ("roman", "alpha", "arabic", "subarabic", "letter") and marker:
            numbering.append(marker)
    if dieu:
        parts = []
        if len(numbering) >= 2:
            parts.append(f"điểm {numbering[1]}")
        if numbering:
            parts.append(f"khoản {numbering[0]}")
        parts.append(f"Điều {dieu}")
        return " ".join(parts)
    if numbering:
        return "mục " + ".".join(numbering)
    return None


# A subject that starts with what the document does reads without "về": "… của Chính phủ ban hành …".
_ACTION = re.compile(r"(?i)^(?:ban hành|phê duyệt|quy định|hướng dẫn|sửa đổi|bổ sung|bãi bỏ|thành lập|về)\b")


def subject_phrase(subject: str | None) -> str:
    """' về cư trú', ' ban hành Chương trình …', or '' — the subject as it follows the issuer."""
    subject = (subject or "").strip().rstrip(".;,")
    if not subject:
        return ""
    if _ACTION.match(subject):
        return " " + subject[:1].lower() + subject[1:]
    # "Cư trú" (a law's name) → "về cư trú"; a word in capitals throughout ("UBND") stays as it is.
    first = subject.split(" ", 1)[0]
    if not (len(first) > 1 and first.isupper()):
        subject = subject[:1].lower() + subject[1:]
    return " về " + subject


def section_name(label: str) -> str:
    """A section label without the source's list marker: '* Đối với cấp ủy các cấp' → 'Đối với cấp ủy các cấp'."""
    return re.sub(r"^\s*(?:[*•+\-–—]\s*)+", "", label).strip()


def format_citation(doc: dict[str, Any], section: list[str], page: int | None, *, subject: str | None = None,
                    note: str | None = None) -> str:
    """The citation of a passage of `doc` at `section` (and `page`). `subject` is the document's
    trích yếu (from its title or header) for the official form; `note` is a validity warning such
    as "(đã hết hiệu lực từ …)", which the citation then ends with."""
    date = vn_date(doc.get("date"))
    extra = doc.get("extra") or {}
    place = compact_section(section)
    if not place and section:
        place = f"phần “{section_name(section[-1])}”"
    parts: list[str]
    if doc.get("doc_number"):
        head = f"{doc.get('doc_type') or 'Văn bản'} số {doc['doc_number']}"
        if date:
            head += f" ngày {date}"
        if doc.get("issuer"):
            head += f" của {doc['issuer']}"
        head += subject_phrase(subject)
        parts = [head]
    elif extra.get("interviewee"):
        parts = [f"{extra['interviewee']}: “{doc.get('title')}” ({(doc.get('doc_type') or 'phỏng vấn').lower()})"]
        if doc.get("source"):
            parts.append(doc["source"])
        if date:
            parts.append(f"ngày {date}")
    else:
        parts = [f"“{doc.get('title')}”"]
        if doc.get("source") and doc.get("source") != doc.get("doc_id"):
            parts.append(doc["source"])
        if date:
            parts.append(f"ngày {date}")
    if place:
        parts.append(place)
    if page:
        parts.append(f"trang {page}")
    citation = ", ".join(parts)
    if is_ocr_page(doc, page):
        citation += f" ({OCR_NOTE})"
    if note:
        citation += f" {note}"
    return citation

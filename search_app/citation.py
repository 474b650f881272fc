"""Citations ready to paste into a report, in Vietnamese.

- a numbered document: "Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị, mục III.2"
- a law article:       "Luật số 68/2020/QH14 ngày 13/11/2020 của Quốc hội, khoản 2 Điều 4"
- an interview:        'Trần Thị Lộc, …: "Title" (phỏng vấn), Source, ngày 01/04/2024, phần: …'
- anything else:       '"Title", Source, ngày …, mục …'
A PDF passage adds ", trang N"; a page recognised by OCR adds
" (bản quét, nhận dạng tự động — cần đối chiếu bản gốc)", so nobody quotes OCR text unchecked.
"""

from __future__ import annotations

from typing import Any

from indexer.splitter import heading_marker

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


def format_citation(doc: dict[str, Any], section: list[str], page: int | None) -> str:
    date = vn_date(doc.get("date"))
    extra = doc.get("extra") or {}
    place = compact_section(section)
    if not place and section:
        place = f"phần “{section[-1]}”"
    parts: list[str]
    if doc.get("doc_number"):
        head = f"{doc.get('doc_type') or 'Văn bản'} số {doc['doc_number']}"
        if date:
            head += f" ngày {date}"
        if doc.get("issuer"):
            head += f" của {doc['issuer']}"
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
    return citation

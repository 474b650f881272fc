"""Citations ready to paste into a report, in Vietnamese, in the official form: type, number, date,
issuer, subject (trích yếu), then the section.

- a numbered document: "Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị về đột phá phát triển
  khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia, mục II.1"
- a law article:       "Luật số 68/2020/QH14 ngày 13/11/2020 của Quốc hội về cư trú, khoản 2 Điều 4"
- an interview:        'Trần Thị Lộc, …: "Title" (phỏng vấn), Source, ngày 01/04/2024, phần: …'
- anything else:       '"Title", Source, ngày …, mục …'
- an annex or programme issued with the document: "Chương trình hành động ban hành kèm theo Nghị
  quyết số 03/NQ-CP ngày 09/01/2025 của Chính phủ, mục II.6"
A citation is pasted as it is: a section label cut short at indexing ("… …") is never quoted, nor
one that only repeats the document's own name ("Nghị quyết số 57-NQ/TW", "Nghị quyết 20 - 2012"),
its trích yếu, or a line of its header ("CHÍNH PHỦ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").
A PDF passage adds ", trang N"; a page recognised by OCR adds
" (bản quét, nhận dạng tự động — cần đối chiếu bản gốc)", so nobody quotes OCR text unchecked; a
document that the corpus says is no longer (wholly) in force ends with that warning, e.g.
" (đã hết hiệu lực từ 01/01/2021, thay thế bởi Luật số 59/2020/QH14)".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from indexer.split import PUBLISHER_LEAD, heading_marker
from indexer.text.docnumbers import find_numbers
from indexer.text.normalise import fold

# The marker a citation of an OCR'd page carries; the page tests for it to show its notice.
OCR_NOTE = "bản quét, nhận dạng tự động — cần đối chiếu bản gốc"
PLACE_CACHE = 4096  # section paths whose quoted place is kept (see _place)


def is_ocr_page(doc: Mapping[str, Any], page: int | None) -> bool:
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


def vn_time(iso: str | None) -> str:
    """"2026-12-07T09:05:00+00:00" → "07/12/2026 09:05:00" (the page's dd/mm/yyyy); "" when absent."""
    if not iso:
        return ""
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return t.strftime("%d/%m/%Y %H:%M:%S")


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


# An annex issued with a document: its own heading in capitals, a document type of its own.
_ANNEX = re.compile(r"^(CHƯƠNG TRÌNH(?: HÀNH ĐỘNG)?|KẾ HOẠCH(?: HÀNH ĐỘNG)?|QUY CHẾ|QUY ĐỊNH|ĐIỀU LỆ|PHỤ LỤC"
                    r"|ĐỀ ÁN|DANH MỤC)\b")
_HEADER_LINES = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "ĐẢNG CỘNG SẢN VIỆT NAM",
                 "QUYẾT NGHỊ", "QUYẾT ĐỊNH", "NGHỊ QUYẾT", "KẾT LUẬN", "CHỈ THỊ", "BAN CHẤP HÀNH TRUNG ƯƠNG",
                 "BỘ CHÍNH TRỊ", "BAN BÍ THƯ", "CHÍNH PHỦ", "QUỐC HỘI", "THỦ TƯỚNG CHÍNH PHỦ")


@functools.lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    """fold(text).casefold(), cached: every hit's every section label is compared with its document's
    title and trích yếu, the same few strings search after search."""
    return fold(text).casefold()


def _names_document(label: str, doc: Mapping[str, Any], subject: str | None) -> bool:
    """True when `label` is the document's own name, trích yếu or a header line, not a section of it."""
    text = label.strip().rstrip(" …").strip()
    if not text:
        return True
    if text.upper() == text and any(text.startswith(h) for h in _HEADER_LINES) and not _ANNEX.match(text):
        return True
    folded = _folded(text)
    for name in (doc.get("title"), subject):
        if name and (_folded(name).startswith(folded) or folded.startswith(_folded(name))):
            return True
    number = doc.get("doc_number")
    if number and any(n.key == k.key for n in find_numbers(text) for k in find_numbers(number)):
        return True
    # "Nghị quyết 20 - 2012": the type, the number's digits and the year, a file's own heading
    digits = re.match(r"\d+", number or "")
    year = (doc.get("date") or "")[:4]
    words = re.findall(r"\w+", text)
    return bool(digits and year and digits.group(0) in words and year in words and len(words) <= 6)


def annex_name(section: list[str]) -> tuple[str | None, list[str]]:
    """("Chương trình hành động", the path below it) when the passage lies in an annex, else (None, path)."""
    for i, label in enumerate(section):
        m = _ANNEX.match(label.strip())
        if m and label.strip().upper() == label.strip():
            name = m.group(1)
            return name[:1] + name[1:].lower(), section[i + 1 :]
    return None, section


def place_of(doc: Mapping[str, Any], section: list[str], subject: str | None = None) -> str | None:
    """'mục II.6', 'Điều 4', 'phần “Đối với cấp ủy các cấp”', or None when no label is worth quoting."""
    return _place(tuple(section), doc.get("title"), doc.get("doc_number"), doc.get("date"), subject)


@functools.lru_cache(maxsize=PLACE_CACHE)
def _place(section: tuple[str, ...], title: str | None, number: str | None, date: str | None,
           subject: str | None) -> str | None:
    """`place_of` from what it reads of the document, kept for the places last cited: the same passages
    come back in result after result, and each label is read against the title, number and subject."""
    doc = {"title": title, "doc_number": number, "date": date}
    kept = [s for s in section if not _names_document(s, doc, subject)]
    place = compact_section(kept)
    if not place and kept and not kept[-1].rstrip().endswith("…"):  # a label cut short is not quoted
        place = f"phần “{section_name(kept[-1])}”"
    return place


PUBLISHER_LEAD_CITED = "Lời giới thiệu của trang đăng tải, không thuộc văn bản, đăng trước toàn văn"


def format_citation(doc: Mapping[str, Any], section: list[str], page: int | None, *, subject: str | None = None,
                    note: str | None = None) -> str:
    """The citation of a passage of `doc` at `section` (and `page`). `subject` is the document's
    trích yếu (from its title or header) for the official form; `note` is a validity warning such
    as "(đã hết hiệu lực từ …)", which the citation then ends with."""
    date = vn_date(doc.get("date"))
    extra = doc.get("extra") or {}
    annex, section = annex_name(section) if doc.get("doc_number") else (None, section)
    place = place_of(doc, section, subject)
    parts: list[str]
    if doc.get("doc_number"):
        head = f"{doc.get('doc_type') or 'Văn bản'} số {doc['doc_number']}"
        if date:
            head += f" ngày {date}"
        if doc.get("issuer"):
            head += f" của {doc['issuer']}"
        # an annex: "Chương trình hành động ban hành kèm theo Nghị quyết số …" (the subject would
        # only say again that the resolution issues the programme)
        head = f"{annex} ban hành kèm theo {head}" if annex else head + subject_phrase(subject)
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
    if PUBLISHER_LEAD in section:  # the web page's words about the document, not the document's
        citation = f"{PUBLISHER_LEAD_CITED} {citation.removesuffix(', ' + place) if place else citation}"
    if is_ocr_page(doc, page):
        citation += f" ({OCR_NOTE})"
    if note:
        citation += f" {note}"
    return citation

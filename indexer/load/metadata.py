"""Document metadata: a sidecar file wins, then the Vietnamese document header, then what a web
article or interview says about itself (article.py), then the file name.

Sidecar convention: ``<file name>.meta.json`` next to the document (``bai-viet.txt`` →
``bai-viet.txt.meta.json``), a JSON object with any of: title, doc_type, doc_number, issuer,
date (``dd/mm/yyyy`` or ``yyyy-mm-dd``), source, and free extra fields such as interviewee or url.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from indexer.load.article import detect_article
from indexer.load.base import LoadError, open_document, read_fd
from indexer.text.dates import iso_date
from indexer.text.docnumbers import find_numbers, issuer_from_number, number_key, type_from_number
from indexer.text.normalise import nfc

SIDECAR_SUFFIX = ".meta.json"
MAX_SIDECAR_BYTES = 1024 * 1024
CORE_FIELDS = ("title", "doc_number", "doc_type", "issuer", "date", "source")

DOC_TYPES = {
    "LUẬT": "Luật",
    "BỘ LUẬT": "Bộ luật",
    "HIẾN PHÁP": "Hiến pháp",
    "PHÁP LỆNH": "Pháp lệnh",
    "NGHỊ QUYẾT": "Nghị quyết",
    "NGHỊ ĐỊNH": "Nghị định",
    "QUYẾT ĐỊNH": "Quyết định",
    "CHỈ THỊ": "Chỉ thị",
    "KẾT LUẬN": "Kết luận",
    "THÔNG TƯ": "Thông tư",
    "THÔNG TƯ LIÊN TỊCH": "Thông tư liên tịch",
    "QUY ĐỊNH": "Quy định",
    "QUY CHẾ": "Quy chế",
    "HƯỚNG DẪN": "Hướng dẫn",
    "KẾ HOẠCH": "Kế hoạch",
    "THÔNG BÁO": "Thông báo",
    "BÁO CÁO": "Báo cáo",
    "CHƯƠNG TRÌNH": "Chương trình",
    "ĐỀ ÁN": "Đề án",
}

# Issuing bodies as they stand, upper-case, at the top-left of a header.
ISSUERS = [
    ("BAN CHẤP HÀNH TRUNG ƯƠNG", "Ban Chấp hành Trung ương Đảng"),
    ("BỘ CHÍNH TRỊ", "Bộ Chính trị"),
    ("BAN BÍ THƯ", "Ban Bí thư"),
    ("ỦY BAN THƯỜNG VỤ QUỐC HỘI", "Ủy ban Thường vụ Quốc hội"),
    ("UỶ BAN THƯỜNG VỤ QUỐC HỘI", "Ủy ban Thường vụ Quốc hội"),
    ("QUỐC HỘI", "Quốc hội"),
    ("THỦ TƯỚNG CHÍNH PHỦ", "Thủ tướng Chính phủ"),
    ("CHÍNH PHỦ", "Chính phủ"),
    ("CHỦ TỊCH NƯỚC", "Chủ tịch nước"),
]
_BODY_PHRASE = re.compile(
    r"của (Bộ Chính trị|Ban Chấp hành Trung ương(?: Đảng)?|Ban Bí thư|Chính phủ|Thủ tướng Chính phủ"
    r"|Quốc hội|Ủy ban Thường vụ Quốc hội)"
)
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_DATE_NUM = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_HEADER_CHARS = 2500


class MetadataError(ValueError):
    pass


def clean_fields(meta: dict[str, Any], notes: list[str] | None, where: str) -> dict[str, Any]:
    """`meta` without core fields whose value is not text, each dropped with a note naming `where`.

    One bad value (a sidecar's `"date": 2024`, a JSONL line's `"doc_type": {...}`) costs that field,
    not the file and not the build.
    """
    out: dict[str, Any] = {}
    for k, v in meta.items():
        if k in CORE_FIELDS and v is not None and not isinstance(v, str):
            if notes is not None:
                notes.append(f"{where}: \"{k}\" must be text, not {type(v).__name__} ({json.dumps(v)[:40]}); "
                             "field ignored")
            continue
        out[k] = v
    return out


def parse_date(value: str | None) -> str | None:
    """'01/04/2024', '2024-04-01' or 'ngày 1 tháng 4 năm 2024' → '2024-04-01'."""
    if not value:
        return None
    value = value.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
        return iso_date(m.group(3), m.group(2), m.group(1))
    if m := _DATE_NUM.search(value):
        return iso_date(*m.groups())
    if m := _DATE_WORDS.search(value):
        return iso_date(*m.groups())
    return None


def read_sidecar(path: Path, notes: list[str] | None = None) -> dict[str, Any]:
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if not side.exists():
        return {}
    try:  # opened as a document is: never through a symlink, never over its size limit
        fd = open_document(side)
        try:
            raw = read_fd(fd, MAX_SIDECAR_BYTES)
        finally:
            os.close(fd)
        data = json.loads(raw.decode("utf-8"))
    except LoadError as e:
        raise MetadataError(f"sidecar {side.name}: {e}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetadataError(f"sidecar {side.name} is not valid UTF-8 JSON: {e}") from e
    if not isinstance(data, dict):
        raise MetadataError(f"sidecar {side.name} must hold a JSON object")
    data = clean_fields(data, notes, f"sidecar {side.name}")
    data = {k: nfc(v) if isinstance(v, str) else v for k, v in data.items()}
    if data.get("date"):
        data["date"] = parse_date(data["date"]) or data["date"]
    return data


def _sentence_case(line: str) -> str:
    line = line.strip(" *#:")
    if line.isupper():
        return line[:1] + line[1:].lower()
    return line


# The national emblem line that heads every official document of the State.
EMBLEM = re.compile(r"CỘNG\s+H(?:ÒA|OÀ)\s+XÃ\s+HỘI\s+CHỦ\s+NGHĨA\s+VIỆT\s+NAM", re.IGNORECASE)
_NUMBER_AFTER_EMBLEM = re.compile(EMBLEM.pattern + r"[^\n]{0,120}?\bsố\s*:\s*(\S+)", re.IGNORECASE)


def detect_header(text: str, title_hint: str | None = None) -> dict[str, Any]:
    """Metadata read off the top of a Vietnamese administrative or Party document."""
    head = text[:_HEADER_CHARS]
    lines = [ln.strip(" *#|") for ln in head.split("\n")]
    lines = [ln for ln in lines if ln]
    meta: dict[str, Any] = {}

    if m := re.search(r"(?:^|\n)[^\n]{0,40}?\bSố\s*:\s*(\S+)", head):
        nums = find_numbers(m.group(1))
        if nums:
            meta["doc_number"] = nums[0].text
    if "doc_number" not in meta and (m := _NUMBER_AFTER_EMBLEM.search(head)):
        # a header a PDF or DOCX joined into one line: "QUỐC HỘI CỘNG HÒA … Luật số: 57/2010/QH12 Hà Nội, …"
        nums = find_numbers(m.group(1))
        if nums:
            meta["doc_number"] = nums[0].text
    if "doc_number" not in meta:
        # A title such as "Nghị quyết số 57-NQ/TW" names the document's own number.
        for ln in lines[:6]:
            nums = find_numbers(ln)
            # a heading ("Nghị quyết số 57-NQ/TW"), not a sentence that cites one
            if nums and len(ln.split()) <= 15 and re.search(r"\bsố\b", ln[: nums[0].start], re.IGNORECASE):
                meta["doc_number"] = nums[0].text
                break

    for ln in lines[:12]:
        if m := re.search(r"[\w .]+,\s*ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", ln):
            meta["date"] = parse_date(m.group(0))
            break

    type_idx = None
    for i, ln in enumerate(lines[:25]):
        key = ln.rstrip(":").strip().upper()
        if ln.isupper() and key in DOC_TYPES:
            meta["doc_type"] = DOC_TYPES[key]
            type_idx = i
            break

    for ln in lines[:4]:
        up = ln.upper()
        for needle, issuer in ISSUERS:
            if up.startswith(needle):
                meta["issuer"] = issuer
                break
        if "issuer" in meta:
            break

    if type_idx is not None:
        _title_after_type(meta, lines[type_idx + 1 : type_idx + 4])
    elif title_hint:
        meta["title"] = title_hint
    if num := meta.get("doc_number"):
        _from_number(meta, head, number_key(num))
    return {k: v for k, v in meta.items() if v}


def _title_after_type(meta: dict[str, Any], after: list[str]) -> None:
    """The title from the lines under the type line ("NGHỊ QUYẾT" / "Về …"), into `meta`."""
    rest = []
    for ln in after:
        if re.match(r"(?i)^(chương|phần|điều|căn cứ|mục)\b", ln):
            break
        rest.append(ln)
    about = next((ln for ln in rest if re.match(r"(?i)^(về|ban hành)\b", ln)), None)
    subject = about or next((ln for ln in rest if ln.isupper() and len(ln.split()) <= 30), None)
    if subject:
        subject = _sentence_case(subject)
        if meta["doc_type"] in ("Luật", "Bộ luật"):
            meta["title"] = f"{meta['doc_type']} {subject}"
        else:
            meta["title"] = f"{meta['doc_type']} {subject[:1].lower()}{subject[1:]}"


def _from_number(meta: dict[str, Any], head: str, key: str) -> None:
    """What the document's own number tells (its type, its issuer), and what stands beside it in the
    header, into `meta` where the header did not say."""
    meta.setdefault("doc_type", type_from_number(key))
    if "issuer" not in meta:
        # "Nghị quyết số 57-NQ/TW (ngày 22/12/2024) của Bộ Chính trị" names issuer and date.
        for n in find_numbers(head):
            if n.key == key:
                window = head[n.end : n.end + 160]
                if b := _BODY_PHRASE.search(window):
                    meta["issuer"] = b.group(1)
                if "date" not in meta and (d := _DATE_NUM.search(window) or _DATE_WORDS.search(window)):
                    meta["date"] = iso_date(*d.groups())
                break
    if "issuer" not in meta and (iss := issuer_from_number(key)):
        meta["issuer"] = iss


def from_filename(path: Path) -> dict[str, Any]:
    stem = path.name
    for suffix in path.suffixes:
        stem = stem.removesuffix(suffix)
    title = nfc(re.sub(r"[-_]+", " ", stem)).strip()
    meta: dict[str, Any] = {"title": title[:1].upper() + title[1:] if title else path.name}
    # "Luat-68-2020-QH14-cu-tru" → 68/2020/QH14
    if m := re.search(r"(?<!\d)(\d{1,4})-((?:19|20)\d\d)-([A-Za-z]{2,6}\d{0,2})(?![A-Za-z])", stem):
        cand = f"{m.group(1)}/{m.group(2)}/{m.group(3)}"
        if find_numbers(cand):
            meta["doc_number"] = cand.upper()
    return meta


def resolve(
    path: Path | None,
    text: str,
    explicit: dict[str, Any] | None = None,
    hints: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """Merge metadata sources field by field: sidecar, explicit (e.g. a JSONL line), the header,
    format hints (an HTML <title>, a Markdown heading), the file name. A value that is not
    usable is noted in `notes` and ignored."""
    hints = hints or {}
    sidecar = read_sidecar(path, notes) if path is not None else {}
    explicit = clean_fields(explicit or {}, notes, "metadata")
    header = detect_header(text, title_hint=hints.get("title"))
    # no official header (neither number nor type line): a web article or interview, read as one
    official = header.get("doc_number") or header.get("doc_type") or hints.get("doc_number")
    article = detect_article(text) if not official else {}
    fname = from_filename(path) if path is not None else {}
    merged: dict[str, Any] = {}
    for src in (sidecar, explicit or {}, header, article, hints, fname):
        for k, v in src.items():
            if v not in (None, "") and k not in merged:
                merged[k] = v
    if not merged.get("title"):
        first = next((ln for ln in text.split("\n") if ln.strip()), "")
        merged["title"] = first[:200] or (path.name if path else "Văn bản")
    return merged

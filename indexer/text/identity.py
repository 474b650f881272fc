"""What a citing sentence says about the document it cites — type, date, issuer, subject: its
identity card — and a document's own subject (trích yếu) from its header."""

from __future__ import annotations

import re
from typing import Any

from indexer.text.dates import DATE_NUM, DATE_WORDS, match_date
from indexer.text.docnumbers import find_numbers, number_key, type_from_number
from indexer.text.relations import AMENDING_OF, DOC, DOC_RE

# --- identity of a cited document: what the sentence around the number says -----------------
_ID_DATE = re.compile(rf"^\s*,?\s*\(?\s*(?:ban\s+hành\s+)?(?:{DATE_WORDS}|{DATE_NUM})\s*\)?")
_BODY = (r"Bộ Chính trị|Ban Bí thư(?: Trung ương Đảng)?|Ban Chấp hành Trung ương(?: Đảng)?(?: (?:khóa|khoá) [IVXLC]+)?"
         r"|Hội nghị (?:lần thứ [\wà-ỹ]+ )?(?:Ban Chấp hành )?Trung ương(?: Đảng)?(?: lần thứ [\wà-ỹ]+)?"
         r"(?: (?:khóa|khoá) [IVXLC]+)?|Thủ tướng Chính phủ|Chính phủ|Quốc hội(?: (?:khóa|khoá) [IVXLC]+)?"
         r"|Ủy ban [Tt]hường vụ Quốc hội|Uỷ ban [Tt]hường vụ Quốc hội|Chủ tịch nước|Hội đồng Nhà nước"
         r"|(?:Ủy|Uỷ) ban nhân dân [^,;()]{2,40}?|Hội đồng nhân dân [^,;()]{2,40}?|Tỉnh ủy [^,;()]{2,30}?"
         r"|Ban [A-ZĐ][^,;()]{2,50}?|Bộ trưởng [^,;()]{2,50}?|Bộ [A-ZĐ][^,;()]{2,50}?"
         r"|(?:Thành|Huyện|Đảng) ủy [^,;()]{2,30}?")
_ID_ISSUER = re.compile(rf"^\s*,?\s*của\s+(?P<body>{_BODY})(?=\s+(?:về|ban\s+hành|phê\s+duyệt|quy\s+định|hướng\s+dẫn)\s"
                        r"|\s*[,;.():]|\s*$)")
# A subject (trích yếu) ends at punctuation, at "và" before a new capitalised item, at the next
# document, or where the sentence's own verb starts ("… về X đã được phổ biến").
_SUBJECT_END = (rf"(?=\n|\s*(?:[;:()]|\.(?:\s|$)|\s+và\s+(?=[A-ZĐ])|,\s*{DOC}\b|,\s*ngày\s|$)"
                r"|\s+(?:đã|đang|sẽ|vừa|là)\s)")
_ID_SUBJECT = re.compile(rf"^\s*,?\s*(?:về\s+(?:việc\s+)?(?P<about>[^\n]{{3,300}}?)"
                         rf"|(?P<act>(?:ban\s+hành|phê\s+duyệt)\s[^\n]{{3,300}}?)){_SUBJECT_END}")
_ID_PLAN = re.compile(r"(?:^|[,;:]\s+|\s+và\s+)"
                      r"(?P<plan>(?:Quy hoạch|Chiến lược|Chương trình|Kế hoạch|Đề án|Quy chế|Điều lệ)"
                      rf"\s[^;:()\n]{{3,200}}?)\s+(?:tại|ban\s+hành\s+kèm\s+theo)\s+{DOC}\s+số\s*:?\s*$")
_ID_TYPE = re.compile(rf"\b(?P<type>{DOC})(?P<name>(?:\s+[^\s;:.]+){{0,15}}?)\s+số\s*:?\s*$")
# --- identity ----------------------------------------------------------------------------------


def mention_identity(text: str, start: int, end: int, key: str) -> dict[str, str]:
    """What the text around one mention of document `key` (at text[start:end]) says about it:
    doc_type, name (a law's name: "Doanh nghiệp"), date (ISO), issuer, subject."""
    out: dict[str, str] = {}
    before = text[max(0, start - 250) : start]
    types = [m for m in DOC_RE.finditer(before)]
    for t in reversed(types):
        m = _ID_TYPE.match(before, t.start())
        if not m or re.search(r"\d/", m.group("name")):
            continue
        outer = AMENDING_OF.search(before[: t.start()])
        if outer:
            # "Luật sửa đổi, bổ sung Điều 170 của Luật doanh nghiệp số 37/2013/QH13": 37/2013/QH13 is the
            # amending law, whose own type stands before "sửa đổi".
            o = DOC_RE.match(before, outer.start())
            if o:
                out["doc_type"] = o.group(0)
                out["subject"] = before[o.end() : start].strip()
                out["subject"] = re.sub(r"\s+số\s*:?\s*$", "", out["subject"])
                break
        out["doc_type"] = m.group("type")
        name = m.group("name").strip(" ,")
        if name and out["doc_type"] in ("Luật", "Bộ luật", "Pháp lệnh", "Hiến pháp") and name[:1].isupper():
            out["name"] = name
        break
    if "doc_type" not in out and (guessed := type_from_number(key)):
        out["doc_type"] = guessed
    rest = text[end : end + 400]
    if m := _ID_DATE.match(rest):
        if d := match_date(m):
            out["date"] = d
        rest = rest[m.end() :]
    if m := _ID_ISSUER.match(rest):
        out["issuer"] = m.group("body").strip()
        rest = rest[m.end() :]
    if m := _ID_SUBJECT.match(rest):
        subject = (m.group("about") or m.group("act") or "").strip(" ,")
        if len(subject.split()) >= 2:
            out["subject"] = subject
    elif "subject" not in out and (m := _ID_PLAN.search(before)):
        out["subject"] = m.group("plan").strip(" ,")
    if "subject" not in out and out.get("name"):
        out["subject"] = out["name"]
    return out


def own_subject(doc: dict[str, Any], head_text: str) -> tuple[str | None, str]:
    """A document's subject (trích yếu) from its title, else from its header: "Nghị quyết số 57-NQ/TW
    (ngày 22/12/2024) của Bộ Chính trị về đột phá …" → "đột phá …". Returns (subject, where)."""
    title = (doc.get("title") or "").strip()
    dtype = doc.get("doc_type") or ""
    if dtype and title.lower().startswith(dtype.lower() + " "):
        rest = title[len(dtype) + 1 :].strip()
        if re.match(r"(?i)của\b", rest):
            # "Luật của Quốc hội … số 24/2000/QH10 ngày … về kinh doanh bảo hiểm": a header run into the
            # title; the subject follows the date's "về".
            if m := re.search(r"\d{4}\s+về\s+(?:việc\s+)?(.{3,})$", rest):
                return m.group(1).strip(), "title"
        elif rest and not re.match(r"(?i)số\b", rest):  # "Nghị quyết số 57-NQ/TW" names no subject
            return re.sub(r"^(?:về|Về)\s+(?:việc\s+)?", "", rest), "title"
    own = number_key(doc["doc_number"]) if doc.get("doc_number") else None
    if own:
        for n in find_numbers(head_text):
            if n.key == own:
                ident = mention_identity(head_text, n.start, n.end, own)
                if ident.get("subject"):
                    return ident["subject"], "header"
    return None, ""

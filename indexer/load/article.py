"""Web articles and interviews saved as they were published: no sidecar, no official header.

What such a page says about itself is in its text: the title on one of the first lines, the
publication time ("00:00 01/04/2024"), the site ("Trang Thông tin điện tử Đảng bộ tỉnh"), the
person interviewed ("… đã phỏng vấn đồng chí Trần Thị Lộc, Ủy viên Ban Thường vụ – …"). The
portal's crumbs ("Sign In", "Tag:", "File đính kèm") are not part of the article and are dropped.
Only what the text states is read; nothing is guessed.
"""

from __future__ import annotations

import re
from typing import Any

_HEAD_LINES = 12
# Lines that are the web portal's furniture, never the article's words (whole line, any case).
_CRUMBS = re.compile(
    r"^\s*(?:sign in|sign up|log ?in|đăng nhập|đăng ký|tag|tags|từ khóa|từ khoá|file đính kèm|tệp đính kèm"
    r"|chia sẻ|share|in bài|print|bình luận|xem thêm|tin liên quan|bài viết liên quan|trang chủ|home)\s*:?\s*$",
    re.IGNORECASE)
# A publication stamp: "00:00 01/04/2024", "01/04/2024 08:30", "Thứ hai, 01/04/2024 - 08:30".
_STAMP = re.compile(
    r"^\s*(?:(?:thứ \w+|chủ nhật),?\s*)?(?:(\d{1,2}):(\d{2})\s+)?(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:\s*[-–,]?\s*(\d{1,2}):(\d{2}))?\s*(?:\(GMT[^)]*\))?\s*$", re.IGNORECASE)
# "Trang Thông tin điện tử Đảng bộ tỉnh", "Cổng Thông tin điện tử tỉnh Bắc Kạn": up to the verb or punctuation
_SOURCE = re.compile(r"((?:Trang|Cổng) [Tt]hông tin điện tử[^,.;:\n]*?)"
                     r"(?= đã | có | phỏng vấn| đưa tin| đăng|[,.;:\n]|$)")
_INTERVIEW = re.compile(
    r"(?:đã |)(?:có cuộc )?phỏng vấn (?:đồng chí |ông |bà |anh |chị |TS\. |PGS\. ?TS\. |GS\. ?TS\. )?"
    r"([A-ZĐ][\wÀ-ỹ]*(?: [A-ZĐ][\wÀ-ỹ]*){1,4})((?:, [^.\n]{3,160})?)")
_QA = re.compile(r"^(?:BBT|PV|Phóng viên|Hỏi)\s*:", re.MULTILINE)


def drop_crumbs(text: str) -> str:
    """The text without the portal's crumb lines ("Sign In", "Tag:", "File đính kèm")."""
    lines = text.split("\n")
    kept = [ln for ln in lines if not _CRUMBS.match(ln)]
    return "\n".join(kept).strip("\n") if len(kept) != len(lines) else text


def _title(lines: list[str], stamp_at: int | None) -> str | None:
    """The article's title: the last substantial line before the publication stamp, or else the
    first line that reads as a title (a few words, no final full stop)."""
    before = lines[:stamp_at] if stamp_at is not None else lines[:3]
    for ln in reversed(before):
        words = ln.split()
        if 3 <= len(words) <= 40 and not ln.rstrip().endswith((".", ":")):
            return ln.strip()
    return None


def detect_article(text: str) -> dict[str, Any]:
    """title, date, source, doc_type ("Phỏng vấn") and extra interviewee, as far as the text states them."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()][:_HEAD_LINES]
    meta: dict[str, Any] = {}
    stamp_at = None
    for i, ln in enumerate(lines):
        if m := _STAMP.match(ln):
            d, mo, y = int(m.group(3)), int(m.group(4)), int(m.group(5))
            if 1 <= d <= 31 and 1 <= mo <= 12 and 1900 <= y <= 2100:
                meta["date"] = f"{y:04d}-{mo:02d}-{d:02d}"
                stamp_at = i
                break
    if title := _title(lines, stamp_at):
        meta["title"] = title
    head = "\n".join(lines)
    if m := _SOURCE.search(head):
        meta["source"] = m.group(1).strip()
    if len(_QA.findall(text)) >= 2 and (m := _INTERVIEW.search(head)):
        meta["doc_type"] = "Phỏng vấn"
        meta["interviewee"] = (m.group(1) + m.group(2)).strip().rstrip(",;")
    return meta

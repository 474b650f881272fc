"""The Vietnamese words the page and the CLI show for the search core's codes (statuses, relation types).

The core speaks in codes (`repealed`, `implements`); what a reader sees is chosen here, once.
"""

from collections.abc import Callable

STATUS_LABELS = {
    "repealed": "Hết hiệu lực",
    "partly_repealed": "Hết hiệu lực một phần",
    "amended": "Còn hiệu lực, đã được sửa đổi, bổ sung",
    "in_force": "Còn hiệu lực",
    "unknown": "Chưa rõ hiệu lực",
}
TYPE_LABELS = {
    "basis": "Căn cứ",
    "implements": "Thực hiện, triển khai",
    "guides": "Hướng dẫn, quy định chi tiết",
    "amends": "Sửa đổi, bổ sung",
    "replaces": "Thay thế",
    "repeals": "Bãi bỏ, làm hết hiệu lực",
    "repeals_part": "Bãi bỏ một phần",
    "cites": "Dẫn chiếu",
}
# The same relation seen from the other end ("văn bản bị sửa đổi bởi …").
TYPE_LABELS_IN = {
    "basis": "Là căn cứ của",
    "implements": "Được thực hiện, triển khai bởi",
    "guides": "Được hướng dẫn, quy định chi tiết bởi",
    "amends": "Được sửa đổi, bổ sung bởi",
    "replaces": "Bị thay thế bởi",
    "repeals": "Bị bãi bỏ, hết hiệu lực bởi",
    "repeals_part": "Bị bãi bỏ một phần bởi",
    "cites": "Được dẫn chiếu bởi",
}
# An article or an interview has no legal force: "còn hiệu lực" would say more than the corpus knows.
NOT_APPLICABLE = "Không áp dụng"


def validity_words(validity: dict | None, numbered: bool, date: Callable[[str], str | None]) -> str:
    """A document's validity as the page says it: "Hết hiệu lực từ 01/01/2021 — Luật số 59/2020/QH14";
    "Không áp dụng" for a document with no number that nothing in the corpus repeals or amends;
    "" when a numbered document's status is not given. `date`: how a date is written (vn_date)."""
    v = validity or {}
    status = v.get("status")
    if not numbered and status in (None, "", "in_force", "unknown"):
        return NOT_APPLICABLE
    if not status:
        return ""
    text = STATUS_LABELS.get(status, STATUS_LABELS["unknown"])
    if v.get("since") and status != "in_force":
        text += f" từ {date(v['since']) or v['since']}"
    by = ", ".join(a["label"] for a in v.get("by") or [])
    return f"{text} — {by}" if by else text

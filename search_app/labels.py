"""The Vietnamese words the page and the CLI show for the search core's codes (statuses, relation types).

The core speaks in codes (`repealed`, `implements`); what a reader sees is chosen here, once.
"""

from collections.abc import Callable
from typing import Any

STATUS_LABELS = {
    "repealed": "Hết hiệu lực",
    "partly_repealed": "Hết hiệu lực một phần",
    "amended": "Còn hiệu lực, đã được sửa đổi, bổ sung",
    "in_force": "Còn hiệu lực",
    "unknown": "Chưa rõ hiệu lực",
    "not_applicable": "Không áp dụng",  # an article, an interview: no legal force to have or lose
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

# What a search says when the passages it found do not answer the question (every door).
# An article or an interview has no legal force: "còn hiệu lực" would say more than the corpus knows.
NOT_APPLICABLE = "Không áp dụng"
NO_ANSWER = "Không tìm thấy đoạn văn trả lời câu hỏi này trong kho."
NEAREST = "Các đoạn văn gần nhất (không trả lời câu hỏi, chỉ để tham khảo):"
ANSWER_KINDS = {
    "validity": "Hiệu lực",
    "replaces": "Văn bản thay thế",
    "amends": "Văn bản sửa đổi, bổ sung",
    "implements": "Văn bản thực hiện, triển khai",
    "basis": "Căn cứ ban hành",
    "issued": "Ban hành",
}
# The same relations read from the named document's other end ("what does it implement?")
ANSWER_KINDS_OTHER_END = {
    ("replaces", "out"): "Thay thế văn bản",
    ("amends", "out"): "Sửa đổi, bổ sung văn bản",
    ("implements", "out"): "Thực hiện, triển khai văn bản",
    ("basis", "in"): "Văn bản ban hành căn cứ vào văn bản này",
}


def _date(iso: str | None) -> str | None:
    if not iso or len(iso) != 10 or iso[4] != "-":
        return iso
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def validity_words(validity: dict[str, Any] | None, numbered: bool = True,
                   date: Callable[[str], str | None] | None = None) -> str:
    """A validity in words, dates dd/mm/yyyy: "Hết hiệu lực từ 01/01/2021 — Luật số 59/2020/QH14". Every
    door says it this way. `numbered`: the document has a number; an article or an interview has no
    legal force, and "còn hiệu lực" would say more than the corpus knows: "Không áp dụng" unless the
    corpus repeals or amends it. "" when a numbered document's status is not given."""
    v, when = validity or {}, date or _date
    if not numbered and v.get("status") in (None, "", "in_force", "unknown", "not_applicable"):
        return NOT_APPLICABLE
    if not v.get("status"):
        return ""
    status = str(v.get("status")) if v.get("status") in STATUS_LABELS else "unknown"
    out = STATUS_LABELS[status]
    if v.get("since"):
        since = when(v["since"]) or v["since"]
        out += f" từ {since}" if status != "in_force" else f" (có hiệu lực từ {since})"
    by = ", ".join(a.get("label") or "" for a in v.get("by") or [] if a.get("label"))
    if by:
        out += f" — {by}"
    if v.get("until"):
        out += f"; sẽ hết hiệu lực từ {_date(v['until'])}"
    return out


def card_lines(card: dict[str, Any]) -> list[str]:
    """The card of the document a query names, as plain lines (each door escapes them for where they go)."""
    if card.get("ambiguous"):
        listed = "; ".join(f"{d.get('title')} ({_date(d.get('date')) or 'không rõ ngày'})" for d in card["ambiguous"])
        return [f"{card['label']} ứng với {len(card['ambiguous'])} văn bản trong kho: {listed}. "
                "Hãy ghi kèm năm, cơ quan ban hành hoặc số hiệu đầy đủ."]
    ident = card.get("identity") or {}
    name = " ".join(x for x in (ident.get("doc_type"), f"số {ident['number']}" if ident.get("number") else None,
                                f"ngày {_date(ident['date'])}" if ident.get("date") else None,
                                f"của {ident['issuer']}" if ident.get("issuer") else None) if x)
    lines = [name or card["label"]]
    if ident.get("subject"):
        lines.append(f"Trích yếu: {ident['subject']}")
    lines.append("Có trong kho" if card.get("document") else "Chưa có trong kho (chỉ được các văn bản khác dẫn chiếu)")
    v = card.get("validity") or {}
    if card.get("document") or v.get("status") not in (None, "in_force"):
        lines.append(f"Hiệu lực ({v.get('source')}): {validity_words(v)}")
    counts: dict[str, int] = {}
    for r in card.get("relations") or []:
        if r["direction"] == "in" and r["type"] in TYPE_LABELS_IN:
            counts[r["type"]] = counts.get(r["type"], 0) + 1
    lines += [f"{TYPE_LABELS_IN[t]}: {n} văn bản" for t, n in counts.items()]
    lines.append(cited_words(int(card.get("cited_by") or 0)))
    return lines


def cited_words(n: int) -> str:
    """How many passages of the corpus cite a document, in words ("0 đoạn văn" reads as a defect)."""
    return f"Được dẫn chiếu trong {n} đoạn văn" if n else "Chưa có đoạn văn nào trong kho dẫn chiếu văn bản này"


def answer_lines(answer: dict[str, Any]) -> list[str]:
    """The card's answer as plain lines: what it establishes, then each evidence sentence with its citation."""
    kind = answer.get("asks") or ""
    head = ANSWER_KINDS_OTHER_END.get((kind, answer.get("direction") or ""), ANSWER_KINDS.get(kind, kind))
    if kind == "validity":
        head += f": {validity_words(answer)}"
        carried = [r.get("label") for r in answer.get("carried_out_by") or [] if r.get("label")]
        if answer.get("status") == "in_force" and carried:
            head += f"; đang được tiếp tục thực hiện bởi {', '.join(dict.fromkeys(carried))}"
    elif kind == "issued":
        head += ": " + ", ".join(x for x in (_date(answer.get("date")), answer.get("issuer")) if x)
    else:
        head += ": " + ", ".join(dict.fromkeys(r.get("label") or "" for r in answer.get("relations") or []))
    lines = [head]
    for e in answer.get("evidence") or []:
        said = " … ".join(" ".join(e["text"][a["start"]:a["end"]].split()) for a in e.get("answer") or [])
        lines.append(f"“{said or ' '.join(e['text'].split())[:300]}” — {e['citation']}")
    return lines

"""A query that names a document number ("11-NQ/TW") gets that document's card first: identity,
validity, what implements or cites it, and a way to its relationship view. Then come its passages
and the passages citing it (the search core puts those first, Searcher._number_first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from indexer.text.docnumbers import find_numbers
from search_app.core.citation import vn_date
from search_app.core.searcher import Searcher
from search_app.labels import STATUS_LABELS, TYPE_LABELS_IN
from search_app.page import compare_view
from search_app.page.render import escape


def card_lines(res: dict[str, Any]) -> list[str]:
    """The card's lines as escaped Markdown: what the number is, its validity, who cites it."""
    ident, v = res["identity"], res["validity"]
    name = " ".join(x for x in (ident.get("doc_type"), f"số {ident['number']}" if ident.get("number") else None,
                                f"ngày {vn_date(ident['date'])}" if ident.get("date") else None,
                                f"của {ident['issuer']}" if ident.get("issuer") else None) if x)
    lines = [f"**{escape(name or res['label'])}**"]
    if ident.get("subject"):
        lines.append(escape(ident["subject"]))
    if res.get("ambiguous"):
        listed = "; ".join(f"{d.get('title')} ({vn_date(d.get('date')) or 'không rõ ngày'})" for d in res["ambiguous"])
        lines.append(escape(f"Số hiệu này ứng với {len(res['ambiguous'])} văn bản trong kho: {listed}. "
                            "Hãy ghi kèm ngày ban hành, ví dụ “{} ngày …”.".format(res["label"])))
    else:
        lines.append("Có trong kho" if res["document"] else "Chưa có trong kho (chỉ được các văn bản khác dẫn chiếu)")
    if res["document"] or v["status"] != "in_force":  # "còn hiệu lực" says nothing of a document not held
        lines.append(f"Hiệu lực ({escape(v['source'])}): {escape(STATUS_LABELS[v['status']])}")
    counts: dict[str, int] = {}
    for r in res["relations"]:
        if r["direction"] == "in" and r["type"] in TYPE_LABELS_IN and r["type"] != "cites":
            counts[r["type"]] = counts.get(r["type"], 0) + 1
    lines += [f"{escape(TYPE_LABELS_IN[t])}: {n} văn bản" for t, n in counts.items()]
    lines.append(f"Được dẫn chiếu trong {len(res['cited_by'])} đoạn văn")
    return lines


def number_card(searcher: Searcher, query: str, go: Callable[..., None]) -> bool:
    """Show the card of the first document number in `query`; False when it names none."""
    numbers = find_numbers(query)
    if not numbers:
        return False
    res = searcher.references(numbers[0].text)
    if not res["document"] and not res["cited_by"] and not res.get("ambiguous"):
        return False  # a number the corpus never mentions: nothing to show beyond the search
    with st.container(border=True):
        st.markdown("  \n".join(card_lines(res)))
        if st.button("Xem quan hệ và toàn bộ đoạn dẫn chiếu →", key="number_card_ref"):
            go(ref=res["key"], q=query)
        compare_view.offer(searcher, res["key"], go, "card")
    return True

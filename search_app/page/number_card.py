"""The card of the document a query names ("57-NQ/TW", "Nghị quyết 57", "Resolution 57"), shown first:
what the corpus says of it, the answer to what the query asks of it (is it in force, what implements
it…) with the passage that establishes it underlined and cited, and a way to its relationship view.
Then come its passages and the passages citing it (the search core puts those first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from search_app import labels
from search_app.core.searcher import Searcher
from search_app.page import compare_view
from search_app.page.render import escape, highlight


def show_card(searcher: Searcher, card: dict[str, Any] | None, query: str, go: Callable[..., None]) -> bool:
    """Show the card; False when there is none."""
    if not card:
        return False
    with st.container(border=True):
        answer = card.get("answer")
        if answer:
            head, *_ = labels.answer_lines(answer)
            st.markdown(f"**{escape(head)}**")
            for e in answer.get("evidence") or []:
                st.html(f'<div class="card-evidence">{highlight(e["text"], "", e.get("answer"))}'
                        f'<div class="citation">{escape(e["citation"])}</div></div>')
        st.markdown("  \n".join(escape(line) for line in labels.card_lines(card)))
        if not card.get("ambiguous") and st.button("Xem quan hệ và toàn bộ đoạn dẫn chiếu →", key="number_card_ref"):
            go(key=card["key"], q=query)
        if not card.get("ambiguous"):
            compare_view.offer(searcher, card["key"], go, "card")
    return True

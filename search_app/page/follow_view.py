"""The sidebar's "Theo dõi" block: for each follow, what is new since the last check ("Mới kể từ lần
cập nhật trước"), and a button that marks it seen. Every text from a document is escaped."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from search_app.core import follow
from search_app.core.searcher import Searcher
from search_app.page.render import escape

SHOWN = 5  # new passages listed per follow; the rest are counted


def sidebar(searcher: Searcher, index_dir: Path) -> None:
    try:
        pending = follow.pending(searcher, index_dir)
    except follow.FollowError as e:
        st.sidebar.caption(escape(str(e)))
        return
    if not pending:
        return
    with st.sidebar.expander("Theo dõi — Mới kể từ lần cập nhật trước", expanded=any(new for _, new in pending)):
        for item, new in pending:
            st.markdown(f"**{escape(item['target'])}**: {len(new)} đoạn mới")
            lines = [f"- {escape(e['citation'])}" for e in new[:SHOWN]]
            if len(new) > SHOWN:
                lines.append(f"- … và {len(new) - SHOWN} đoạn khác")
            if lines:
                st.markdown("\n".join(lines))
        if any(new for _, new in pending) and st.button("Đánh dấu đã xem", key="follow_seen"):
            follow.check(searcher, index_dir)
            st.rerun()

""""Bảng đối chiếu triển khai" in a resolution's relationship view: its tasks down the left, each
implementing document's items beside them, uncovered tasks marked, every cell with its citation;
exports to DOCX, XLSX and CSV; a draft uploaded here is compared, never indexed.

Every text from a document (or from a draft) is escaped (`render.escape`) before it is shown.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from search_app.core import follow
from search_app.core.implementation import MapError, implementation_map, implementers
from search_app.core.implementation_table import (
    UNASSIGNED,
    UNCOVERED,
    doc_label,
    item_text,
    table_context,
    to_csv,
    to_docx,
    to_xlsx,
)
from search_app.core.searcher import Searcher
from search_app.page.render import escape
from search_app.page.uploads import ALLOWED, MAX_UPLOAD_BYTES, UploadError, check_content, safe_name

CSS = """<style>
.impl-table {border-collapse: collapse; width: 100%; font-size: .9rem;}
.impl-table th, .impl-table td {border: 1px solid #ccc; padding: .35rem .5rem; vertical-align: top; text-align: left;}
.impl-table th {background: #f3f3f3;}
.impl-item {margin-bottom: .5rem;}
.impl-cite {display: block; color: #555; font-size: .8rem;}
.impl-none {color: #842029; font-weight: 600;}
tr.impl-uncovered td:first-child {border-left: 4px solid #c0392b;}
</style>"""
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(hits: list[dict[str, Any]]) -> str:
    if not hits:
        return f'<span class="impl-none">{escape(UNCOVERED)}</span>'
    return "".join(f'<div class="impl-item"><b>{escape(h.get("item") or "")}</b> {escape(item_text(h))}'
                   f'<span class="impl-cite">{escape(h["citation"])}</span></div>' for h in hits)


def table_html(out: dict[str, Any]) -> str:
    """The table as one HTML string (no blank line: Markdown would end the HTML block there)."""
    head = "".join(f"<th>{escape(doc_label(out, d))}</th>" for d in out["by"])
    body = []
    for t in out["tasks"]:
        cls = ' class="impl-uncovered"' if not t["items"] else ""
        cells = "".join(f"<td>{_cell([h for h in t['items'] if h['doc_id'] == d])}</td>" for d in out["by"])
        body.append(f"<tr{cls}><td><b>{escape(t['label'])}</b> {escape(t['heading'])}</td>{cells}</tr>")
    if out["unassigned"]:
        cells = "".join(f"<td>{_cell([h for h in out['unassigned'] if h['doc_id'] == d]) }</td>" for d in out["by"])
        body.append(f"<tr><td><i>{escape(UNASSIGNED)}</i></td>{cells}</tr>")
    return (f'{CSS}<table class="impl-table"><thead><tr><th>Nhiệm vụ</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def draft_map(searcher: Searcher, key: str, name: str, data: bytes) -> dict[str, Any]:
    """The map of an uploaded draft: checked as an upload is, read from a temporary folder, never indexed."""
    name = safe_name(name)
    check_content(name, data)
    with tempfile.TemporaryDirectory(prefix="vnsearch-draft-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return implementation_map(searcher, key, draft=path)


def _downloads(out: dict[str, Any], context: dict[str, str]) -> None:
    stem = "doi-chieu-" + "".join(c if c.isalnum() else "-" for c in out["key"])
    cols = st.columns(3)
    # made on click (a callable), each stating the table's context
    cols[0].download_button("Tải DOCX", lambda: to_docx(out, context), f"{stem}.docx", DOCX_MIME, key="impl_docx",
                            on_click="ignore")
    cols[1].download_button("Tải XLSX", lambda: to_xlsx(out, context), f"{stem}.xlsx", XLSX_MIME, key="impl_xlsx",
                            on_click="ignore")
    cols[2].download_button("Tải CSV", lambda: to_csv(out, context), f"{stem}.csv", "text/csv", key="impl_csv",
                            on_click="ignore")


def _follow(searcher: Searcher, key: str) -> None:
    """The click's callback: it runs before the page is drawn again, so the sidebar's "Theo dõi"
    (drawn before this view) shows the new follow in the same rerun."""
    try:
        follow.add(searcher.index_dir, key, searcher)
    except follow.FollowError as e:
        st.session_state["_follow_said"] = str(e)


def render(searcher: Searcher, key: str) -> None:
    """The block for `key`; nothing when the document is not indexed (its tasks are unknown)."""
    graph = searcher.relations()
    if not graph.key_docs.get(key):
        return
    st.markdown("#### Bảng đối chiếu triển khai")
    if st.button("Theo dõi văn bản này", key="follow_key", on_click=_follow, args=(searcher, key),
                 help="Báo các văn bản, đoạn văn mới dẫn chiếu hoặc triển khai văn bản này sau mỗi lần cập nhật kho."):
        said = st.session_state.pop("_follow_said", "")
        (st.warning if said else st.success)(escape(said) or "Đã theo dõi; xem mục “Theo dõi” ở thanh bên.")
    upload = st.file_uploader("Đối chiếu một dự thảo với các nhiệm vụ của văn bản này (không thêm vào kho)",
                              type=[e.lstrip(".") for e in ALLOWED], key="impl_draft",
                              max_upload_size=MAX_UPLOAD_BYTES // 2**20)
    try:
        if upload is not None:
            out = draft_map(searcher, key, upload.name, upload.getvalue())
        elif implementers(graph, key):
            out = implementation_map(searcher, key)
        else:
            st.caption("Chưa có văn bản nào trong kho thực hiện, hướng dẫn hoặc lấy văn bản này làm căn cứ.")
            return
    except (MapError, UploadError) as e:
        st.warning(escape(str(e)))
        return
    st.caption("Mỗi mục của văn bản triển khai được xếp vào nhiệm vụ nó khớp nhất: theo số mục khi văn bản "
               "đi theo bố cục của nghị quyết, theo nội dung khi không; dòng viền đỏ là nhiệm vụ chưa có văn bản "
               "triển khai.")
    st.markdown(table_html(out), unsafe_allow_html=True)
    if out["uncovered"]:
        st.warning("Nhiệm vụ chưa có văn bản triển khai: " + escape(", ".join(out["uncovered"])))
    _downloads(out, table_context(key, searcher.status(), safe_name(upload.name) if upload is not None else None))

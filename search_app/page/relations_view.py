"""The relationship part of the reference view (`?key=KEY`): validity, identity card, relations by
type in both directions (the portals' "lược đồ"), and the implementation chain as a Graphviz graph.

Kept out of app.py so the page module stays thin. Every text that comes from a document is escaped
(`render.escape` for Markdown/HTML, `relations.dot_escape` for DOT).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from search_app.core.citation import vn_date
from search_app.core.escape import label_text
from search_app.core.relations import RELATION_TYPES
from search_app.core.searcher import Searcher
from search_app.labels import TYPE_LABELS, TYPE_LABELS_IN, validity_words
from search_app.page import compare_view, implementation_view
from search_app.page.chain_graph import chain_dot
from search_app.page.render import escape

MAX_PER_GROUP = 25  # a law cited by a hundred others lists the first 25 and says how many more


def _vn(date: str | None) -> str:
    return vn_date(date) or ""


def validity_block(res: dict[str, Any]) -> None:
    v = res["validity"]
    line = f"**Hiệu lực** ({escape(v['source'])}): {escape(validity_words(v))}"
    if v["status"] == "repealed":
        st.error(line)
    elif v["status"] == "partly_repealed":
        st.warning(line)
    else:
        st.markdown(line)
    if v.get("exceptions"):
        st.caption("Ngoại lệ: " + escape(" · ".join(v["exceptions"])))
    if v["evidence"]:
        with st.expander(f"Căn cứ xác định hiệu lực ({len(v['evidence'])} đoạn)"):
            for ev in v["evidence"]:
                st.markdown(f'<div class="evidence">{escape(ev["text"])}<br><small>{escape(ev["doc_id"] or "")}'
                            f'</small></div>', unsafe_allow_html=True)


def identity_block(res: dict[str, Any]) -> None:
    ident = res["identity"]
    rows = [("Loại văn bản", ident.get("doc_type")), ("Số hiệu", ident.get("number")),
            ("Ngày ban hành", _vn(ident.get("date"))), ("Cơ quan ban hành", ident.get("issuer")),
            ("Trích yếu", ident.get("subject"))]
    rows = [(k, v) for k, v in rows if v]
    if not rows:
        return
    where = "theo văn bản trong kho" if ident.get("indexed") else "theo các đoạn văn dẫn chiếu văn bản này"
    st.markdown(f"**Thông tin văn bản** ({where})")
    st.markdown("\n".join(f"- **{k}:** {escape(str(v))}" for k, v in rows))


def relations_block(res: dict[str, Any], go: Callable[..., None], query: str) -> None:
    rels = res["relations"]
    if not rels:
        return
    st.markdown("#### Lược đồ văn bản")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rels:
        groups.setdefault((r["type"], r["direction"]), []).append(r)
    order = [(t, d) for t in RELATION_TYPES for d in ("out", "in")]
    for n, (type_, direction) in enumerate(g for g in order if g in groups):
        items = groups[(type_, direction)]
        title = TYPE_LABELS[type_] if direction == "out" else TYPE_LABELS_IN[type_]
        with st.expander(f"{title} ({len(items)})", expanded=type_ not in ("cites",)):
            for i, r in enumerate(items[:MAX_PER_GROUP]):
                cols = st.columns([2, 5])
                target = r["key"]
                if target and cols[0].button(label_text(r["label"] or target), key=f"rel-{n}-{i}-{target}"):
                    go(key=target, q=query)
                elif not target and r["doc_id"] and cols[0].button(label_text(r["label"]), key=f"rel-{n}-{i}-doc"):
                    go(doc=r["doc_id"], q=query)  # an unnumbered document (an article): open it
                when = f" (từ {_vn(r['when'])})" if r.get("when") and type_ != "cites" else ""
                cols[1].markdown(f'<div class="evidence">{escape(r["sentence"][:400])}{escape(when)}</div>',
                                 unsafe_allow_html=True)
            if len(items) > MAX_PER_GROUP:
                st.caption(f"… và {len(items) - MAX_PER_GROUP} văn bản khác")


def chain_block(searcher: Searcher, key: str) -> None:
    graph = searcher.relations()
    nodes, edges = graph.chain(key)
    if not edges:
        return
    st.markdown("#### Chuỗi triển khai")
    st.caption("Từ văn bản này xuống các chương trình, kế hoạch, văn bản và bài viết thực hiện hoặc dẫn chiếu nó "
               "(nét liền: căn cứ, thực hiện, hướng dẫn; nét đứt: dẫn chiếu; viền đứt: chưa có trong kho; "
               "màu: hiệu lực — xanh lá còn, xanh dương đã sửa đổi, vàng hết một phần, đỏ hết; xám chưa rõ hoặc "
               "không áp dụng: bài viết, phỏng vấn).")
    st.graphviz_chart(chain_dot(graph, key))  # its natural size: a small chain stays small


def render(searcher: Searcher, res: dict[str, Any], go: Callable[..., None], query: str) -> None:
    """Everything the corpus says about `res["key"]` beyond the citing passages."""
    validity_block(res)
    identity_block(res)
    relations_block(res, go, query)
    compare_view.offer(searcher, res["key"], go, "ref")  # "So sánh / Điểm mới" with what it replaces
    chain_block(searcher, res["key"])
    implementation_view.render(searcher, res["key"])  # "Bảng đối chiếu triển khai" (issue 21)

"""Streamlit page: `streamlit run search_app/app.py`. Builds the page; searching is the Searcher's job."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from indexer.store import IndexNotFound
from search_app.highlight import escape, escape_block, highlight
from search_app.searcher import Filters, Searcher, clip_query

INDEX_DIR = Path(os.environ.get("VNSEARCH_INDEX", "index"))
METHOD_LABELS = {"hybrid": "Kết hợp (ngữ nghĩa + từ khóa)", "dense": "Ngữ nghĩa", "keyword": "Từ khóa"}

CSS = """
<style>
.hit-title {font-size: 1.1rem; font-weight: 600; margin-top: .4rem;}
.hit-meta {color: #666; font-size: .85rem; margin-bottom: .3rem;}
.hit-text {line-height: 1.55; padding: .5rem .8rem; border-left: 3px solid #c0392b; background: #fafafa;}
.hit-text mark {background: #ffe58a; padding: 0 .1rem;}
.ctx {color: #555; font-size: .92rem; line-height: 1.5; margin: .3rem 0;}
.ctx-current {border-left: 3px solid #c0392b; padding-left: .5rem;}
</style>
"""


@st.cache_resource(show_spinner="Đang nạp chỉ mục…")
def get_searcher(index_dir: str) -> Searcher:
    return Searcher(index_dir)


def _sidebar(searcher: Searcher) -> tuple[Filters, str, int]:
    status = searcher.status()
    st.sidebar.header("Chỉ mục")
    st.sidebar.markdown(
        f"- Văn bản: **{status['documents']}**\n- Đoạn văn: **{status['passages']}**\n"
        f"- Mô hình: `{status['model']}`\n- Lập lúc: {escape(status['built_at'])}"
    )
    st.sidebar.header("Tìm kiếm")
    method = st.sidebar.radio("Phương thức", list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="method")
    top_k = st.sidebar.slider("Số kết quả", 1, 50, 10, key="top_k")

    docs = searcher.documents()
    st.sidebar.header("Lọc")
    types = sorted({d["doc_type"] for d in docs if d.get("doc_type")})
    issuers = sorted({d["issuer"] for d in docs if d.get("issuer")})
    years = sorted({int(d["date"][:4]) for d in docs if (d.get("date") or "")[:4].isdigit()})
    chosen_types = st.sidebar.multiselect("Loại văn bản", types, key="f_types")
    chosen_issuers = st.sidebar.multiselect("Cơ quan ban hành", issuers, key="f_issuers")
    year_range = None
    if len(years) > 1:
        year_range = st.sidebar.slider("Năm ban hành", years[0], years[-1], (years[0], years[-1]), key="f_years")
    filters = Filters(
        doc_types=set(chosen_types) or None,
        issuers=set(chosen_issuers) or None,
        year_from=year_range[0] if year_range and year_range[0] != years[0] else None,
        year_to=year_range[1] if year_range and year_range[1] != years[-1] else None,
    )
    return filters, method, top_k


def _render_hit(searcher: Searcher, hit, query: str) -> None:  # noqa: ANN001
    with st.container(border=True):
        st.markdown(f'<div class="hit-title">{hit.rank}. {escape(hit.title)}</div>', unsafe_allow_html=True)
        meta = [f"Mục: {escape(hit.section)}" if hit.section else "", f"Trang {hit.page}" if hit.page else "",
                f"Điểm: {hit.score:.4f}"]
        st.markdown(f'<div class="hit-meta">{" · ".join(m for m in meta if m)}</div>', unsafe_allow_html=True)
        st.markdown(f'<div class="hit-text">{highlight(hit.text, query)}</div>', unsafe_allow_html=True)
        st.caption("Trích dẫn (bấm biểu tượng sao chép ở góc phải)")
        st.code(hit.citation, language=None, wrap_lines=True)
        with st.expander("Ngữ cảnh: đoạn trước và sau"):
            for p in searcher.neighbours(hit.doc_id, hit.ordinal, radius=1):
                current = p["ordinal"] == hit.ordinal
                body = highlight(p["text"], query) if current else escape_block(p["text"])
                label = escape(" › ".join(p["section"])) if p["section"] else ""
                st.markdown(
                    f'<div class="ctx{" ctx-current" if current else ""}"><small>{label}</small><br>{body}</div>',
                    unsafe_allow_html=True,
                )


def main() -> None:
    st.set_page_config(page_title="Tra cứu văn bản chính trị", page_icon="📚", layout="wide")
    st.markdown(CSS, unsafe_allow_html=True)
    st.title("Tra cứu văn bản chính trị")
    try:
        searcher = get_searcher(str(INDEX_DIR))
    except IndexNotFound:
        st.warning(
            f"Chưa có chỉ mục trong thư mục `{escape(str(INDEX_DIR))}`. Hãy lập chỉ mục trước: "
            "`make index` (hoặc `python -m indexer build corpus/`), rồi tải lại trang."
        )
        return
    searcher.refresh()  # a newer index published by the indexer is picked up without restart

    filters, method, top_k = _sidebar(searcher)
    initial = st.query_params.get("q", "")
    query = st.text_input("Câu hỏi hoặc từ khóa (có thể gõ không dấu)", value=initial, key="q",
                          placeholder="Ví dụ: nghi quyet 11 ve trung du mien nui")
    query, cut = clip_query(query)
    if not query:
        st.query_params.clear()
        return
    st.query_params["q"] = query
    if cut:
        st.info(f"Câu hỏi quá dài nên chỉ dùng {len(query)} ký tự đầu.")
    hits = searcher.search(query, top_k=top_k, filters=filters, method=method)
    if not hits:
        st.info("Không tìm thấy đoạn văn nào phù hợp. Hãy thử từ khóa khác hoặc bỏ bớt bộ lọc.")
        return
    st.caption(f"{len(hits)} kết quả")
    for hit in hits:
        _render_hit(searcher, hit, query)


main()

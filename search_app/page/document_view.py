"""A whole document inside the page: outline, passages, the hit marked and scrolled into view.

One block of HTML through `st.html` (no iframe, no deprecated `components.v1.html`): its style is
scoped to `.doc-view`, its one fixed script (no document text in it) scrolls the hit into view.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from indexer.records import section_label
from indexer.text.docnumbers import number_key
from indexer.text.normalise import fold_token, syllables
from search_app.core.citation import format_citation, vn_date
from search_app.core.searcher import Searcher
from search_app.page.citation_box import citation_box
from search_app.page.render import escape, escape_block, highlight

STYLE = """<style>
.doc-view {display: flex; gap: 1rem; overflow-y: auto; position: relative; border: 1px solid #ddd;
  border-radius: .3rem; color: #222;}
.doc-view nav {flex: 0 0 28%; position: sticky; top: 0; align-self: flex-start; max-height: 100%;
  overflow-y: auto; font-size: .85rem; border-right: 1px solid #ddd; padding: .5rem;}
.doc-view nav a {display: block; color: #1f4e79; text-decoration: none; margin: .15rem 0;}
.doc-view main {flex: 1; padding: .5rem 1rem; line-height: 1.6;}
.doc-view .p {margin: 0 0 .8rem 0;}
.doc-view .sec {color: #777; font-size: .8rem;}
.doc-view #hit {background: #fff7d6; border-left: 4px solid #c0392b; padding: .3rem .6rem;}
.doc-view mark {background: #ffe58a;}
</style>"""
_FILE_NAME = re.compile(r"[^\s/\\]+\.(?:txt|md|pdf|docx|html?|jsonl?)", re.IGNORECASE)
# Scrolls the frame of the document, not the page, to the marked passage.
_SCROLL = ("<script>(() => {const h = document.getElementById('hit'); const v = h && h.closest('.doc-view');"
           "if (v) {v.scrollTop = h.offsetTop - v.clientHeight / 3;}})();</script>")


def document_header(searcher: Searcher, doc: Mapping[str, Any], go: Callable[..., None]) -> None:
    """Above the text: the official title, number, date, issuer, the citation, the relationship view."""
    st.markdown(f"### {escape(doc.get('title') or doc['doc_id'])}")
    rows = [("Loại văn bản", doc.get("doc_type")), ("Số hiệu", doc.get("doc_number")),
            ("Ngày", vn_date(doc.get("date"))), ("Cơ quan ban hành", doc.get("issuer")),
            ("Người được phỏng vấn", (doc.get("extra") or {}).get("interviewee")),
            ("Nguồn", shown_source(doc))]
    st.markdown("  \n".join(f"**{k}:** {escape(str(v))}" for k, v in rows if v))
    graph = searcher.relations()
    citation_box(format_citation(doc, [], None, subject=graph.subject(doc["doc_id"]),
                                 note=graph.citation_note(doc["doc_id"])))
    if doc.get("doc_number") and st.button("Xem quan hệ văn bản →", key="doc_to_ref"):
        go(key=graph.primary_key(doc["doc_id"]) or number_key(doc["doc_number"]), q=st.query_params.get("q", ""))


def shown_source(doc: Mapping[str, Any]) -> str | None:
    """The document's source as a reader names it ("Trang Thông tin điện tử …"), or None where the
    index only knows the file it was read from (a file name says nothing to a reader)."""
    source = str(doc.get("source") or "").strip()
    path = str(doc.get("path") or "")
    if not source or source == path or source == Path(path).name or _FILE_NAME.fullmatch(source):
        return None
    return source


def find_in_document(passages: Sequence[Mapping[str, Any]], words: str, hit: int | None,
                     query: str) -> tuple[Sequence[Mapping[str, Any]], int | None, str]:
    """Search within the document: the first passage holding every word of `words` becomes the
    marked one (highlighted, scrolled to); a caption says how many passages hold them."""
    terms = {fold_token(w) for w in syllables(words or "")}
    if not terms:
        return passages, hit, query
    found = [p for p in passages if terms <= {fold_token(w) for w in syllables(p["text"])}]
    st.caption(f"{len(found)} đoạn có “{escape(words.strip())}”" if found
               else f"Không đoạn nào có “{escape(words.strip())}”")
    return passages, (found[0]["ordinal"] if found else hit), (words if found else query)


def document_height(passages: Sequence[Mapping[str, Any]]) -> int:
    """Tall enough to read without a second scroll bar for short documents, bounded for long ones."""
    chars = sum(len(p["text"]) for p in passages)
    return max(500, min(2400, 200 + chars // 6))


def document_html(doc: Mapping[str, Any], passages: Sequence[Mapping[str, Any]], hit_ordinal: int | None = None,
                  query: str = "", height: int = 600) -> str:
    """The document as one block for `st.html(..., unsafe_allow_javascript=True)`; every text escaped."""
    outline: list[str] = []
    seen: set[tuple[str, ...]] = set()
    body: list[str] = []
    for p in passages:
        path = tuple(p["section"])
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in seen:
                seen.add(prefix)
                indent = (depth - 1) * 0.9
                outline.append(f'<a href="#p{p["ordinal"]}" style="padding-left:{indent}rem">'
                               f"{escape(prefix[-1])}</a>")
        is_hit = p["ordinal"] == hit_ordinal
        text = highlight(p["text"], query) if is_hit and query else escape_block(p["text"])
        attrs = ' id="hit"' if is_hit else ""
        sec = f'<div class="sec">{escape(section_label(list(path)))}</div>' if is_hit and path else ""
        body.append(f'<div class="p"{attrs}><a id="p{p["ordinal"]}"></a>{sec}{text}</div>')
    head = f"<h3>{escape(doc.get('title') or doc['doc_id'])}</h3>"
    script = _SCROLL if hit_ordinal is not None else ""
    return (f'{STYLE}<div class="doc-view" style="height:{int(height)}px">'
            f"<nav><b>Mục lục</b>{''.join(outline) or '<i>(không có đề mục)</i>'}</nav>"
            f"<main>{head}{''.join(body)}</main></div>{script}")


def show_document(doc: Mapping[str, Any], passages: Sequence[Mapping[str, Any]], hit_ordinal: int | None = None,
                  query: str = "", height: int = 600) -> None:
    st.html(document_html(doc, passages, hit_ordinal, query, height), unsafe_allow_javascript=True)

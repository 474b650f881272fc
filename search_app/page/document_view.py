"""A whole document as a self-contained HTML page: outline, passages, the hit marked and in view."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from indexer.records import section_label
from indexer.text.docnumbers import number_key
from indexer.text.normalise import fold_token, syllables
from search_app.core.citation import format_citation, vn_date
from search_app.core.searcher import Searcher
from search_app.page.citation_box import citation_box
from search_app.page.render import escape, escape_block, highlight

# The page's own font (Streamlit's), so the document reads like the rest of the page.
FONT = '"Source Sans Pro", "Source Sans 3", sans-serif'

STYLE = """
body {font-family: %FONT%; font-size: 16px; margin: 0; display: flex; gap: 1rem; color: #222;}
nav {flex: 0 0 28%; max-height: 100vh; overflow-y: auto; position: sticky; top: 0; font-size: .85rem;
     border-right: 1px solid #ddd; padding: .5rem;}
nav a {display: block; color: #1f4e79; text-decoration: none; margin: .15rem 0;}
main {flex: 1; padding: .5rem 1rem; line-height: 1.6;}
.p {margin: 0 0 .8rem 0;}
.sec {color: #777; font-size: .8rem;}
#hit {background: #fff7d6; border-left: 4px solid #c0392b; padding: .3rem .6rem;}
mark {background: #ffe58a;}
""".replace("%FONT%", FONT)


def document_header(searcher: Searcher, doc: Mapping[str, Any], go: Callable[..., None]) -> None:
    """Above the text: the official title, number, date, issuer, the citation, the relationship view."""
    st.markdown(f"### {escape(doc.get('title') or doc['doc_id'])}")
    rows = [("Loại văn bản", doc.get("doc_type")), ("Số hiệu", doc.get("doc_number")),
            ("Ngày", vn_date(doc.get("date"))), ("Cơ quan ban hành", doc.get("issuer")),
            ("Người được phỏng vấn", (doc.get("extra") or {}).get("interviewee")),
            ("Nguồn", doc.get("source") if doc.get("source") != doc.get("path") else None)]
    st.markdown("  \n".join(f"**{k}:** {escape(str(v))}" for k, v in rows if v))
    graph = searcher.relations()
    citation_box(format_citation(doc, [], None, subject=graph.subject(doc["doc_id"]),
                                 note=graph.citation_note(doc["doc_id"])))
    if doc.get("doc_number") and st.button("Xem quan hệ văn bản →", key="doc_to_ref"):
        go(ref=graph.primary_key(doc["doc_id"]) or number_key(doc["doc_number"]), q=st.query_params.get("q", ""))


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
                  query: str = "") -> str:
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
    script = ("<script>var h=document.getElementById('hit');if(h){h.scrollIntoView({block:'center'});}</script>"
              if hit_ordinal is not None else "")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>"
            f"<nav><b>Mục lục</b>{''.join(outline) or '<i>(không có đề mục)</i>'}</nav>"
            f"<main>{head}{''.join(body)}</main>{script}</body></html>")

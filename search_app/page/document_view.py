"""A whole document as a self-contained HTML page: outline, passages, the hit marked and in view."""

from __future__ import annotations

from typing import Any

from indexer.records import section_label
from search_app.page.render import escape, escape_block, highlight

STYLE = """
body {font-family: "Source Sans Pro", sans-serif; margin: 0; display: flex; gap: 1rem; color: #222;}
nav {flex: 0 0 28%; max-height: 100vh; overflow-y: auto; position: sticky; top: 0; font-size: .85rem;
     border-right: 1px solid #ddd; padding: .5rem;}
nav a {display: block; color: #1f4e79; text-decoration: none; margin: .15rem 0;}
main {flex: 1; padding: .5rem 1rem; line-height: 1.6;}
.p {margin: 0 0 .8rem 0;}
.sec {color: #777; font-size: .8rem;}
#hit {background: #fff7d6; border-left: 4px solid #c0392b; padding: .3rem .6rem;}
mark {background: #ffe58a;}
"""


def document_html(doc: dict[str, Any], passages: list[dict[str, Any]], hit_ordinal: int | None = None,
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

"""The citation under a hit: in the page's own font, with a copy button labelled in Vietnamese that
sits beside the text, never over it (st.code's icon covered the end of long citations)."""

from __future__ import annotations

import json

import streamlit as st
import streamlit.components.v1 as components

from search_app.page.render import escape

COPY_LABEL = "Sao chép trích dẫn"
COPIED_LABEL = "Đã sao chép"


def copy_button_html(text: str) -> str:
    """A small page with one button that copies `text`. The text travels as a JSON string, with "<"
    written as \\u003c so that no document text can close the script."""
    payload = json.dumps(text, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
    label, done = escape(COPY_LABEL), escape(COPIED_LABEL)
    return f"""<button id="copy" type="button" style="font: 14px sans-serif; padding: 2px 10px;
cursor: pointer; border: 1px solid #bbb; border-radius: 4px; background: #fff;">{label}</button>
<script>
const text = {payload};
document.getElementById("copy").addEventListener("click", async () => {{
  const b = document.getElementById("copy");
  try {{ await navigator.clipboard.writeText(text); }}
  catch (e) {{  // an iframe without clipboard permission: the older way
    const t = document.createElement("textarea"); t.value = text; document.body.appendChild(t);
    t.select(); document.execCommand("copy"); t.remove();
  }}
  b.textContent = "{done}";
}});
</script>"""


def citation_box(citation: str) -> None:
    st.markdown(f'<div class="citation"><span class="citation-label">Trích dẫn:</span> {escape(citation)}</div>',
                unsafe_allow_html=True)
    components.html(copy_button_html(citation), height=34)

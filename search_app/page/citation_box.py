"""The citation under a hit: in the page's own font, with a copy button labelled in Vietnamese that
sits beside the text, never over it (st.code's icon covered the end of long citations).

No frame per citation: ten iframes per result page (one per copy button) were a large share of what
a browser spent on each search under ten sessions (docs/benchmarks.md, "Page load"). The button is
plain HTML carrying its citation in an escaped `data-copy` attribute; one fixed script per page
(`page_script`, no document text in it) copies on click for every button.
"""

from __future__ import annotations

import json

import streamlit as st

from search_app.page.render import escape

COPY_LABEL = "Sao chép trích dẫn"
COPIED_LABEL = "Đã sao chép"

# A document-level listener, installed once per browser tab (st.html runs scripts in the page itself).
# It also puts the file uploader's texts in Vietnamese, and sets <html lang>: Streamlit writes lang="en"
# and offers no setting, and a screen reader then reads Vietnamese with English rules.
_SCRIPT = r"""<script>
(() => {
  document.documentElement.lang = LANG;
  if (window.__vnCopy) return;
  window.__vnCopy = true;
  document.addEventListener("click", async (event) => {
    const b = event.target.closest && event.target.closest("button[data-copy]");
    if (!b) return;
    const text = b.dataset.copy;
    try { await navigator.clipboard.writeText(text); }
    catch (e) {  // a page served over plain http to another machine has no clipboard API
      const t = document.createElement("textarea"); t.value = text; document.body.appendChild(t);
      t.select(); document.execCommand("copy"); t.remove();
    }
    b.textContent = DONE;
  });
  // Streamlit's file uploader writes its own texts in English and offers no setting: they are
  // replaced, as they appear, by the page's Vietnamese (the limit is the widget's, i.e. the app's).
  const words = [
    [/^Drag and drop (a file|files|directories) here$/, () => "Kéo thả tệp vào đây"],
    [/^Upload( directories)?$/, () => "Chọn tệp"],
    [/^Browse files$/, () => "Chọn tệp"],
    [/^([\d.]+)\s*([KMG])B per file$/, (m) => `Tối đa ${m[1]} ${m[2]}B mỗi tệp`],
    [/files are not allowed\.?$/, () => "Loại tệp này không được nhận."],
    [/^File must be ([\d.]+)\s*([KMG])B or smaller\.?$/, (m) => `Tệp phải nhỏ hơn ${m[1]} ${m[2]}B.`],
  ];
  const translate = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.parentElement || !n.parentElement.closest('[data-testid="stFileUploader"]')) continue;
      const text = n.nodeValue.trim();
      for (const [re, to] of words) {
        const m = text.match(re);
        if (m) { n.nodeValue = to(m); break; }
      }
    }
  };
  translate(document.body);
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") translate(r.target.parentElement || document.body);
      for (const a of r.addedNodes) translate(a.nodeType === 1 ? a : (a.parentElement || document.body));
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
})();
</script>"""


def page_script(lang: str = "vi") -> str:
    """The page's one script: the copy buttons' listener and <html lang>. No document text in it."""
    return _SCRIPT.replace("LANG", json.dumps(lang)).replace("DONE", json.dumps(COPIED_LABEL, ensure_ascii=True))


def install_page_script(lang: str = "vi") -> None:
    st.html(page_script(lang), unsafe_allow_javascript=True)


def citation_html(citation: str) -> str:
    """The citation and its copy button; the citation is escaped in the text and in the attribute."""
    return (f'<div class="citation"><span class="citation-label">Trích dẫn:</span> {escape(citation)}</div>'
            f'<button type="button" class="copy" data-copy="{escape(citation)}">{escape(COPY_LABEL)}</button>')


def citation_box(citation: str) -> None:
    st.html(citation_html(citation))

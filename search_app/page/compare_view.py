""""So sánh / Điểm mới" (`?old=KEY&new=KEY`): a document compared with the one it follows, part by
part — the summary to paste, the changed figures first, then each changed, new or dropped unit with
its words added and removed, every side with its citation; exports to DOCX, XLSX and Markdown.

Offered from a document's card and its relationship view when the corpus shows one document
replacing, amending or repealing another, or continuing it (implementing it from the same issuing
system: a Party conclusion on a Party resolution). Every text from a document is escaped (`render.escape`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from search_app.core import compare_report
from search_app.core.compare import CompareError, compare
from search_app.core.escape import label_text
from search_app.core.searcher import Searcher
from search_app.page.render import escape

COMPARABLE = ("replaces", "amends", "repeals", "repeals_part")
# "implements" between two documents of one issuing system (a Party conclusion "on continuing" a Party
# resolution: 69-KL/TW → 20-NQ/TW) is a continuation; a Government programme implementing a resolution
# is the implementation map's business, not a version.
CONTINUES = "implements"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSS = """<style>
.cmp-diff ins {background: #d4f7d4; text-decoration: none;}
.cmp-diff del {background: #fbd5d5;}
.cmp-cite {display: block; color: #555; font-size: .8rem;}
</style>"""


def pairs_of(searcher: Searcher, key: str) -> list[tuple[str, str]]:
    """(old key, new key) for every indexed document that `key` replaces, amends or repeals, or that
    does so to `key`: the comparisons worth offering on its card."""
    graph = searcher.relations()
    if not graph.key_docs.get(key):
        return []
    out = []
    for r in graph.relations(key):
        if not (r.get("key") and graph.key_docs.get(r["key"])):
            continue
        continues = r["type"] == CONTINUES and _system(r["key"]) == _system(key)
        if r["type"] in COMPARABLE or continues:
            out.append((r["key"], key) if r["direction"] == "out" else (key, r["key"]))
    return list(dict.fromkeys(out))


def _system(key: str) -> str:
    """The issuing system a number ends with: "TW" (the Party's), "CP", "QH14" → "QH" …"""
    return key.rsplit("/", 1)[-1].rsplit("-", 1)[-1].rstrip("0123456789@").split("@")[0]


def offer(searcher: Searcher, key: str, go: Callable[..., None], where: str) -> None:
    """A button per comparison worth offering (none when the corpus shows no such pair)."""
    for i, (old, new) in enumerate(pairs_of(searcher, key)):
        if st.button(label_text(f"So sánh / Điểm mới: {new} so với {old}"), key=f"cmp-{where}-{i}"):
            go(old=old, new=new)


def diff_html(ops: list[dict[str, str]]) -> str:
    out = []
    for o in ops:
        if o["op"] == "equal":
            out.append(escape(o["new"]))
            continue
        if o["old"]:
            out.append(f"<del>{escape(o['old'])}</del>")
        if o["new"]:
            out.append(f"<ins>{escape(o['new'])}</ins>")
    return f'<div class="cmp-diff">{"".join(out)}</div>'


def _side(label: str, side: dict[str, Any]) -> None:
    st.markdown(f"{label} {escape(side['text'])}<span class='cmp-cite'>{escape(side['citation'])}</span>",
                unsafe_allow_html=True)


def _pair(p: dict[str, Any]) -> None:
    o, n = p["old"], p["new"]
    for f in p["figures"]:
        st.markdown(f"**Số liệu:** {escape(compare_report.figure_line(f))}")
    for part in p["parts"] or [{"status": p["status"], "old": o, "new": n}]:
        if part["status"] == "changed" and part.get("diff"):
            st.markdown(diff_html(part["diff"]), unsafe_allow_html=True)
            st.markdown(f"<span class='cmp-cite'>{escape(part['old']['citation'])} → "
                        f"{escape(part['new']['citation'])}</span>", unsafe_allow_html=True)
        elif part["status"] in ("new", "dropped", "changed"):
            _side("**Mới:**" if part["status"] == "new" else "**Bỏ:**" if part["status"] == "dropped" else "",
                  part["new"] or part["old"])


def _exports(out: dict[str, Any]) -> None:
    cols = st.columns(3)
    cols[0].download_button("Tải DOCX", compare_report.to_docx(out), "so-sanh.docx", DOCX_MIME, key="cmp_docx")
    cols[1].download_button("Tải XLSX", compare_report.to_xlsx(out), "so-sanh.xlsx", XLSX_MIME, key="cmp_xlsx")
    cols[2].download_button("Tải Markdown", compare_report.to_markdown(out), "so-sanh.md", "text/markdown",
                            key="cmp_md")


def render(searcher: Searcher, old: str, new: str, go: Callable[..., None]) -> None:
    st.subheader("So sánh / Điểm mới")
    if st.button("← Quay lại", key="back_cmp"):
        go(q="")
    try:
        out = compare(searcher, old, new)
    except CompareError as e:
        st.warning(f"Không so sánh được: {escape(str(e))}")
        return
    st.markdown(CSS, unsafe_allow_html=True)
    if not out["related"]:
        st.info(escape(out["summary"]))
        return
    st.markdown("**Tóm tắt** (sao chép để dán vào báo cáo)")
    st.code(out["summary"], language=None, wrap_lines=True)
    _exports(out)
    show_all = st.toggle("Hiện cả các phần giữ nguyên", key="cmp_all")
    for p in out["pairs"]:
        if p["status"] in ("kept", "moved") and not show_all:
            continue
        where = " ↔ ".join(x["key"] for x in (p["old"], p["new"]) if x)
        # the label holds only the unit numbers the splitter made, no document text: labels are Markdown
        with st.expander(f"{compare_report.STATUS_VI[p['status']]} · {where}", expanded=bool(p["figures"])):
            st.markdown(f"**{escape((p['new'] or p['old'])['heading'])}**")
            _pair(p)

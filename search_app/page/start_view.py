"""The start page, before any query: what the corpus holds and questions that work on it.

Everything is read from the index at run time — the documents (type, number, date, validity), the
counts, and example questions made from the documents' own numbers and section headings — so the
page describes whatever corpus it is pointed at, not one corpus written into the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from indexer.text.normalise import fold
from search_app.core.citation import vn_date
from search_app.core.escape import label_text
from search_app.core.searcher import Searcher
from search_app.labels import validity_words

ENGLISH_TYPES = {"Nghị quyết": "Resolution", "Kết luận": "Conclusion", "Quyết định": "Decision", "Luật": "Law",
                 "Nghị định": "Decree", "Chỉ thị": "Directive", "Thông tư": "Circular", "Bộ luật": "Code",
                 "Kế hoạch": "Plan", "Chương trình": "Programme"}
EXAMPLES = 6


def _headings(searcher: Searcher, doc_id: str) -> list[str]:
    """Section headings of a document worth asking about: whole (not cut short), a few words, not a
    header line in capitals; in document order."""
    out: list[str] = []
    for p in searcher.doc_passages(doc_id):
        for label in p["section"][1:]:
            words = label.split()
            if label.endswith("…") or not 2 <= len(words) <= 10 or label.isupper() or label in out:
                continue
            out.append(label.rstrip(":;."))
    return out


def _strip_numbering(label: str) -> str:
    return re.sub(r"^(?:[IVXLC]+|\d+|[a-zđ]|[A-Z])\s*[.)\-–]\s*", "", label).strip()


# A heading that begins with one of these is a fragment ("Đến năm 2030"), not a subject to ask about.
_FRAGMENT = re.compile(r"^(?:đến|về|với|trong|tại|từ|cho|của|và|theo|do|để|khi|nếu)\b", re.IGNORECASE)
_TOWARDS = re.compile(r"^đối với\s+(.+)$", re.IGNORECASE)


def _name(d: Mapping[str, Any]) -> str | None:
    """How a question names the document: "Nghị quyết 57-NQ/TW", "Bài phỏng vấn"; None when unknown."""
    if d.get("doc_number") and d.get("doc_type"):
        return f"{d['doc_type']} {d['doc_number']}"
    if d.get("doc_type") and not d.get("doc_number"):
        return f"Bài {d['doc_type'][:1].lower()}{d['doc_type'][1:]}"
    return None


def question(name: str, heading: str) -> str | None:
    """A question about a section heading of the document `name`, or None when the heading is a
    fragment that makes none: "Đối với cấp ủy các cấp" → "Bài phỏng vấn nêu yêu cầu gì đối với cấp
    ủy các cấp?"; "Mục tiêu tổng quát" → "Nghị quyết 20-NQ/TW nói gì về mục tiêu tổng quát?"."""
    if m := _TOWARDS.match(heading):
        return f"{name} nêu yêu cầu gì đối với {m.group(1)}?"
    if _FRAGMENT.match(heading):
        return None
    return f"{name} nói gì về {heading[:1].lower()}{heading[1:]}?"


def example_questions(searcher: Searcher, docs: Sequence[Mapping[str, Any]]) -> list[str]:
    """A few questions built from the indexed documents: a section heading asked about, another
    asked without diacritics, and an English question naming a document's number. Every one is a
    question ("…?"), never a bare heading."""
    out: list[str] = []
    numbered = [d for d in docs if d.get("doc_number")]
    for d in docs:
        name = _name(d)
        if not name:
            continue
        heads = [_strip_numbering(h) for h in _headings(searcher, d["doc_id"])]
        asked = [q for h in heads if len(h.split()) >= 2 and (q := question(name, h))]
        if not asked:
            continue
        out.append(asked[0])
        if len(asked) > 1:
            out.append(fold(asked[-1]).lower())
        if len(out) >= EXAMPLES - 1:
            break
    out = list(dict.fromkeys(out))[: EXAMPLES - 1]
    for d in numbered:
        kind = ENGLISH_TYPES.get(d.get("doc_type") or "")
        if kind:
            out.append(f"What does {kind} {d['doc_number']} set out?")
            break
    return out


def corpus_table(searcher: Searcher, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    graph = searcher.relations()
    rows = []
    for d in sorted(docs, key=lambda d: (d.get("date") or "", d["doc_id"]), reverse=True):
        numbered = bool(d.get("doc_number"))
        rows.append({"Văn bản": d.get("title") or d["doc_id"], "Loại": d.get("doc_type") or "",
                     "Số hiệu": d.get("doc_number") or "", "Ngày": vn_date(d.get("date")) or "",
                     # an interview is neither in force nor not: "Không áp dụng", as the exports say
                     "Hiệu lực": validity_words(graph.short_validity(d["doc_id"]), numbered, vn_date)})
    return rows


def _ask(query: str) -> None:
    st.session_state["q"] = query


def start_view(searcher: Searcher, go: Callable[..., None]) -> None:
    docs = searcher.documents()
    status = searcher.status()
    st.markdown(f"Kho đang có **{status['documents']}** văn bản, **{status['passages']}** đoạn văn. "
                "Đặt câu hỏi bằng tiếng Việt (có dấu hoặc không dấu) hoặc tiếng Anh, hoặc gõ số hiệu văn bản.")
    examples = example_questions(searcher, docs)
    if examples:
        st.markdown("**Thử các câu hỏi:**")
        cols = st.columns(2)
        for i, q in enumerate(examples):
            # a callback runs before the page is drawn again: the search box then shows the example
            cols[i % 2].button(label_text(q), key=f"example-{i}", on_click=_ask, args=(q,))
    st.markdown("**Các văn bản trong kho**")
    st.dataframe(corpus_table(searcher, docs), hide_index=True, width="stretch")
    st.caption("Hiệu lực theo các văn bản trong kho; bài viết, phỏng vấn không có hiệu lực pháp lý.")

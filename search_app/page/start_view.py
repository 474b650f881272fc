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
from search_app.labels import STATUS_LABELS

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


def example_questions(searcher: Searcher, docs: Sequence[Mapping[str, Any]]) -> list[str]:
    """A few questions built from the indexed documents: a heading asked about, the same typed
    without diacritics, and an English question naming a document's number."""
    out: list[str] = []
    numbered = [d for d in docs if d.get("doc_number")]
    for d in docs:
        heads = [_strip_numbering(h) for h in _headings(searcher, d["doc_id"])]
        heads = [h for h in heads if len(h.split()) >= 2]
        if not heads:
            continue
        name = f"{d['doc_type']} {d['doc_number']}" if d.get("doc_number") and d.get("doc_type") else ""
        first = heads[0][:1].lower() + heads[0][1:]
        out.append(f"{first} {('trong ' + name) if name else ''}".strip())
        if len(heads) > 1:
            out.append(fold(heads[-1]).lower())
        if len(out) >= EXAMPLES - 1:
            break
    for d in numbered:
        kind = ENGLISH_TYPES.get(d.get("doc_type") or "")
        if kind:
            out.append(f"What does {kind} {d['doc_number']} set out?")
            break
    return list(dict.fromkeys(out))[:EXAMPLES]


def corpus_table(searcher: Searcher, docs: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    graph = searcher.relations()
    rows = []
    for d in sorted(docs, key=lambda d: (d.get("date") or "", d["doc_id"]), reverse=True):
        status = graph.short_validity(d["doc_id"]).get("status") if d.get("doc_number") else None
        rows.append({"Văn bản": d.get("title") or d["doc_id"], "Loại": d.get("doc_type") or "",
                     "Số hiệu": d.get("doc_number") or "", "Ngày": vn_date(d.get("date")) or "",
                     # validity only for a numbered document: an interview is neither in force nor not
                     "Hiệu lực": STATUS_LABELS.get(status, "") if status else ""})
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

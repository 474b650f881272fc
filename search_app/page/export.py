"""Search results with their citations as Markdown, CSV and JSON, for download.

The sentence(s) of a passage that answer the query (`Hit.answer`, `[{"start", "end"}]` character
offsets into `text`) travel in every format:
- JSON: the `answer` field as is (`Hit.to_dict`);
- CSV: the columns of `HIT_FIELDS` but the heading path `section` (its line, `section_label`, is
  there), with `answer` as one readable cell `"12-80;95-130"` (start-end
  offsets into `text`, end exclusive, `;` between spans, empty when none is marked), then one more
  column `answer_text`: the marked sentence(s) themselves, joined by " … ";
- Markdown: the answer is bold inside the quoted passage.
Spans that are empty or reach outside `text` are left out of CSV and Markdown (see highlight.answer_spans).

Every export records what produced it (`context`, see `search_context`): the query, the filters in
words (with "Chỉ văn bản còn hiệu lực" when ticked), the method, whether the index answers the query,
when it was searched and the index generation that answered. JSON holds them as fields (times in
ISO 8601); CSV as its leading columns, repeated on every row under a plain header row, so that a
spreadsheet reads the first line as the header; Markdown as lines under the title (dates dd/mm/yyyy).
Validity is worded as the page words it (`labels.validity_words`): "Không áp dụng" for an article or
an interview, never "Còn hiệu lực"; JSON says `not_applicable` for them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from indexer.records import Filters
from search_app.core.citation import vn_date, vn_time
from search_app.core.escape import csv_cell, markdown_line, markdown_text
from search_app.core.searcher import HIT_FIELDS, Hit
from search_app.labels import NOT_APPLICABLE, validity_words
from search_app.page.render import answer_spans, split_answer

CSV_FIELDS = (*(f for f in HIT_FIELDS if f != "section"), "answer_text")
# The search's context, first on every CSV row: a header row a spreadsheet takes as it is.
CSV_CONTEXT = ("query", "filters", "searched_at", "index_generation")
IN_FORCE_ONLY = "Chỉ văn bản còn hiệu lực"


def filters_text(filters: Filters | None, titles: dict[str, str] | None = None, in_force: bool = False) -> str:
    """The filters of a search in words: "Loại văn bản: Nghị quyết; Năm: 2012–2024", or "Không lọc".
    `in_force`: "Chỉ văn bản còn hiệu lực" was ticked (it may leave out nothing, and still is a filter)."""
    parts = []
    if filters is not None:
        if filters.type:
            parts.append("Loại văn bản: " + ", ".join(sorted(filters.type)))
        if filters.issuer:
            parts.append("Cơ quan ban hành: " + ", ".join(sorted(filters.issuer)))
        if filters.year_from or filters.year_to:
            parts.append(f"Năm: {filters.year_from or '…'}–{filters.year_to or '…'}")
        if filters.doc:
            parts.append("Văn bản: " + "; ".join(sorted((titles or {}).get(d, d) for d in filters.doc)))
    if in_force or (filters is not None and filters.exclude_doc):
        parts.append(IN_FORCE_ONLY)
    return "; ".join(parts) or "Không lọc"


def search_context(query: str, filters: Filters | None = None, method: str | None = None,
                   answerable: bool | None = None, titles: dict[str, str] | None = None, *,
                   in_force: bool = False, index: dict[str, Any] | None = None) -> dict[str, Any]:
    """What produced an export. `index`: the searcher's `status()` (its generation and build time)."""
    index = index or {}
    return {"query": query, "filters": filters_text(filters, titles, in_force), "in_force_only": in_force,
            "method": method, "answerable": answerable,
            "searched_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "index_generation": index.get("generation"), "index_built_at": index.get("built_at")}


def validity_text(v: dict[str, Any] | None, numbered: bool = True) -> str:
    """One readable cell, as the page says it: "Hết hiệu lực từ 01/01/2021 — Luật số 59/2020/QH14"."""
    return validity_words(v, numbered, vn_date)


def result_dict(h: Hit) -> dict[str, Any]:
    """`h` as JSON exports it: the hit's fields, validity `not_applicable` for a document with no number
    (an article, an interview) that nothing repeals, and `validity_label` in the page's words."""
    row = h.to_dict()
    label = validity_text(row["validity"], bool(h.doc_number))
    if label == NOT_APPLICABLE:
        row["validity"] = {"status": "not_applicable"}
    row["validity_label"] = label
    return row


def to_json(query: str, hits: Sequence[Hit], context: dict[str, Any] | None = None) -> str:
    head = {**(context or {}), "query": query}
    return json.dumps({**head, "results": [result_dict(h) for h in hits]}, ensure_ascii=False, indent=2)


def to_csv(hits: Sequence[Hit], context: dict[str, Any] | None = None) -> str:
    buf = io.StringIO()
    lead = list(CSV_CONTEXT) if context else []
    writer = csv.DictWriter(buf, fieldnames=[*lead, *CSV_FIELDS])
    writer.writeheader()
    shared: dict[str, Any] = {}
    if context:
        shared = {k: context.get(k) for k in CSV_CONTEXT}
        shared["searched_at"] = vn_time(context.get("searched_at"))
    for h in hits:
        row = {**shared, **{k: v for k, v in h.to_dict().items() if k in CSV_FIELDS}}
        row["validity"] = validity_text(row["validity"], bool(h.doc_number))
        spans = answer_spans(h.text, h.answer)
        row["answer"] = ";".join(f"{s}-{e}" for s, e in spans)
        row["answer_text"] = " … ".join(h.text[s:e].strip() for s, e in spans)
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    # A BOM so that spreadsheet programs read the Vietnamese text as UTF-8.
    return "\ufeff" + buf.getvalue()


# What CommonMark does not let emphasis open or close next to: white space, and the invisible
# characters web pages leave beside it (zero-width space and joiners, the BOM).
_EDGE = (" \t\n\r\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
         "\u200b\u200c\u200d\u202f\u205f\u3000\ufeff")


def _bold(fragment: str) -> str:
    """`fragment` (one line's part of the answer) in **bold**, its edge whitespace kept outside:
    CommonMark does not open or close emphasis next to a space."""
    core = fragment.strip(_EDGE)
    if not core:
        return fragment
    lead = fragment[: len(fragment) - len(fragment.lstrip(_EDGE))]
    trail = fragment[len(fragment.rstrip(_EDGE)) :]
    return f"{lead}**{markdown_text(core)}**{trail}"


def quote_with_answer(text: str, answer: Sequence[dict[str, int]] | None) -> list[str]:
    """`text` as Markdown blockquote lines, the `answer` spans in bold.

    A bold run cannot cross a line of a blockquote, so an answer that spans a line break is closed
    at the end of each line and reopened on the next.
    """
    lines = [""]
    for piece, is_answer in split_answer(text, answer):
        for i, part in enumerate(piece.split("\n")):
            if i:
                lines.append("")
            lines[-1] += _bold(part) if is_answer else markdown_text(part)
    return ["> " + line if line else ">" for line in lines]


def context_lines(context: dict[str, Any]) -> list[str]:
    """The search's context as Markdown lines (each ends in two spaces: a line break)."""
    lines = [f"*Bộ lọc:* {markdown_line(context.get('filters') or 'Không lọc')}  "]
    if context.get("method"):
        lines.append(f"*Phương thức:* {markdown_line(str(context['method']))}  ")
    lines.append(f"*Thời điểm:* {markdown_line(str(vn_time(context.get('searched_at'))))}  ")
    if context.get("index_generation"):
        built = vn_time(context.get("index_built_at"))
        lines.append(f"*Chỉ mục:* thế hệ {markdown_line(str(context['index_generation']))}"
                     + (f", lập lúc {markdown_line(built)}" if built else ""))
    if context.get("answerable") is False:
        lines.append("*Không tìm thấy đoạn văn trả lời câu hỏi này trong kho; dưới đây là các đoạn gần nhất.*")
    return lines


def to_markdown(query: str, hits: Sequence[Hit], context: dict[str, Any] | None = None) -> str:
    lines = [f"# Kết quả tra cứu: {markdown_line(query)}", ""]
    if context:
        lines += [*context_lines(context), ""]
    for h in hits:
        lines.append(f"## {h.rank}. {markdown_line(h.title)}")
        meta = [f"*Mục:* {markdown_line(h.section_label)}" if h.section else "",
                f"*Hiệu lực:* {validity_text(h.validity, bool(h.doc_number))}"]
        lines.append("  \n".join(m for m in meta if m))
        lines.append("")
        lines.extend(quote_with_answer(h.text, h.answer))
        lines += ["", f"**Trích dẫn:** {markdown_line(h.citation)}", ""]
    return "\n".join(lines)

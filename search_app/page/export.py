"""Search results with their citations as Markdown, CSV and JSON, for download.

The sentence(s) of a passage that answer the query (`Hit.answer`, `[{"start", "end"}]` character
offsets into `text`) travel in every format:
- JSON: the `answer` field as is (`Hit.to_dict`);
- CSV: the columns of `HIT_FIELDS`, with `answer` as one readable cell `"12-80;95-130"` (start-end
  offsets into `text`, end exclusive, `;` between spans, empty when none is marked), then one more
  column `answer_text`: the marked sentence(s) themselves, joined by " … ";
- Markdown: the answer is bold inside the quoted passage.
Spans that are empty or reach outside `text` are left out of CSV and Markdown (see render.answer_spans).

Every export records what produced it (`context`, see `search_context`): the query, the filters in
words, the method, whether the index answers the query, and when it was searched. CSV puts them in
a `#` comment line before the header; the validity cell is in Vietnamese ("Hết hiệu lực từ …").
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from typing import Any

from indexer.records import Filters
from search_app.core.escape import csv_cell, markdown_line, markdown_text
from search_app.core.searcher import HIT_FIELDS, Hit
from search_app.labels import STATUS_LABELS
from search_app.page.render import answer_spans, split_answer

CSV_FIELDS = (*HIT_FIELDS, "answer_text")


def filters_text(filters: Filters | None, titles: dict[str, str] | None = None) -> str:
    """The filters of a search in words: "Loại văn bản: Nghị quyết; Năm: 2012–2024", or "Không lọc"."""
    if filters is None or not filters.active():
        return "Không lọc"
    parts = []
    if filters.doc_types:
        parts.append("Loại văn bản: " + ", ".join(sorted(filters.doc_types)))
    if filters.issuers:
        parts.append("Cơ quan ban hành: " + ", ".join(sorted(filters.issuers)))
    if filters.year_from or filters.year_to:
        parts.append(f"Năm: {filters.year_from or '…'}–{filters.year_to or '…'}")
    if filters.doc_ids:
        parts.append("Văn bản: " + "; ".join(sorted((titles or {}).get(d, d) for d in filters.doc_ids)))
    if filters.exclude_doc_ids:
        parts.append("Chỉ văn bản còn hiệu lực")
    return "; ".join(parts) or "Không lọc"


def search_context(query: str, filters: Filters | None = None, method: str | None = None,
                   answerable: bool | None = None, titles: dict[str, str] | None = None) -> dict[str, Any]:
    return {"query": query, "filters": filters_text(filters, titles), "method": method, "answerable": answerable,
            "searched_at": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def to_json(query: str, hits: Sequence[Hit], context: dict[str, Any] | None = None) -> str:
    head = {**(context or {}), "query": query}
    return json.dumps({**head, "results": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=2)


def validity_text(v: dict[str, Any] | None) -> str:
    """One readable cell: "Hết hiệu lực từ 2021-01-01, Luật số 59/2020/QH14"."""
    v = v or {}
    if not v.get("status"):
        return ""
    text = STATUS_LABELS.get(v["status"], v["status"])
    if v.get("since"):
        text += f" từ {v['since']}"
    by = [a["label"] for a in v.get("by") or []]
    return ", ".join([text, *by])


def to_csv(hits: Sequence[Hit], context: dict[str, Any] | None = None) -> str:
    buf = io.StringIO()
    if context:  # what produced the file, before the header (spreadsheets show it as a first row): one cell
        line = "# " + " | ".join(f"{k}: {v}" for k, v in context.items() if v is not None)
        csv.writer(buf).writerow([csv_cell(line)])
    writer = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS))
    writer.writeheader()
    for h in hits:
        row = h.to_dict()
        row["validity"] = validity_text(row["validity"])
        spans = answer_spans(h.text, h.answer)
        row["answer"] = ";".join(f"{s}-{e}" for s, e in spans)
        row["answer_text"] = " … ".join(h.text[s:e].strip() for s, e in spans)
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    # A BOM so that spreadsheet programs read the Vietnamese text as UTF-8.
    return "\ufeff" + buf.getvalue()


def _bold(fragment: str) -> str:
    """`fragment` (one line's part of the answer) in **bold**, its edge whitespace kept outside:
    CommonMark does not open or close emphasis next to a space."""
    core = fragment.strip()
    if not core:
        return fragment
    lead = fragment[: len(fragment) - len(fragment.lstrip())]
    trail = fragment[len(fragment.rstrip()) :]
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


def to_markdown(query: str, hits: Sequence[Hit], context: dict[str, Any] | None = None) -> str:
    lines = [f"# Kết quả tra cứu: {markdown_line(query)}", ""]
    if context:
        lines += [f"*Bộ lọc:* {markdown_line(context.get('filters') or 'Không lọc')}  ",
                  f"*Thời điểm:* {markdown_line(str(context.get('searched_at')))}"]
        if context.get("answerable") is False:
            lines.append("*Không tìm thấy đoạn văn trả lời câu hỏi này trong kho; dưới đây là các đoạn gần nhất.*")
        lines.append("")
    for h in hits:
        lines.append(f"## {h.rank}. {markdown_line(h.title)}")
        if h.section:
            lines.append(f"*Mục:* {markdown_line(h.section)}")
        lines.append("")
        lines.extend(quote_with_answer(h.text, h.answer))
        lines += ["", f"**Trích dẫn:** {markdown_line(h.citation)}", ""]
    return "\n".join(lines)

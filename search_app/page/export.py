"""Search results with their citations as Markdown, CSV and JSON, for download.

The sentence(s) of a passage that answer the query (`Hit.answer`, `[{"start", "end"}]` character
offsets into `text`) travel in every format:
- JSON: the `answer` field as is (`Hit.to_dict`);
- CSV: the columns of `HIT_FIELDS`, with `answer` as one readable cell `"12-80;95-130"` (start-end
  offsets into `text`, end exclusive, `;` between spans, empty when none is marked), then one more
  column `answer_text`: the marked sentence(s) themselves, joined by " … ";
- Markdown: the answer is bold inside the quoted passage.
Spans that are empty or reach outside `text` are left out of CSV and Markdown (see highlight.answer_spans).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from search_app.core.searcher import HIT_FIELDS, Hit
from search_app.page.render import answer_spans, split_answer

CSV_FIELDS = (*HIT_FIELDS, "answer_text")
# Characters that would end or break a **bold** run early: emphasis, code spans, and the escape itself.
_MD_BOLD_SPECIAL = re.compile(r"([\\*_`])")


def to_json(query: str, hits: Sequence[Hit]) -> str:
    return json.dumps({"query": query, "results": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=2)


def to_csv(hits: Sequence[Hit]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS))
    writer.writeheader()
    for h in hits:
        row = h.to_dict()
        v = row["validity"] or {}
        # one readable cell: "repealed 2021-01-01 Luật số 59/2020/QH14"
        by = [a["label"] for a in v.get("by") or []]
        row["validity"] = " ".join(x for x in (v.get("status"), v.get("since"), *by) if x)
        spans = answer_spans(h.text, h.answer)
        row["answer"] = ";".join(f"{s}-{e}" for s, e in spans)
        row["answer_text"] = " … ".join(h.text[s:e].strip() for s, e in spans)
        writer.writerow(row)
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
    escaped = _MD_BOLD_SPECIAL.sub(r"\\\1", core)
    return f"{lead}**{escaped}**{trail}"


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
            lines[-1] += _bold(part) if is_answer else part
    return ["> " + line if line else ">" for line in lines]


def to_markdown(query: str, hits: Sequence[Hit]) -> str:
    lines = [f"# Kết quả tra cứu: {query}", ""]
    for h in hits:
        lines.append(f"## {h.rank}. {h.title}")
        if h.section:
            lines.append(f"*Mục:* {h.section}")
        lines.append("")
        lines.extend(quote_with_answer(h.text, h.answer))
        lines += ["", f"**Trích dẫn:** {h.citation}", ""]
    return "\n".join(lines)

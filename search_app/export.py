"""Search results with their citations as Markdown, CSV and JSON, for download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from .searcher import HIT_FIELDS, Hit


def to_json(query: str, hits: Sequence[Hit]) -> str:
    return json.dumps({"query": query, "results": [h.to_dict() for h in hits]}, ensure_ascii=False, indent=2)


def to_csv(hits: Sequence[Hit]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(HIT_FIELDS))
    writer.writeheader()
    for h in hits:
        row = h.to_dict()
        v = row["validity"] or {}
        # one readable cell: "repealed 2021-01-01 Luật số 59/2020/QH14"
        by = [a["label"] for a in v.get("by") or []]
        row["validity"] = " ".join(x for x in (v.get("status"), v.get("since"), *by) if x)
        writer.writerow(row)
    # A BOM so that spreadsheet programs read the Vietnamese text as UTF-8.
    return "\ufeff" + buf.getvalue()


def to_markdown(query: str, hits: Sequence[Hit]) -> str:
    lines = [f"# Kết quả tra cứu: {query}", ""]
    for h in hits:
        lines.append(f"## {h.rank}. {h.title}")
        if h.section:
            lines.append(f"*Mục:* {h.section}")
        lines.append("")
        lines.extend("> " + line if line else ">" for line in h.text.split("\n"))
        lines += ["", f"**Trích dẫn:** {h.citation}", ""]
    return "\n".join(lines)

"""The implementation map as the table staff paste into a report ("Bảng đối chiếu triển khai").

DOCX (python-docx) holds the page's grid: one row per task, one column per implementing document,
every cell its items with their citations. CSV and XLSX (openpyxl), read by programs that sort and
filter, hold one row per item, the task's columns repeated (`item_rows`); a task a document leaves
uncovered is one row saying so. Every export states what it was made from (`table_context`): the
document, the draft compared if any, the time and the index generation — a sheet of its own in
XLSX, the leading columns in CSV, the lines under the heading in DOCX."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from search_app.core.escape import csv_cell, xml_text

UNCOVERED = "Chưa có văn bản triển khai"
UNASSIGNED = "Không khớp nhiệm vụ nào"
TASK_HEADER = "Nhiệm vụ"
ITEM_HEADER = [TASK_HEADER, "Nội dung nhiệm vụ", "Văn bản triển khai", "Mục", "Nội dung", "Trích dẫn"]
CONTEXT_SHEET = "Thông tin bảng"


def table_context(key: str, index: dict[str, Any], draft: str | None = None) -> dict[str, str]:
    """What a table was made from, label → value (Vietnamese, dates dd/mm/yyyy). `index`: `Searcher.status()`."""
    ctx = {"Văn bản được đối chiếu": key}
    if draft:
        ctx["Dự thảo đối chiếu (không thêm vào kho)"] = draft
    ctx["Thời điểm lập bảng"] = datetime.now().astimezone().strftime("%d/%m/%Y %H:%M:%S")
    ctx["Thế hệ chỉ mục"] = str(index.get("generation") or "")
    return ctx


def item_text(hit: dict[str, Any]) -> str:
    """The item's own lines (its answer span), on one line."""
    spans = hit.get("answer") or [{"start": 0, "end": len(hit["text"])}]
    return " … ".join(" ".join(hit["text"][a["start"]:a["end"]].split()) for a in spans)


def doc_label(out: dict[str, Any], doc_id: str) -> str:
    for t in out["tasks"]:
        for h in t["items"]:
            if h["doc_id"] == doc_id:
                return f"{h.get('doc_type') or 'Văn bản'} số {h['doc_number']}" if h.get("doc_number") else h["title"]
    return doc_id


def rows(out: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, rows): the task, then per implementing document its items (text, then citation),
    or "Chưa có văn bản triển khai"; then a row for the items no task matches."""
    header = [TASK_HEADER] + [doc_label(out, d) for d in out["by"]]
    body = []
    for t in out["tasks"]:
        row = [f"{t['label']}. {t['heading']}"]
        for d in out["by"]:
            cell = [f"{h.get('item') or ''} {item_text(h)}\n({h['citation']})".strip()
                    for h in t["items"] if h["doc_id"] == d]
            row.append("\n\n".join(cell) if cell else UNCOVERED)
        body.append(row)
    if out["unassigned"]:
        row = [UNASSIGNED]
        for d in out["by"]:
            row.append("\n\n".join(f"{item_text(h)}\n({h['citation']})" for h in out["unassigned"] if h["doc_id"] == d))
        body.append(row)
    return header, body


def item_rows(out: dict[str, Any]) -> list[list[str]]:
    """One row per item (task, its heading, document, item marker, text, citation); a task a document
    does not cover is one row with "Chưa có văn bản triển khai"; then the items no task matches."""
    body = []
    for t in out["tasks"]:
        for d in out["by"]:
            items = [h for h in t["items"] if h["doc_id"] == d]
            if not items:
                body.append([t["label"], t["heading"], doc_label(out, d), "", UNCOVERED, ""])
            body += [[t["label"], t["heading"], doc_label(out, d), h.get("item") or "", item_text(h), h["citation"]]
                     for h in items]
    body += [[UNASSIGNED, "", doc_label(out, h["doc_id"]), h.get("item") or "", item_text(h), h["citation"]]
             for d in out["by"] for h in out["unassigned"] if h["doc_id"] == d]
    return body


def to_csv(out: dict[str, Any], context: dict[str, str] | None = None) -> str:
    """A plain header row, then one row per item; the context's values lead every row."""
    lead = list(context or {})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([csv_cell(c) for c in [*lead, *ITEM_HEADER]])
    w.writerows([csv_cell(c) for c in [*(context or {}).values(), *r]] for r in item_rows(out))
    return "\ufeff" + buf.getvalue()  # a BOM: spreadsheet programs then read the text as UTF-8


def _as_text(ws: Any) -> None:
    from openpyxl.styles import Alignment

    for row in ws.iter_rows(min_row=1):
        for cell in row:
            cell.data_type = "s"  # a text starting with "=" is data, never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def to_xlsx(out: dict[str, Any], context: dict[str, str] | None = None) -> bytes:
    """Sheet 1: one row per item (ITEM_HEADER); sheet 2 ("Thông tin bảng"): the context, label and value."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Đối chiếu triển khai"[:31]
    ws.append(ITEM_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in item_rows(out):
        ws.append([xml_text(c) for c in r])
    _as_text(ws)
    for letter, width in zip("ABCDEF", (10, 45, 28, 8, 80, 60), strict=True):
        ws.column_dimensions[letter].width = width
    info = wb.create_sheet(CONTEXT_SHEET)
    for label, value in (context or {}).items():
        info.append([xml_text(label), xml_text(value)])
    _as_text(info)
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 40, 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_docx(out: dict[str, Any], context: dict[str, str] | None = None) -> bytes:
    from docx import Document

    header, body = rows(out)
    doc = Document()
    doc.add_heading(xml_text(f"Bảng đối chiếu triển khai {out['key']}"), level=1)
    for label, value in (context or {}).items():
        doc.add_paragraph(xml_text(f"{label}: {value}"))
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = xml_text(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for r in body:
        cells = table.add_row().cells
        for cell, text in zip(cells, r, strict=True):
            cell.text = xml_text(text)
    if out["uncovered"]:
        doc.add_paragraph(xml_text(f"Nhiệm vụ chưa có văn bản triển khai: {', '.join(out['uncovered'])}."))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()

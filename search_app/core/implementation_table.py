"""The implementation map as the table staff paste into a report ("Bảng đối chiếu triển khai"):
one row per task, one column per implementing document, every cell its items with their citations.
Exports: DOCX (python-docx), XLSX (openpyxl) and CSV; all three hold the same rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from search_app.core.escape import csv_cell, xml_text

UNCOVERED = "Chưa có văn bản triển khai"
UNASSIGNED = "Không khớp nhiệm vụ nào"
TASK_HEADER = "Nhiệm vụ"


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


def to_csv(out: dict[str, Any]) -> str:
    header, body = rows(out)
    buf = io.StringIO()
    w = csv.writer(buf)
    for row in [header, *body]:
        w.writerow([csv_cell(c) for c in row])
    return buf.getvalue()


def to_xlsx(out: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    header, body = rows(out)
    wb = Workbook()
    ws = wb.active
    ws.title = "Đối chiếu triển khai"[:31]
    ws.append([xml_text(c) for c in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in body:
        ws.append([xml_text(c) for c in r])
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            cell.data_type = "s"  # a text starting with "=" is data, never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 45
    for i in range(2, len(header) + 1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_docx(out: dict[str, Any]) -> bytes:
    from docx import Document

    header, body = rows(out)
    doc = Document()
    doc.add_heading(xml_text(f"Bảng đối chiếu triển khai {out['key']}"), level=1)
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

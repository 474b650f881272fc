"""A comparison as people paste it: the summary ("Những điểm mới"), and the table of aligned pairs in
Markdown, DOCX (python-docx) and XLSX (openpyxl), one row per pair; every text verbatim, every side
with its citation. Cells are escaped for where they go (spreadsheet formulas, control characters,
Markdown table syntax)."""

from __future__ import annotations

import io
import re
from typing import Any

STATUS_VI = {"kept": "Giữ nguyên", "moved": "Chuyển vị trí", "changed": "Sửa đổi", "new": "Mới",
             "dropped": "Bỏ"}
HEADER = ["Trạng thái", "Văn bản cũ", "Trích dẫn (cũ)", "Văn bản mới", "Trích dẫn (mới)", "Số liệu thay đổi"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def doc_name(head: dict[str, Any]) -> str:
    if head.get("doc_number"):
        return f"{head.get('doc_type') or 'Văn bản'} số {head['doc_number']}"
    return head.get("title") or head["doc_id"]


def figure_line(f: dict[str, Any]) -> str:
    return f"{f['old'] or '(không có)'} → {f['new'] or '(không có)'}"


def figure_cited(f: dict[str, Any]) -> str:
    """The figure and where it stands: the new side's citation, or the old one's for a figure dropped."""
    return f"{figure_line(f)} ({f['new_citation'] if f['new'] else f['old_citation']})"


def summary(out: dict[str, Any]) -> str:
    """The pasteable summary: what is compared, the counts, the changed figures, the new units."""
    old, new = out["old"], out["new"]
    lines = [f"So sánh {doc_name(new)} với {doc_name(old)}"]
    if not out["related"]:
        return "\n".join(lines + [out["message"]])
    c = out["counts"]
    lines.append(f"Giữ nguyên: {c['kept']}; chuyển vị trí: {c['moved']}; sửa đổi: {c['changed']}; "
                 f"mới: {c['new']}; bỏ: {c['dropped']}.")
    if out["figures"]:
        lines.append("Số liệu thay đổi:")
        lines += [f"- {figure_cited(f)}" for f in out["figures"]]
    news = [p["new"] for p in out["pairs"] if p["status"] == "new"]
    if news:
        lines.append("Phần mới:")
        lines += [f"- {n['heading']} ({n['citation']})" for n in news]
    dropped = [p["old"] for p in out["pairs"] if p["status"] == "dropped"]
    if dropped:
        lines.append("Phần bị bỏ:")
        lines += [f"- {o['heading']} ({o['citation']})" for o in dropped]
    return "\n".join(lines)


def rows(out: dict[str, Any]) -> list[list[str]]:
    """One row per aligned pair (or new / dropped unit), in the order of HEADER."""
    body = []
    for p in out["pairs"]:
        o, n = p["old"] or {}, p["new"] or {}
        body.append([STATUS_VI[p["status"]], o.get("text", ""), o.get("citation", ""), n.get("text", ""),
                     n.get("citation", ""), "\n".join(figure_cited(f) for f in p["figures"])])
    return body


def cell(text: str) -> str:
    """A cell for a spreadsheet: no control characters, and a leading formula prefix made inert."""
    text = _CONTROL.sub(" ", text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def md_cell(text: str) -> str:
    text = _CONTROL.sub(" ", text).replace("\\", "\\\\").replace("|", "\\|")
    text = re.sub(r"([*_`<>\[\]#])", r"\\\1", text)
    return "<br>".join(text.split("\n"))


def to_markdown(out: dict[str, Any]) -> str:
    parts = [f"# {md_cell(summary(out).splitlines()[0])}", ""]
    parts += [md_cell(line) if not line.startswith("- ") else "- " + md_cell(line[2:])
              for line in summary(out).splitlines()[1:]]
    if out["pairs"]:
        parts += ["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        parts += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows(out)]
    return "\n".join(parts) + "\n"


def to_xlsx(out: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "So sánh"
    ws.append(HEADER)
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows(out):
        ws.append([cell(x) for x in r])
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.data_type = "s"  # a text starting with "=" is data, never a formula
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEF", (14, 70, 40, 70, 40, 40), strict=True):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xml_safe(text: str) -> str:
    return _CONTROL.sub(" ", text)


def to_docx(out: dict[str, Any]) -> bytes:
    from docx import Document

    doc = Document()
    lines = summary(out).splitlines()
    doc.add_heading(_xml_safe(lines[0]), level=1)
    for line in lines[1:]:
        if line.startswith("- "):
            doc.add_paragraph(_xml_safe(line[2:]), style="List Bullet")
        else:
            doc.add_paragraph(_xml_safe(line))
    if out["pairs"]:
        table = doc.add_table(rows=1, cols=len(HEADER))
        table.style = "Table Grid"
        for c, text in zip(table.rows[0].cells, HEADER, strict=True):
            c.text = text
            for run in c.paragraphs[0].runs:
                run.bold = True
        for r in rows(out):
            for c, text in zip(table.add_row().cells, r, strict=True):
                c.text = _xml_safe(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()

import io
import json
from pathlib import Path

import pytest
from helpers import write

from indexer.load import LoadError, load_file


def _pdf(path: Path, font: Path, pages: list[str], password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(font))
    pdf.set_font("DejaVu", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    data = bytes(pdf.output())
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
        writer.encrypt(password)
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    return write(path, data)


def test_txt_utf8_bom_and_nfc(tmp_path):
    p = write(tmp_path / "a.txt", "\ufeffVăn bản thử nghiệm\r\nDòng hai".encode())
    (doc,) = load_file(p)
    assert doc.text == "Văn bản thử nghiệm\nDòng hai"


def test_markdown_headings_and_lists_keep_numbers(tmp_path):
    md = ("# VĂN BẢN THỬ NGHIỆM\n\n## I. MỤC TIÊU\n\n1. Mục tiêu thứ nhất.\n2. Mục tiêu thứ hai.\n\n"
          "**Đậm** và \\- gạch\n")
    (doc,) = load_file(write(tmp_path / "a.md", md))
    lines = doc.text.split("\n")
    assert lines[0] == "VĂN BẢN THỬ NGHIỆM"
    assert "1. Mục tiêu thứ nhất." in lines and "2. Mục tiêu thứ hai." in lines
    assert "Đậm và - gạch" in lines
    assert doc.headings[0] == 1
    assert doc.hints["title"] == "VĂN BẢN THỬ NGHIỆM"


def test_html_drops_scripts_navigation_and_markup(tmp_path):
    html = ("<html><head><title>T</title><style>p{}</style></head><body><nav>Menu chính</nav>"
            "<div class='breadcrumb'>Trang chủ › Tin</div><article><h2>Tiêu đề thử nghiệm</h2>"
            "<p>Đoạn <b>một</b> của văn bản.</p><ul><li>Ý thứ nhất</li></ul><script>var x=1;</script>"
            "</article><footer>Bản quyền</footer></body></html>")
    (doc,) = load_file(write(tmp_path / "a.html", html))
    assert doc.text.split("\n") == ["Tiêu đề thử nghiệm", "Đoạn một của văn bản.", "– Ý thứ nhất"]
    assert "Menu" not in doc.text and "var x" not in doc.text and "Bản quyền" not in doc.text


@pytest.mark.slow
def test_pdf_two_pages_keep_page_numbers(tmp_path, font_path):
    p = _pdf(tmp_path / "a.pdf", font_path, [
        "Văn bản thử nghiệm trang một. Điều 1. Quy định về kho thử nghiệm.",
        "Trang hai nói về trách nhiệm của cơ quan thử nghiệm.",
    ])
    (doc,) = load_file(p)
    assert "Văn bản thử nghiệm trang một." in doc.text
    assert [s.page for s in doc.pages] == [1, 2]
    second = doc.text[doc.pages[1].start : doc.pages[1].end]
    assert "Trang hai nói về trách nhiệm" in second


def test_encrypted_pdf_with_empty_password_opens(tmp_path, font_path):
    p = _pdf(tmp_path / "open.pdf", font_path, ["Văn bản thử nghiệm mã hóa mật khẩu rỗng."], password="")
    (doc,) = load_file(p)
    assert "mã hóa" in doc.text


def test_encrypted_pdf_with_password_is_refused(tmp_path, font_path):
    p = _pdf(tmp_path / "locked.pdf", font_path, ["Văn bản thử nghiệm có mật khẩu."], password="bí-mật")
    with pytest.raises(LoadError, match="password"):
        load_file(p)


def test_docx_paragraphs_headings_tables(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Văn bản thử nghiệm DOCX", level=1)
    d.add_paragraph("Đoạn thứ nhất của văn bản thử nghiệm.")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Ô một", "Ô hai"
    path = tmp_path / "a.docx"
    d.save(path)
    (doc,) = load_file(path)
    assert doc.text.split("\n") == ["Văn bản thử nghiệm DOCX", "Đoạn thứ nhất của văn bản thử nghiệm.", "Ô một | Ô hai"]
    assert doc.headings == {0: 1}


def test_jsonl_one_document_per_line_bad_lines_noted(tmp_path):
    lines = [json.dumps({"id": "a@1", "title": "Thử nghiệm", "text": "Nội dung một", "law_id": "X"},
                        ensure_ascii=False), "not json", json.dumps({"id": "b"}),
             json.dumps({"id": 7, "text": "Nội dung hai"})]
    docs = load_file(write(tmp_path / "a.jsonl", "\n".join(lines)))
    assert [d.doc_id for d in docs] == ["a@1", "7"]
    assert docs[0].explicit == {"title": "Thử nghiệm", "law_id": "X"}
    assert len(docs[0].notes) == 2


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"", "empty"),
    ("bad.txt", bytes(range(0x80, 0x100)) * 2, "decode"),
    ("nul.txt", b"\x00\x01\x02binary", "binary"),
    ("bad.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
    ("bad.docx", b"PK\x03\x04 broken zip", "DOCX"),
    ("a.xyz", b"something", "unsupported"),
])
def test_bad_input_raises_load_error_with_reason(tmp_path, name, data, reason):
    with pytest.raises(LoadError, match=reason):
        load_file(write(tmp_path / name, data))


@pytest.mark.slow
def test_pdf_without_text_layer(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a drawing, no text: what a scan looks like to a text extractor
    p = write(tmp_path / "scan.pdf", bytes(pdf.output()))
    with pytest.raises(LoadError, match="OCR"):
        load_file(p)


def test_split_syllables_from_pdf_extraction_are_repaired_only_where_safe():
    from indexer.load.pdf import repair_split_syllables

    assert repair_split_syllables("ĐIỀ U 5. HOÀ N THIỆ N QUYẾ T ĐỊNH") == "ĐIỀU 5. HOÀN THIỆN QUYẾT ĐỊNH"
    assert repair_split_syllables("Điề u khoản muố n") == "Điều khoản muốn"
    for untouched in ("tại điểm c khoản 2", "cho ăn ở nhà", "đi ở đâu", "cao 5 m", "CHO ẢNH"):
        assert repair_split_syllables(untouched) == untouched


def test_pdf_loader_applies_the_repair(tmp_path, font_path):
    p = _pdf(tmp_path / "split.pdf", font_path, ["ĐIỀ U 1. PHẠM VI ĐIỀ U CHỈNH của văn bản thử nghiệm."])
    (doc,) = load_file(p)
    assert "ĐIỀU 1. PHẠM VI ĐIỀU CHỈNH" in doc.text


def test_oversized_files_and_docx_zip_bombs_are_refused(tmp_path, monkeypatch):
    import zipfile

    from indexer.load import base, docx

    monkeypatch.setattr(base, "MAX_FILE_BYTES", 1000)
    with pytest.raises(LoadError, match="over the"):
        load_file(write(tmp_path / "big.txt", "Văn bản thử nghiệm. " * 200))
    monkeypatch.setattr(base, "MAX_FILE_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(docx, "_DOCX_MAX_UNCOMPRESSED", 10 * 1024 * 1024)
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"\0" * (20 * 1024 * 1024))  # compresses to a few KB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(LoadError, match="zip bomb"):
        load_file(bomb)


def test_a_loose_markdown_list_keeps_each_number_on_its_item(tmp_path):
    from indexer.load import load_file

    md = tmp_path / "van-ban-thu-nghiem.md"
    md.write_text("# Văn bản thử nghiệm\n\nI. MỤC TIÊU THỬ NGHIỆM\n\n1. Nhiệm vụ thử nghiệm thứ nhất.\n\n"
                  "2. Nhiệm vụ thử nghiệm thứ hai.\n\n   - điểm thử nghiệm a\n", encoding="utf-8")
    lines = load_file(md)[0].text.split("\n")
    assert "1. Nhiệm vụ thử nghiệm thứ nhất." in lines and "2. Nhiệm vụ thử nghiệm thứ hai." in lines
    assert "1." not in lines and "2." not in lines  # no marker left alone on a line
    assert "– điểm thử nghiệm a" in lines

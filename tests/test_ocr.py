"""Scanned PDFs: OCR (Tesseract, vie), confidence notes, OCR citations, and the original file of a hit.

Fixtures are visibly synthetic Vietnamese text rendered with DejaVuSans by Pillow into
image-only PDFs — never real document text. Tests that run Tesseract are skipped when it (or
its Vietnamese model) is not installed; `.ci/run` installs both.

Speed and accuracy on these fixtures: `.venv/bin/python -m pytest -q -s tests/test_ocr.py -k accuracy`.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
import unicodedata
from pathlib import Path

import pytest
from helpers import FONT_CANDIDATES, write
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from indexer.load import LoadError, load_file, ocr
from search_app.core.citation import OCR_NOTE, format_citation
from search_app.page.originals import file_hash, original_file

pytestmark = [pytest.mark.ocr, pytest.mark.slow]

try:
    ENGINE: str | None = ocr.engine()
except ocr.OcrUnavailable:
    ENGINE = None
needs_tesseract = pytest.mark.skipif(ENGINE is None, reason="Tesseract with the Vietnamese model is not installed "
                                     f"({ocr.INSTALL_HINT})")

PAGE_1 = ("VĂN BẢN THỬ NGHIỆM\nSố: 999-NQ/TEST\n"
          "Điều 1. Văn bản giả định này chỉ dùng để thử phần mềm đọc bản quét; mọi số liệu và tên gọi "
          "trong đó đều là giả định.\nCơ quan thử nghiệm lưu giữ văn bản giả định trong kho dữ liệu riêng.")
PAGE_2 = ("Điều 2. Văn bản thử nghiệm số 999-NQ/TEST về kiểm thử nhận dạng chữ tiếng Việt có dấu: ă, â, đ, "
          "ê, ô, ơ, ư cùng các thanh huyền, sắc, hỏi, ngã, nặng.\n"
          "Kết quả kiểm thử nhận dạng được ghi vào sổ thử nghiệm giả định.")
DPI = 200  # the scan's resolution; the loader renders at ocr.DPI whatever it is
# Character error rate measured on these two pages with Tesseract 5.3.0 + Debian's vie model
# (tesseract-ocr-vie 4.1.0): 0.000 on both pages. The floor leaves room for another
# Tesseract/model version confusing a mark or two (ă/ä), not for text that lost its diacritics.
MAX_CER = 0.02


def _font() -> Path:
    for p in FONT_CANDIDATES:
        if p.exists():
            return p
    pytest.fail("no DejaVuSans.ttf: install the Debian package fonts-dejavu-core (.ci/run does)")


def render_page(text: str, size: int = 33) -> Image.Image:
    """An A4 page at DPI with the text wrapped to the margins, like a clean office scan."""
    font = ImageFont.truetype(str(_font()), size)
    width, height = round(8.27 * DPI), round(11.69 * DPI)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    y, margin = 200, 180
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > width - 2 * margin:
                draw.text((margin, y), line, font=font, fill=0)
                y += int(size * 1.6)
                line = word
            else:
                line = candidate
        if line:
            draw.text((margin, y), line, font=font, fill=0)
            y += int(size * 1.6)
        y += int(size * 0.6)
    return img


def image_pdf(path: Path, images: list[Image.Image]) -> Path:
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=DPI)
    return write(path, buf.getvalue())


def text_pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(_font()))
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: Levenshtein distance / reference length, whitespace runs as one space."""
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(1, len(ref))


def page_text(doc, page: int) -> str:
    (span,) = [s for s in doc.pages if s.page == page]
    return doc.text[span.start : span.end]


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> tuple[Path, object, float]:
    path = image_pdf(tmp_path_factory.mktemp("scan") / "van-ban-quet.pdf", [render_page(PAGE_1), render_page(PAGE_2)])
    t0 = time.perf_counter()
    (doc,) = load_file(path)
    return path, doc, time.perf_counter() - t0


# --- deciding which pages need OCR, reading Tesseract's output (no Tesseract needed) -------------


def test_needs_ocr_only_for_empty_stamped_or_garbage_pages():
    assert ocr.needs_ocr("")
    assert ocr.needs_ocr("Trang 2")  # a page number stamped over a scan
    assert ocr.needs_ocr("\ue001\ue002\ue003 " * 20 + "abc")  # private-use glyph codes: no Unicode map
    assert not ocr.needs_ocr("Điều 1. Văn bản giả định này chỉ dùng để thử phần mềm.")
    assert not ocr.needs_ocr("Bảng 1: 1.234.567 2.345.678 3.456.789 4.567.890 tổng cộng các khoản thử nghiệm")


def test_tesseract_output_becomes_nfc_lines_paragraphs_and_a_mean_confidence():
    data = {  # "nhận" decomposed (NFD), as some Tesseract builds emit marks
        "text": ["", "", "", "Văn", unicodedata.normalize("NFD", "nhận"), "", "dạng", "", "", "Điều", "2."],
        "conf": ["-1", "-1", "-1", "90", "80", "-1", "70", "-1", "-1", "95.5", "94.5"],
        "block_num": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        "par_num": [0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2],
        "line_num": [0, 0, 1, 1, 1, 2, 2, 0, 1, 1, 1],
    }
    text, conf, words = ocr.text_from_data(data)
    assert text == "Văn nhận\ndạng\n\nĐiều 2."
    assert unicodedata.is_normalized("NFC", text)
    assert words == 5 and conf == pytest.approx((90 + 80 + 70 + 95.5 + 94.5) / 5, abs=0.05)
    assert ocr.text_from_data({"text": [], "conf": []}) == ("", None, 0)
    assert ocr.page_list([5, 1, 2, 3]) == "1–3, 5"


# --- recognition -----------------------------------------------------------------------------------


@needs_tesseract
def test_scanned_pdf_is_recognised_with_diacritics_and_page_spans(scan):
    _path, doc, _seconds = scan
    assert [s.page for s in doc.pages] == [1, 2]
    assert "giả định" in page_text(doc, 1) and "kiểm thử nhận dạng" not in page_text(doc, 1)
    assert "kiểm thử nhận dạng chữ tiếng Việt" in page_text(doc, 2)
    info = doc.explicit["ocr"]
    assert info["engine"].startswith("tesseract") and "vie" in info["engine"]
    assert info["pages"] == [1, 2] and info["low_confidence_pages"] == []
    assert all(c >= ocr.LOW_CONFIDENCE for c in info["page_confidence"].values())
    assert info["mean_confidence"] >= ocr.LOW_CONFIDENCE
    assert any("recognised by OCR" in n for n in doc.notes)


@needs_tesseract
def test_character_accuracy_and_speed(scan):
    _path, doc, seconds = scan
    rates = {n: cer(ref, page_text(doc, n)) for n, ref in ((1, PAGE_1), (2, PAGE_2))}
    print(f"\nOCR {ENGINE}: {seconds / 2:.2f} s/page (render at {ocr.DPI} dpi + recognise, "
          f"{os.cpu_count()} cores); CER page 1 {rates[1]:.3f}, page 2 {rates[2]:.3f}; "
          f"confidence {doc.explicit['ocr']['page_confidence']}")
    assert max(rates.values()) <= MAX_CER, rates


@pytest.fixture(scope="module")
def scan_index(scan, tmp_path_factory):
    from indexer.pipeline.build import build

    path, _doc, _seconds = scan
    index = tmp_path_factory.mktemp("scan-index") / "index"
    report = build([path.parent], index, model="hash", progress=False)
    return index, report


@needs_tesseract
def test_build_and_search_cite_the_scanned_page_as_recognised(scan_index):
    from search_app.core.searcher import Searcher

    index, report = scan_index
    assert report.documents == 1 and not report.skipped
    assert any("recognised by OCR" in n for n in report.notes)
    searcher = Searcher(index)
    hits = searcher.search("kiểm thử nhận dạng", 5)
    assert hits and hits[0].page == 2
    assert "trang 2" in hits[0].citation and "nhận dạng tự động" in hits[0].citation
    assert hits[0].citation.endswith(f"trang 2 ({OCR_NOTE})")
    stored = searcher.document(hits[0].doc_id)
    assert stored["extra"]["ocr"]["pages"] == [1, 2]


@needs_tesseract
def test_page_warns_about_ocr_and_offers_the_original_at_its_page(scan_index, monkeypatch):
    import streamlit as st
    from helpers import ROOT
    from streamlit.testing.v1 import AppTest

    index, _report = scan_index
    monkeypatch.setenv("VNSEARCH_INDEX", str(index))
    at = AppTest.from_file(str(ROOT / "search_app" / "page" / "app.py"), default_timeout=60)
    try:
        at.run()
        at.text_input(key="q").input("kiểm thử nhận dạng").run()
        assert not at.exception
        assert any("nhận dạng tự động (OCR)" in w.value and "đối chiếu bản gốc" in w.value for w in at.warning)
        labels = [b.proto.label for b in at.get("download_button")]
        assert "Tải bản gốc (PDF, trang 2)" in labels
    finally:
        st.cache_resource.clear()


@needs_tesseract
def test_low_confidence_pages_are_listed_in_the_notes(tmp_path):
    blurred = render_page(PAGE_2).filter(ImageFilter.GaussianBlur(4))  # a poor scan: ~40% confidence
    (doc,) = load_file(image_pdf(tmp_path / "mo.pdf", [render_page(PAGE_1), blurred]))
    info = doc.explicit["ocr"]
    assert info["low_confidence_pages"] == [2]
    assert info["page_confidence"]["2"] < ocr.LOW_CONFIDENCE <= info["page_confidence"]["1"]
    (note,) = [n for n in doc.notes if n.startswith("low OCR confidence")]
    assert "page(s) 2 (" in note and "check the text against the original" in note


@needs_tesseract
def test_a_page_with_nothing_to_read_is_still_refused_with_a_reason(tmp_path):
    blank = Image.new("L", (800, 1100), 255)
    with pytest.raises(LoadError, match="OCR recognised no text"):
        load_file(image_pdf(tmp_path / "trang-trang.pdf", [blank]))


# --- Tesseract or its Vietnamese model missing -----------------------------------------------------


def test_missing_tesseract_skips_the_file_with_the_install_command(tmp_path, monkeypatch):
    from indexer.pipeline.build import build

    monkeypatch.setattr(ocr.shutil, "which", lambda *_a, **_k: None)
    corpus = tmp_path / "corpus"
    image_pdf(corpus / "quet.pdf", [render_page(PAGE_2)])
    write(corpus / "ghi-chu.txt", "Văn bản thử nghiệm: ghi chú giả định để kho không rỗng.")
    with pytest.raises(LoadError, match="apt-get install tesseract-ocr tesseract-ocr-vie"):
        load_file(corpus / "quet.pdf")
    report = build([corpus], tmp_path / "index", model="hash", progress=False)
    assert report.documents == 1
    (reason,) = [why for f, why in report.skipped if f.endswith("quet.pdf")]
    assert "needs OCR" in reason and "apt-get install tesseract-ocr tesseract-ocr-vie" in reason


def test_missing_vietnamese_model_names_the_package(tmp_path, monkeypatch):
    fake = write(tmp_path / "bin" / "tesseract",
                 "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'tesseract 5.3.0'; exit 0; fi\n"
                 "echo 'List of available languages (2):'; echo eng; echo osd\n")
    fake.chmod(0o755)
    monkeypatch.setenv("VNSEARCH_TESSERACT", str(fake))
    with pytest.raises(LoadError, match=r"Vietnamese model \(vie\).*apt-get install tesseract-ocr tesseract-ocr-vie"):
        load_file(image_pdf(tmp_path / "quet.pdf", [render_page(PAGE_2)]))


def test_text_pages_of_a_mixed_pdf_are_kept_when_ocr_is_missing(tmp_path, monkeypatch):
    from pypdf import PdfReader, PdfWriter

    monkeypatch.setattr(ocr.shutil, "which", lambda *_a, **_k: None)
    writer = PdfWriter()
    scan_pdf = image_pdf(tmp_path / "part.pdf", [render_page(PAGE_2)]).read_bytes()
    for data in (text_pdf("Điều 1. Trang có lớp chữ của văn bản thử nghiệm giả định."), scan_pdf):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    (doc,) = load_file(write(tmp_path / "hon-hop.pdf", buf.getvalue()))
    assert [s.page for s in doc.pages] == [1] and "Trang có lớp chữ" in doc.text
    assert "ocr" not in doc.explicit
    (note,) = doc.notes
    assert note.startswith("page(s) 2 have no usable text layer") and ocr.INSTALL_HINT in note


# --- citations ----------------------------------------------------------------------------------


def test_citation_of_an_ocr_page_says_it_was_recognised_automatically():
    doc = {"doc_id": "quet.pdf", "title": "Văn bản thử nghiệm", "doc_type": "Nghị quyết", "doc_number": "999-NQ/TEST",
           "date": "2099-06-05", "issuer": "Ban Thử nghiệm", "extra": {"ocr": {"pages": [2], "engine": "tesseract"}}}
    cited = format_citation(doc, ["Điều 2. Kiểm thử"], 2)
    assert cited == ("Nghị quyết số 999-NQ/TEST ngày 05/06/2099 của Ban Thử nghiệm, Điều 2, trang 2 "
                     "(bản quét, nhận dạng tự động — cần đối chiếu bản gốc)")
    assert "nhận dạng tự động" not in format_citation(doc, ["Điều 1. Chung"], 1)  # page 1 had a text layer
    assert "nhận dạng tự động" not in format_citation({**doc, "extra": {}}, [], 2)


# --- the original file of a hit ---------------------------------------------------------------------


def _doc_for(path: Path, rel: str) -> dict:
    from indexer.pipeline.stages import file_hash as index_hash

    return {"doc_id": rel, "path": rel, "file_hash": index_hash(path)}


def test_original_file_is_found_in_the_sources_and_checked_against_its_hash(tmp_path):
    corpus = tmp_path / "corpus"
    pdf = write(corpus / "quet" / "van-ban.pdf", b"%PDF-1.4 thu nghiem")
    write(corpus / "quet" / "van-ban.pdf.meta.json", '{"title": "Văn bản thử nghiệm"}')
    doc = _doc_for(pdf, "quet/van-ban.pdf")
    assert file_hash(pdf) == doc["file_hash"]  # same rule as the indexer, sidecar included
    assert original_file([tmp_path / "khac", corpus], doc) == corpus / "quet" / "van-ban.pdf"
    assert original_file(["corpus"], doc, base=tmp_path) == corpus / "quet" / "van-ban.pdf"
    # A single-file source: the document's path is the file's own name.
    assert original_file([pdf], _doc_for(pdf, "van-ban.pdf")) == pdf
    # Changed since indexing (the file, or only its sidecar): not the file the citation names.
    write(corpus / "quet" / "van-ban.pdf.meta.json", '{"title": "Đã sửa"}')
    assert original_file([corpus], doc) is None
    pdf.unlink()
    assert original_file([corpus], doc) is None


def test_original_file_refuses_paths_outside_the_sources(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "a.pdf", b"%PDF-1.4 a")
    secret = write(tmp_path / "bi-mat.pdf", b"%PDF-1.4 secret")
    good = hashlib.sha256(secret.read_bytes()).hexdigest()
    for rel in ("../bi-mat.pdf", str(secret), "quet/../../bi-mat.pdf", "~/bi-mat.pdf", "a.pdf\\..\\..\\bi-mat.pdf", ""):
        assert original_file([corpus], {"path": rel, "file_hash": good}) is None, rel
    (corpus / "lien-ket.pdf").symlink_to(secret)  # a link inside the folder leading out of it
    assert original_file([corpus], {"path": "lien-ket.pdf", "file_hash": good}) is None
    assert original_file([corpus], {"path": "a.pdf", "file_hash": ""}) is None

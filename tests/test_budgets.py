"""Budgets: the splitter, the HTML loader and OCR take time linear (or n log n) in their input, and
cut or skip with a reason past an explicit cap (passage length, nesting depth, OCR pages and seconds).

Growth is checked as a ratio of two sizes on the same machine (a cubic or quadratic cost shows as a
ratio of 64 or 8 for 8 times the input; a linear one as ~8), so the tests hold on a loaded machine.
"""

from __future__ import annotations

import io
import time

import pytest

from indexer.load import ocr
from indexer.load.html import MAX_DEPTH, html_to_document
from indexer.split import MAX_CHARS, MAX_WORDS, split_document

SENTENCE = "Văn bản thử nghiệm số 999-NQ/TEST về việc kiểm tra bộ tách đoạn với câu dài vừa phải. "


def _seconds(fn, *args) -> float:  # noqa: ANN001, ANN002 - any callable under test
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best


def test_a_long_run_of_text_without_headings_splits_in_near_linear_time():
    small, large = SENTENCE * 300, SENTENCE * 2400  # ~27 KB and ~215 KB, no heading anywhere
    ratio = _seconds(split_document, "d", large) / _seconds(split_document, "d", small)
    assert ratio < 32, f"8x the text took {ratio:.0f}x the time"  # quadratic: ~64, cubic: ~512
    ps = split_document("d", large)
    assert max(len(p.text.split()) for p in ps) <= MAX_WORDS * 1.2


def test_a_giant_paragraph_without_sentence_ends_is_cut_with_a_note():
    text = ("từ thử nghiệm " * 15000).strip()  # 30,000 words, no full stop
    notes: list[str] = []
    ps = split_document("d", text, notes=notes)
    assert len(ps) >= 30000 // MAX_WORDS
    assert all(len(p.text) <= MAX_CHARS and p.text == text[p.start : p.end] for p in ps)
    assert "".join(p.text for p in ps).replace(" ", "") == text.replace(" ", "")  # nothing lost
    assert notes and "cut at word boundaries" in notes[0]


def test_a_run_of_characters_with_no_space_is_cut_at_the_passage_length():
    text = "a" * (MAX_CHARS * 5 + 7)
    notes: list[str] = []
    ps = split_document("d", text, notes=notes)
    assert len(ps) == 6 and all(len(p.text) <= MAX_CHARS for p in ps) and notes


def test_many_lines_without_words_do_not_make_one_giant_passage():
    ps = split_document("d", "-\n" * 20000)
    assert all(len(p.text) <= MAX_CHARS for p in ps)


def _nested(depth: int) -> str:
    return "<html><body>" + "<div>chữ " * depth + "cuối" + "</div>" * depth + "</body></html>"


def test_deeply_nested_html_is_read_in_linear_time_with_a_note():
    doc = html_to_document(_nested(5000))  # was a RecursionError ("please report this file")
    assert doc.text.count("chữ") == 5000 and doc.text.endswith("cuối")
    assert any(f"deeper than {MAX_DEPTH}" in n for n in doc.notes)
    ratio = _seconds(html_to_document, _nested(8000)) / _seconds(html_to_document, _nested(1000))
    assert ratio < 32, f"8x the depth took {ratio:.0f}x the time"


def test_a_long_ordered_list_numbers_its_items_in_linear_time():
    items = "".join(f"<li>mục thử nghiệm {i}</li>" for i in range(3000))
    doc = html_to_document(f"<html><body><ol start='5'>{items}</ol></body></html>")
    lines = doc.text.split("\n")
    assert lines[0] == "5. mục thử nghiệm 0" and lines[-1] == "3004. mục thử nghiệm 2999"


def _blank_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.fixture
def fake_tesseract(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Tesseract replaced by a stand-in that takes 50 ms a page and finds nothing (a blank scan)."""
    import pytesseract

    calls: list[int] = []

    def image_to_data(*_a: object, **_k: object) -> dict[str, list[object]]:
        calls.append(1)
        time.sleep(0.05)
        return {"text": [], "conf": []}

    monkeypatch.setattr(ocr, "engine", lambda: "fake-tesseract")
    monkeypatch.setattr(pytesseract, "image_to_data", image_to_data)
    return calls


def test_ocr_stops_at_its_time_budget_and_says_which_pages(tmp_path, fake_tesseract, monkeypatch):
    from indexer.load import LoadError, load_file

    monkeypatch.setattr(ocr, "ocr_budget_s", lambda: 0.4)
    path = tmp_path / "trang-trang.pdf"
    path.write_bytes(_blank_pdf(200))
    t = time.perf_counter()
    with pytest.raises(LoadError, match="time budget"):
        load_file(path)
    assert time.perf_counter() - t < 10
    assert len(fake_tesseract) < 100


def test_ocr_recognises_at_most_the_page_cap(tmp_path, fake_tesseract, monkeypatch):
    from indexer.load.pdf import _ocr_pages

    monkeypatch.setenv("VNSEARCH_OCR_MAX_PAGES", "3")
    texts = [""] * 10
    notes: list[str] = []
    _ocr_pages(_blank_pdf(10), list(range(1, 11)), texts, notes, {})
    assert len(fake_tesseract) == 3
    assert any("over the limit of 3" in n and "4–10" in n for n in notes)


def test_ctrl_c_during_ocr_starts_no_more_pages(fake_tesseract, monkeypatch):
    import pytesseract

    def interrupted(*_a: object, **_k: object) -> dict[str, list[object]]:
        fake_tesseract.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(pytesseract, "image_to_data", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ocr.recognise(_blank_pdf(50), list(range(1, 51)), workers=2)
    assert len(fake_tesseract) <= 4


def test_ctrl_c_in_the_indexer_is_a_line_not_a_traceback(monkeypatch, capsys):
    from indexer import cli

    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_build", interrupted)
    assert cli.main(["build", "nowhere"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err

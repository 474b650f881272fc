"""Markdown through its parser (markdown-it-py): passages keep the words, not the syntax."""

from __future__ import annotations

import re

from helpers import write

from indexer.load.html import join_table_rows, load_md
from indexer.load.metadata import detect_header

SYNTHETIC = """# Văn bản thử nghiệm 999 \\- 2099

| BAN THỬ NGHIỆM TRUNG ƯƠNG
\\-------- | VĂN BẢN GIẢ ĐỊNH
\\--------------- |
| :---- | :---- |
| Số: 999-NQ/TEST | *Hà Nội, ngày 01 tháng 02 năm 2099* |

** **

**NGHỊ QUYẾT**

**1-** Kho _thử nghiệm_ giữ văn bản giả định \\- không có *văn bản thật*.

- Mục thứ nhất của danh sách thử nghiệm.
- Mục thứ hai, có chữ **đậm** giả định.

1. Bước một thử nghiệm.
2. Bước hai thử nghiệm.
"""


def test_a_table_row_broken_over_lines_is_read_as_a_table():
    joined = join_table_rows(SYNTHETIC)
    assert "| BAN THỬ NGHIỆM TRUNG ƯƠNG \\-------- | VĂN BẢN GIẢ ĐỊNH \\--------------- |" in joined


def test_passages_keep_the_words_not_the_syntax(tmp_path):
    doc = load_md(write(tmp_path / "vb.md", SYNTHETIC))[0]
    text = doc.text
    for residue in ("|", "\\-", "**", ":----", "--------", "_thử", "*văn"):
        assert residue not in text, residue
    lines = text.split("\n")
    assert lines[:5] == ["Văn bản thử nghiệm 999 - 2099", "BAN THỬ NGHIỆM TRUNG ƯƠNG", "VĂN BẢN GIẢ ĐỊNH",
                         "Số: 999-NQ/TEST", "Hà Nội, ngày 01 tháng 02 năm 2099"]
    assert "1- Kho thử nghiệm giữ văn bản giả định - không có văn bản thật." in lines
    assert "– Mục thứ nhất của danh sách thử nghiệm." in lines and "2. Bước hai thử nghiệm." in lines
    meta = detect_header(text)
    assert (meta["doc_number"], meta["date"], meta["doc_type"]) == ("999-NQ/TEST", "2099-02-01", "Nghị quyết")


def test_the_header_of_the_real_20_nq_tw(shared):
    doc = load_md(shared / "documents" / "nghi-quyet-20-NQ-TW-2012.md")[0]
    head = doc.text[:400]
    assert not re.search(r"\||-{3,}|\\\\-", head), head
    assert "BAN CHẤP HÀNH TRUNG ƯƠNG" in head and "Số: 20-NQ/TW" in head
    meta = detect_header(doc.text)
    assert (meta["doc_number"], meta["date"], meta["issuer"]) == ("20-NQ/TW", "2012-11-01",
                                                                  "Ban Chấp hành Trung ương Đảng")


def test_a_bold_run_closed_after_a_space_leaves_no_markers(tmp_path):
    # "**1- **" (a no-break space before the closing markers) is how the real 20-NQ/TW file writes its points
    doc = load_md(write(tmp_path / "vb.md", "# Văn bản thử nghiệm\n\n**1-\u00a0**Điểm thử nghiệm thứ nhất.\n\n"
                                             "__2- __Điểm thử nghiệm thứ hai.\n"))[0]
    assert "*" not in doc.text and "_" not in doc.text
    assert "1- Điểm thử nghiệm thứ nhất." in doc.text and "2- Điểm thử nghiệm thứ hai." in doc.text


def test_the_demo_corpus_passages_hold_no_markdown_markers():
    from helpers import ROOT

    for path in sorted((ROOT / "corpus").glob("*.md")):
        for doc in load_md(path):
            assert "**" not in doc.text and "\\-" not in doc.text, path.name

"""Metadata read from the text of a web article or interview with no sidecar and no official header."""

from __future__ import annotations

from helpers import write

from indexer.load import metadata
from indexer.load.article import detect_article, drop_crumbs
from indexer.pipeline.build import build

SYNTHETIC_PAGE = """Sign In

Văn bản thử nghiệm: bài phỏng vấn giả định về kho thử nghiệm

08:30 02/03/2099
Ban Biên tập Trang Thông tin điện tử Thử nghiệm đã phỏng vấn đồng chí Nguyễn Văn Giả, Trưởng ban thử nghiệm.

BBT: Xin đồng chí cho biết mục đích của kho thử nghiệm?

Đồng chí Nguyễn Văn Giả: Kho thử nghiệm giúp kiểm tra phần mềm giả định theo Nghị quyết số 999-NQ/TEST.

BBT: Xin cảm ơn đồng chí!

Tag:

File đính kèm
"""


def test_synthetic_page_gives_title_date_source_and_interviewee():
    text = drop_crumbs(SYNTHETIC_PAGE)
    assert "Sign In" not in text and "Tag:" not in text and "File đính kèm" not in text
    assert text.startswith("Văn bản thử nghiệm") and text.endswith("Xin cảm ơn đồng chí!")
    meta = detect_article(text)
    assert meta == {"title": "Văn bản thử nghiệm: bài phỏng vấn giả định về kho thử nghiệm", "date": "2099-03-02",
                    "source": "Trang Thông tin điện tử Thử nghiệm", "doc_type": "Phỏng vấn",
                    "interviewee": "Nguyễn Văn Giả, Trưởng ban thử nghiệm"}


def test_a_sidecar_still_wins(tmp_path):
    path = write(tmp_path / "bai.txt", drop_crumbs(SYNTHETIC_PAGE))
    write(tmp_path / "bai.txt.meta.json", '{"title": "Tiêu đề thử nghiệm khác", "date": "01/01/2098"}')
    meta = metadata.resolve(path, path.read_text(encoding="utf-8"))
    assert meta["title"] == "Tiêu đề thử nghiệm khác" and meta["date"] == "2098-01-01"
    assert meta["source"] == "Trang Thông tin điện tử Thử nghiệm"  # what the sidecar leaves out still comes


def test_an_official_header_is_not_read_as_an_article(tmp_path):
    from helpers import LAW_FIXTURE

    path = write(tmp_path / "luat.txt", LAW_FIXTURE)
    meta = metadata.resolve(path, LAW_FIXTURE)
    assert meta["doc_number"] == "999/2099/QH99" and "interviewee" not in meta


def test_index_report_lists_documents_missing_date_type_or_number(tmp_path):
    write(tmp_path / "c" / "ghi-chu.txt", "Văn bản thử nghiệm không có ngày tháng.\n\nChỉ có vài dòng giả định.")
    report = build([tmp_path / "c"], tmp_path / "ix", model="hash", progress=False)
    assert report.incomplete == [("ghi-chu.txt", ["date", "type", "number"])]
    assert "ghi-chu.txt: no date, no type, no number" in report.summary()


def test_the_real_interview_without_its_sidecar(shared, tmp_path):
    src = shared / "corpus" / "phong-van-trach-nhiem-cap-uy-2024.txt"
    path = write(tmp_path / src.name, src.read_bytes())  # exactly as published, no sidecar next to it
    from indexer.load import load_file

    raw = load_file(path)[0]
    assert not raw.text.startswith("Sign In") and "File đính kèm" not in raw.text
    meta = metadata.resolve(path, raw.text)
    assert meta["title"].startswith("Trách nhiệm của cấp ủy các cấp trong lãnh đạo triển khai chuyên đề")
    assert meta["date"] == "2024-04-01" and meta["doc_type"] == "Phỏng vấn"
    assert meta["source"] == "Trang Thông tin điện tử Đảng bộ tỉnh"
    assert meta["interviewee"].startswith("Trần Thị Lộc, Ủy viên Ban Thường vụ")

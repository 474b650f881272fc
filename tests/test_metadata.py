import json

from helpers import LAW_FIXTURE, write

from indexer.load import metadata
from indexer.text.normalise import clean_text


def test_header_detection_of_a_law():
    m = metadata.detect_header(clean_text(LAW_FIXTURE))
    assert m["doc_number"] == "999/2099/QH99"
    assert m["date"] == "2099-06-05"
    assert m["doc_type"] == "Luật"
    assert m["title"] == "Luật Thử nghiệm tra cứu"


def test_header_with_number_in_title_and_issuer_phrase():
    text = ("Nghị quyết số 999-NQ/TEST\nThay mặt Bộ Chính trị, ký ban hành Nghị quyết số 999-NQ/TEST "
            "(ngày 01/02/2099) của Bộ Chính trị về văn bản thử nghiệm.")
    m = metadata.detect_header(text)
    assert m["doc_number"] == "999-NQ/TEST"
    assert m["doc_type"] == "Nghị quyết"
    assert m["issuer"] == "Bộ Chính trị"
    assert m["date"] == "2099-02-01"


def test_sidecar_wins_then_header_then_filename(tmp_path):
    p = write(tmp_path / "Luat-999-2099-QH99-thu-nghiem.txt", LAW_FIXTURE)
    assert metadata.resolve(p, clean_text(LAW_FIXTURE))["title"] == "Luật Thử nghiệm tra cứu"
    write(tmp_path / "Luat-999-2099-QH99-thu-nghiem.txt.meta.json",
          json.dumps({"title": "Tên từ tệp kèm", "date": "07/08/2099", "interviewee": "X"}))
    m = metadata.resolve(p, clean_text(LAW_FIXTURE))
    assert m["title"] == "Tên từ tệp kèm" and m["date"] == "2099-08-07" and m["interviewee"] == "X"
    assert m["doc_number"] == "999/2099/QH99"
    plain = write(tmp_path / "Luat-12-2099-QH99-khac.txt", "Không có phần đầu văn bản.")
    fm = metadata.resolve(plain, "Không có phần đầu văn bản.")
    assert fm["doc_number"] == "12/2099/QH99"


def test_parse_date_forms():
    assert metadata.parse_date("01/04/2024") == "2024-04-01"
    assert metadata.parse_date("2024-4-1") == "2024-04-01"
    assert metadata.parse_date("ngày 9 tháng 1 năm 2025") == "2025-01-09"
    assert metadata.parse_date("32/13/2024") is None

import pytest

from indexer.text.docnumbers import find_numbers, number_key


@pytest.mark.parametrize("text,key,shape", [
    ("Nghị quyết số 999-NQ/TEST ngày 10/02/2099", "999-NQ/TEST", "party"),
    ("theo Nghị quyết 999 - nq / test", "999-NQ/TEST", "party"),
    ("Quyết định số 9999/QĐ-TEST, ngày 03/11/2099", "9999/QD-TEST", "individual"),
    ("quyet dinh so 9999/qd-test", "9999/QD-TEST", "individual"),
    ("Luật số: 999/2099/QH99", "999/2099/QH99", "legal"),
    ("Nghị định 99/2099/NĐ-CP", "99/2099/ND-CP", "legal"),
    ("nghi dinh 99/2099/nd-cp", "99/2099/ND-CP", "legal"),
])
def test_each_shape_in_any_spelling(text, key, shape):
    (m,) = find_numbers(text)
    assert (m.key, m.shape) == (key, shape)
    assert number_key(text[m.start : m.end]) == key  # the span is exactly the number


def test_so_prefix_case_and_d_variants_share_one_key():
    keys = {number_key(s) for s in ("số 9999/QĐ-TEST", "So 9999/QD-TEST", "9999 / qđ - test", "9999/qd-test")}
    assert keys == {"9999/QD-TEST"}


def test_dates_ranges_and_plain_numbers_are_not_document_numbers():
    assert find_numbers("ngày 10/02/2099, giai đoạn 2021-2030, năm 2024-2025, tỷ lệ 3/4") == []

"""Legacy Vietnamese encodings (CP1258, TCVN3, VNI) are detected and converted to NFC Unicode."""

from __future__ import annotations

import random
import unicodedata

import pytest
from legacy_encode import encode_legacy

from indexer.text.encodings import to_unicode

SENTENCE = (
    "Văn bản thử nghiệm: Đảng bộ tỉnh thử nghiệm họp về quy hoạch, kiểm tra việc thực hiện nghị quyết "
    "số 999-NQ/TEST. Ở đây có ý kiến của nhân dân."
)
# TCVN3 has no code for capitals with a tone mark ("Ở"), so its copy of the sentence avoids one.
SENTENCE_TCVN3 = SENTENCE.replace("Ở đây", "Tại đây")

LOWER_LETTERS = (
    "a à á ả ã ạ ă ằ ắ ẳ ẵ ặ â ầ ấ ẩ ẫ ậ e è é ẻ ẽ ẹ ê ề ế ể ễ ệ i ì í ỉ ĩ ị "
    "o ò ó ỏ õ ọ ô ồ ố ổ ỗ ộ ơ ờ ớ ở ỡ ợ u ù ú ủ ũ ụ ư ừ ứ ử ữ ự y ỳ ý ỷ ỹ ỵ đ"
)
UPPER_LETTERS = (
    "A À Á Ả Ã Ạ Ă Ằ Ắ Ẳ Ẵ Ặ Â Ầ Ấ Ẩ Ẫ Ậ E È É Ẻ Ẽ Ẹ Ê Ề Ế Ể Ễ Ệ I Ì Í Ỉ Ĩ Ị "
    "O Ò Ó Ỏ Õ Ọ Ô Ồ Ố Ổ Ỗ Ộ Ơ Ờ Ớ Ở Ỡ Ợ U Ù Ú Ủ Ũ Ụ Ư Ừ Ứ Ử Ữ Ự Y Ỳ Ý Ỷ Ỹ Ỵ Đ"
)
ALL_LETTERS = f"Bảng chữ thử nghiệm: {LOWER_LETTERS}. {UPPER_LETTERS}."
# TCVN3 capitals: only the seven without a tone mark exist.
ALL_LETTERS_TCVN3 = f"Bảng chữ thử nghiệm: {LOWER_LETTERS}. Ă Â Ê Ô Ơ Ư Đ."


def test_letter_fixture_covers_every_vietnamese_letter() -> None:
    vowels = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
    expected = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones} | {"đ"}
    expected |= {ch.upper() for ch in expected}
    assert expected <= set(ALL_LETTERS)
    assert len({ch for ch in expected if not ch.isascii()}) == 134  # 67 letters in each case


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1258", SENTENCE),
        ("cp1258", ALL_LETTERS),
        ("vni", SENTENCE),
        ("vni", ALL_LETTERS),
        ("tcvn3", SENTENCE_TCVN3),
        ("tcvn3", ALL_LETTERS_TCVN3),
    ],
)
def test_round_trip_detects_encoding(encoding: str, text: str) -> None:
    data = encode_legacy(text, encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is legacy bytes, not UTF-8
    decoded, applied = to_unicode(data)
    assert applied == encoding
    assert decoded == unicodedata.normalize("NFC", text)


# Single letters, byte values as read in two independent tables each: UniKey's converter
# (fcitx/fcitx5-unikey unikey/data.cpp) and duydev/vietnamese-conversion src/charsets.ts; TCVN3
# also against GNU libiconv lib/tcvn.h; CP1258 also against Python's cp1258 codec.
@pytest.mark.parametrize(
    ("encoding", "letter", "expected"),
    [
        ("tcvn3", "đ", b"\xae"),
        ("tcvn3", "Đ", b"\xa7"),
        ("tcvn3", "ệ", b"\xd6"),
        ("tcvn3", "ữ", b"\xf7"),
        ("tcvn3", "ơ", b"\xac"),
        ("tcvn3", "ả", b"\xb6"),
        ("tcvn3", "ư", b"\xad"),
        ("tcvn3", "Ơ", b"\xa5"),
        ("vni", "ệ", b"e\xe4"),
        ("vni", "Ệ", b"E\xc4"),
        ("vni", "ữ", b"\xf6\xf5"),
        ("vni", "Đ", b"\xd1"),
        ("vni", "đ", b"\xf1"),
        ("vni", "ơ", b"\xf4"),
        ("vni", "ả", b"a\xfb"),
        ("vni", "ị", b"\xf2"),
        ("cp1258", "ệ", b"\xea\xf2"),
        ("cp1258", "ữ", b"\xfd\xde"),
        ("cp1258", "Đ", b"\xd0"),
        ("cp1258", "ơ", b"\xf5"),
        ("cp1258", "ả", b"a\xd2"),
    ],
)
def test_single_letters_match_published_tables(encoding: str, letter: str, expected: bytes) -> None:
    assert encode_legacy(letter, encoding) == expected


@pytest.mark.parametrize(
    ("data", "expected", "encoding"),
    [
        # The VNI example from duydev/vietnamese-conversion's README: "Xin chaøo caùc baïn".
        (b"Xin cha\xf8o ca\xf9c ba\xefn", "Xin chào các bạn", "vni"),
        # TCVN3 bytes typed from the table, not produced by encode_legacy.
        (b"V\xa8n b\xb6n th\xf6 nghi\xd6m: \xa7\xb6ng", "Văn bản thử nghiệm: Đảng", "tcvn3"),
        # CP1258 as UniKey writes it: every tone as a separate combining byte, even after plain "a".
        (b"th\xfd\xd2 nghi\xea\xf2m ca\xecc", "thử nghiệm các", "cp1258"),
    ],
)
def test_decodes_hand_written_bytes(data: bytes, expected: str, encoding: str) -> None:
    assert to_unicode(data) == (expected, encoding)


def test_utf8_input_is_not_converted() -> None:
    text, applied = to_unicode(SENTENCE.encode("utf-8"))
    assert (text, applied) == (SENTENCE, None)


def test_utf8_bom_is_stripped_and_text_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", SENTENCE)
    text, applied = to_unicode(b"\xef\xbb\xbf" + decomposed.encode("utf-8"))
    assert applied is None
    assert text == SENTENCE


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 4, random.Random(0).randbytes(2000)],
    ids=["all-bytes", "random"],
)
def test_binary_is_rejected(data: bytes) -> None:
    with pytest.raises(ValueError):
        to_unicode(data)


def test_non_vietnamese_legacy_text_is_rejected() -> None:
    with pytest.raises(ValueError):
        to_unicode("Le café est très bon à Paris, où l’été est chaud.".encode("cp1252"))


def test_tcvn3_cannot_encode_toned_capitals() -> None:
    with pytest.raises(ValueError, match="tcvn3"):
        encode_legacy(SENTENCE, "tcvn3")  # "Ở"


def test_windows_punctuation_survives_tcvn3_and_vni() -> None:
    text = "“Tài liệu” – bản thử…"
    for encoding in ("tcvn3", "vni"):
        assert to_unicode(encode_legacy(text, encoding)) == (text, encoding)


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown"):
        encode_legacy("thử", "viscii")


def test_legacy_files_are_converted_and_the_summary_says_so(tmp_path):
    from indexer.pipeline.build import build
    from indexer.store.embedded import EmbeddedBackend

    text = "Văn bản thử nghiệm: tại đây Đảng bộ tỉnh thử nghiệm họp về quy hoạch và kiểm tra việc thực hiện."
    corpus = tmp_path / "c"
    corpus.mkdir()
    for enc in ("cp1258", "tcvn3", "vni"):
        (corpus / f"{enc}.txt").write_bytes(encode_legacy(text, enc))
    report = build([corpus], tmp_path / "ix", model="hash", progress=False)
    assert report.documents == 3
    summary = report.summary()
    for name in ("Windows-1258", "TCVN3 (ABC)", "VNI"):
        assert f"converted from {name} to Unicode" in summary
    reader = EmbeddedBackend.open(tmp_path / "ix")
    for enc in ("cp1258", "tcvn3", "vni"):
        assert reader.document(f"{enc}.txt", with_text=True)["text"] == text

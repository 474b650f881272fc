"""Detect and convert pre-Unicode Vietnamese encodings (Windows-1258, TCVN3, VNI) to Unicode NFC.

Older government documents were typed with legacy fonts and saved as 8-bit text, so the same bytes
mean different letters depending on the font. `to_unicode` decodes the bytes every supported way
and keeps the reading whose words look most like Vietnamese syllables.

Where the tables come from (transcribed, not written from memory):

* Windows-1258: Python's built-in ``cp1258`` codec; its letter and tone positions agree with the
  ``WinCP1258`` table in UniKey's converter (fcitx/fcitx5-unikey, ``unikey/data.cpp``).
* TCVN3: ``SingleByteTables`` / ``TCVN3`` in fcitx/fcitx5-unikey ``unikey/data.cpp`` (UniKey's
  VnConv library). Checked byte for byte against GNU libiconv's TCVN-5712 table (koron/libiconv,
  ``lib/tcvn.h``, ``tcvn_2uni_2``) and duydev/vietnamese-conversion ``src/charsets.ts`` (``TCVN3``):
  all three agree on the 74 letters below.
* VNI: ``DoubleByteTables`` / ``VNI-WIN`` in fcitx/fcitx5-unikey ``unikey/data.cpp``. Checked
  against duydev/vietnamese-conversion ``src/charsets.ts`` (``VNI``): both agree on all 134 letters.

What cannot be represented:

* TCVN3 here is the ABC-font subset (VN3) that UniKey implements: lower-case letters plus the
  capitals Ă Â Ê Ô Ơ Ư Đ. Capitals with a tone mark (À, Ở, Ệ, ...) have no code; the fonts shipped
  separate all-capitals faces (".VnTimeH") that draw the lower-case codes as capitals. Such text
  therefore decodes to lower case, and the tests' encoder (tests/legacy_encode.py) rejects toned capitals.
  The full TCVN 5712 VN1 table (libiconv's "TCVN", toned capitals in 0x80-0x9F and in control-code
  positions) is deliberately not decoded: in ABC-font files 0x80-0x9F hold Windows punctuation
  (curly quotes, dashes), which is how UniKey treats them too.
* Bytes that a table does not assign to a letter decode as Windows-1252 (punctuation, symbols);
  the tests' encoder only writes such passthrough symbols where no table letter can collide with them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# The five Vietnamese tone marks as combining characters: grave, acute, tilde, hook above, dot below.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

# TCVN3 letters: each row lists the toneless letter, then grave, acute, hook, tilde, dot below,
# followed by the byte of each. ASCII vowels keep their ASCII byte; the last row is the capitals.
_TCVN3_ROWS: tuple[tuple[str, bytes], ...] = (
    ("aàáảãạ", b"a\xb5\xb8\xb6\xb7\xb9"),
    ("ăằắẳẵặ", b"\xa8\xbb\xbe\xbc\xbd\xc6"),
    ("âầấẩẫậ", b"\xa9\xc7\xca\xc8\xc9\xcb"),
    ("eèéẻẽẹ", b"e\xcc\xd0\xce\xcf\xd1"),
    ("êềếểễệ", b"\xaa\xd2\xd5\xd3\xd4\xd6"),
    ("iìíỉĩị", b"i\xd7\xdd\xd8\xdc\xde"),
    ("oòóỏõọ", b"o\xdf\xe3\xe1\xe2\xe4"),
    ("ôồốổỗộ", b"\xab\xe5\xe8\xe6\xe7\xe9"),
    ("ơờớởỡợ", b"\xac\xea\xed\xeb\xec\xee"),
    ("uùúủũụ", b"u\xef\xf3\xf1\xf2\xf4"),
    ("ưừứửữự", b"\xad\xf5\xf8\xf6\xf7\xf9"),
    ("yỳýỷỹỵ", b"y\xfa\xfd\xfb\xfc\xfe"),
    ("ĂÂÊÔƠƯĐđ", b"\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xae"),
)

# VNI-Windows letters: a letter is an ASCII/Latin-1 base byte followed by at most one mark byte
# (vowel mark and tone travel together, e.g. "ệ" = "e" + 0xE4). Capitals take the capital mark bytes.
# Row order as for TCVN3: toneless, grave, acute, hook, tilde, dot below.
_VNI_ROWS: tuple[tuple[str, tuple[bytes, ...]], ...] = (
    ("aàáảãạ", (b"a", b"a\xf8", b"a\xf9", b"a\xfb", b"a\xf5", b"a\xef")),
    ("ăằắẳẵặ", (b"a\xea", b"a\xe8", b"a\xe9", b"a\xfa", b"a\xfc", b"a\xeb")),
    ("âầấẩẫậ", (b"a\xe2", b"a\xe0", b"a\xe1", b"a\xe5", b"a\xe3", b"a\xe4")),
    ("eèéẻẽẹ", (b"e", b"e\xf8", b"e\xf9", b"e\xfb", b"e\xf5", b"e\xef")),
    ("êềếểễệ", (b"e\xe2", b"e\xe0", b"e\xe1", b"e\xe5", b"e\xe3", b"e\xe4")),
    ("iìíỉĩị", (b"i", b"\xec", b"\xed", b"\xe6", b"\xf3", b"\xf2")),
    ("oòóỏõọ", (b"o", b"o\xf8", b"o\xf9", b"o\xfb", b"o\xf5", b"o\xef")),
    ("ôồốổỗộ", (b"o\xe2", b"o\xe0", b"o\xe1", b"o\xe5", b"o\xe3", b"o\xe4")),
    ("ơờớởỡợ", (b"\xf4", b"\xf4\xf8", b"\xf4\xf9", b"\xf4\xfb", b"\xf4\xf5", b"\xf4\xef")),
    ("uùúủũụ", (b"u", b"u\xf8", b"u\xf9", b"u\xfb", b"u\xf5", b"u\xef")),
    ("ưừứửữự", (b"\xf6", b"\xf6\xf8", b"\xf6\xf9", b"\xf6\xfb", b"\xf6\xf5", b"\xf6\xef")),
    ("yỳýỷỹỵ", (b"y", b"y\xf8", b"y\xf9", b"y\xfb", b"y\xf5", b"\xee")),
    ("AÀÁẢÃẠ", (b"A", b"A\xd8", b"A\xd9", b"A\xdb", b"A\xd5", b"A\xcf")),
    ("ĂẰẮẲẴẶ", (b"A\xca", b"A\xc8", b"A\xc9", b"A\xda", b"A\xdc", b"A\xcb")),
    ("ÂẦẤẨẪẬ", (b"A\xc2", b"A\xc0", b"A\xc1", b"A\xc5", b"A\xc3", b"A\xc4")),
    ("EÈÉẺẼẸ", (b"E", b"E\xd8", b"E\xd9", b"E\xdb", b"E\xd5", b"E\xcf")),
    ("ÊỀẾỂỄỆ", (b"E\xc2", b"E\xc0", b"E\xc1", b"E\xc5", b"E\xc3", b"E\xc4")),
    ("IÌÍỈĨỊ", (b"I", b"\xcc", b"\xcd", b"\xc6", b"\xd3", b"\xd2")),
    ("OÒÓỎÕỌ", (b"O", b"O\xd8", b"O\xd9", b"O\xdb", b"O\xd5", b"O\xcf")),
    ("ÔỒỐỔỖỘ", (b"O\xc2", b"O\xc0", b"O\xc1", b"O\xc5", b"O\xc3", b"O\xc4")),
    ("ƠỜỚỞỠỢ", (b"\xd4", b"\xd4\xd8", b"\xd4\xd9", b"\xd4\xdb", b"\xd4\xd5", b"\xd4\xcf")),
    ("UÙÚỦŨỤ", (b"U", b"U\xd8", b"U\xd9", b"U\xdb", b"U\xd5", b"U\xcf")),
    ("ƯỪỨỬỮỰ", (b"\xd6", b"\xd6\xd8", b"\xd6\xd9", b"\xd6\xdb", b"\xd6\xd5", b"\xd6\xcf")),
    ("YỲÝỶỸỴ", (b"Y", b"Y\xd8", b"Y\xd9", b"Y\xdb", b"Y\xd5", b"\xce")),
    ("đĐ", (b"\xf1", b"\xd1")),
)


def _windows_1252_fallback() -> list[str]:
    """Byte -> character for bytes a legacy table leaves alone: Windows-1252, as the fonts did.

    The five bytes Windows-1252 leaves undefined become C1 control characters, which the scorer
    treats as noise.
    """
    table = []
    for byte in range(256):
        try:
            table.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            table.append(chr(byte))
    return table


_FALLBACK = _windows_1252_fallback()

_TCVN3_ENCODE: dict[str, bytes] = {
    letter: bytes([byte]) for letters, codes in _TCVN3_ROWS for letter, byte in zip(letters, codes, strict=True)
}
_TCVN3_DECODE: list[str] = list(_FALLBACK)
for _letter, _code in _TCVN3_ENCODE.items():
    _TCVN3_DECODE[_code[0]] = _letter

_VNI_ENCODE: dict[str, bytes] = {
    letter: code for letters, codes in _VNI_ROWS for letter, code in zip(letters, codes, strict=True)
}
_VNI_DECODE: dict[str, str] = {code.decode("latin-1"): letter for letter, code in _VNI_ENCODE.items()}
# One regex pass: the two-byte letters are tried before any single high byte, so a base and its mark
# are always read together (VNI's single-byte letters and its mark bytes never overlap).
_VNI_TOKEN = re.compile(
    "|".join(re.escape(code) for code in sorted(_VNI_DECODE, key=len, reverse=True) if len(code) > 1) + "|[\x80-\xff]"
)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _decode_cp1258(data: bytes) -> str:
    # CP1258 stores many letters as base + combining tone, so NFC is what makes them single letters.
    return _nfc(data.decode("cp1258", errors="replace"))


def _decode_tcvn3(data: bytes) -> str:
    return _nfc("".join(_TCVN3_DECODE[byte] for byte in data))


def _decode_vni(data: bytes) -> str:
    text = data.decode("latin-1")
    return _nfc(_VNI_TOKEN.sub(lambda m: _VNI_DECODE.get(m.group()) or _FALLBACK[ord(m.group())], text))


_DECODERS: dict[str, Callable[[bytes], str]] = {
    # Order breaks ties: on text whose only accents are Latin-1 letters all three can read the same.
    "cp1258": _decode_cp1258,
    "vni": _decode_vni,
    "tcvn3": _decode_tcvn3,
}


# --- Vietnamese-ness score -------------------------------------------------------------------

_VOWELS = "aăâeêioôơuưy"
_VIET_LETTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZđĐ"
    + "".join(_nfc(case(v) + tone) for v in _VOWELS for tone in ("", *_TONE_MARKS) for case in (str.lower, str.upper))
)
# Vowel clusters that can form the nucleus of a syllable (tone marks removed).
_NUCLEI = (
    *("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"),
    *("ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "oo"),
    *("ôi", "ơi", "ua", "uâ", "uê", "ui", "uô", "uơ", "ưa", "ưi", "ươ", "ưu", "uy", "ya", "yê"),
    *("iêu", "oai", "oao", "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê", "uyu", "yêu"),
)
_SYLLABLE = re.compile(
    "(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdđghklmnprstvx])?"
    "(?:" + "|".join(sorted(_NUCLEI, key=len, reverse=True)) + ")"
    "(?:ch|ng|nh|[cmnpt])?"
)
# Words are split on whitespace, ASCII punctuation, digits and Windows typographic punctuation, so a
# stray symbol that a wrong table produced (e.g. "b¶n") stays inside the word and spoils it.
_PIECE = re.compile("[^\\s!-/:-@\\[-`{-~0-9\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u2022]+")


def _is_syllable(word: str) -> bool:
    if not set(word) <= _VIET_LETTERS:
        return False
    if not (word.islower() or word.isupper() or word.istitle()):
        return False  # "vIệt": a wrong table swapped cases
    decomposed = unicodedata.normalize("NFD", word.lower())
    if sum(ch in _TONE_MARKS for ch in decomposed) > 1:
        return False
    toneless = _nfc("".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    return _SYLLABLE.fullmatch(toneless) is not None


def _is_noise(ch: str) -> bool:
    if ch in "\t\n\r\f\v":
        return False
    return ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Mn")


def _score(text: str) -> tuple[float, int]:
    """(share of accented words that are valid syllables, minus noise; number of valid ones).

    Only words with a non-ASCII character count: ASCII reads the same under every table, so it says
    nothing about which one is right.
    """
    words = [w for w in _PIECE.findall(text) if not w.isascii()]
    valid = sum(_is_syllable(w) for w in words)
    noise = sum(_is_noise(ch) for ch in text)
    return (valid - noise) / max(len(words), 1), valid


def to_unicode(data: bytes) -> tuple[str, str | None]:
    """Decode `data` to NFC text; the second item names the legacy conversion used, None for UTF-8.

    Raises ValueError when no decoding yields something that reads as Vietnamese.
    """
    try:
        return _nfc(data.decode("utf-8-sig")), None
    except UnicodeDecodeError:
        pass
    best: tuple[float, int, str, str] | None = None
    for name, decode in _DECODERS.items():
        text = decode(data)
        share, valid = _score(text)
        # Strictly greater: on a tie the earlier decoder in _DECODERS wins.
        if best is None or (share, valid) > best[:2]:
            best = (share, valid, name, text)
    assert best is not None
    share, valid, name, text = best
    # Two valid accented syllables at least: one alone ("Ă") turns up by chance in binary noise.
    if valid < 2 or share < 0.5:
        # the score subtracts noise, so it can fall below zero ("-152%"): say what was counted instead
        words = sum(1 for w in _PIECE.findall(text) if not w.isascii())
        noise = sum(_is_noise(ch) for ch in text)
        raise ValueError(
            f"not UTF-8 and not recognisable as CP1258, TCVN3 or VNI Vietnamese text "
            f"(best guess {name}: {valid} of {words} accented words valid"
            + (f", {noise} control characters" if noise else "") + ")"
        )
    return text, name

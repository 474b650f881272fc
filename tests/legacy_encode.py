"""Unicode → the legacy Vietnamese encodings (Windows-1258, TCVN3, VNI): the inverse of the decoders in
indexer/text/encodings.py, to build test fixtures from their tables (a byte sequence that does not read
back as the text is refused, so a fixture cannot lie)."""

from __future__ import annotations

import unicodedata

from indexer.text.encodings import _DECODERS, _FALLBACK, _TCVN3_ENCODE, _TONE_MARKS, _VNI_ENCODE, _nfc

# Windows punctuation (curly quotes, dashes, ellipsis, NBSP) that TCVN3 and VNI text may carry as-is:
# no letter of either table uses 0x80-0xA0, so writing these bytes cannot be misread as a letter.
_PASSTHROUGH = {_FALLBACK[byte]: bytes([byte]) for byte in range(0x80, 0xA1) if _FALLBACK[byte] != chr(byte)}
_PASSTHROUGH["\u00a0"] = b"\xa0"


def _encode_cp1258_char(ch: str) -> bytes:
    try:
        return ch.encode("cp1258")
    except UnicodeEncodeError:
        pass
    # CP1258 has some vowels with a vowel mark (â, ơ, ...) but no toned letters beyond a few Latin-1
    # ones: write the vowel (recomposed without its tone) and then the tone as a combining byte.
    decomposed = unicodedata.normalize("NFD", ch)
    base = _nfc("".join(c for c in decomposed if c not in _TONE_MARKS))
    tones = "".join(c for c in decomposed if c in _TONE_MARKS)
    try:
        return (base + tones).encode("cp1258")
    except UnicodeEncodeError:
        raise ValueError(f"{ch!r} cannot be represented in cp1258") from None


def _encode_with_table(text: str, table: dict[str, bytes], name: str) -> bytes:
    out = bytearray()
    for ch in text:
        if ch.isascii():
            out += ch.encode("ascii")
        elif ch in table:
            out += table[ch]
        elif ch in _PASSTHROUGH:
            out += _PASSTHROUGH[ch]
        else:
            raise ValueError(f"{ch!r} cannot be represented in {name}")
    return bytes(out)


def encode_legacy(text: str, encoding: str) -> bytes:
    """Encode `text` as "cp1258", "tcvn3" or "vni" bytes: the inverse of the legacy decoders.

    Raises ValueError for a character the encoding has no code for (e.g. "Ở" in TCVN3).
    """
    text = _nfc(text)
    if encoding == "cp1258":
        data = b"".join(_encode_cp1258_char(ch) for ch in text)
    elif encoding == "tcvn3":
        data = _encode_with_table(text, _TCVN3_ENCODE, encoding)
    elif encoding == "vni":
        data = _encode_with_table(text, _VNI_ENCODE, encoding)
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}; expected cp1258, tcvn3 or vni")
    # Guard against a byte sequence that reads back differently (it would make a fixture lie).
    if _DECODERS[encoding](data) != text:
        raise ValueError(f"text does not survive a round trip through {encoding}")
    return data

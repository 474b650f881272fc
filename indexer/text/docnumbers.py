"""Vietnamese document numbers ("số hiệu văn bản") in their three shapes.

- Party documents:      57-NQ/TW, 01-CT/TU, 35-QĐ/TW
- individual documents: 1288/QĐ-TTg, 03/NQ-CP, 04/TTr-BKHCN-BTTTT
- legal documents:      68/2020/QH14, 30/2020/NĐ-CP, 01/2021/TT-BTC

`number_key` maps every spelling of one number to one key: case, Đ/D, spaces around the
separators and a leading "số" do not matter, so "so 1288/qd-ttg" finds "1288/QĐ-TTg".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.text.normalise import fold

_CODE = r"[A-ZĐa-zđ][A-ZĐa-zđ]{0,9}\d{0,2}"
_SEP = r"\s*[-–]\s*"
_SLASH = r"\s*/\s*"

# Order matters: the legal shape (with a year) must be tried before the individual shape.
_PATTERNS = [
    ("legal", rf"\d{{1,4}}{_SLASH}(?:19|20)\d\d{_SLASH}{_CODE}(?:{_SEP}{_CODE})*"),
    ("party", rf"\d{{1,4}}{_SEP}{_CODE}{_SLASH}{_CODE}(?:{_SLASH}{_CODE})*"),
    ("individual", rf"\d{{1,5}}{_SLASH}{_CODE}(?:{_SEP}{_CODE})+"),
]
NUMBER_RE = re.compile(
    r"(?<![\w/.-])(?:[Ss][ốố]\s*:?\s*|[Ss]o\s+)?(?P<num>"
    + "|".join(f"(?:{p})" for _, p in _PATTERNS)
    + r")(?![\w/])"
)

# The code part must contain at least one known document-type or issuer code; this keeps
# dates ("10/02/2022"), ratios and ranges ("2021-2030") out.
_KNOWN_CODES = {
    "NQ", "QD", "CT", "KL", "QC", "HD", "TB", "BC", "KH", "CV", "TT", "ND", "L", "PL", "TTR",
    "TW", "TU", "HU", "DU", "BCT", "BBT", "CP", "TTG", "QH", "UBTVQH", "BCD", "UBND", "HDND",
    "BTC", "BNV", "BCA", "BQP", "BKHCN", "BTTTT", "BGDDT", "BYT", "BTP", "NHNN", "VPCP",
    "LCT", "HDNN", "SL", "CTN", "TTLT", "BKHDT", "BLDTBXH", "BTNMT", "BXD", "BGTVT", "BNNPTNT",
    "BVHTTDL", "TANDTC", "VKSNDTC", "KTNN", "MTTQ", "TLD", "BTGTW", "BTCTW", "UBKTTW",
    "TEST",
}


@dataclass(frozen=True)
class NumberMatch:
    text: str  # as written in the source
    key: str  # normalised, for matching
    shape: str  # party | individual | legal
    start: int
    end: int


def number_key(number: str) -> str:
    """Canonical key: upper-case ASCII, Đ→D, no spaces, '–' as '-', no "số" prefix."""
    s = fold(number).upper()
    s = re.sub(r"^SO\s*:?\s*", "", s.strip())
    s = s.replace("–", "-")
    return re.sub(r"\s+", "", s)


def _shape(key: str) -> str:
    if re.fullmatch(r"\d+/\d{4}/.+", key):
        return "legal"
    if re.match(r"\d+-", key):
        return "party"
    return "individual"


def _plausible(key: str) -> bool:
    parts = re.split(r"[-/]", key)
    codes = [re.sub(r"\d+$", "", p) for p in parts[1:] if not p.isdigit()]
    return any(c in _KNOWN_CODES for c in codes)


def find_numbers(text: str) -> list[NumberMatch]:
    out = []
    for m in NUMBER_RE.finditer(text):
        raw = m.group("num")
        key = number_key(raw)
        if not _plausible(key):
            continue
        out.append(NumberMatch(re.sub(r"\s+", "", raw), key, _shape(key), m.start("num"), m.end("num")))
    return out


_TYPE_BY_CODE = {
    "NQ": "Nghị quyết",
    "QD": "Quyết định",
    "CT": "Chỉ thị",
    "KL": "Kết luận",
    "QC": "Quy chế",
    "HD": "Hướng dẫn",
    "TB": "Thông báo",
    "BC": "Báo cáo",
    "KH": "Kế hoạch",
    "TT": "Thông tư",
    "ND": "Nghị định",
    "TTLT": "Thông tư liên tịch",
}

_ISSUER_BY_CODE = {
    "CP": "Chính phủ",
    "TTG": "Thủ tướng Chính phủ",
    "QH": "Quốc hội",
    "UBTVQH": "Ủy ban Thường vụ Quốc hội",
    "BCT": "Bộ Chính trị",
    "BBT": "Ban Bí thư",
}


def type_from_number(key: str) -> str | None:
    parts = [re.sub(r"\d+$", "", p) for p in re.split(r"[-/]", key)[1:]]
    for p in parts:
        if p in _TYPE_BY_CODE:
            return _TYPE_BY_CODE[p]
    return None


def issuer_from_number(key: str) -> str | None:
    parts = [re.sub(r"\d+$", "", p) for p in re.split(r"[-/]", key)[1:]]
    for p in reversed(parts):
        if p in _ISSUER_BY_CODE:
            return _ISSUER_BY_CODE[p]
    return None


# A date or year given right after a number: "20-NQ/TW, ngày 01/11/2012", "20-NQ/TW ngày 1 tháng 11
# năm 2012", "20-NQ/TW (năm 2012)", "20-NQ/TW năm 2017". Party and Government numbers restart every
# term or year, so the year is part of which document a number names.
_DATE_BEFORE_YEAR = r"ngày\s+\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+"
_YEAR_AFTER = re.compile(
    rf"^\s*[,(@]?\s*(?:{_DATE_BEFORE_YEAR}|(?:năm|khóa|khoá)?\s*)(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)


def year_after(text: str, end: int) -> str | None:
    """The year of the date (or the bare year) that follows a number ending at `end` in `text`."""
    m = _YEAR_AFTER.match(text[end : end + 40])
    return m.group("year") if m else None


# At index time only the explicit shapes count: a date, "năm 2012", "(2012)". A bare year after a
# comma is too often the start of a period ("1288/QĐ-TTg, 2021–2030") to say which document it is.
_DATE_AFTER = re.compile(
    rf"^\s*,?\s*\(?\s*(?:{_DATE_BEFORE_YEAR}|năm\s+|(?=\d{{4}}\s*\)))(?P<year>(?:19|20)\d\d)\b(?!\s*[-–]\s*\d)",
    re.IGNORECASE)


def date_year_after(text: str, end: int) -> str | None:
    """The year of an explicit date or year right after a number ending at `end` (index time)."""
    m = _DATE_AFTER.match(text[end : end + 40])
    return m.group("year") if m else None


def has_own_year(key: str) -> bool:
    """True for numbers that carry their year ("68/2020/QH14"): the number alone names one document."""
    return bool(re.search(r"/(?:19|20)\d\d/", key))


# A reference key that carries the year its reference gave: "20-NQ/TW@2012". The graph links on it,
# so the 2012 and the 2017 resolution numbered 20-NQ/TW stay two documents; "@" never occurs in a
# number, so the bare number is everything before it.
YEAR_MARK = "@"


def dated_key(key: str, year: str | None) -> str:
    """`key` qualified by `year`, unless the number carries its own year or no year is known."""
    if not year or has_own_year(key) or YEAR_MARK in key:
        return key
    return f"{key}{YEAR_MARK}{year}"


def split_key(key: str) -> tuple[str, str | None]:
    """(the bare number, the year) of a reference key; the year is None for a bare key."""
    bare, mark, year = key.partition(YEAR_MARK)
    return (bare, year) if mark and re.fullmatch(r"(?:19|20)\d\d", year) else (key, None)


def document_key(number: str, date: str | None) -> str:
    """The key a document is known by: its number with the year of its date ("20-NQ/TW@2012")."""
    return dated_key(number_key(number), (date or "")[:4] or None)


# "Nghị quyết 57", "nghi quyet so 57", "Resolution No. 57", "Kết luận 69": a document named by its
# type and the first part of its number only, as people say it once the full number is known.
_SHORT_TYPES = {
    "nghi quyet": "NQ", "resolution": "NQ", "ket luan": "KL", "conclusion": "KL",
    "quyet dinh": "QD", "decision": "QD", "chi thi": "CT", "directive": "CT",
    "nghi dinh": "ND", "decree": "ND", "thong tu": "TT", "circular": "TT",
    # as staff abbreviate them ("NQ 57", "KL 69", "QĐ 1288")
    "nq": "NQ", "kl": "KL", "qd": "QD", "nd": "ND",
}
_SHORT_RE = re.compile(
    r"(?<!\w)(" + "|".join(sorted(_SHORT_TYPES, key=len, reverse=True)) + r")"
    r"\s+(?:so\s+|no\.?\s*|number\s+)?(\d{1,5})(?![\w/.-]*[/-]\w)(?!\w)"
)


def find_short_references(text: str) -> list[tuple[str, int]]:
    """(type code, number) for each short reference in `text`: ("NQ", 57) for "Nghị quyết 57"."""
    return [(_SHORT_TYPES[m.group(1)], int(m.group(2))) for m in _SHORT_RE.finditer(fold(text))]


def short_reference_matches(code: str, number: int, key: str) -> bool:
    """Whether the document key `key` (57-NQ/TW, 03/NQ-CP, 20-NQ/TW@2012) is a `code` numbered `number`."""
    parts = re.split(r"[-/]", split_key(key)[0])
    if not parts[0].isdigit() or int(parts[0]) != number:
        return False
    return code in [re.sub(r"\d+$", "", p) for p in parts[1:] if not p.isdigit()]

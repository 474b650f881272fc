"""What differs between two verbatim texts: a word-level diff over syllables and the figures that changed.

Vietnamese words are one or more syllables separated by spaces, so the syllable (with each punctuation
mark a token of its own) is the unit of the diff: a changed word shows as its changed syllables, and
every piece shown is a slice of the original text, never rebuilt.

A **figure** is a number read with what it counts: an optional qualifier ("trên", "ít nhất", "không
quá" …), the number, and its unit ("%", "ngày", "tỷ đồng", "thành viên" …), or a year ("năm 2030").
Article, clause and document numbers ("Điều 88", "59/2020/QH14", a list marker "3.") are references,
not figures. A changed figure is one that the other side does not hold with the same qualifier, number
and unit; figures of the same unit are paired in order ("100% vốn điều lệ" → "trên 50% vốn điều lệ").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+|[^\w\s]")
_QUALIFIERS = ("không sớm hơn", "không muộn hơn", "chậm nhất là", "chậm nhất",
               "không quá", "không dưới", "không thấp hơn", "không vượt quá", "ít nhất", "tối thiểu", "tối đa",
               "bằng hoặc lớn hơn", "bằng hoặc nhỏ hơn", "lớn hơn", "nhỏ hơn", "trên", "dưới", "từ", "đến", "hơn",
               "khoảng", "gần", "đạt", "chiếm", "bằng")
_UNITS = ("%", "phần trăm", "lần", "nghìn tỷ đồng", "tỷ đồng", "triệu đồng", "nghìn đồng", "đồng", "USD",
          "ngày làm việc", "ngày", "tháng", "năm", "giờ", "tuần", "quý", "tuổi", "thành viên", "cổ đông",
          "người", "lao động", "doanh nghiệp", "tổ chức", "cơ sở", "trường", "nhiệm kỳ")
# Numbers written in words count as the same figure as in digits ("hai năm" is "02 năm"); "năm" (five)
# is left out: it is also "year".
_WORDS = {"một": "1", "hai": "2", "ba": "3", "bốn": "4", "sáu": "6", "bảy": "7", "tám": "8", "chín": "9",
          "mười": "10"}
_SPANS = {"ngày làm việc", "ngày", "tháng", "năm", "giờ", "tuần", "quý", "nhiệm kỳ"}
_NUM = r"\d+(?:[.,]\d+)*|(?:" + "|".join(_WORDS) + r")(?=\s)"
_FIGURE = re.compile(
    r"(?<![\w/.,-])(?P<q>(?:" + "|".join(map(re.escape, sorted(_QUALIFIERS, key=len, reverse=True))) + r")\s+)?"
    r"(?:(?P<year>năm\s+(?:19|20)\d\d)(?![\w/])"
    r"|(?P<n>" + _NUM + r")\s*(?P<u>" + "|".join(map(re.escape, _UNITS)) + r")(?!\w))",
    re.IGNORECASE)
_REFERENCE_BEFORE = re.compile(r"(?:Điều|khoản|điểm|Chương|Mục|số|Phần|Luật|mục)\s*$", re.IGNORECASE)
CONTEXT_WORDS = 3
# Qualifiers that state the same bound: "ít nhất 65%" and "từ 65%" hold the same figure.
_BOUNDS = {"ít nhất": "≥", "tối thiểu": "≥", "không dưới": "≥", "không thấp hơn": "≥", "từ": "≥",
           "không sớm hơn": "≥", "không quá": "≤", "tối đa": "≤", "không vượt quá": "≤", "chậm nhất": "≤",
           "chậm nhất là": "≤", "không muộn hơn": "≤", "đến": "≤", "trên": ">", "hơn": ">", "dưới": "<",
           "bằng hoặc lớn hơn": "≥", "bằng hoặc nhỏ hơn": "≤", "lớn hơn": ">", "nhỏ hơn": "<"}
# Units of one kind, paired with each other: "10 ngày làm việc" → "10 ngày" is a changed figure.
_KINDS = {"ngày làm việc": "ngày", "tỷ đồng": "đồng", "triệu đồng": "đồng", "nghìn đồng": "đồng",
          "nghìn tỷ đồng": "đồng", "phần trăm": "%"}
_CONTEXT = re.compile(r"(?:\s+[^\W\d]+){0,%d}" % CONTEXT_WORDS)  # noqa: UP031 (a regex's braces)


@dataclass(frozen=True)
class Figure:
    text: str  # the figure itself, verbatim: "trên 50%"
    shown: str  # with up to three following words: "trên 50% vốn điều lệ"
    unit: str  # what it counts, of one kind: "%", "ngày" (working days too), "đồng", "mốc năm" (a year)
    key: str  # the bound ("≥" for "ít nhất", "từ" …) + number + unit as written, normalised


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def figures(text: str) -> list[Figure]:
    """The figures of `text` in order (module docstring)."""
    out = []
    for m in _FIGURE.finditer(text):
        if _REFERENCE_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        if not m.group("q") and not text[line_start:m.start()].strip() and m.group("n") \
                and text[m.end("n"):m.end("n") + 1] in ".)":
            continue  # a list marker ("3. …")
        rest = text[m.end():]
        tail = _CONTEXT.match(rest)
        shown = text[m.start():m.end() + (tail.end() if tail else 0)]
        unit = "mốc năm" if m.group("year") else _KINDS.get(m.group("u").lower(), m.group("u").lower())
        qualifier = " ".join((m.group("q") or "").lower().split())
        raw = (m.group("n") or "").lower()
        if raw in _WORDS and m.group("u").lower() not in _SPANS:
            continue  # "một thành viên" names a kind of company; words count durations only
        number = _WORDS.get(raw) or raw.lstrip("0") or "0"  # "01%" and "một %" are "1%"
        rest_key = m.group("year") or f"{number} {m.group('u')}"
        key = " ".join(f"{_BOUNDS.get(qualifier, qualifier)} {rest_key}".lower().split())
        out.append(Figure(m.group(0), " ".join(shown.split()), unit, key))
    return out


def _unmatched(mine: list[Figure], theirs: list[Figure], elsewhere: set[str]) -> list[Figure]:
    """My figures the other side does not hold (counted: two "10 ngày" against one leave one), nor
    holds anywhere else around (`elsewhere`: the figures of the whole other article)."""
    left = Counter(f.key for f in theirs)
    out = []
    for f in mine:
        if left[f.key] > 0:
            left[f.key] -= 1
        elif f.key not in elsewhere:
            out.append(f)
    return out


def changed_figures(old: str, new: str, old_around: set[str] | None = None,
                    new_around: set[str] | None = None) -> list[dict[str, str | None]]:
    """Figures one side holds and the other does not, paired by unit in order:
    [{"old": "100% vốn điều lệ", "new": "trên 50% vốn điều lệ", "unit": "%"}, …]; "old" or "new" is None
    for a figure with no counterpart of the same unit. A figure the other side holds elsewhere
    (`old_around` / `new_around`: the keys of the enclosing articles) only moved: it is not listed."""
    a, b = figures(old), figures(new)
    gone = _unmatched(a, b, new_around or set())
    came = _unmatched(b, a, old_around or set())
    out: list[dict[str, str | None]] = []
    for f in gone:
        match = next((g for g in came if g.unit == f.unit), None)
        if match is not None:
            came.remove(match)
        out.append({"old": f.shown, "new": match.shown if match else None, "unit": f.unit})
    out += [{"old": None, "new": g.shown, "unit": g.unit} for g in came]
    return out


def figure_keys(text: str) -> set[str]:
    return {f.key for f in figures(text)}


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """The diff over syllables: [{"op": "equal"|"delete"|"insert"|"replace", "old": …, "new": …}], each
    piece a verbatim slice of its side running to the next token, so that the pieces of one side,
    joined, are that side's text from its first token on."""
    ta, tb = _tokens(old), _tokens(new)
    sm = difflib.SequenceMatcher(None, [t[0] for t in ta], [t[0] for t in tb], autojunk=False)

    def piece(toks: list[tuple[str, int, int]], text: str, i: int, j: int) -> str:
        if i >= j:
            return ""
        return text[toks[i][1]:toks[j][1] if j < len(toks) else len(text)]

    return [{"op": op, "old": piece(ta, old, i1, i2), "new": piece(tb, new, j1, j2)}
            for op, i1, i2, j1, j2 in sm.get_opcodes()]


def same_text(a: str, b: str) -> bool:
    """Equal once whitespace is normalised (NFC both)."""
    return " ".join(nfc(a).split()) == " ".join(nfc(b).split())

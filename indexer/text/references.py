"""References from a passage to other documents.

Two kinds:
- numbered: any document number (57-NQ/TW, 1288/QĐ-TTg, 68/2020/QH14), keyed by `number_key`, with
  the year when the reference gives a date or year ("20-NQ/TW, ngày 01/11/2012" → "20-NQ/TW@2012"):
  Party and Government numbers restart every term, so the year is part of which document it is;
- named: documents cited by name — "Điều lệ Đảng", "Hiến pháp (năm 2013)", "Nghị quyết Đại hội
  Đảng bộ tỉnh lần thứ XII" / "Nghị quyết XII của Đảng bộ tỉnh", "Nghị quyết Đại hội XIII của Đảng",
  and laws by name ("Luật Tổ chức Chính phủ").

Every reference has a canonical `key` (what the graph links on) and a readable `label`.
A reference may point at a document that is not in the corpus; it is kept all the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.text.docnumbers import date_year_after, dated_key, find_numbers, number_key, split_key
from indexer.text.normalise import fold


@dataclass(frozen=True)
class Reference:
    key: str
    label: str
    kind: str  # number | named
    start: int
    end: int


_ROMAN = r"[IVXLC]+"
_NAMED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bĐiều lệ Đảng\b"), "Điều lệ Đảng"),
    (re.compile(r"\bHiến pháp(?: năm (?P<year>\d{4}))?(?: nước Cộng hòa xã hội chủ nghĩa Việt Nam)?"), "Hiến pháp"),
    # "Nghị quyết Đại hội Đảng bộ tỉnh lần thứ XII", "Nghị quyết Đại hội đại biểu Đảng bộ tỉnh lần thứ XIII"
    (re.compile(rf"\bNghị quyết Đại hội (?:đại biểu )?Đảng bộ (?P<level>tỉnh|thành phố|huyện)"
                rf"(?: [A-ZĐ][\w ]*?)? lần thứ (?P<ord>{_ROMAN})\b", re.IGNORECASE), "party-congress-local"),
    # "Nghị quyết XII của Đảng bộ tỉnh"
    (re.compile(rf"\bNghị quyết (?P<ord>{_ROMAN}) của Đảng bộ (?P<level>tỉnh|thành phố|huyện)\b"),
     "party-congress-local"),
    # "Nghị quyết Đại hội XIII của Đảng", "Nghị quyết Đại hội đại biểu toàn quốc lần thứ XIII của Đảng"
    (re.compile(rf"\bNghị quyết Đại hội (?:(?:đại biểu )?toàn quốc lần thứ (?P<ord>{_ROMAN})|(?P<ord2>{_ROMAN}))"
                rf"(?: của Đảng)?\b", re.IGNORECASE), "party-congress-national"),
    # Laws cited by name: "Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015"
    (re.compile(r"\b(?P<law>(?:Bộ luật|Luật) (?:[A-ZĐÀ-Ỹ][\wÀ-ỹ]*)(?:(?:,)? (?:[\wÀ-ỹ]+)){0,10}?)"
                r"(?= ngày| năm| số \d| \(|;|:|\.|$|, (?:Luật|Bộ luật|Nghị|Quyết|Hiến)| và (?:Luật|Bộ luật|các)"
                r"| được| đã| có| quy định| để| theo| trong| thì| phải| nhằm| trình| ban hành| cho| với| tại)"), "law"),
]


def _named(text: str) -> list[Reference]:
    out: list[Reference] = []
    for pattern, kind in _NAMED:
        for m in pattern.finditer(text):
            if kind == "Điều lệ Đảng":
                out.append(Reference("DIEU LE DANG", "Điều lệ Đảng", "named", m.start(), m.end()))
            elif kind == "Hiến pháp":
                year = m.group("year")
                label = f"Hiến pháp năm {year}" if year else "Hiến pháp"
                out.append(Reference(f"HIEN PHAP {year}" if year else "HIEN PHAP", label, "named", m.start(), m.end()))
            elif kind == "party-congress-local":
                level, ordinal = m.group("level").lower(), m.group("ord").upper()
                label = f"Nghị quyết Đại hội Đảng bộ {level} lần thứ {ordinal}"
                out.append(Reference(f"NQ DAI HOI DANG BO {fold(level).upper()} {ordinal}", label, "named",
                                     m.start(), m.end()))
            elif kind == "party-congress-national":
                ordinal = (m.group("ord") or m.group("ord2")).upper()
                out.append(Reference(f"NQ DAI HOI DANG TOAN QUOC {ordinal}",
                                     f"Nghị quyết Đại hội đại biểu toàn quốc lần thứ {ordinal} của Đảng", "named",
                                     m.start(), m.end()))
            elif kind == "law":
                name = m.group("law").strip(" ,")
                if len(name.split()) < 2 or name.lower() in ("luật này", "bộ luật này"):
                    continue
                out.append(Reference("LUAT " + fold(name).upper().replace("BO LUAT ", "").replace("LUAT ", "", 1),
                                     name, "named", m.start(), m.end()))
    return out


def find_references(text: str, own_key: str | None = None) -> list[Reference]:
    """Every reference in `text`, in order, without duplicates of the same key at the same place.

    `own_key` (the citing document's own number key) is left out: a document naming itself is
    not a reference.
    """
    refs = [Reference(dated_key(m.key, date_year_after(text, m.end)), m.text, "number", m.start, m.end)
            for m in find_numbers(text)]
    taken = [(r.start, r.end) for r in refs]
    for r in _named(text):
        if any(s < r.end and r.start < e for s, e in taken):
            continue  # "Luật số 68/2020/QH14": the number already identifies it
        refs.append(r)
        taken.append((r.start, r.end))
    refs.sort(key=lambda r: r.start)
    if own_key:
        refs = [r for r in refs if r.key != own_key]
    return refs


def date_within_document(refs: list[list[Reference]]) -> list[list[Reference]]:
    """A document's references (per passage, in order) with a bare number dated when the document
    dates that number once and only one way: "Nghị quyết số 20-NQ/TW, ngày 01/11/2012 …" then
    "Nghị quyết 20-NQ/TW" further on name the same resolution. A number the document dates two
    ways stays bare (it resolves only when the corpus holds one document of that number)."""
    years: dict[str, set[str]] = {}
    for r in (r for passage in refs for r in passage if r.kind == "number"):
        bare, year = split_key(r.key)
        if year:
            years.setdefault(bare, set()).add(year)
    only = {bare: next(iter(ys)) for bare, ys in years.items() if len(ys) == 1}
    return [[Reference(dated_key(r.key, only.get(r.key)), r.label, r.kind, r.start, r.end)
             if r.kind == "number" and r.key in only else r for r in passage] for passage in refs]


def reference_key(query: str) -> str | None:
    """The reference key a user's query names: a number, or a named document."""
    q = query.strip()
    if (m := re.fullmatch(r"(.+)@((?:19|20)\d\d)", q)) and (bare := reference_key(m.group(1))):
        return dated_key(bare, m.group(2))  # a key as the graph writes it: "20-NQ/TW@2012"
    refs = find_references(query)
    if refs:
        return refs[0].key
    if re.fullmatch(r"[\w/.\- ]+", q) and find_numbers(q):
        return number_key(q)
    return None

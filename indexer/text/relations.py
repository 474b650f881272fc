"""Typed relations between documents, read from the sentence around each reference.

The graph stored at index time only knows "passage P cites document K" (`references.py`). This
module reads the sentence around each reference and says *how* it is cited:

- ``basis``        "Căn cứ Luật …;" in the preamble
- ``implements``   "… thực hiện / triển khai / quán triệt / cụ thể hóa Nghị quyết số …"
- ``guides``       "Nghị định này quy định chi tiết / hướng dẫn …", a header "HƯỚNG DẪN THI HÀNH …"
- ``amends``       "Sửa đổi, bổ sung … của Luật …", "Thay thế cụm từ … tại … của Luật …"; and
                   "Luật X đã được sửa đổi, bổ sung theo Luật số Y" (Y amends X, said by a third text)
- ``replaces``     "Luật này thay thế Luật … số …"
- ``repeals``      "Luật … số … hết hiệu lực kể từ …", "Bãi bỏ Luật … số …"
- ``repeals_part`` "Bãi bỏ khoản 3 Điều 28 … của Luật … số …", "Điều 5 của Luật … hết hiệu lực …"
- ``cites``        anything else

It also reads a document's effective date ("Luật này có hiệu lực thi hành từ ngày …"); what a
citing sentence says about a cited document (its identity card) is `identity.py`.

Everything here is a pure function of passage texts and the references stored with them, so both
storage backends get the same answer. Precision comes first: a wrong "hết hiệu lực" is worse than
none, so status-changing types (amends, replaces, repeals, repeals_part) only ever target a
document *number* (a name such as "Luật Doanh nghiệp" names every version of that law), only
the documents the sentence acts on count (not the amending laws listed after "đã được sửa đổi,
bổ sung theo …", nor anything quoted), and a sentence that does not fit a known shape is `cites`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from indexer.text.dates import DATE_NUM, DATE_WORDS, match_date
from indexer.text.sentences import line_sentence_spans

RELATION_TYPES = ("basis", "implements", "guides", "amends", "replaces", "repeals", "repeals_part", "cites")
# Types that change whether the target is in force; they need a precise target (see the module doc).
STATUS_TYPES = frozenset({"amends", "replaces", "repeals", "repeals_part"})
EFFECTIVE = "effective"  # `Relation.when`: the acting document's own effective date
QUOTE_LIMIT = 6000  # characters; an amended article quoted in full is shorter than that

DOC = (r"(?:Bộ luật|Luật|Pháp lệnh|Nghị quyết liên tịch|Nghị quyết|Nghị định|Quyết định|Thông tư liên tịch"
        r"|Thông tư|Chỉ thị|Kết luận|Quy định|Quy chế|Hướng dẫn|Thông báo|Kế hoạch|Chương trình|Đề án"
        r"|Chiến lược|Sắc lệnh|Lệnh|Hiến pháp|Công văn|Tờ trình|Văn bản)")
DOC_RE = re.compile(rf"\b{DOC}\b")
# The parts of a document a sentence may act on instead of the whole.
_PART = (r"(?:Điều|điều|Khoản|khoản|Điểm|điểm|Chương|chương|Mục|mục|Phần|phần|Tiết|tiết|tiểu mục|Phụ lục|phụ lục"
         r"|Danh mục|danh mục|[Qq]uy định tại|[Qq]uy định về|[Cc]ác quy định|[Nn]ội dung)")
_PART_RE = re.compile(rf"\b{_PART}\b")
_MARKER = re.compile(r"^\s*(?:[-–+•*]\s+|(?:\(?\d{1,3}[.)]|\d{1,3}-\s|[IVXLC]{1,6}[.)]|\(?[a-zđ]\))"
                     r"\s*(?:\d{1,3}[.)]\s*)*|Điều\s+\d+[a-zđ]?\.\s*)?")
_ITEM = re.compile(r"^\s*(?:\(?[a-zđ]\)|[-–+•]\s|\d{1,3}\))")
_THIS = rf"{DOC}\s+này"
_QUOTES = re.compile(r"“[^”]*”|\"[^\"\n]*\"|‘[^’]*’")

# "Luật này có hiệu lực (thi hành) (kể) từ ngày 01 tháng 01 năm 2021" / "… kể từ ngày ký (ban hành)"
_EFFECTIVE_RE = re.compile(
    rf"(?<!của\s)\b{_THIS}\s+(?:đã\s+)?có\s+hiệu\s+lực(?:\s+thi\s+hành)?\s+(?:kể\s+)?từ\s+"
    rf"(?:{DATE_WORDS}|{DATE_NUM}|(?P<signed>ngày\s+(?:ký|ban\s+hành|thông\s+qua))|năm\s+ngân\s+sách\s+(?P<budget>\d{{4}}))")

# "(đã) được sửa đổi, bổ sung (một số điều) theo …": what follows lists the amending laws, which stay
# in force when the law they amended is repealed.
_TAIL_RE = re.compile(r"(?:đã\s+)?được\s+sửa\s+đổi,?\s*(?:bổ\s+sung)?(?:\s+một\s+số\s+(?:điều|Điều|khoản))?"
                      r"\s+(?:theo|bởi|tại)\s+")
_TAIL_TYPES = r"(?:Bộ luật|Luật|Pháp lệnh|Nghị quyết|Nghị định|Lệnh)"
_TAIL_FIRST = re.compile(rf"^(?:{_TAIL_TYPES}\s+)?(?:sửa đổi,?\s*bổ sung[^;:]{{0,150}}?\s+)?(?:số\s*:?\s*)?$")
_TAIL_NEXT = re.compile(rf"^\s*(?:(?:{DATE_WORDS}|{DATE_NUM})\s*)?(?:,\s*(?:và\s+)?|và\s+)(?:{_TAIL_TYPES}\s+)?"
                        r"(?:sửa đổi,?\s*bổ sung[^;:]{0,150}?\s+)?(?:số\s*:?\s*)?$")
# "…, Nghị quyết số 19/2008/QH12 của Quốc hội về thí điểm …" after an amending list starts a new subject.
_NEW_SUBJECT = re.compile(rf"^\s*(?:,?\s*(?:{DATE_WORDS}|{DATE_NUM}))?\s*,?\s*của\s+[^,;]{{2,60}}?\s+về\s")
_CARRIER_GAP = re.compile(rf"^[\s,]*(?:(?:{DATE_WORDS}|{DATE_NUM}|năm\s+\d{{4}})[\s,]*)?"
                          r"(?:của\s+(?:Quốc hội|Chính phủ|Ủy ban thường vụ Quốc hội|Uỷ ban thường vụ Quốc hội)"
                          r"(?:\s+khóa\s+[IVXLC]+)?[\s,]*)?$", re.IGNORECASE)

_BASIS = re.compile(r"^Căn\s+cứ(?:\s+vào)?\s", re.IGNORECASE)
_AMEND_LEAD = re.compile(r"^(?:Sửa\s+đổi|Bổ\s+sung|Thay\s+thế\s+(?:các\s+)?(?:cụm\s+)?từ"
                         r"|Thay\s+(?:các\s+)?(?:cụm\s+)?từ|Bỏ\s+(?:các\s+)?(?:cụm\s+)?từ|Đính\s+chính)\b")
_REPEAL_LEAD = re.compile(r"^(?:Bãi\s+bỏ|Hủy\s+bỏ|Huỷ\s+bỏ)\s")
_HEAD_ACT = re.compile(r"^(?:(?:luật|bộ luật|pháp lệnh|nghị quyết|nghị định|quyết định|thông tư)\s+)?"
                       r"(?P<verb>sửa đổi|quy định chi tiết|hướng dẫn)\b", re.IGNORECASE)
_THIS_ACT = re.compile(rf"^{_THIS}\s+(?P<verb>quy\s+định\s+chi\s+tiết|hướng\s+dẫn|sửa\s+đổi|bổ\s+sung)\b")
_REPLACE = re.compile(rf"^{_THIS}\b[^;]*?\bthay\s+thế\s+(?=(?:các\s+)?{DOC}\b)")
# "… hết hiệu lực (thi hành) kể từ ngày …" — the time anchor keeps out "giấy phép hết hiệu lực khi …".
_EXPIRE = re.compile(r"\b(?:đều\s+)?hết\s+hiệu\s+lực(?:\s+thi\s+hành)?"
                     r"(?=\s+(?:kể\s+)?từ\s+(?:ngày|khi)\b|\s*(?:[.;:]|,\s*trừ\b|$))"
                     r"|\b(?:bị|được)\s+bãi\s+bỏ(?=\s+(?:kể\s+)?từ\s+ngày\b|\s*(?:[.;]|$))")
_CONDITIONAL = re.compile(r"\b(?:nếu|khi|thì|Trường hợp|trường hợp)\b")
_EXCEPT = re.compile(r",?\s*\btrừ\b")
_WHEN_DATE = re.compile(rf"(?:kể\s+)?từ\s+(?:{DATE_WORDS}|{DATE_NUM})")
_IMPLEMENT = re.compile(
    r"(?P<about>\bvề\s+(?:việc\s+)?)?(?:tiếp\s+tục\s+)?"
    r"\b(?:thực\s+hiện|triển\s+khai(?:\s+thực\s+hiện|\s+thi\s+hành)?|quán\s+triệt(?:,?\s+triển\s+khai)?(?:\s+thực\s+hiện)?"
    r"|cụ\s+thể\s+ho[áa]|thể\s+chế\s+ho[áa]|hiện\s+thực\s+ho[áa])"
    rf"\s+(?:có\s+hiệu\s+quả\s+|tốt\s+|thắng\s+lợi\s+|nghiêm\s+túc\s+|đầy\s+đủ\s+)?(?:các\s+)?(?:{DOC}\s+)?(?:số\s*)?$")
# "việc thực hiện", "sau 10 năm thực hiện", "kết quả thực hiện": the text reviews the implementation.
_REVIEW = re.compile(r"(?:việc|năm|kết\s+quả|tình\s+hình|quá\s+trình|sơ\s+kết|tổng\s+kết|đánh\s+giá)\s+"
                     r"(?:tiếp\s+tục\s+)?$")
# A sentence that names document A, then says what A does to document B:
# "Kết luận số 69-KL/TW ngày 11/01/2024 của Bộ Chính trị về tiếp tục thực hiện Nghị quyết số 20-NQ/TW".
_THIRD_PARTY = re.compile(
    rf"^\s*,?\s*(?:\(?\s*(?:{DATE_WORDS}|{DATE_NUM})\s*\)?\s*,?\s*)?(?:của\s+[^,;()]{{2,80}}?\s+)?(?:về\s+(?:việc\s+)?)?"
    r"(?:tiếp\s+tục\s+)?(?P<verb>thực\s+hiện|triển\s+khai(?:\s+thực\s+hiện)?|hướng\s+dẫn(?:\s+thi\s+hành|\s+thực\s+hiện)?"
    r"|quy\s+định\s+chi\s+tiết(?:\s+thi\s+hành)?(?:\s+một\s+số\s+điều(?:\s+và\s+biện\s+pháp\s+thi\s+hành)?)?(?:\s+của)?)"
    rf"\s+(?:{DOC}\s+)?(?:số\s*)?$")

AMENDING_OF = re.compile(rf"{DOC}\s+(?:sửa\s+đổi,?\s*bổ\s+sung|bãi\s+bỏ|quy\s+định\s+chi\s+tiết|hướng\s+dẫn)"
                          rf"[^;:.]{{0,80}}?(?:\bcủa|\d)\s+(?:(?:các\s+)?{DOC}\b[^;:.]{{0,80}}?\s+và\s+)?$")
# Conjuncts in a list of repealed things: "Điều 10 và điểm a khoản 2 Điều 43 của Luật …".
_CONJUNCT = re.compile(rf"(?:,|;|\s+và)\s+(?=(?:các\s+|những\s+)?(?:{DOC}|{_PART})\b)")


@dataclass(frozen=True)
class Relation:
    """One typed relation read from one sentence.

    `key` is the document acted upon; `subject` is the acting document's key when the sentence
    names it ("Luật X đã được sửa đổi, bổ sung theo Luật số Y": subject Y), None when the acting
    document is the one the sentence is in. `sentence` is verbatim (a list item with its lead-in).
    """

    type: str
    key: str
    label: str
    pid: int
    sentence: str
    subject: str | None = None
    subject_label: str | None = None
    when: str | None = None  # ISO date the change takes effect, EFFECTIVE, or None (not a change)
    exceptions: tuple[str, ...] = ()


@dataclass
class _Mention:
    key: str
    label: str
    kind: str
    start: int  # in the sentence
    end: int


@dataclass
class _ListContext:
    """A lead-in ending with ':' whose list items carry on its meaning."""

    mode: str  # "subjects": the items are what the lead-in repeals; "exceptions": they are its exceptions
    type: str  # repeals | repeals_part (subjects mode)
    lead: str
    when: str | None
    exceptions: list[str]


def effective_date(text: str, issued: str | None = None) -> tuple[str | None, tuple[int, int] | None]:
    """The date `text` says its own document takes effect, and where it says so.

    "có hiệu lực … từ ngày ký (ban hành)" resolves to `issued`; "từ năm ngân sách 2017" to 1 January
    (the budget year is the calendar year, Luật Ngân sách nhà nước). Only "<Type> này …" counts: a
    sentence about another document's or a licence's effect is not the document's own.
    """
    m = _EFFECTIVE_RE.search(text)
    if not m:
        return None, None
    if m.group("signed"):
        return issued, m.span()
    if m.group("budget"):
        return f"{int(m.group('budget')):04d}-01-01", m.span()
    return match_date(m), m.span()


def _named_duplicates(s: str, refs: list[_Mention]) -> set[int]:
    """A named reference right before "số <number>" is the same document; the number stands for it."""
    return {i for i, r in enumerate(refs) if r.kind == "named" and any(
        o.kind == "number" and 0 <= o.start - r.end <= 80
        and re.fullmatch(r"[^;:.]*?\bsố\s*:?\s*", s[r.end : o.start]) for o in refs)}


def _implemented(s: str, r: _Mention) -> bool:
    """Whether sentence `s` says it implements the document `r` names.

    Only a numbered document or a congress resolution is implemented by a text; "thực hiện Hiến pháp,
    pháp luật" is a duty, not an implementation chain. "… theo Chương trình … thực hiện Nghị quyết X"
    names another programme, not this document."""
    before = s[max(0, r.start - 120) : r.start]
    m = _IMPLEMENT.search(before)
    return bool(m and not m.group("about") and not _REVIEW.search(before[: m.start()])
                and (r.kind == "number" or r.key.startswith("NQ DAI HOI"))
                and not re.search(r"\btheo\s", re.split(r"[,;:.]\s", before[: m.start()])[-1], re.IGNORECASE))


def _lead(s: str) -> int:
    """Where the sentence's own words start, after a list marker ("2.", "a)", "-", "Điều 5.")."""
    m = _MARKER.match(s)  # always matches: every part of the pattern is optional
    return m.end() if m else 0


def _outside_quotes(s: str, mentions: list[_Mention]) -> list[_Mention]:
    quoted = [m.span() for m in _QUOTES.finditer(s)]
    return [r for r in mentions if not any(a <= r.start < b for a, b in quoted)]


def _precise(r: _Mention) -> bool:
    """A target a status can safely attach to: a number, or a constitution with its year."""
    return r.kind == "number" or re.fullmatch(r"HIEN PHAP \d{4}", r.key) is not None


def _tails(s: str, refs: list[_Mention]) -> tuple[set[int], list[tuple[int, int]]]:
    """Indexes of references inside amending lists ("đã được sửa đổi, bổ sung theo Luật số A, Luật số B"),
    and (amended, amending) index pairs for the relations those lists state."""
    numbered = [i for i, r in enumerate(refs) if _precise(r)]
    inside: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for m in _TAIL_RE.finditer(s):
        before = [i for i in numbered if refs[i].end <= m.start()]
        carrier = before[-1] if before and _CARRIER_GAP.match(s[refs[before[-1]].end : m.start()]) else None
        prev_end, first = m.end(), True
        for i in (i for i in numbered if refs[i].start >= m.end()):
            gap = s[prev_end : refs[i].start]
            if not (_TAIL_FIRST if first else _TAIL_NEXT).match(gap) or len(gap) > 200:
                break
            if not first and _NEW_SUBJECT.match(s[refs[i].end :]):
                break
            inside.add(i)
            if carrier is not None:
                pairs.append((carrier, i))
            prev_end, first = refs[i].end, False
    return inside, pairs


def _when(after: str) -> str:
    if m := _WHEN_DATE.search(after):
        return match_date(m) or EFFECTIVE
    return EFFECTIVE


_WHOLE_HEAD = re.compile(rf"^[\s,;]*(?:(?:{DATE_WORDS}|{DATE_NUM}|năm\s+\d{{4}})[\s,;]*)?(?:(?:và|cùng)\s+)?$")


def _extent(segment: str) -> str | None:
    """Whether the words before a document number say the whole document ("repeals"), a part of it
    ("repeals_part": "khoản 3 Điều 28 của Luật …", "Mục 1 Chương VI Luật …", "các quy định về … tại
    Pháp lệnh …"), or something we cannot read (None). `segment` runs from the previous reference
    (or the start of the object) to the number."""
    types = list(DOC_RE.finditer(segment))
    if not types:
        return None
    owner = types[-1]
    # "Luật sửa đổi, bổ sung Điều 170 của Luật doanh nghiệp số 37/2013/QH13": the number is the
    # amending law's, whose type stands before "sửa đổi".
    if (outer := AMENDING_OF.search(segment[: owner.start()])) and (o := DOC_RE.match(segment, outer.start())):
        owner = o
    head = _CONJUNCT.split(segment[: owner.end()])[-1][: -len(owner.group(0))]
    if _PART_RE.search(head):
        return "repeals_part"
    if _WHOLE_HEAD.match(head):
        return "repeals"
    return None


def _prev_end(refs: list[_Mention], i: int, floor: int, skip: set[int]) -> int:
    """Where the text that introduces reference i starts: after the reference before it (a name
    standing for the number that follows it does not count)."""
    ends = [r.end for j, r in enumerate(refs[:i]) if r.end <= refs[i].start and j not in skip]
    return max([floor, *ends])


class DocumentAnalyser:
    """Reads one document's passages in order and returns its typed relations.

    Stateful across passages only for lists: "Các pháp lệnh sau đây hết hiệu lực …:" followed by
    "a) Pháp lệnh … số …;" items, possibly in the next passage.
    """

    def __init__(self) -> None:
        self.relations: list[Relation] = []
        self._list: _ListContext | None = None
        self._quote_open = 0  # characters read inside a quotation still open at the end of the last passage

    def _quoted(self, text: str) -> list[tuple[int, int]]:
        """Spans of `text` inside “…”: an amending law's new wording ("“Điều 4. …\n…”") often runs over
        several lines or passages, and what it says is the amended law's text, not this document's.
        A quotation left open for more than QUOTE_LIMIT characters is taken as a stray mark."""
        spans: list[tuple[int, int]] = []
        start = 0 if self._quote_open else None
        for m in re.finditer("[“”]", text):
            if m.group(0) == "“" and start is None:
                start = m.start()
            elif m.group(0) == "”" and start is not None:
                spans.append((start, m.end()))
                start = None
        if start is not None:
            spans.append((start, len(text)))
            self._quote_open += len(text) - start
            if self._quote_open > QUOTE_LIMIT:
                self._quote_open = 0
        else:
            self._quote_open = 0
        return spans

    def passage(self, pid: int, text: str, refs: list[dict[str, Any]], preamble: bool, head: bool) -> None:
        """Analyse one passage. `refs` are its stored references (offsets into `text`); `preamble`:
        the passage lies before the first article (so "Căn cứ …" is the document's basis); `head`: it is
        the document's header (its subject line says what the document does)."""
        quoted = self._quoted(text) if self._quote_open or "“" in text else []
        if not refs and self._list is None and "sau đây" not in text:
            return  # nothing to read here (the common case: most passages cite nothing)
        refs = [r for r in refs if not any(a <= r["start"] < b for a, b in quoted)]
        for s_start, s_end in line_sentence_spans(text):
            if any(a <= s_start and s_end <= b for a, b in quoted):
                continue
            s = text[s_start:s_end]
            mentions = [_Mention(r["key"], r["label"], r["kind"], r["start"] - s_start, r["end"] - s_start)
                        for r in refs if s_start <= r["start"] and r["end"] <= s_end]
            if mentions or (self._list is not None and _ITEM.match(s)) or (
                    "sau đây" in s and s.rstrip().endswith(":")):
                self._sentence(pid, s, mentions, preamble, head)
            else:
                self._list = None  # a list ends at the first line that is not one of its items

    # --- one sentence ---------------------------------------------------------------------------

    def _emit(self, rel: Relation) -> int:
        self.relations.append(rel)
        return len(self.relations) - 1

    def _sentence(self, pid: int, s: str, refs: list[_Mention], preamble: bool, head: bool) -> None:
        lead = _lead(s)
        body = s[lead:]
        refs = _outside_quotes(s, refs)
        in_tail, pairs = _tails(s, refs)
        named_dup = _named_duplicates(s, refs)
        for carrier, amending in pairs:
            c, a = refs[carrier], refs[amending]
            self._emit(Relation("amends", c.key, c.label, pid, s, subject=a.key, subject_label=a.label))
        typed: dict[int, Relation] = {}

        if self._list is not None and _ITEM.match(s):
            self._list_item(pid, s, refs, in_tail, named_dup, typed)
        elif self._list is not None:
            self._list = None

        def take(i: int, type_: str, when: str | None = None, exceptions: tuple[str, ...] = ()) -> None:
            if i in typed or i in in_tail or i in named_dup:
                return
            if type_ in STATUS_TYPES and not _precise(refs[i]):
                return
            typed[i] = Relation(type_, refs[i].key, refs[i].label, pid, s, when=when, exceptions=exceptions)

        if not typed:
            if head and (m := _HEAD_ACT.match(body)):
                kind = "amends" if m.group("verb").lower().startswith("sửa") else "guides"
                for i, r in enumerate(refs):
                    if r.start >= lead:
                        take(i, kind, EFFECTIVE if kind == "amends" else None)
            elif _BASIS.match(body):
                for i in range(len(refs)):
                    take(i, "basis" if preamble else "cites")
            elif _AMEND_LEAD.match(body):
                for i in range(len(refs)):
                    take(i, "amends", _when(body))
            elif m := _REPEAL_LEAD.match(body):
                self._repeal_object(pid, s, lead + m.end(), refs, in_tail, named_dup, typed, take)
            elif m := _THIS_ACT.match(body):
                verb = m.group("verb")
                kind = "guides" if verb.startswith(("quy", "hướng")) else "amends"
                for i, r in enumerate(refs):
                    if r.start >= lead + m.end():
                        take(i, kind, EFFECTIVE if kind == "amends" else None)
            if m := _REPLACE.match(body):
                exc = _EXCEPT.search(s, lead + m.end())
                for i, r in enumerate(refs):
                    if r.start >= lead + m.end() and (exc is None or r.start < exc.start()):
                        take(i, "replaces", _when(body))
            if m := _EXPIRE.search(s):
                self._expiry(pid, s, m, lead, refs, in_tail, named_dup, typed, take)

        self._third_party(pid, s, refs, typed, in_tail)
        self._the_rest(pid, s, refs, in_tail, named_dup, typed, take)

    def _the_rest(self, pid: int, s: str, refs: list[_Mention], in_tail: set[int], named_dup: set[int],
                  typed: dict[int, Relation], take: Callable[..., None]) -> None:
        """The references no rule typed are implemented or cited; then every relation of the sentence,
        in the order of its references."""
        for i, r in enumerate(refs):
            if i in typed or i in named_dup:
                continue
            if _implemented(s, r):
                take(i, "implements")
            elif i not in in_tail:
                typed[i] = Relation("cites", r.key, r.label, pid, s)
        for i in sorted(typed):
            self._emit(typed[i])

    def _repeal_object(self, pid: int, s: str, obj_start: int, refs: list[_Mention], in_tail: set[int],
                       named_dup: set[int], typed: dict[int, Relation], take: Callable[..., None]) -> None:
        """ "Bãi bỏ <object>(, trừ …)": each document in the object, whole or in part."""
        exc = _EXCEPT.search(s, obj_start)
        obj_end = exc.start() if exc else len(s)
        exceptions = (s[exc.start() :].strip(" ,.;"),) if exc else ()
        when = _when(s[obj_start:])
        subjects = [i for i, r in enumerate(refs) if obj_start <= r.start < obj_end and i not in in_tail
                    and i not in named_dup]
        if not subjects and re.search(r"sau\s+đây\s*:\s*$", s):
            self._list = _ListContext("subjects", "repeals_part" if _PART_RE.search(s[obj_start:]) else "repeals",
                                      s, when, list(exceptions))
            return
        # "Bãi bỏ các quy định tại Luật A; Luật B": provisions of each, never a whole document.
        provisions = re.match(r"\s*(?:các\s+|những\s+)?quy\s+định\s+(?:tại|của|trong)\b", s[obj_start:])
        for i in subjects:
            if extent := _extent(s[_prev_end(refs, i, obj_start, named_dup) : refs[i].start]):
                take(i, "repeals_part" if provisions else extent, when, exceptions)

    def _expiry(self, pid: int, s: str, verb: re.Match[str], lead: int, refs: list[_Mention], in_tail: set[int],
                named_dup: set[int], typed: dict[int, Relation], take: Callable[..., None]) -> None:
        """ "<subjects> hết hiệu lực (thi hành) kể từ …(, trừ …)"."""
        clause = max(s.rfind(";", 0, verb.start()), s.rfind(": ", 0, verb.start()))
        span_start = max(lead, clause + 1)
        span = s[span_start : verb.start()]
        # "Kể từ ngày Luật này có hiệu lực thi hành, Luật … hết hiệu lực": skip the time clause.
        if m := re.match(r"\s*(?:Kể\s+)?từ\s+ngày[^,]*,\s*", span):
            span_start += m.end()
            span = s[span_start : verb.start()]
        after = s[verb.end() :]
        exc = _EXCEPT.search(after)
        exceptions = (after[exc.start() :].strip(" ,.;:"),) if exc else ()
        when = _when(after[: exc.start()] if exc else after)
        subjects = [i for i, r in enumerate(refs) if span_start <= r.start < verb.start() and i not in in_tail
                    and i not in named_dup]
        if _CONDITIONAL.search(span):
            return
        list_lead = re.match(rf"\s*(?:Các|Những|các|những)\s+(?:{DOC}|{_PART}|luật|pháp lệnh|nghị quyết|"
                             r"nghị định|văn bản)[^,;]*?\s+sau\s+đây\s*$", span)
        if not subjects:
            if list_lead and s.rstrip().endswith(":"):
                kind = "repeals_part" if _PART_RE.match(span.strip().split(" ", 1)[-1]) else "repeals"
                self._list = _ListContext("subjects", kind, s, when, list(exceptions))
            return
        first = refs[subjects[0]]
        head = s[span_start : first.start].strip()
        if not re.match(rf"(?:(?:Các|Những|các|những)\s+)?(?:{DOC}|{_PART})\b", head):
            return  # the subject is not a document or a part of one: not a repeal sentence we can read
        produced: list[int] = []
        for i in subjects:
            extent = _extent(s[_prev_end(refs, i, span_start, named_dup) : refs[i].start])
            if extent is None:
                continue
            provisions = re.match(r"(?:Các|Những)\s+quy\s+định\b", head)
            take(i, "repeals_part" if provisions else extent, when, exceptions)
            if i in typed:
                produced.append(i)
        if exc and produced and re.search(r"sau\s+đây\s*:\s*$", after):
            self._list = _ListContext("exceptions", "", s, when, list(exceptions))

    def _list_item(self, pid: int, s: str, refs: list[_Mention], in_tail: set[int], named_dup: set[int],
                   typed: dict[int, Relation]) -> None:
        ctx = self._list
        assert ctx is not None
        if ctx.mode == "exceptions":
            # The item is an exception to the lead-in's repeal: append it to that repeal's exceptions.
            item = s.strip()
            self.relations[:] = [
                Relation(r.type, r.key, r.label, r.pid, r.sentence, r.subject, r.subject_label, r.when,
                         r.exceptions + (item,)) if r.sentence == ctx.lead and r.type in STATUS_TYPES
                else r for r in self.relations]
            return
        for i, r in enumerate(refs):
            if i in in_tail or i in named_dup or not _precise(r):
                continue
            # The item must start with the document ("a) Pháp lệnh … số …") or a part of one ("b) Điều 5
            # của Luật …"); "c) Quy định về … theo quy định của Luật …" is a provision, read as a part.
            extent = _extent(s[_lead(s) : r.start])
            if extent is not None:
                if ctx.type == "repeals_part":
                    extent = "repeals_part"
                typed[i] = Relation(extent, r.key, r.label, pid, f"{ctx.lead}\n{s}", when=ctx.when,
                                    exceptions=tuple(ctx.exceptions))
            break  # one document per item: the rest of the item describes it

    def _third_party(self, pid: int, s: str, refs: list[_Mention], typed: dict[int, Relation],
                     in_tail: set[int]) -> None:
        """ "<A> (ngày …) (của …) về (tiếp tục) thực hiện / hướng dẫn / quy định chi tiết <B>": A acts on B."""
        for j, b in enumerate(refs):
            if j in typed or j in in_tail or j == 0:
                continue
            for i in range(j - 1, -1, -1):
                a = refs[i]
                if a.kind != "number":
                    continue
                m = _THIRD_PARTY.match(s[a.end : b.start])
                if m:
                    verb = m.group("verb")
                    kind = "implements" if verb.startswith(("thực", "triển")) else "guides"
                    typed[j] = Relation(kind, b.key, b.label, pid, s, subject=a.key, subject_label=a.label)
                break


def analyse_document(passages: list[dict[str, Any]], refs: dict[int, list[dict[str, Any]]]) -> list[Relation]:
    """The typed relations stated in one document (its passages in order, refs by pid)."""
    an = DocumentAnalyser()
    preamble = True
    for i, p in enumerate(passages):
        if any(re.match(r"(?:Điều|Chương|Phần|Mục)\s+[\dIVXLC]", label) for label in p.get("section") or []):
            preamble = False
        an.passage(p["pid"], p["text"], refs.get(p["pid"], []), preamble=preamble, head=i == 0)
    return an.relations

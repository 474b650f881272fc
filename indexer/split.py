"""Structure-aware passages.

The text is read line by line (one paragraph per line). Heading lines are recognised by the
numbering of Vietnamese documents — Phần / Chương / Mục / Điều, I. / 1. / a), interview questions
("BBT: …") and sub-headings ("* Đối với …") — or declared by the format (Markdown/HTML/DOCX
headings). Each heading has a rank; a heading closes every open heading of the same or a lower
rank, which gives every line a section path.

Passages are then packed from those lines:
- a heading is never a passage of its own: it opens the passage of the content under it, so an
  interview question always travels with (the start of) its answer;
- a section too long for one passage is cut at paragraph boundaries into near-equal parts, and a
  paragraph too long for one passage at sentence boundaries — never inside a sentence;
- small neighbouring sections are packed together, but never across a hard boundary
  (Phần, Chương, Mục, Điều, I./II., a question, a declared heading);
- `text` is always the verbatim span text[start:end].
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from indexer.records import PageSpan, Passage
from indexer.text.normalise import word_count

MIN_WORDS = 60
MAX_WORDS = 250
HARD_RANK = 5  # headings of rank <= HARD_RANK are boundaries no passage crosses
LABEL_MAX_WORDS = 16
# A passage this short that closes the document without a numbered heading ("BBT: Xin trân trọng cảm
# ơn đồng chí!"), or sits under no heading at all, says nothing alone, yet a short text can sit close
# to many queries in embedding space: it joins the passage before it. "Điều 2. Nghị quyết này có hiệu
# lực …" keeps its own passage (a numbered article is cited on its own).
STUB_WORDS = 12

# (kind, rank, pattern). A marker group names the number used in compact citations.
HEADING_PATTERNS: list[tuple[str, float, re.Pattern[str]]] = [
    ("question", 1, re.compile(r"^(?:BBT|PV|Phóng viên|Hỏi|Câu hỏi)\s*:\s*\S")),
    ("phan", 1, re.compile(r"^(?:Phần|PHẦN)\s+(?P<m>thứ\s+\w+|THỨ\s+\w+|[IVXLC]+|\d+)\b")),
    ("chuong", 2, re.compile(r"^(?:Chương|CHƯƠNG)\s+(?P<m>[IVXLC]+|\d+)\b")),
    ("muc", 3, re.compile(r"^(?:Mục|MỤC)\s+(?P<m>\d+|[IVXLC]+)\b")),
    ("dieu", 4, re.compile(r"^(?:Điều|ĐIỀU)\s+(?P<m>\d+[a-z]?)\s*[.:]")),
    ("alpha", 4.5, re.compile(r"^(?P<m>[A-HJ-UWYZ])\s*[-–.]\s+[A-ZĐ]")),
    ("roman", 5, re.compile(r"^(?P<m>[IVX]{1,5})\s*[.\-–]\s*\S")),
    ("arabic", 6, re.compile(r"^(?P<m>\d{1,2})\s*[.\-–](?!\d)\s*\S")),
    # "1.2. …", "1.2 …" and, in Party documents, "3.2- Ưu tiên …"
    ("subarabic", 6.5, re.compile(r"^(?P<m>\d{1,2}(?:\.\d{1,2})+)\s*[.\-–]?\s+\S")),
    ("letter", 7, re.compile(r"^(?P<m>[a-zđ])\)\s*\S")),
    ("star", 8, re.compile(r"^\*\s+\S")),
]
DECLARED_RANK = 0.5  # a Markdown/HTML/DOCX heading with no numbering: top-level by default

# A web page that republishes a document often opens with its own words about it ("Thay mặt Bộ Chính
# trị, Tổng Bí thư … đã ký ban hành Nghị quyết …", then "Trân trọng giới thiệu toàn văn Nghị quyết:"):
# the publisher's text, not the document's. The lines up to that announcement get a section of their
# own, so they are never packed with the document's text nor cited as it.
PUBLISHER_LEAD = "Lời giới thiệu của trang đăng tải (không thuộc văn bản)"
_LEAD_END = re.compile(r"(?:giới thiệu|đăng tải|đăng|gửi tới bạn đọc)\s+toàn văn|^toàn văn\b.*:\s*$", re.I)
LEAD_LINES = 6  # the announcement, if any, is among the first lines of text


@dataclass
class Heading:
    kind: str
    rank: float
    marker: str | None
    label: str


def classify_heading(line: str, declared_level: int | None = None) -> Heading | None:
    # Unbalanced Markdown emphasis ("**2- **Những …") survives rendering as literal asterisks.
    stripped = re.sub(r"^(?:\*\*|__)\s*", "", line.strip())
    for kind, rank, pat in HEADING_PATTERNS:
        m = pat.match(stripped)
        if m:
            marker = m.groupdict().get("m")
            return Heading(kind, rank, marker, _label(kind, marker, stripped))
    if declared_level:
        return Heading("declared", DECLARED_RANK + declared_level / 10, None, _label("declared", None, stripped))
    return None


# What a label keeps of an interview question or a bullet: the words, not "BBT:" or "*" (a section
# path reads "Vậy các giải pháp … › Đối với cấp ủy các cấp"; the citation quotes it as it stands).
_LABEL_PREFIX = {"question": re.compile(r"^(?:BBT|PV|Phóng viên|Hỏi|Câu hỏi)\s*:\s*"),
                 "star": re.compile(r"^\*\s+")}


def _label(kind: str, marker: str | None, line: str) -> str:
    if kind in _LABEL_PREFIX:
        line = _LABEL_PREFIX[kind].sub("", line)
    words = line.replace("**", "").split()
    if len(words) <= LABEL_MAX_WORDS:
        return " ".join(words).rstrip(":")
    return " ".join(words[:12]) + " …"


def heading_marker(label: str) -> tuple[str, str | None] | None:
    """(kind, marker) of a stored section label, for compact citations like 'mục III.2'."""
    h = classify_heading(label)
    return (h.kind, h.marker) if h else None


@dataclass
class _Line:
    start: int
    end: int
    words: int
    heading: Heading | None
    path: tuple[str, ...]  # section labels in force for this line (including its own heading)
    hard: tuple[str, ...]  # the part of the path made of hard-boundary headings
    is_title: bool = False  # a heading with content nested under it (not content itself)
    lead_in: bool = False  # "Đồng chí Trần Thị Lộc:", "Về hành động:" — announces what follows
    stub: bool = False  # a closing line joined to the passage before it: not what the passage is about

    @property
    def is_content(self) -> bool:
        return not self.is_title and not self.lead_in and not self.stub


def _lines(text: str, declared: dict[int, int]) -> list[_Line]:
    out: list[_Line] = []
    stack: list[Heading] = []
    pos = 0
    prev_heading: Heading | None = None
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        if not raw.strip():
            continue
        h = classify_heading(raw, declared.get(start))
        # The title line under "Chương I" / "Mục 2" ("NHỮNG QUY ĐỊNH CHUNG") belongs to that heading.
        if (
            h is None
            and prev_heading is not None
            and prev_heading.kind in ("phan", "chuong", "muc", "alpha", "roman")
            and raw.isupper()
            and word_count(raw) <= 30
            and out
        ):
            prev_heading.label = f"{prev_heading.label.rstrip('.: ')}. {raw.strip()}"
            last = out[-1]
            out[-1] = _Line(last.start, end, last.words + word_count(raw), last.heading,
                            tuple(s.label for s in stack), tuple(s.label for s in stack if s.rank <= HARD_RANK))
            prev_heading = None
            continue
        if h is not None:
            while stack and stack[-1].rank >= h.rank:
                stack.pop()
            stack.append(h)
        prev_heading = h
        out.append(_Line(start, end, word_count(raw), h, tuple(s.label for s in stack),
                         tuple(s.label for s in stack if s.rank <= HARD_RANK)))
    # A heading is a title when the next line sits under it; a numbered line followed by its
    # sibling ("1. …" then "2. …") is content that happens to be numbered.
    for cur, nxt in zip(out, out[1:], strict=False):
        cur.is_title = cur.heading is not None and nxt.path[: len(cur.path)] == cur.path
    if out and out[-1].heading is not None:
        out[-1].is_title = False
    for ln in out:
        ln.lead_in = ln.words <= 8 and text[ln.start : ln.end].rstrip().endswith(":")
    if out:
        out[-1].lead_in = False
    _mark_publisher_lead(out, text)
    return out


def _mark_publisher_lead(lines: list[_Line], text: str) -> None:
    """The publisher's lines before the announcement of the full text go under PUBLISHER_LEAD."""
    first = next((i for i, ln in enumerate(lines) if ln.heading is None), None)
    if first is None:
        return
    end = None
    for i in range(first, min(first + LEAD_LINES, len(lines))):
        if lines[i].heading is not None:
            return  # the document's own structure has begun: no lead
        if _LEAD_END.search(text[lines[i].start : lines[i].end].strip()):
            end = i
            break
    for ln in lines[first : (end + 1) if end is not None else first]:
        ln.path, ln.hard = (*ln.path, PUBLISHER_LEAD), (*ln.hard, PUBLISHER_LEAD)
        ln.lead_in = False


_SENTENCE_END = re.compile(r"(?<=[.!?…])[”\"')]*\s+(?=[“\"(\[]?[A-ZĐÀ-Ỹ0-9–-])")


def _sentence_pieces(line: _Line, text: str, limit: int) -> list[_Line]:
    """Cut one over-long paragraph at sentence ends into pieces of at most ~limit words."""
    body = text[line.start : line.end]
    cuts = [m.end() for m in _SENTENCE_END.finditer(body)]
    bounds = [0, *cuts, len(body)]
    sentences = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i] < bounds[i + 1]]
    total = line.words
    n = max(1, math.ceil(total / limit))
    target = total / n
    pieces: list[_Line] = []
    cur_s, cur_w = None, 0
    for s, e in sentences:
        w = word_count(body[s:e])
        if cur_s is not None and cur_w + w > target * 1.15 and cur_w > 0:
            seg = body[cur_s:s].rstrip()
            pieces.append(_Line(line.start + cur_s, line.start + cur_s + len(seg), cur_w, None, line.path, line.hard))
            cur_s, cur_w = None, 0
        if cur_s is None:
            cur_s = s
        cur_w += w
    if cur_s is not None:
        seg = body[cur_s:].rstrip()
        pieces.append(_Line(line.start + cur_s, line.start + cur_s + len(seg), cur_w, None, line.path, line.hard))
    if pieces and line.heading is not None:
        pieces[0].heading = line.heading
    return pieces


@dataclass
class _Unit:
    lines: list[_Line]
    whole: bool = True  # a complete section (not a part of a cut one)

    @property
    def words(self) -> int:
        return sum(ln.words for ln in self.lines)

    @property
    def hard(self) -> tuple[str, ...]:
        content = [ln for ln in self.lines if not ln.is_title] or self.lines
        return content[0].hard


def _units(lines: list[_Line]) -> list[list[_Line]]:
    """Runs of lines that start at a heading (consecutive headings stay together)."""
    units: list[list[_Line]] = []
    cur: list[_Line] = []
    for ln in lines:
        starts = ln.heading is not None or (bool(cur) and ln.hard != cur[-1].hard)  # a publisher's lead ends
        if starts and any(not x.is_title for x in cur):
            units.append(cur)
            cur = []
        cur.append(ln)
    if cur:
        units.append(cur)
    return units


def _balanced_cuts(sizes: list[int], allowed: list[bool], parts: int) -> list[int] | None:
    """Indices where `parts` contiguous groups start, minimising the largest group (DP)."""
    n = len(sizes)
    prefix = [0]
    for w in sizes:
        prefix.append(prefix[-1] + w)
    inf = float("inf")
    # best[k][i]: minimal largest group when the first i items form k groups
    best = [[inf] * (n + 1) for _ in range(parts + 1)]
    back = [[0] * (n + 1) for _ in range(parts + 1)]
    best[0][0] = 0
    for k in range(1, parts + 1):
        for i in range(1, n + 1):
            for j in range(k - 1, i):
                if j > 0 and not allowed[j]:
                    continue
                cost = max(best[k - 1][j], prefix[i] - prefix[j])
                if cost < best[k][i]:
                    best[k][i], back[k][i] = cost, j
    if best[parts][n] == inf:
        return None
    cuts, i = [], n
    for k in range(parts, 0, -1):
        i = back[k][i]
        cuts.append(i)
    return sorted(cuts)


def _cut(unit: list[_Line], text: str, max_words: int) -> list[_Unit]:
    total = sum(ln.words for ln in unit)
    if total <= max_words:
        return [_Unit(unit)]
    expanded: list[_Line] = []
    for ln in unit:
        expanded.extend(_sentence_pieces(ln, text, max_words) if ln.words > max_words else [ln])
    sizes = [ln.words for ln in expanded]
    # A group may not start right after a title: the title stays with what it introduces.
    allowed = [i == 0 or not expanded[i - 1].is_title for i in range(len(expanded))]
    n = max(1, math.ceil(total / max_words))
    cuts, best_largest = None, float("inf")
    while n <= len(expanded):
        found = _balanced_cuts(sizes, allowed, n)
        if found is not None:
            ends = [*found[1:], len(sizes)]
            largest = max(sum(sizes[a:b]) for a, b in zip(found, ends, strict=False))
            if largest < best_largest:
                cuts, best_largest = found, largest
            if largest <= max_words * 1.1:
                break
        n += 1
    if cuts is None:
        return [_Unit(unit)]
    bounds = [*cuts, len(expanded)]
    return [_Unit(expanded[a:b], whole=False) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    if not paths:
        return ()
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for i in range(n):
            if p[i] != first[i]:
                n = i
                break
    return first[:n]


def _page_of(offset: int, pages: list[PageSpan]) -> int | None:
    for span in pages:
        if span.start <= offset < span.end:
            return span.page
    return pages[-1].page if pages and offset >= pages[-1].end else None


def _merge_headings(units: list[_Unit]) -> list[_Unit]:
    """Heading-only units (e.g. "Chương I" right before "Điều 1") join the unit after them."""
    merged: list[_Unit] = []
    carry: list[_Line] = []
    for u in units:
        if not any(ln.is_content for ln in u.lines):
            carry.extend(u.lines)
            continue
        if carry:
            u = _Unit(carry + u.lines, u.whole)
            carry = []
        merged.append(u)
    if carry:
        if merged:
            merged[-1].lines.extend(carry)
        else:
            merged.append(_Unit(carry))
    return merged


def _pack(merged: list[_Unit], min_words: int, max_words: int) -> list[_Unit]:
    """Small neighbours packed together inside the same hard section."""
    packed: list[_Unit] = []
    for u in merged:
        if packed:
            prev = packed[-1]
            # Parts of a section that was cut on purpose never merge with a neighbour.
            small = prev.words < min_words or u.words < min_words
            if (small and prev.whole and u.whole and prev.hard == u.hard
                    and prev.words + u.words <= max_words):
                prev.lines.extend(u.lines)
                continue
        packed.append(_Unit(list(u.lines), u.whole))
    return packed


def _join_stubs(packed: list[_Unit], min_words: int, max_words: int) -> list[_Unit]:
    """Stubs join their predecessor, across section boundaries (see STUB_WORDS)."""
    kept: list[_Unit] = []
    stub_words = min(STUB_WORDS, min_words)
    for i, u in enumerate(packed):
        first = u.lines[0].heading
        # a closing line ends the document; elsewhere only a line under no heading of its own
        closing = i == len(packed) - 1 and (first is None or first.marker is None)
        if (kept and u.words < stub_words and (closing or first is None)
                and kept[-1].words + u.words <= max_words):
            kept[-1].lines.extend(replace(ln, stub=True) for ln in u.lines)
            continue
        kept.append(u)
    return kept


def split_document(
    doc_id: str,
    text: str,
    headings: dict[int, int] | None = None,
    pages: list[PageSpan] | None = None,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
) -> list[Passage]:
    lines = _lines(text, headings or {})
    if not lines:
        return []
    units: list[_Unit] = []
    for run in _units(lines):
        units.extend(_cut(run, text, max_words))
    packed = _join_stubs(_pack(_merge_headings(units), min_words, max_words), min_words, max_words)
    passages: list[Passage] = []
    for i, u in enumerate(packed):
        start, end = u.lines[0].start, u.lines[-1].end
        content_paths = [ln.path for ln in u.lines if ln.is_content]
        content_paths = content_paths or [u.lines[-1].path]
        section = list(_common_prefix(content_paths))
        passages.append(
            Passage(
                doc_id=doc_id,
                ordinal=i,
                text=text[start:end],
                start=start,
                end=end,
                section=section,
                page=_page_of(start, pages or []),
            )
        )
    return passages

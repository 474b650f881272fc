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

import bisect
import math
import re
from dataclasses import dataclass

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
# No passage is longer than this, whatever its input: a paragraph with no sentence end, or a run of
# characters with no space, is cut (at word starts, then at spaces) and the build report says so.
MAX_CHARS = 6000
_WORD = re.compile(r"\w+")

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
    # every numbering pattern starts with a letter, a digit or "*": other lines skip the eleven tries
    numbered = bool(stripped) and (stripped[0].isalnum() or stripped[0] == "*")
    for kind, rank, pat in HEADING_PATTERNS if numbered else ():
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


def _paths(stack: list[Heading]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(s.label for s in stack), tuple(s.label for s in stack if s.rank <= HARD_RANK)


def _lines(text: str, declared: dict[int, int]) -> list[_Line]:
    out: list[_Line] = []
    stack: list[Heading] = []
    pos = 0
    prev_heading: Heading | None = None
    path: tuple[str, ...] = ()  # the stack's labels, recomputed only when the stack changes
    hard: tuple[str, ...] = ()
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
            path, hard = _paths(stack)
            last = out[-1]
            out[-1] = _Line(last.start, end, last.words + word_count(raw), last.heading, path, hard)
            prev_heading = None
            continue
        if h is not None:
            while stack and stack[-1].rank >= h.rank:
                stack.pop()
            stack.append(h)
            path, hard = _paths(stack)
        prev_heading = h
        out.append(_Line(start, end, word_count(raw), h, path, hard))
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


def _long_spans(body: str, s: int, e: int, limit: int) -> list[tuple[int, int]]:
    """A sentence over `limit` words or MAX_CHARS characters, cut at word starts every `limit` words,
    then every MAX_CHARS characters (a run with no space): no passage grows with its input."""
    spans: list[tuple[int, int]] = []
    a = s
    for k, m in enumerate(_WORD.finditer(body, s, e)):
        if k and k % limit == 0:
            spans.append((a, m.start()))
            a = m.start()
    spans.append((a, e))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        while b - a > MAX_CHARS:
            space = body.rfind(" ", a + MAX_CHARS // 2, a + MAX_CHARS)
            cut = space + 1 if space > a else a + MAX_CHARS
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


def _sentence_pieces(line: _Line, text: str, limit: int, cuts_made: list[int]) -> list[_Line]:
    """Cut one over-long paragraph at sentence ends into pieces of at most ~limit words; a sentence
    longer than a passage is cut at word boundaries (counted in `cuts_made`)."""
    body = text[line.start : line.end]
    ends = [m.end() for m in _SENTENCE_END.finditer(body)]
    bounds = [0, *ends, len(body)]
    sentences: list[tuple[int, int]] = []
    for i in range(len(bounds) - 1):
        s, e = bounds[i], bounds[i + 1]
        if s >= e:
            continue
        if e - s > MAX_CHARS or word_count(body[s:e]) > limit:
            cuts_made[0] += 1
            sentences.extend(_long_spans(body, s, e, limit))
        else:
            sentences.append((s, e))
    total = line.words
    n = max(1, math.ceil(total / limit))
    target = total / n
    pieces: list[_Line] = []
    cur_s: int | None = None
    cur_w = 0
    for s, e in sentences:
        w = word_count(body[s:e])
        if cur_s is not None and cur_w > 0 and (cur_w + w > target * 1.15 or e - cur_s > MAX_CHARS):
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
    def chars(self) -> int:
        return self.lines[-1].end - self.lines[0].start

    @property
    def hard(self) -> tuple[str, ...]:
        content = [ln for ln in self.lines if not ln.is_title] or self.lines
        return content[0].hard


def _units(lines: list[_Line]) -> list[list[_Line]]:
    """Runs of lines that start at a heading (consecutive headings stay together)."""
    units: list[list[_Line]] = []
    cur: list[_Line] = []
    has_content = False
    for ln in lines:
        starts = ln.heading is not None or (bool(cur) and ln.hard != cur[-1].hard)  # a publisher's lead ends
        if starts and has_content:
            units.append(cur)
            cur, has_content = [], False
        cur.append(ln)
        has_content = has_content or not ln.is_title
    if cur:
        units.append(cur)
    return units


def _reach(blocks: list[int], limit: int) -> list[int] | None:
    """reach[i]: the end of the longest run of blocks from i whose sum is at most `limit` (two pointers)."""
    m = len(blocks)
    reach = [0] * m
    j, run = 0, 0
    for i in range(m):
        if j < i:
            j, run = i, 0
        while j < m and run + blocks[j] <= limit:
            run += blocks[j]
            j += 1
        if j == i:
            return None  # one block alone is over the limit
        reach[i] = j
        run -= blocks[i]
    return reach


def _need(blocks: list[int], limit: int) -> list[int] | None:
    """need[i]: the fewest groups of at most `limit` that cover blocks i.. (greedy is optimal for each suffix)."""
    reach = _reach(blocks, limit)
    if reach is None:
        return None
    need = [0] * (len(blocks) + 1)
    for i in range(len(blocks) - 1, -1, -1):
        need[i] = 1 + need[reach[i]]
    return need


def _min_largest(blocks: list[int], parts: int) -> int:
    """The smallest largest group over partitions of `blocks` into at most `parts` groups (binary search)."""
    # the greedy cut at total/parts + the largest block always fits in `parts` groups: a narrow range
    lo, hi = max(blocks), min(sum(blocks), sum(blocks) // parts + max(blocks))
    while lo < hi:
        mid = (lo + hi) // 2
        need = _need(blocks, mid)
        if need is not None and need[0] <= parts:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _balanced_cuts(sizes: list[int], allowed: list[bool], max_words: int) -> list[int]:
    """Indices where groups start: as few groups as reach a largest group of about max_words (or the
    smallest largest possible), each group near an equal share. O(n log total) in the number of items."""
    starts = [i for i in range(len(sizes)) if i == 0 or allowed[i]]
    bounds = [*starts, len(sizes)]
    blocks = [sum(sizes[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    total, m = sum(blocks), len(blocks)
    goal = max(int(max_words * 1.1), max(blocks))
    need_goal = _need(blocks, goal)
    parts = min(m, max(math.ceil(total / max_words), need_goal[0] if need_goal else m))
    limit = _min_largest(blocks, parts)
    need = _need(blocks, limit)
    reach = _reach(blocks, limit)
    assert need is not None and reach is not None  # limit >= max(blocks)
    prefix = [0]
    for w in blocks:
        prefix.append(prefix[-1] + w)
    cuts, s, left = [0], 0, parts
    while left > 1 and reach[s] < m:
        target = prefix[s] + (total - prefix[s]) / left
        ok = [c for c in range(s + 1, reach[s] + 1) if need[c] <= left - 1]
        s = min(ok, key=lambda c: abs(prefix[c] - target))
        cuts.append(s)
        left -= 1
    return [starts[c] for c in cuts]


def _cut(unit: list[_Line], text: str, max_words: int, cuts_made: list[int]) -> list[_Unit]:
    total = sum(ln.words for ln in unit)
    if total <= max_words and unit[-1].end - unit[0].start <= MAX_CHARS:
        return [_Unit(unit)]
    expanded: list[_Line] = []
    for ln in unit:
        long = ln.words > max_words or ln.end - ln.start > MAX_CHARS
        expanded.extend(_sentence_pieces(ln, text, max_words, cuts_made) if long else [ln])
    # Groups are balanced on words, or on characters where a piece has more characters than words count.
    sizes = [max(ln.words, -(-(ln.end - ln.start) * max_words // MAX_CHARS)) for ln in expanded]
    # A group may not start right after a title: the title stays with what it introduces.
    allowed = [i == 0 or not expanded[i - 1].is_title for i in range(len(expanded))]
    cuts = _balanced_cuts(sizes, allowed, max_words)
    bounds = [*cuts, len(expanded)]
    return [_Unit(expanded[a:b], whole=False) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def _as_stub(line: _Line) -> _Line:
    # the constructor, not dataclasses.replace or copy.copy: ten times cheaper, once per line of a stub
    return _Line(line.start, line.end, line.words, line.heading, line.path, line.hard, line.is_title,
                 line.lead_in, stub=True)


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


def _page_of(offset: int, pages: list[PageSpan], starts: list[int]) -> int | None:
    i = bisect.bisect_right(starts, offset) - 1  # pages are in text order: a lookup is log(pages)
    if i >= 0 and pages[i].start <= offset < pages[i].end:
        return pages[i].page
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
                    and prev.words + u.words <= max_words and prev.chars + u.chars <= MAX_CHARS):
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
                and kept[-1].words + u.words <= max_words and kept[-1].chars + u.chars <= MAX_CHARS):
            kept[-1].lines.extend(_as_stub(ln) for ln in u.lines)
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
    notes: list[str] | None = None,
) -> list[Passage]:
    """Passages of `text`; a cut a reader should know of (a sentence longer than a passage) is said
    in `notes`. Time is O(n log n) in the length of the text."""
    lines = _lines(text, headings or {})
    if not lines:
        return []
    units: list[_Unit] = []
    cuts_made = [0]
    for run in _units(lines):
        units.extend(_cut(run, text, max_words, cuts_made))
    if cuts_made[0] and notes is not None:
        notes.append(f"{cuts_made[0]} sentence(s) longer than a passage ({max_words} words or {MAX_CHARS} "
                     "characters) with no sentence end: cut at word boundaries")
    packed = _join_stubs(_pack(_merge_headings(units), min_words, max_words), min_words, max_words)
    passages: list[Passage] = []
    page_starts = [span.start for span in pages or []]
    for i, u in enumerate(packed):
        start, end = u.lines[0].start, u.lines[-1].end
        content_paths = [ln.path for ln in u.lines if ln.is_content]
        content_paths = content_paths or [u.lines[-1].path]
        section = list(_common_prefix(content_paths))
        passages.append(Passage(doc_id=doc_id, ordinal=i, text=text[start:end], start=start, end=end,
                                section=section, page=_page_of(start, pages or [], page_starts)))
    return passages

"""What is new: a document compared with the one it follows, part by part, every line a cited passage.

**Units.** A law is read article by article (Điều), each article clause by clause (its "1.", "2." …
sections, the lines before the first clause being a clause of their own). Any other document is read
by its own sections: every section path that holds text (57-NQ/TW's I.1, II.2, III.4 …), each
section line by line. Sections come from the passages' stored section paths and heading lines
(`implementation.segments`), so the units are those a citation names.

**Similarity** of two units, from two signals averaged:

- *words*: the cosine of their syllable unigram + bigram TF-IDF vectors (the article's own number and
  list markers left out), which sees a kept sentence whatever its place;
- *meaning*: the cosine of the means of their sentences' stored vectors (`Backend.sentences`, the
  index's own: nothing is embedded), which sees a re-worded provision, measured above the two
  documents' background (`above_background`: the median pair counts 0, identity 1).

**Alignment.** The units of NEW are assigned to units of OLD one to one (the Hungarian assignment over
the similarity), and a pair is kept when its similarity reaches `PAIR_MIN`, chosen on the Insurance
Business Law pair (docs/evaluation.md), not on the pairs reported. Two generations of a resolution
re-word what they keep, so between two documents read by sections a pair below it is kept too when
its two units are each other's best match. Inside an aligned pair the clauses
(lines) are aligned the same way over words alone, with `PART_MIN`.

**Verdicts.** A unit of NEW is *kept* (same text), *moved* (same text, another number), *changed*
(with what differs: the changed figures first, then the diff over syllables) or *new*; a unit of OLD
that no unit of NEW took is *dropped*. When fewer than `RELATED_SHARE` of NEW's units find a
counterpart the two documents are on different subjects: the comparison says so and lists no pairs.
Everything shown is a verbatim slice of the indexed passages, with its ready-to-paste citation.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer.records import section_label
from indexer.split import heading_marker
from indexer.text.docnumbers import find_numbers, number_key
from indexer.text.references import reference_key
from search_app.core import compare_report
from search_app.core.citation import format_citation
from search_app.core.implementation import Segment, section_number, segments, stored_vectors
from search_app.core.textdiff import changed_figures, figure_keys, same_text, word_diff

PAIR_MIN = 0.35
PART_MIN = 0.35
RELATED_SHARE = 0.25
STATUSES = ("kept", "moved", "changed", "new", "dropped")
_WORD = re.compile(r"\w+")
_LEAD_MARKER = re.compile(r"^\s*(?:Điều\s+\d+[a-z]?\s*[.:]|\d{1,2}(?:\.\d{1,2})*\s*[.\-–)]|[a-zđ]\)|[IVXLC]+\s*[.\-–]"
                          r"|[-–—*•+])\s*", re.IGNORECASE)


class CompareError(ValueError):
    """A comparison that cannot be made: a key that is not indexed, or a document with no text."""


class NotIndexed(CompareError):
    """OLD or NEW names no indexed document."""


@dataclass
class Part:
    """A clause of an article, or a line of a section: verbatim text, offsets into one passage."""

    key: str
    text: str
    segment: Segment


@dataclass
class Unit:
    key: str  # "Điều 43", "III.2", or the section label
    heading: str
    path: tuple[str, ...]
    segments: list[Segment]
    parts: list[Part] = field(default_factory=list)
    vector: np.ndarray | None = None

    @property
    def text(self) -> str:
        return "\n".join(s.text for s in self.segments)


# --- units -----------------------------------------------------------------------------------------

def _dieu_at(path: tuple[str, ...]) -> int | None:
    for i, label in enumerate(path):
        m = heading_marker(label)
        if m and m[0] == "dieu":
            return i
    return None


def _own(segs: list[Segment], own_key: str, doc_key: str | None) -> list[Segment]:
    """The segments of the document `own_key` names: the top-level parts naming another number are left
    out; when the file is another document's, only the part that names `own_key` is kept."""
    def names(seg: Segment) -> set[str]:
        return {m.key for m in find_numbers(seg.path[0])} if seg.path else set()
    if doc_key == own_key or doc_key is None:
        return [s for s in segs if not names(s) or own_key in names(s)]
    return [s for s in segs if own_key in names(s)]


def law_units(segs: list[Segment]) -> list[Unit]:
    """One unit per article, its clauses as parts."""
    units: dict[tuple[str, ...], Unit] = {}
    for s in segs:
        i = _dieu_at(s.path)
        if i is None:
            continue
        head = s.path[:i + 1]
        u = units.get(head)
        if u is None:
            m = heading_marker(head[-1])
            u = units[head] = Unit(f"Điều {m[1] if m else '?'}", "", head, [])
        u.segments.append(s)
        if s.heading and len(s.path) == i + 1 and not u.heading:
            u.heading = s.heading
        clause = s.path[i + 1] if len(s.path) > i + 1 else ""
        cm = heading_marker(clause) if clause else None
        ckey = cm[1] or "" if cm else ""
        if u.parts and u.parts[-1].key == ckey:
            u.parts[-1].text += "\n" + s.text
        else:
            u.parts.append(Part(ckey, s.text, s))
    for u in units.values():
        u.heading = u.heading or u.path[-1]
        u.parts = [p for p in u.parts if not same_text(p.text, u.heading)] or u.parts
        for p in u.parts:  # the heading line is not a clause
            if p.text.startswith(u.heading):
                p.text = p.text[len(u.heading):].lstrip("\n")
        u.parts = [p for p in u.parts if p.text.strip()]
    return list(units.values())


def section_units(segs: list[Segment]) -> list[Unit]:
    """One unit per section path that holds text, its lines as parts. A numbered paragraph whose
    heading line is all its text ("1- Phát triển và ứng dụng …") is a unit of that line; a heading
    over sub-sections and nothing else ("I- QUAN ĐIỂM") is none."""
    units: dict[tuple[str, ...], Unit] = {}
    headings: dict[tuple[str, ...], list[Part]] = {}
    for s in segs:
        u = units.get(s.path)
        if u is None:
            label = section_number(s.path) or (section_label(list(s.path)) if s.path else "(mở đầu)")
            u = units[s.path] = Unit(label, s.heading or (s.path[-1] if s.path else ""), s.path, [])
        u.segments.append(s)
        for line in s.text.split("\n"):
            if not line.strip():
                continue
            own = headings.setdefault(s.path, []) if s.heading and same_text(line.replace("**", ""), s.heading) \
                else u.parts
            own.append(Part(str(len(u.parts) + 1), line, s))
    parents = {p[:i] for p in units for i in range(len(p))}
    out = []
    for path, u in units.items():
        if not u.parts and path not in parents:
            u.parts = headings.get(path, [])
        if u.parts:
            out.append(u)
    return out


def units_of(passages: list[dict[str, Any]], own_key: str, doc_key: str | None) -> tuple[str, list[Unit]]:
    """("law" | "sections", the units of the document)."""
    segs = _own(segments(passages), own_key, doc_key)
    laws = law_units(segs)
    if len(laws) >= 2:
        return "law", laws
    return "sections", section_units(segs)


# --- similarity ------------------------------------------------------------------------------------

def _terms(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return words + [a + " " + b for a, b in zip(words, words[1:], strict=False)]


def body(text: str) -> str:
    """The text without its leading list markers and article number, line by line."""
    return "\n".join(_LEAD_MARKER.sub("", line) for line in text.split("\n"))


def lexical(old: list[str], new: list[str]) -> np.ndarray:
    """Cosine of syllable unigram+bigram TF-IDF vectors, |new| × |old| (sparse: a law's vocabulary is
    tens of thousands of terms)."""
    from scipy.sparse import csr_matrix

    docs = [Counter(_terms(body(t))) for t in old + new]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    vocab = {t: i for i, t in enumerate(df)}
    n = len(docs)
    rows, cols, vals = [], [], []
    for r, d in enumerate(docs):
        for t, c in d.items():
            rows.append(r)
            cols.append(vocab[t])
            vals.append((1 + math.log(c)) * math.log((1 + n) / (1 + df[t])))
    mat = csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(n, max(len(vocab), 1)))
    norms = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
    mat = csr_matrix(mat.multiply(1 / np.where(norms == 0, 1, norms)[:, None]))
    return np.asarray((mat[len(old):] @ mat[:len(old)].T).todense(), dtype=np.float32)


def overlap(old: list[str], new: list[str]) -> np.ndarray:
    """Dice coefficient of the term sets (syllables and syllable pairs), |new| × |old|: for the few
    clauses of one article, where building TF-IDF matrices costs more than it tells."""
    a = [set(_terms(body(t))) for t in old]
    b = [set(_terms(body(t))) for t in new]
    out = np.zeros((len(b), len(a)), dtype=np.float32)
    for i, x in enumerate(b):
        for j, y in enumerate(a):
            if x or y:
                out[i, j] = 2 * len(x & y) / (len(x) + len(y))
    return out


def meaning(old: list[Unit], new: list[Unit]) -> np.ndarray | None:
    """Cosine of the units' mean sentence vectors, |new| × |old| (None when vectors are missing)."""
    if any(u.vector is None for u in old + new):
        return None
    a = np.stack([u.vector for u in old])  # type: ignore[misc]
    b = np.stack([u.vector for u in new])  # type: ignore[misc]
    return b @ a.T


def above_background(sem: np.ndarray) -> np.ndarray:
    """Cosines rescaled so that the median pair of the two documents is 0 and identity 1: e5 puts any
    two passages of one language near 0.8, a hashing embedder near 0.1; what tells a counterpart is how
    far a pair stands above the documents' own background, which makes one threshold fit both."""
    base = float(np.median(sem))
    return np.clip((sem - base) / max(1.0 - base, 1e-6), 0.0, 1.0)


def unit_vectors(backend: Any, units: list[Unit]) -> None:
    segs = [s for u in units for s in u.segments if s.row.get("pid") is not None]
    if not segs:
        return
    stored_vectors(backend, segs)
    for u in units:
        vecs = [s.vectors for s in u.segments if s.vectors is not None and len(s.vectors)]
        if vecs:
            v = np.concatenate(vecs).mean(axis=0)
            u.vector = v / (np.linalg.norm(v) or 1.0)


def align(score: np.ndarray, floor: float, mutual: bool = False) -> dict[int, int]:
    """new index → old index: the one-to-one assignment of highest total score, pairs ≥ floor only;
    with `mutual`, also a pair below the floor whose two units are each other's best match."""
    from scipy.optimize import linear_sum_assignment

    if not score.size:
        return {}
    rows, cols = linear_sum_assignment(-score)
    best_old, best_new = score.argmax(axis=1), score.argmax(axis=0)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True)
            if score[r, c] >= floor or (mutual and score[r, c] > 0 and best_old[r] == c and best_new[c] == r)}


# --- the comparison --------------------------------------------------------------------------------

@dataclass
class Side:
    """One document of the comparison: its row, its key, its units."""

    doc: dict[str, Any]
    key: str
    mode: str
    units: list[Unit]
    subject: str | None = None
    note: str | None = None
    cited: dict[tuple[tuple[str, ...], int | None], str] = field(default_factory=dict)

    def cite(self, path: tuple[str, ...], seg: Segment) -> str:
        key = (path, seg.row.get("page"))
        if key not in self.cited:
            self.cited[key] = format_citation(self.doc, list(path), key[1], subject=self.subject, note=self.note)
        return self.cited[key]

    def unit_side(self, u: Unit) -> dict[str, Any]:
        first = u.segments[0]
        return {"key": u.key, "heading": u.heading, "text": u.text, "citation": self.cite(u.path, first),
                "doc_id": self.doc["doc_id"], "pid": first.row.get("pid"), "section": list(u.path),
                "section_label": section_label(list(u.path))}

    def part_side(self, u: Unit, p: Part) -> dict[str, Any]:
        path = p.segment.path[:len(u.path) + 1] if self.mode == "law" and p.key else u.path
        return {"key": p.key, "text": p.text, "citation": self.cite(path, p.segment), "pid": p.segment.row.get("pid")}


def resolve(graph: Any, value: str) -> tuple[str, str]:
    """(document id, key) of `value`: a document id, or a number ("59/2020/QH14") of an indexed document."""
    if value in graph.docs:
        doc = graph.docs[value]
        return value, number_key(doc["doc_number"]) if doc.get("doc_number") else value
    key = reference_key(value) or value.strip()
    docs = graph.key_docs.get(key)
    if not docs:
        raise NotIndexed(f"{value!r} is neither an indexed document id nor the number of an indexed document")
    return docs[0], key


def load_side(searcher: Any, graph: Any, value: str) -> Side:
    doc_id, key = resolve(graph, value)
    doc = graph.docs[doc_id]
    doc_key = number_key(doc["doc_number"]) if doc.get("doc_number") else None
    mode, units = units_of(searcher.doc_passages(doc_id), key, doc_key)
    if not units:
        raise CompareError(f"{value}: no section with text found")
    if doc_key != key and doc.get("doc_number"):  # a document inside another's file
        doc = {**doc, "doc_number": value.strip(), "doc_type": _type_of(value), "title": value.strip()}
    return Side(doc, key, mode, units, graph.subject(doc_id) if doc_key == key else None,
                graph.citation_note(doc_id) if doc_key == key else None)


def _type_of(number: str) -> str | None:
    from indexer.text.docnumbers import type_from_number

    return type_from_number(number)


def part_pairs(old_u: Unit, new_u: Unit, a: Side, b: Side) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the parts of an aligned pair compared, the figures that changed in them with citations)."""
    sim = overlap([p.text for p in old_u.parts], [p.text for p in new_u.parts])
    match = align(sim, PART_MIN)
    taken = set(match.values())
    old_keys, new_keys = figure_keys(body(old_u.text)), figure_keys(body(new_u.text))
    rows: list[dict[str, Any]] = []
    figs: list[dict[str, Any]] = []
    for i, p in enumerate(new_u.parts):
        ns = b.part_side(new_u, p)
        if i not in match:
            rows.append({"status": "new", "old": None, "new": ns})
            continue
        q = old_u.parts[match[i]]
        os_ = a.part_side(old_u, q)
        if same_text(body(q.text), body(p.text)):
            rows.append({"status": "moved" if q.key != p.key else "kept", "old": os_, "new": ns})
            continue
        changed = [{**f, "old_citation": os_["citation"], "new_citation": ns["citation"]}
                   for f in changed_figures(body(q.text), body(p.text), old_keys, new_keys)]
        figs += changed
        rows.append({"status": "changed", "old": os_, "new": ns, "figures": changed,
                     "diff": word_diff(body(q.text), body(p.text))})
    for j, q in enumerate(old_u.parts):
        if j not in taken:
            rows.append({"status": "dropped", "old": a.part_side(old_u, q), "new": None})
    return rows, figs


def unit_pair(a: Side, b: Side, i: int | None, j: int | None, score: float | None) -> dict[str, Any]:
    new_u = b.units[i] if i is not None else None
    old_u = a.units[j] if j is not None else None
    out: dict[str, Any] = {"old": a.unit_side(old_u) if old_u else None, "new": b.unit_side(new_u) if new_u else None,
                           "score": None if score is None else round(float(score), 4), "moved": False,
                           "figures": [], "parts": []}
    if old_u is None or new_u is None:
        out["status"] = "new" if old_u is None else "dropped"
        return out
    out["moved"] = old_u.key != new_u.key
    if same_text(body(old_u.text), body(new_u.text)):
        out["status"] = "moved" if out["moved"] else "kept"
        return out
    out["status"] = "changed"
    out["parts"], out["figures"] = part_pairs(old_u, new_u, a, b)
    return out


def _order(news: list[dict[str, Any]], dropped: dict[int, dict[str, Any]],
           match: dict[int, int]) -> list[dict[str, Any]]:
    """NEW's order; a dropped unit of OLD right after the pair holding the OLD unit before it."""
    at = {j: i for i, j in match.items()}
    keyed: list[tuple[float, int, dict[str, Any]]] = [(float(i), 0, p) for i, p in enumerate(news)]
    for j, p in dropped.items():
        before = [at[k] for k in at if k < j]
        keyed.append((max(before, default=-1) + 0.5, j, p))
    return [p for *_, p in sorted(keyed, key=lambda t: (t[0], t[1]))]


def compare(searcher: Any, old: str, new: str, pair_min: float = PAIR_MIN) -> dict[str, Any]:
    """OLD and NEW (document ids or numbers) compared part by part (module docstring); `pair_min` is
    for the threshold's tuning (benchmarks/compare_eval.py --tune)."""
    graph = searcher.relations()
    a, b = load_side(searcher, graph, old), load_side(searcher, graph, new)
    if a.doc["doc_id"] == b.doc["doc_id"] and a.key == b.key:
        raise CompareError("OLD and NEW are the same document")
    unit_vectors(searcher.backend, a.units + b.units)
    score = lexical([u.text for u in a.units], [u.text for u in b.units])
    sem = meaning(a.units, b.units)
    if sem is not None:
        score = (score + above_background(sem)) / 2
    match = align(score, pair_min, mutual=a.mode == b.mode == "sections")
    share = len(match) / len(b.units)
    head = {"old": _doc_head(a), "new": _doc_head(b), "mode": b.mode if a.mode == b.mode else "sections",
            "related": share >= RELATED_SHARE, "matched_share": round(share, 4)}
    if not head["related"]:
        head["message"] = (f"Hai văn bản không cùng nội dung: chỉ {len(match)}/{len(b.units)} phần của văn bản mới "
                           "có phần tương ứng trong văn bản cũ, không lập bảng so sánh.")
        out = {**head, "counts": dict.fromkeys(STATUSES, 0), "pairs": [], "figures": []}
        return {**out, "summary": compare_report.summary(out)}
    news = [unit_pair(a, b, i, match.get(i), score[i, match[i]] if i in match else None)
            for i in range(len(b.units))]
    taken = set(match.values())
    dropped = {j: unit_pair(a, b, None, j, None) for j in range(len(a.units)) if j not in taken}
    pairs = _order(news, dropped, match)
    counts = {s: sum(p["status"] == s for p in pairs) for s in STATUSES}
    figs = [{**f, "old_unit": p["old"]["key"], "new_unit": p["new"]["key"]} for p in pairs for f in p["figures"]]
    out = {**head, "message": None, "counts": counts, "pairs": pairs, "figures": figs}
    return {**out, "summary": compare_report.summary(out)}


def _doc_head(s: Side) -> dict[str, Any]:
    return {"doc_id": s.doc["doc_id"], "key": s.key, "title": s.doc.get("title"), "doc_number": s.doc.get("doc_number"),
            "doc_type": s.doc.get("doc_type"), "date": s.doc.get("date"), "units": len(s.units), "mode": s.mode,
            "citation": format_citation(s.doc, [], None, subject=s.subject, note=s.note)}

"""The implementation map: which task of a resolution each implementing document carries out.

A resolution's **tasks** are its sections at the finest level that holds text, inside the part whose
heading names them ("III- NHIỆM VỤ, GIẢI PHÁP", "II. NHIỆM VỤ CỤ THỂ"; the whole text when no part
does): 57-NQ/TW's III.1–7, 20-NQ/TW's III.1, III.2.1 … III.6. An implementing document is cut the
same way into **items** (03/NQ-CP's II.k.a, II.k.b, …): the lines of one finest section inside one
passage. Sections are read from each passage's stored section path and its heading lines, so a
passage holding several items (the splitter packs short ones together) is cut back into them, and a
top-level part of a file that names another document's number (Kết luận 69-KL/TW appended to the
57-NQ/TW file) belongs to that document, not to this one.

How an item is matched to a task, from two signals:

- **meaning**: the soft alignment of their sentences (as BERTScore does for tokens): the mean, over
  the item's sentences, of each one's best cosine similarity with a sentence of the task. Sentence
  vectors are the index's own (`Backend.sentences`, embedded without title or heading), so the
  default map embeds nothing; a draft, or the meaning-only evaluation, embeds its sentences with
  the index's model.
- **structure**: where the implementing document mirrors the resolution (03/NQ-CP's II.k follows
  57-NQ/TW's III.k), an item under section k carries out task k. Whether it mirrors is decided,
  not assumed: the items under each numbered section are judged together by meaning (summed
  similarities), and the document mirrors when that verdict names the same-numbered task for at
  least half of its sections (and it has two or more). Then every item under a section with a
  same-numbered task goes to it (``match: "structure"``); every other item is matched by meaning
  (``match: "meaning"``).

An item matched by meaning goes to its best task unless nothing matches it well enough: e5
similarities sit in a narrow band, so no absolute cut-off is meaningful; instead an item whose best
similarity is a low outlier among the best similarities of all the items being mapped (below
Tukey's lower fence, Q1 − 1.5·IQR, a standard rule chosen before looking at any result) is left
unassigned. The fence is relative to the documents at hand, not tuned on the evaluation set.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.records import section_label
from indexer.split import DECLARED_RANK, classify_heading, heading_marker
from indexer.text.docnumbers import find_numbers, number_key
from indexer.text.normalise import fold
from indexer.text.references import reference_key
from indexer.text.sentences import sentence_spans
from search_app.core.citation import format_citation, section_name

IMPLEMENTING_TYPES = ("implements", "guides", "basis")
TASK_PART = re.compile(r"\b(?:nhiem vu|giai phap)\b")
TASK_PART_MAX_WORDS = 10  # a part heading ("II. NHIỆM VỤ CỤ THỂ"), not a numbered sentence naming tasks
NUMBERED = ("roman", "alpha", "arabic", "subarabic", "letter")
FENCE_IQR = 1.5  # Tukey's lower fence
MIRROR_SHARE = 0.5
_MARKER = re.compile(r"^\s*(?:\*\*)?\s*(?:[IVXLC]+|[A-Z]|\d{1,2}(?:\.\d{1,2})*|[a-zđ])\s*[).\-–]\s*(?:\*\*)?\s*")
_BULLET = re.compile(r"^\s*(?:[*•+\-–—]\s*)+")


class MapError(ValueError):
    """A map that cannot be made: the key is not indexed, or there is nothing to compare with."""


@dataclass
class Segment:
    """The lines of one section inside one passage: offsets [start, end) into the passage text."""

    row: dict[str, Any]  # the passage row (pid, doc_id, ordinal, section, text, …)
    path: tuple[str, ...]
    start: int
    end: int
    heading: str | None = None  # the text of the heading line that opens the section here, if any
    vectors: np.ndarray | None = None  # its sentences' vectors
    spans: list[tuple[int, int]] = field(default_factory=list)  # its sentences, offsets into the passage

    @property
    def text(self) -> str:
        return self.row["text"][self.start:self.end]


@dataclass
class Task:
    label: str
    heading: str
    path: tuple[str, ...]
    segments: list[Segment]

    def vectors(self) -> np.ndarray:
        return np.concatenate([s.vectors for s in self.segments if s.vectors is not None and len(s.vectors)])


def _rank(label: str) -> float:
    h = classify_heading(label)
    return h.rank if h else DECLARED_RANK


def segments(passages: list[dict[str, Any]]) -> list[Segment]:
    """Every passage cut at its heading lines into sections (see the module docstring)."""
    out: list[Segment] = []
    for p in sorted(passages, key=lambda r: r["ordinal"]):
        stack = [(label, _rank(label)) for label in p["section"]]
        labels = {" ".join(label.rstrip("…").split()) for label in p["section"]}
        text, pos = p["text"], 0
        for raw in text.split("\n"):
            a, b = pos, pos + len(raw)
            pos = b + 1
            if not raw.strip():
                continue
            h = classify_heading(raw)
            plain = " ".join(raw.replace("**", "").split())
            if h is None and any(lab and plain.startswith(lab) for lab in labels):
                continue  # a declared (Markdown) heading of the stored path: no text of its own
            if h is not None:
                while stack and stack[-1][1] >= h.rank:
                    stack.pop()
                stack.append((h.label, h.rank))
            path = tuple(label for label, _ in stack)
            if out and out[-1].row is p and out[-1].path == path and h is None:
                out[-1].end = b
                continue
            out.append(Segment(p, path, a, b, heading=plain if h is not None else None))
    return out


def _own_part(segs: list[Segment], own_key: str | None) -> list[Segment]:
    """Leave out the top-level parts of a file that name another document's number."""
    def foreign(seg: Segment) -> bool:
        keys = {m.key for m in find_numbers(seg.path[0])} if seg.path else set()
        return bool(keys) and own_key not in keys
    return [s for s in segs if not foreign(s)]


def task_part(segs: list[Segment]) -> list[Segment]:
    """The segments under the shallowest heading that names tasks; all of them when none does."""
    best: tuple[int, str] | None = None
    for s in segs:
        for depth, label in enumerate(s.path):
            words = label.split()
            if len(words) <= TASK_PART_MAX_WORDS and TASK_PART.search(fold(label).lower()) \
                    and (best is None or depth < best[0]):
                best = (depth, label)
    if best is None:
        return segs
    depth, label = best
    return [s for s in segs if len(s.path) > depth and s.path[depth] == label]


def leaves(segs: list[Segment]) -> dict[tuple[str, ...], list[Segment]]:
    """Segments grouped by section path, finest sections only (a path no other path extends)."""
    groups: dict[tuple[str, ...], list[Segment]] = defaultdict(list)
    for s in segs:
        groups[s.path].append(s)
    paths = set(groups)
    return {p: g for p, g in groups.items()
            if not any(len(q) > len(p) and q[:len(p)] == p for q in paths)}


def section_number(path: tuple[str, ...]) -> str:
    """'III. … › 2. …' → 'III.2'; '2- … › 2.1- …' → '2.1' (a sub-number replaces its parent)."""
    out: list[str] = []
    for label in path:
        m = heading_marker(label)
        if not m or m[0] not in NUMBERED or not m[1]:
            continue
        if out and m[0] == "subarabic" and m[1].startswith(out[-1] + "."):
            out[-1] = m[1]
        else:
            out.append(m[1])
    return ".".join(out)


def _marker(label: str) -> tuple[str, str] | None:
    m = heading_marker(label)
    return (m[0], m[1]) if m and m[0] in NUMBERED and m[1] else None


def strip_structure(text: str) -> str:
    """The text without its list markers ("a) ", "1. ", "- "): what a reader sees with numbers hidden."""
    lines = [_BULLET.sub("", _MARKER.sub("", ln)) for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln.strip())


# --- vectors ---------------------------------------------------------------------------------------

def stored_vectors(backend: Any, segs: list[Segment]) -> None:
    """Each segment's sentences and their stored vectors: the passage's sentences overlapping it."""
    stored = backend.sentences(sorted({s.row["pid"] for s in segs}))
    for s in segs:
        spans, vecs = stored.get(s.row["pid"], (np.zeros((0, 2), dtype=np.int64), None))
        keep = [i for i, (a, b) in enumerate(spans) if a < s.end and b > s.start]
        s.spans = [(int(spans[i][0]), int(spans[i][1])) for i in keep]
        s.vectors = vecs[keep] if vecs is not None and keep else None


def embedded_vectors(embedder: Any, segs: list[Segment], hide: bool = False,
                     drop_heading: bool = False) -> None:
    """Each segment's sentences embedded now with `embedder` (a draft, or the meaning-only reading).
    `hide` strips list markers first; `drop_heading` leaves out the segment's own heading line."""
    texts: list[str] = []
    owners: list[Segment] = []
    for s in segs:
        body = s.text
        if drop_heading and s.heading and "\n" in body:
            body = body.split("\n", 1)[1]
        elif drop_heading and s.heading:
            body = ""  # a heading line alone: nothing left to read
        if hide:
            body = strip_structure(body)
        s.spans = [(s.start, s.end)]
        pieces = [body[a:b] for a, b in sentence_spans(body)] if body.strip() else []
        texts += pieces
        owners += [s] * len(pieces)
    vecs = embedder.embed_passages(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    for s in segs:
        s.vectors = None
    rows: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(owners):
        rows[id(s)].append(i)
    for s in segs:
        if rows.get(id(s)):
            s.vectors = np.asarray(vecs[rows[id(s)]], dtype=np.float32)


def similarity(item: np.ndarray, task: np.ndarray) -> float:
    """Soft alignment: mean over the item's sentences of the best cosine with a task sentence."""
    return float((item @ task.T).max(axis=1).mean())


# --- the map ---------------------------------------------------------------------------------------

@dataclass
class Item:
    """One implementing item: a finest section of an implementing document, inside one passage."""

    segment: Segment
    doc: dict[str, Any]
    scores: np.ndarray  # similarity to each task
    task: int | None = None
    match: str | None = None  # "structure" | "meaning"

    @property
    def path(self) -> tuple[str, ...]:
        return self.segment.path


def resolution_tasks(passages: list[dict[str, Any]], own_key: str | None) -> list[Task]:
    segs = _own_part(segments(passages), own_key)
    tasks = []
    for path, group in leaves(task_part(segs)).items():
        heading = next((s.heading for s in group if s.heading), None) or (section_name(path[-1]) if path else "")
        tasks.append(Task(section_number(path) or section_label(list(path)), heading or "", path, group))
    return tasks


def implementing_items(passages: list[dict[str, Any]], own_key: str | None) -> list[Segment]:
    segs = _own_part(segments(passages), own_key)
    return [s for group in leaves(task_part(segs)).values() for s in group]


def _mirrors(items: list[Item], tasks: list[Task]) -> dict[int, int]:
    """item index → task index for the items whose section number names a task, when the document
    mirrors the resolution (module docstring); empty when it does not."""
    kinds = [_marker(t.path[-1]) for t in tasks]
    if not tasks or any(k is None for k in kinds):
        return {}
    kind = kinds[0][0]  # type: ignore[index]
    by_marker = {k[1]: i for i, k in enumerate(kinds)}  # type: ignore[index]
    groups: dict[str, list[int]] = defaultdict(list)
    for n, it in enumerate(items):
        marks = [m for m in map(_marker, it.path) if m and m[0] == kind]
        if marks and marks[-1][1] in by_marker:
            groups[marks[-1][1]].append(n)
    if len(groups) < 2:
        return {}
    agree = sum(int(np.argmax(sum(items[n].scores for n in members))) == by_marker[m]
                for m, members in groups.items())
    if agree < MIRROR_SHARE * len(groups):
        return {}
    return {n: by_marker[m] for m, members in groups.items() for n in members}


def fence(best: list[float]) -> float:
    """Tukey's lower fence of the items' best similarities (−inf for fewer than four items)."""
    if len(best) < 4:
        return float("-inf")
    q1, q3 = np.percentile(best, [25, 75])
    return float(q1 - FENCE_IQR * (q3 - q1))


def assign(items: list[Item], tasks: list[Task], use_structure: bool = True) -> None:
    """Set `task` and `match` of every item (None when nothing matches well enough)."""
    by_doc: dict[str, list[int]] = defaultdict(list)
    for n, it in enumerate(items):
        by_doc[it.doc["doc_id"]].append(n)
    structural: dict[int, int] = {}
    if use_structure:
        for members in by_doc.values():
            local = _mirrors([items[n] for n in members], tasks)
            structural.update({members[i]: t for i, t in local.items()})
    scored = [n for n, it in enumerate(items) if len(it.scores)]
    low = fence([float(items[n].scores.max()) for n in scored if n not in structural])
    for n, it in enumerate(items):
        if n in structural:
            it.task, it.match = structural[n], "structure"
        elif len(it.scores) and float(it.scores.max()) >= low and np.isfinite(it.scores.max()):
            it.task, it.match = int(np.argmax(it.scores)), "meaning"


def score_items(segs: list[Segment], docs: dict[str, dict[str, Any]], tasks: list[Task]) -> list[Item]:
    task_vecs = [t.vectors() if any(s.vectors is not None for s in t.segments) else None for t in tasks]
    items = []
    for s in segs:
        if s.vectors is None or not len(s.vectors):
            continue
        scores = np.array([similarity(s.vectors, tv) if tv is not None else -np.inf for tv in task_vecs],
                          dtype=np.float32)
        items.append(Item(s, docs[s.row["doc_id"]], scores))
    return items


def hit_dict(item: Item, graph: Any, score: float, rank: int) -> dict[str, Any]:
    """An item as a search hit (the `search --json` fields), the item's lines as its answer span."""
    seg, doc = item.segment, item.doc
    row = seg.row
    indexed = graph is not None and doc["doc_id"] in graph.docs
    citation = format_citation(doc, list(seg.path), row.get("page"),
                               subject=graph.subject(doc["doc_id"]) if indexed else None,
                               note=graph.citation_note(doc["doc_id"]) if indexed else None)
    answer = [{"start": a, "end": b} for a, b in [(seg.start, seg.end)]]
    return {"rank": rank, "score": round(score, 6), "doc_id": doc["doc_id"], "title": doc.get("title"),
            "doc_number": doc.get("doc_number"), "doc_type": doc.get("doc_type"), "date": doc.get("date"),
            "section": list(seg.path), "section_label": section_label(list(seg.path)),
            "page": row.get("page"), "text": row["text"],
            "start": row.get("start", 0), "end": row.get("end", len(row["text"])), "citation": citation,
            "validity": graph.short_validity(doc["doc_id"]) if indexed else {}, "answer": answer,
            "pid": row.get("pid"), "ordinal": row.get("ordinal"), "item": section_number(seg.path) or None,
            "match": item.match}


def build_map(key: str, by: list[str], tasks: list[Task], items: list[Item], graph: Any) -> dict[str, Any]:
    """The map as the `map --json` contract: {key, by, tasks, uncovered, unassigned}."""
    per_task: dict[int, list[Item]] = defaultdict(list)
    unassigned: list[Item] = []
    for it in items:
        (per_task[it.task] if it.task is not None else unassigned).append(it)
    out_tasks = []
    for i, t in enumerate(tasks):
        hits = [hit_dict(it, graph, float(it.scores[i]), r) for r, it in enumerate(per_task.get(i, []), start=1)]
        out_tasks.append({"label": t.label, "heading": t.heading,
                          "passages": [{"pid": s.row["pid"], "text": s.text} for s in t.segments],
                          "items": hits})
    return {"key": key, "by": by, "tasks": out_tasks,
            "uncovered": [t["label"] for t in out_tasks if not t["items"]],
            "unassigned": [hit_dict(it, graph, float(it.scores.max()), r)
                           for r, it in enumerate(unassigned, start=1)]}


def implementers(graph: Any, key: str) -> list[str]:
    """Indexed documents related to `key` by implements / guides / basis, in relation order."""
    own = set(graph.key_docs.get(key, []))
    out = [r["doc_id"] for r in graph.relations(key)
           if r["direction"] == "in" and r["type"] in IMPLEMENTING_TYPES and r["doc_id"] and r["doc_id"] not in own]
    return list(dict.fromkeys(out))


def resolve_by(graph: Any, values: list[str]) -> list[str]:
    """Document ids for `--by` values: a document id as is, else a key's indexed documents."""
    out: list[str] = []
    for v in values:
        if v in graph.docs:
            out.append(v)
            continue
        k = reference_key(v) or v.strip()
        docs = graph.key_docs.get(k)
        if not docs:
            raise MapError(f"{v!r} is neither an indexed document id nor the number of an indexed document")
        out.extend(docs)
    return list(dict.fromkeys(out))


def _doc_key(doc: dict[str, Any]) -> str | None:
    return number_key(doc["doc_number"]) if doc.get("doc_number") else None


def load_draft(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A file that is not in the corpus, read and split as the indexer would, indexing nothing:
    (its document metadata, its passage rows). Raises MapError with the reason it cannot be read."""
    from indexer.load.base import LoadError
    from indexer.load.metadata import MetadataError
    from indexer.pipeline.stages import load_one
    from indexer.split import split_document

    path = Path(path)
    try:
        loaded, _notes = load_one(path, path.name, "")
    except (LoadError, MetadataError) as e:
        raise MapError(f"{path.name}: {e}") from e
    except OSError as e:
        raise MapError(f"{path.name}: cannot read: {e.strerror or e}") from e
    if not loaded:
        raise MapError(f"{path.name}: no document in the file")
    doc, headings = loaded[0]
    rows = [{"pid": None, "doc_id": doc.doc_id, "ordinal": p.ordinal, "start": p.start, "end": p.end,
             "section": p.section, "page": p.page, "text": p.text}
            for p in split_document(doc.doc_id, doc.text, headings, doc.pages)]
    if not rows:
        raise MapError(f"{path.name}: no text to compare")
    meta = doc.metadata()
    meta["doc_id"] = f"(dự thảo) {path.name}"
    for r in rows:
        r["doc_id"] = meta["doc_id"]
    return meta, rows


def implementation_map(searcher: Any, key: str, by: list[str] | None = None, draft: Path | None = None,
                       meaning_only: bool = False, task_headings: bool = True) -> dict[str, Any]:
    """The implementation map of resolution `key` (a number or a name) against the documents `by`
    (default: its implementing documents in the relation graph) or against a `draft` file.

    `meaning_only` hides numbers and headings from the matcher: no structure, the items' list
    markers stripped and their sentences embedded again; `task_headings=False` also leaves the
    tasks' own heading lines out (both for the evaluation)."""
    graph = searcher.relations()
    key = reference_key(key) or key.strip()
    own_docs = graph.key_docs.get(key, [])
    if not own_docs:
        raise MapError(f"{key!r} is not an indexed document: its tasks are unknown (add it to the corpus)")
    res_doc = graph.docs[own_docs[0]]
    tasks = resolution_tasks(searcher.doc_passages(own_docs[0]), _doc_key(res_doc) or key)
    if not tasks:
        raise MapError(f"{key}: no section with text found")
    docs: dict[str, dict[str, Any]] = {}
    segs: list[Segment] = []
    if draft is not None:
        meta, rows = load_draft(draft)
        docs[meta["doc_id"]] = meta
        segs = implementing_items(rows, _doc_key(meta))
        doc_ids = [meta["doc_id"]]
    else:
        doc_ids = resolve_by(graph, by) if by else implementers(graph, key)
        doc_ids = [d for d in doc_ids if d not in own_docs]
        for d in doc_ids:
            docs[d] = graph.docs[d]
            segs += implementing_items(searcher.doc_passages(d), _doc_key(graph.docs[d]))
    task_segs = [s for t in tasks for s in t.segments]
    embedder = searcher.embedder()
    if draft is not None or meaning_only:
        embedded_vectors(embedder, segs, hide=meaning_only)
    else:
        stored_vectors(searcher.backend, segs)
    if task_headings:
        stored_vectors(searcher.backend, task_segs)
    else:
        embedded_vectors(embedder, task_segs, hide=True, drop_heading=True)
    items = score_items(segs, docs, tasks)
    assign(items, tasks, use_structure=not meaning_only)
    return build_map(key, doc_ids, tasks, items, graph)

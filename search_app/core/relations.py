"""The relation graph of one published index: typed relations, effective dates, validity, identity.

What each document's text says (its typed relations, effective date, subject, what it says about
the documents it cites) is computed by the indexer when the document is written, one small row per
document (`indexer/text/document_graph.py`, `Backend.graph_rows`). This module only assembles those
rows into the graph, because the status of one document depends on sentences anywhere in the
corpus: no passage is read, so an update recomputes the changed files' rows only (208 laws: 1,483
relations, 671 identity mentions; `benchmarks/relations.py` measures it). The graph of a newer
generation is assembled by the refresh that switches to it, before the switch (core/graphs.py), so
no search waits for it; the Searcher keeps one graph per published generation.

Validity is "theo các văn bản trong kho": what the indexed texts say, nothing more.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indexer.records import DocumentRow
from indexer.store.base import Backend
from indexer.text.docnumbers import (
    document_key,
    issuer_from_number,
    number_key,
    short_reference_matches,
    split_key,
    type_from_number,
)
from indexer.text.normalise import fold
from indexer.text.relations import EFFECTIVE, RELATION_TYPES, STATUS_TYPES, Relation
from search_app.core.citation import vn_date

STATUSES = ("repealed", "partly_repealed", "amended", "in_force", "unknown")
SOURCE_NOTE = "theo các văn bản trong kho"
MAX_EVIDENCE = 10
_IDENTITY_FIELDS = ("doc_type", "date", "issuer", "subject")


@dataclass(frozen=True)
class Edge:
    """A typed relation: `source` acts on `target`, as the sentence in passage `pid` says."""

    type: str
    source_key: str | None  # None: the acting document has no number (an article, an interview)
    source_label: str
    source_doc: str | None  # the acting document's doc_id when it is indexed
    target_key: str
    target_label: str
    pid: int
    evidence_doc: str  # the document whose sentence says it (the source, or a third text)
    sentence: str
    when: str | None  # ISO date the change takes effect, when known
    exceptions: tuple[str, ...]


def _today() -> str:
    return dt.date.today().isoformat()


def _relation(r: dict[str, Any], doc_id: str, ordinals: dict[int, tuple[str, int]]) -> Relation:
    """A stored relation row as the analyser's Relation (its passage's ordinal noted for evidence)."""
    ordinals[r["pid"]] = (doc_id, r["ordinal"])
    return Relation(r["type"], r["key"], r["label"], r["pid"], r["sentence"], subject=r["subject"],
                    subject_label=r["subject_label"], when=r["when"], exceptions=tuple(r["exceptions"]))


class RelationGraph:
    """Everything the index's texts say about how its documents relate and whether they apply."""

    def __init__(self, backend: Backend) -> None:
        t0 = time.perf_counter()
        self.generation = backend.manifest.get("generation")
        self.docs: dict[str, DocumentRow] = {d["doc_id"]: d for d in backend.documents()}
        # One small row per document, written by the indexer (indexer/text/document_graph.py): no
        # passage is read here, so the first search after an update costs what any search costs.
        rows = {r["doc_id"]: r for r in backend.graph_rows() if r["doc_id"] in self.docs}
        self.labels: dict[str, str] = {}
        self.key_docs: dict[str, list[str]] = defaultdict(list)
        self.doc_keys: dict[str, list[str]] = defaultdict(list)
        self._read_keys(rows)
        self._primary: dict[str, str | None] = {}
        self.effective: dict[str, tuple[str | None, int, str]] = {}
        self.subjects: dict[str, tuple[str, int, str]] = {}
        self.first_pid: dict[str, int] = {}
        self.ordinals: dict[int, tuple[str, int]] = {}
        self.mentions: dict[str, list[tuple[str, int, dict[str, str]]]] = defaultdict(list)
        raw: list[tuple[str, Relation]] = []
        for doc_id in sorted(rows):
            row = rows[doc_id]
            self._read_row(row)
            raw.extend((doc_id, _relation(r, doc_id, self.ordinals)) for r in row["relations"])
        self.edges: list[Edge] = []
        self.counts: Counter[tuple[str, str | None, str]] = Counter()
        self._into: dict[str, list[Edge]] = defaultdict(list)
        self._out_key: dict[str, list[Edge]] = defaultdict(list)
        self._out_doc: dict[str, list[Edge]] = defaultdict(list)
        for doc_id, rel in raw:
            self._add(doc_id, rel)
        self._excluded: dict[str, set[str]] = {}
        self._doc_validity: dict[tuple[str, str], dict[str, Any]] = {}  # see doc_validity
        self.subject_words: dict[str, frozenset[str]] = {}  # stages.subject_words, kept per document
        self.build_seconds = time.perf_counter() - t0

    # --- building -------------------------------------------------------------------------------

    def _read_keys(self, rows: dict[str, dict[str, Any]]) -> None:
        """Labels of every cited key, and the keys of every indexed document; a document's keys in
        order of how often the corpus cites them (its first key is the one it is cited by)."""
        cited: dict[str, list[Any]] = {}
        for row in rows.values():
            for key, (label, n) in row["cited"].items():
                item = cited.setdefault(key, [label, 0])
                item[0] = min(item[0], label)
                item[1] += n
        own: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for doc_id in sorted(rows):
            for key, label in rows[doc_id]["keys"]:
                own[key].append((doc_id, label))
        passages = {k: v[1] for k, v in cited.items()}
        for key in sorted(set(cited) | set(own), key=lambda k: (-passages.get(k, 0), k)):
            self.labels[key] = own[key][0][1] if own.get(key) else cited[key][0]
            for doc_id, _label in own.get(key, []):
                if doc_id not in self.key_docs[key]:
                    self.key_docs[key].append(doc_id)
                    self.doc_keys[doc_id].append(key)
        # "Luật số: 62/2006/QH 11" in a header reads as 62/2006/QH: the cited 62/2006/QH11 is that document.
        for key in list(self.labels):
            if not self.key_docs.get(key) and (m := re.fullmatch(r"(\d+/\d{4}/[A-Z]+)\d+", key)) \
                    and self.key_docs.get(m.group(1)):
                self.key_docs[key] = list(self.key_docs[m.group(1)])
                for d in self.key_docs[key]:
                    self.doc_keys[d].append(key)
        self._resolve_years()

    def _resolve_years(self) -> None:
        """Keys and years (`docnumbers.dated_key`): a bare number two indexed documents share names
        neither (it is `ambiguous`, and what is said of it changes neither's validity); a dated key
        no document has names the one indexed document of that number whose date is unknown."""
        self.ambiguous: dict[str, list[str]] = {}
        self.years: dict[str, set[str]] = defaultdict(set)  # bare number -> the years it is known with
        for key in self.labels:
            bare, year = split_key(key)
            if year:
                self.years[bare].add(year)
        for key, docs in list(self.key_docs.items()):
            if len(docs) > 1 and split_key(key)[1] is None and self.years.get(key):
                self.ambiguous[key] = list(docs)
                self.key_docs[key] = []
                for d in docs:
                    self.doc_keys[d].remove(key)
        for key in list(self.labels):
            bare, year = split_key(key)
            undated = [d for d in self.key_docs.get(bare, []) if not self.docs[d].get("date")]
            if year and not self.key_docs.get(key) and len(self.key_docs.get(bare, [])) == 1 and undated:
                self.key_docs[key] = undated
                self.doc_keys[undated[0]].append(key)

    def canonical(self, key: str) -> str:
        """The key the graph files `key` under: the primary key of the one document it names; for a
        number no document has, the bare number while it is known with one year only (the same
        document), else the dated key (documents of several years stay apart)."""
        docs = self.key_docs.get(key)
        if docs and len(docs) == 1:
            return self.primary_key(docs[0]) or key
        bare, year = split_key(key)
        if year and len(self.years.get(bare, ())) == 1 and not self.key_docs.get(bare) and bare not in self.ambiguous:
            return bare
        return key

    def primary_key(self, doc_id: str) -> str | None:
        """The key a document is cited by: its number's, else its name's (memoised: every relation
        a document states asks for it)."""
        if doc_id not in self._primary:
            doc = self.docs.get(doc_id) or {}
            keys = self.doc_keys.get(doc_id)
            # the bare number while it names this document alone (the key users and texts use), else the
            # number with its year: 20-NQ/TW@2012 when a 20-NQ/TW of another year is indexed too
            number = doc.get("doc_number")
            bare = number_key(number) if number else None
            self._primary[doc_id] = (bare if bare and bare in (keys or []) else document_key(number, doc.get("date"))
                                     if number else keys[0] if keys else None)
        return self._primary[doc_id]

    def _read_row(self, row: dict[str, Any]) -> None:
        doc_id = row["doc_id"]
        if row["first_pid"] is not None:
            self.first_pid[doc_id] = row["first_pid"]
        if row["effective"]:
            date, pid, ordinal, text = row["effective"]
            self.effective[doc_id] = (date, pid, text)
            self.ordinals[pid] = (doc_id, ordinal)
        for key, pid, ident in row["mentions"]:
            self.mentions[self.canonical(key)].append((doc_id, pid, ident))
        if row["subject"]:
            subject, pid, where = row["subject"]
            self.subjects[doc_id] = (subject, pid, where)

    def _add(self, doc_id: str, rel: Any) -> None:
        target = self.canonical(rel.key)
        source_key: str | None
        if rel.subject:  # a third text's statement: "X đã được sửa đổi, bổ sung theo Luật số Y"
            source_key, source_label = self.canonical(rel.subject), rel.subject_label or rel.subject
            docs = self.key_docs.get(source_key)
            source_doc = docs[0] if docs else None
        else:
            source_key, source_doc = self.primary_key(doc_id), doc_id
            doc = self.docs[doc_id]
            source_label = doc.get("doc_number") or doc.get("title") or doc_id
        if source_key == target or (source_doc is not None and source_doc in self.key_docs.get(rel.key, [])):
            return  # a document does not act on itself
        ident = (rel.type, source_key or f"doc:{source_doc}", target)
        self.counts[ident] += 1
        if self.counts[ident] > 1:
            return  # one edge per (type, source, target); the first sentence is its evidence
        when = rel.when
        if when == EFFECTIVE or (when is None and rel.type in STATUS_TYPES):
            when = self.effective.get(source_doc, (None,))[0] if source_doc else None
        edge = Edge(rel.type, source_key, source_label, source_doc, target,
                    self.labels.get(target, self.labels.get(rel.key, rel.label)), rel.pid, doc_id, rel.sentence,
                    when, rel.exceptions)
        self.edges.append(edge)
        self._into[target].append(edge)
        if source_key:
            self._out_key[source_key].append(edge)
        if source_doc:
            self._out_doc[source_doc].append(edge)

    # --- questions ------------------------------------------------------------------------------

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def docs_named(self, code: str, number: int) -> list[str]:
        """Indexed documents a short reference ("Nghị quyết 57": code NQ, number 57) can name."""
        return sorted({d for key, docs in self.key_docs.items() if docs
                       and short_reference_matches(code, number, key) for d in docs})

    def keys_of(self, doc_id: str) -> list[str]:
        return list(self.doc_keys.get(doc_id, []))

    def edges_into(self, keys: list[str]) -> list[Edge]:
        return [e for k in dict.fromkeys(map(self.canonical, keys)) for e in self._into.get(k, [])]

    def edges_out(self, keys: list[str], doc_ids: list[str]) -> list[Edge]:
        seen: set[int] = set()
        out = []
        for e in [*(e for k in dict.fromkeys(map(self.canonical, keys)) for e in self._out_key.get(k, [])),
                  *(e for d in doc_ids for e in self._out_doc.get(d, []))]:
            if id(e) not in seen:
                seen.add(id(e))
                out.append(e)
        return out

    def _actor(self, e: Edge) -> dict[str, Any]:
        label = self._doc_label(e.source_doc) if e.source_doc else self.display_label(e.source_key or "")
        return {"key": e.source_key, "label": label, "doc_id": e.source_doc}

    def display_label(self, key: str) -> str:
        """How a key reads in a list: "Luật số 59/2020/QH14", "Nghị quyết số 11-NQ/TW", "Điều lệ Đảng"."""
        docs = self.key_docs.get(key)
        if docs:
            return self._doc_label(docs[0])
        label = self.label(key)
        bare, year = split_key(key)
        if year and self._shared(bare):
            label = f"{label} ({year})"  # 20-NQ/TW (2017): not the indexed 20-NQ/TW of 2012
        if "/" in key:
            mentions = self.mentions.get(self.canonical(key), [])
            doc_type = Counter(m[2]["doc_type"] for m in mentions if m[2].get("doc_type"))
            t = max(doc_type, key=lambda k: doc_type[k]) if doc_type else type_from_number(bare)
            if t:
                return f"{t} số {label}"
        return label

    def _shared(self, bare: str) -> bool:
        """Whether a number is known with more than one year (or held by several indexed documents)."""
        holders = self.ambiguous.get(bare, []) + self.key_docs.get(bare, [])
        indexed = {(self.docs[d].get("date") or "")[:4] for d in holders}
        return len(self.years.get(bare, set()) | (indexed - {""})) > 1 or bare in self.ambiguous

    def _doc_label(self, doc_id: str) -> str:
        doc = self.docs.get(doc_id) or {}
        number = doc.get("doc_number")
        if number:
            year = (doc.get("date") or "")[:4]
            shared = year and self._shared(number_key(number))
            return f"{doc.get('doc_type') or 'Văn bản'} số {number}" + (f" ({year})" if shared else "")
        return doc.get("title") or doc_id

    def _evidence(self, edges: list[Edge]) -> list[dict[str, Any]]:
        out, seen = [], set()
        for e in edges:
            if e.pid in seen:
                continue
            seen.add(e.pid)
            item = {"doc_id": e.evidence_doc, "pid": e.pid, "ordinal": self.ordinals.get(e.pid, (None, None))[1],
                    "text": e.sentence}
            if e.exceptions:
                item["exceptions"] = list(e.exceptions)
            out.append(item)
        return out[:MAX_EVIDENCE]

    def validity(self, key: str | None = None, doc_id: str | None = None, today: str | None = None) -> dict[str, Any]:
        """The status of a key (indexed or only cited) or of an indexed document, as of `today`:
        {status, since, by, evidence, exceptions?, until?, source}."""
        today = today or _today()
        keys = ([key] if key else []) + (self.keys_of(doc_id) if doc_id else [])
        keys = list(dict.fromkeys(keys))
        indexed = doc_id is not None or any(self.key_docs.get(k) for k in keys)
        own_doc = doc_id or next((self.key_docs[k][0] for k in keys if self.key_docs.get(k)), None)
        into = [e for e in self.edges_into(keys) if e.type in STATUS_TYPES]

        def current(types: tuple[str, ...]) -> list[Edge]:
            return [e for e in into if e.type in types and (e.when is None or e.when <= today)]

        out: dict[str, Any] = {}
        for status, types in (("repealed", ("repeals", "replaces")), ("partly_repealed", ("repeals_part",)),
                              ("amended", ("amends",))):
            edges = current(types)
            if edges:
                dates = sorted(e.when for e in edges if e.when)
                by = list({(a["key"], a["doc_id"]): a for a in map(self._actor, edges)}.values())
                out = {"status": status, "since": dates[0] if dates else None, "by": by,
                       "evidence": self._evidence(edges)}
                if status == "repealed":
                    exceptions = [x for e in edges for x in e.exceptions]
                    if exceptions:
                        out["exceptions"] = exceptions
                    out["replaced"] = any(self._replacement(e, keys, own_doc) for e in edges)
                break
        if not out:
            eff = self.effective.get(own_doc) if own_doc else None
            out = {"status": "in_force" if indexed else "unknown", "since": eff[0] if eff else None, "by": [],
                   "evidence": ([{"doc_id": own_doc, "pid": eff[1], "ordinal": self.ordinals.get(eff[1], (0, 0))[1],
                                  "text": eff[2]}] if eff else [])}
        future = [e for e in into if e.type in ("repeals", "replaces") and e.when and e.when > today]
        if future and out["status"] != "repealed":
            out["until"] = min(e.when for e in future if e.when)  # a repeal the corpus schedules
        out["source"] = SOURCE_NOTE
        return out

    def _replacement(self, e: Edge, keys: list[str], own_doc: str | None) -> bool:
        """A repeal by a new version of the same document (same subject) is a replacement."""
        if e.type == "replaces":
            return True
        if not e.source_doc or e.source_doc not in self.subjects:
            return False
        mine = self.subjects[own_doc][0] if own_doc and own_doc in self.subjects else None
        if mine is None:
            ident = self.identity(keys[0]) if keys else {}
            mine = ident.get("subject")
        if not mine:
            return False
        return fold(mine).lower() == fold(self.subjects[e.source_doc][0]).lower()

    def doc_validity(self, doc_id: str) -> dict[str, Any]:
        """An indexed document's validity today, kept per day: every hit asks it twice (its badge and
        its citation's note), search after search, and a graph never changes once assembled."""
        key = (doc_id, _today())
        if key not in self._doc_validity:
            self._doc_validity[key] = self.validity(doc_id=doc_id, today=key[1])
        return self._doc_validity[key]

    def short_validity(self, doc_id: str, v: dict[str, Any] | None = None) -> dict[str, Any]:
        v = v or self.doc_validity(doc_id)
        return {"status": v["status"], "since": v["since"], "by": list(v["by"])}

    def citation_note(self, doc_id: str, v: dict[str, Any] | None = None) -> str | None:
        """The warning a citation of `doc_id` ends with (None while in force); `v`: its `doc_validity`."""
        v = v or self.doc_validity(doc_id)
        if v["status"] not in ("repealed", "partly_repealed"):
            return None
        what = "đã hết hiệu lực" if v["status"] == "repealed" else "đã hết hiệu lực một phần"
        if v["since"]:
            what += f" từ {vn_date(v['since'])}"
        by = ", ".join(a["label"] for a in v["by"])
        if by:
            what += f", thay thế bởi {by}" if v.get("replaced") else f" theo {by}"
        if v.get("exceptions"):
            what += "; có quy định ngoại lệ, xem văn bản đó"
        return f"({what})"

    def excluded_doc_ids(self, today: str | None = None) -> set[str]:
        """Indexed documents no longer in force (for "Chỉ văn bản còn hiệu lực"); partly repealed ones
        stay, their other provisions still apply. Memoised per day: every filtered search asks."""
        today = today or _today()
        if today not in self._excluded:
            self._excluded[today] = {d for d in self.docs
                                     if self.validity(doc_id=d, today=today)["status"] == "repealed"}
        return set(self._excluded[today])

    def subject(self, doc_id: str) -> str | None:
        s = self.subjects.get(doc_id)
        return s[0] if s else None

    def identity(self, key: str) -> dict[str, Any]:
        """Type, number, date, issuer, subject of `key`: from the document's own metadata and header
        when it is indexed, else assembled from the sentences that cite it; each field with its source."""
        docs = self.key_docs.get(key)
        if docs:
            doc = self.docs[docs[0]]
            pid = self.first_pid.get(docs[0])
            out: dict[str, Any] = {"doc_type": doc.get("doc_type"), "number": doc.get("doc_number"),
                                   "date": doc.get("date"), "issuer": doc.get("issuer"),
                                   "subject": self.subject(docs[0]), "indexed": True}
            out["sources"] = [{"doc_id": docs[0], "pid": pid}]
            out["field_sources"] = {f: {"doc_id": docs[0], "pid": pid, "from": "metadata"}
                                    for f in ("doc_type", "number", "date", "issuer") if out.get(f)}
            if out["subject"]:
                subject_pid = self.subjects[docs[0]][1]
                out["field_sources"]["subject"] = {"doc_id": docs[0], "pid": subject_pid,
                                                   "from": self.subjects[docs[0]][2]}
            return out
        mentions = self.mentions.get(self.canonical(key), [])
        out = {"doc_type": None, "number": self.labels.get(key) if key in self.labels and "/" in key else None,
               "date": None, "issuer": None, "subject": None, "indexed": False}
        field_sources: dict[str, dict[str, Any]] = {}
        for f in _IDENTITY_FIELDS:
            values = Counter(m[2][f] for m in mentions if m[2].get(f))
            if not values:
                continue
            # the value most citing sentences agree on; on a tie the longest (a fuller subject)
            best = max(values, key=lambda v: (values[v], len(v)))
            src = next(m for m in mentions if m[2].get(f) == best)
            out[f] = best
            field_sources[f] = {"doc_id": src[0], "pid": src[1], "from": "citing sentence"}
        if not out["doc_type"] and (t := type_from_number(key)):
            out["doc_type"] = t
            field_sources["doc_type"] = {"doc_id": None, "pid": None, "from": "number"}
        if not out["issuer"] and (i := issuer_from_number(key)):
            out["issuer"] = i
            field_sources["issuer"] = {"doc_id": None, "pid": None, "from": "number"}
        if out["number"]:
            first = mentions[0] if mentions else None
            field_sources["number"] = {"doc_id": first[0] if first else None, "pid": first[1] if first else None,
                                       "from": "citing sentence"}
        out["sources"] = list({(s["doc_id"], s["pid"]): {"doc_id": s["doc_id"], "pid": s["pid"]}
                               for s in field_sources.values() if s.get("doc_id")}.values())
        out["field_sources"] = field_sources
        return out

    def relations(self, key: str) -> list[dict[str, Any]]:
        """Every typed relation of `key`, both directions: {type, direction, key, label, doc_id, pid, …}."""
        docs = self.key_docs.get(key, [])
        out: list[dict[str, Any]] = []
        for e in self.edges_out([key], docs):
            out.append({"type": e.type, "direction": "out", "key": e.target_key,
                        "label": self.display_label(e.target_key),
                        "doc_id": next(iter(self.key_docs.get(e.target_key) or []), None), "pid": e.pid,
                        "evidence_doc_id": e.evidence_doc, "sentence": e.sentence, "when": e.when})
        for e in self.edges_into([key]):
            out.append({"type": e.type, "direction": "in", "key": e.source_key,
                        "label": self._actor(e)["label"],
                        "doc_id": e.source_doc, "pid": e.pid, "evidence_doc_id": e.evidence_doc,
                        "sentence": e.sentence, "when": e.when})
        order = {t: i for i, t in enumerate(RELATION_TYPES)}
        out.sort(key=lambda r: (order[r["type"]], r["direction"], r["label"] or ""))
        return out

    def stats(self, today: str | None = None) -> dict[str, Any]:
        """Relations by type and indexed documents by status (for measurements)."""
        by_type = Counter(e.type for e in self.edges)
        statuses = Counter(self.validity(doc_id=d, today=today)["status"] for d in self.docs)
        return {"relations": {t: by_type.get(t, 0) for t in RELATION_TYPES},
                "documents": {s: statuses.get(s, 0) for s in STATUSES}, "seconds": round(self.build_seconds, 2)}

    # --- the implementation chain -------------------------------------------------------------

    def chain(self, key: str, depth: int = 3, limit: int = 40) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Nodes and edges of the graph around `key`: what implements, guides, is based on or cites it,
        down `depth` levels (at most `limit` nodes), and what it itself implements or is based on."""
        # the implementation chain: what acts on the text's content, not on its validity (amendments and
        # repeals are in the relations list and in every node's colour)
        down = ("implements", "guides", "basis", "cites")
        nodes: dict[str, dict[str, Any]] = {}
        edges: list[dict[str, Any]] = []

        def node(node_key: str | None, doc_id: str | None, label: str) -> str:
            nid = node_key or f"doc:{doc_id}"
            if nid in nodes:
                return nid
            if node_key:
                docs = self.key_docs.get(node_key, [])
                doc = self.docs.get(docs[0]) if docs else None
                title = (doc or {}).get("title") or self.identity(node_key).get("subject") or ""
                status = self.validity(node_key)["status"]
            else:
                doc = self.docs.get(doc_id or "")
                title, status = (doc or {}).get("title") or "", "in_force"
            nodes[nid] = {"id": nid, "key": node_key, "label": label, "title": title,
                          "doc_id": (doc or {}).get("doc_id"), "indexed": doc is not None, "status": status}
            return nid

        root = node(key, None, self.display_label(key))
        frontier: list[tuple[str | None, str]] = [(key, root)]
        seen = {root}
        for _ in range(depth):
            nxt = []
            for k, nid in frontier:
                if k is None:
                    continue
                for e in sorted((e for e in self.edges_into([k]) if e.type in down), key=lambda e: down.index(e.type)):
                    if len(nodes) >= limit:
                        break
                    src = node(e.source_key, e.source_doc, self._actor(e)["label"])
                    edges.append({"from": nid, "to": src, "type": e.type})
                    if src not in seen:
                        seen.add(src)
                        nxt.append((e.source_key, src))
            frontier = nxt
        for e in self.edges_out([key], self.key_docs.get(key, [])):
            if e.type in ("implements", "guides", "basis") and len(nodes) < limit:
                up = node(e.target_key, None, self.display_label(e.target_key))
                edges.append({"from": up, "to": root, "type": e.type})
        # one arrow per pair of documents, the strongest relation: implements > guides > basis > cites
        best: dict[tuple[str, str], dict[str, Any]] = {}
        for x in edges:
            pair = (x["from"], x["to"])
            if pair not in best or down.index(x["type"]) < down.index(best[pair]["type"]):
                best[pair] = x
        return list(nodes.values()), list(best.values())


def pick_document(doc_ids: list[str], docs: Mapping[str, Mapping[str, Any]],
                  year: str | None) -> tuple[str | None, list[str]]:
    """Which indexed document a number names: (the document, the candidates when it is ambiguous).

    Numbers restart every term or year (20-NQ/TW of 2012 and of 2017 are different resolutions):
    a bare number names an indexed document only when exactly one has it; a year given with the
    number (the reference's date) chooses among several. Otherwise no document, and the candidates."""
    if year is not None:
        dated = [d for d in doc_ids if (docs.get(d, {}).get("date") or "")[:4] == year]
        if len(dated) == 1:
            return dated[0], []
        if doc_ids and not dated:
            return None, []  # the number of another year: not the indexed document
    if len(doc_ids) == 1:
        return doc_ids[0], []
    return None, list(doc_ids)


def unresolved_validity(validity: dict[str, Any]) -> dict[str, Any]:
    """The validity of a number that names several indexed documents: not known until one is chosen."""
    return {**validity, "status": "unknown", "since": None, "until": None, "by": [], "evidence": []}

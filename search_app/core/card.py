"""The document a query names, and its card: what the corpus says about that document.

People name a document many ways: by its number ("57-NQ/TW", "03/NQ-CP"), by type and number ("Nghị
quyết 57", "NQ 57", "Kết luận 69", "Resolution 57"), with a year, an issuer, a term ("khóa XI") or its
subject to tell apart documents sharing a number. `resolve` finds the one the corpus holds or cites,
or says it is ambiguous — never silently a same-number document of another year or issuer.

`build` makes the card: the document's fields (or its identity when it is only cited), its validity,
its relations, and, when the query asks something the card knows (is it still in force? what carries
it out? when and by whom was it issued?), an `answer` with the passage(s) that establish it, each
with its citation. The card holds codes; the doors put them into words (search_app/labels.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from indexer.text.docnumbers import (
    dated_key,
    find_numbers,
    find_short_references,
    has_own_year,
    short_reference_matches,
    split_key,
    year_after,
)
from indexer.text.normalise import fold
from indexer.text.references import find_references, reference_key
from indexer.text.sentences import sentence_spans
from search_app.core.answers import content_terms
from search_app.core.citation import format_citation
from search_app.core.pipeline import Named, SearchContext
from search_app.core.relations import RelationGraph, pick_document

DOC_FIELDS = ("doc_id", "title", "doc_number", "doc_type", "issuer", "date", "source", "extra")
MAX_EVIDENCE = 3
MAX_RELATIONS = 20

# What a query asks of the document it names (folded, lower case; whole words). Checked in this order.
ASKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("validity", ("hieu luc", "het hieu luc", "bai bo", "con ap dung", "con gia tri", "in force", "valid",
                  "repealed", "still apply", "still applies", "effective")),
    ("replaces", ("thay the", "replace", "replaced", "replaces")),
    ("amends", ("sua doi", "amend", "amended", "amends")),
    ("implements", ("trien khai", "thuc hien", "cu the hoa", "implement", "implemented", "implements",
                    "implementing", "carry out", "carries out")),
    ("basis", ("can cu", "based on", "basis")),
    ("issued", ("ban hanh", "ngay nao", "khi nao", "ai ky", "co quan nao", "issued", "issue date", "when",
                "who issued", "signed")),
)
_ASK_RES = [(what, re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")) for what, words in ASKS]
# Which relations answer which question, and from which end (in: other documents acting on this one).
_RELATION_ASKS = {"replaces": ("replaces", "in"), "amends": ("amends", "in"), "implements": ("implements", "in"),
                  "basis": ("basis", "out")}
# Relations that show a document is still being carried out (for "is it still in force?").
_CARRIED_OUT = ("implements", "guides")

# Party terms ("khóa XI") and the years their congresses span, to tell same-number resolutions apart.
_TERMS = {"ix": (2001, 2006), "x": (2006, 2011), "xi": (2011, 2016), "xii": (2016, 2021), "xiii": (2021, 2026),
          "xiv": (2026, 2031)}
_TERM_RE = re.compile(r"\b(?:khoa|term)\s+(xiv|xiii|xii|xi|ix|x)\b")
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_ISSUERS = (("bo chinh tri", "bo chinh tri"), ("politburo", "bo chinh tri"), ("trung uong", "trung uong"),
            ("central committee", "trung uong"), ("ban bi thu", "ban bi thu"), ("thu tuong", "thu tuong"),
            ("prime minister", "thu tuong"), ("chinh phu", "chinh phu"), ("government", "chinh phu"),
            ("quoc hoi", "quoc hoi"), ("national assembly", "quoc hoi"))


# Words that name or place a document rather than ask something of it.
_NAMING = ("nghi quyet ket luan quyet dinh chi thi nghi dinh thong tu luat so nam ngay thang khoa cua bo chinh tri "
           "ban chap hanh trung uong dang chinh phu thu tuong quoc hoi bi thu nq kl qd nd ct resolution conclusion "
           "decision decree directive circular law no number of the politburo central committee government prime "
           "minister national assembly in term ix x xi xii xiii xiv")
_NAMING_WORDS = frozenset(_NAMING.split())
_SHORT_NAME = re.compile(r"\b(?:nghi quyet|ket luan|quyet dinh|chi thi|nghi dinh|thong tu|resolution|conclusion|"
                         r"decision|decree|directive|circular|nq|kl|qd|nd)\s+(?:so\s+|no\.?\s*|number\s+)?\d{1,5}\b")


def _folded(text: str) -> str:
    return " ".join(fold(text).lower().split())


# A relation word in a question whose unknown is not a document: who carries it out ("Ai chịu trách
# nhiệm tổ chức thực hiện…", "cơ quan nào báo cáo…"), or the carrying out itself ("kết quả thực hiện",
# "thực hiện nhiệm vụ gì", "the results of implementing"): a passage answers it, not a relation.
_AGENT = re.compile(r"(?<!\w)(?:co quan nao|don vi nao|bo nao|nganh nao|cap nao|to chuc nao|dia phuong nao|"
                    r"who|which (?:body|bodies|agency|agencies|ministry|ministries|organi[sz]ations?|units?))(?!\w)")
_WHO = re.compile(r"(?<!\w)[Aa]i(?!\w)")  # "ai" / "Ai" (who), not "AI" (artificial intelligence)
_PROCESS = re.compile(
    r"(?<!\w)(?:(?:ket qua|to chuc|trach nhiem|tinh hinh|viec|qua trinh|cong tac|danh gia|so ket|tong ket|bao cao|"
    r"results? of|responsib\w* for|progress (?:of|in)|report\w* on)\s+(?:\w+\s+)?"
    r"(?:thuc hien|trien khai|cu the hoa|implement\w*|carry\w* out)"
    r"|(?:thuc hien|trien khai|implement\w*|carry\w* out)\s+(?:cac\s+|nhung\s+|the\s+)?"
    r"(?:nhiem vu|giai phap|muc tieu|chi tieu|tasks?|measures?|goals?|targets?))(?!\w)")
# "issued" by its verb ("ban hành", "ký", "issued"), or a when / which-body question with nothing else
# besides the name ("Nghị quyết 57 ngày nào"): "cơ quan nào chủ trì…" asks who leads, not who issued.
_ISSUED_VERB = re.compile(r"(?<!\w)(?:ban hanh|ai ky|ky ngay|ngay ky|duoc ky|ky ban hanh|issued|issue date|"
                          r"signed)(?!\w)")
_WHEN = re.compile(r"(?<!\w)(?:ngay|khi|co quan|when|date|what|is|was|the)(?!\w)")


def asks(query: str) -> str | None:
    """What the query asks of the document it names: validity, a relation type, "issued", or None."""
    q = _folded(query)
    what = next((what for what, rx in _ASK_RES if rx.search(q)), None)
    if what in _RELATION_ASKS and (_AGENT.search(q) or _WHO.search(query) or _PROCESS.search(q)):
        return None
    if what == "issued" and not _ISSUED_VERB.search(q):
        unnamed = " ".join(query[a:b] for a, b in _between(find_numbers(query), len(query)))
        if not _bare(_WHEN.sub(" ", _folded(unnamed))):
            return None
    return what


def _between(numbers: list[Any], size: int) -> list[tuple[int, int]]:
    """The spans of a text of `size` characters outside the document numbers found in it."""
    cuts = [0, *(x for n in numbers for x in (n.start, n.end)), size]
    return list(zip(cuts[::2], cuts[1::2], strict=True))


# --- which document ---------------------------------------------------------------------------------

def target(ctx: SearchContext, query: str) -> tuple[str, str | None, list[str]]:
    """The reference key `query` names (a number or a document's name), the indexed document it
    resolves to, and the candidates when several indexed documents share the number."""
    key = reference_key(query) or query.strip()
    found = find_numbers(query)
    bare, year = split_key(key)
    if year is None and found and not has_own_year(found[0].key):
        year = year_after(query, found[0].end)  # "20-NQ/TW 2017" as a user types it
    backend = ctx.backend
    candidates = backend.docs_with_key(bare)
    chosen, ambiguous = pick_document(candidates, {d["doc_id"]: d for d in backend.documents(candidates)}, year)
    graph = ctx.relations()
    if chosen and graph.canonical(key) != graph.primary_key(chosen):
        key = graph.primary_key(chosen) or key  # "999-NQ/TEST năm 2099": the key of that year's
    elif year and not candidates and key == bare:
        key = dated_key(bare, year)
    elif not candidates and key == bare:
        # a bare number no indexed document holds, cited with one date only ("11-NQ/TW ngày
        # 10/02/2022"): that dated reference is what the user means; with several dates none is picked
        dated = sorted({it["key"] for it in backend.reference_counts()
                        if split_key(it["key"])[0] == bare and split_key(it["key"])[1]})
        if len(dated) == 1:
            key = dated[0]
    return key, chosen, ambiguous


def resolve(ctx: SearchContext, query: str) -> Named | None:
    """The document `query` names, or None when it names none the corpus holds or cites."""
    numbers = [r for r in find_references(query) if r.kind == "number"]
    if numbers:
        key = numbers[0].key
        holders = ctx.backend.docs_with_key(key)
        rest = query[: numbers[0].start] + " " + query[numbers[0].end :]
        named = Named(key, holders, len(holders) > 1, True, asks(query), _bare(rest))
        named.direction = direction(query, named.asks, _digits(numbers[0].key))
        return named
    for code, number in find_short_references(query):
        found = _short(ctx, query, code, number)
        if found is not None:
            found.bare = _bare(_SHORT_NAME.sub(" ", _folded(query), count=1))
            found.direction = direction(query, found.asks, str(number))
            return found
    return None


def _digits(key: str) -> str:
    m = re.match(r"\d+", key)
    return m.group(0) if m else key


# Where the unknown document stands in a relation question. Vietnamese keeps the question word in the
# unknown's place ("văn bản nào thực hiện X" / "X thực hiện nghị quyết nào"); English fronts it, so
# there the relation word's place says it ("which documents implement X" / "what does X implement").
_QUESTION_WORD = re.compile(r"(?<!\w)(?:nao|gi)(?!\w)")
_PASSIVE = re.compile(r"(?<!\w)(?:duoc|boi|bang|do|by)(?!\w)")
# "căn cứ của X", "basis of X": the relation word, then the named document as its owner
_OWNER = re.compile(r"^\W*(?:\w+\s+){0,2}?(?:cua|of|for|ban hanh|de ban hanh)\s+")


def direction(query: str, what: str | None, digits: str) -> str | None:
    """For a relation question, which end the named document is: "in" (others act on it: what
    implements it, takes it as basis) or "out" (what it implements, what it is based on); None when
    the query asks no relation or does not say (the relation's usual reading then)."""
    if what not in _RELATION_ASKS:
        return None
    q = _folded(query)
    name = re.search(rf"(?<!\d){re.escape(digits)}(?!\d)", q)
    if name is None:
        return None
    start, end = name.start(), name.end()
    asked = dict(_ASK_RES)[what].search(q)
    wh = _QUESTION_WORD.search(q)
    if wh is not None:
        if wh.start() < start:
            return "in"
        return "in" if _PASSIVE.search(q[end : wh.start()]) else "out"
    if asked is None:
        return None
    verb_end = asked.end()
    if verb_end <= start:
        return "out" if _OWNER.match(q[verb_end:start]) else "in"
    return "in" if _PASSIVE.search(q[verb_end : verb_end + 12]) else "out"


def _bare(rest: str) -> bool:
    """Whether what the query says besides the name only tells which document (a type, a year, an issuer)."""
    words = content_terms(rest) - _NAMING_WORDS
    return not {w for w in words if not w.isdigit()}


def _short(ctx: SearchContext, query: str, code: str, number: int) -> Named | None:
    """"Nghị quyết 57" and the like: the indexed documents of that type and number, narrowed by what
    else the query says; else a cited document of that type and number."""
    graph = ctx.relations()
    docs = _narrow(graph, query, graph.docs_named(code, number))
    what = asks(query)
    if len(docs) == 1:
        return Named(graph.primary_key(docs[0]) or f"{number}-{code}", docs, False, False, what)
    if docs:
        return Named(graph.display_label(graph.primary_key(docs[0]) or docs[0]), docs, True, False, what)
    cited = sorted(k for k in graph.labels if not graph.key_docs.get(k) and short_reference_matches(code, number, k))
    cited = _narrow_keys(query, cited)
    if len(cited) > 1:  # "45-NQ/TW" and "45-NQ/TW ngày 24/11/2023": one document while the graph says so
        cited = sorted({graph.canonical(k) for k in cited})
    if len(cited) == 1:
        return Named(cited[0], [], False, False, what)
    return None


def _years(query: str) -> tuple[set[int], tuple[int, int] | None]:
    q = _folded(query)
    years = {int(y) for y in _YEAR_RE.findall(q)}
    term = _TERM_RE.search(q)
    return years, (_TERMS[term.group(1)] if term else None)


def _narrow(graph: RelationGraph, query: str, docs: list[str]) -> list[str]:
    """Of several documents sharing a type and number, those the query's year, term, issuer or subject
    words point to; all of them when it says nothing that tells them apart."""
    years, term = _years(query)
    if len(docs) < 2 and not years and not term:
        return docs

    def year_of(d: str) -> int | None:
        date = graph.docs[d].get("date") or ""
        return int(date[:4]) if date[:4].isdigit() else None

    if years:
        docs = [d for d in docs if year_of(d) in years]  # a year given and not theirs: not these documents
    if term:
        # likewise a term ("Nghị quyết 20 khóa XIII" is not the 20-NQ/TW of 2012); a document of
        # unknown date stays only when none is known to be of that term
        docs = ([d for d in docs if (y := year_of(d)) is not None and term[0] <= y <= term[1]]
                or [d for d in docs if year_of(d) is None])
    q = _folded(query)
    issuers = {name for word, name in _ISSUERS if word in q}
    if issuers and len(docs) > 1:
        docs = [d for d in docs if any(i in _folded(graph.docs[d].get("issuer") or "") for i in issuers)] or docs
    if len(docs) > 1:
        docs = _by_subject(graph, q, docs)
    return docs


def _by_subject(graph: RelationGraph, folded_query: str, docs: list[str]) -> list[str]:
    words = set(folded_query.split())
    overlap = {d: len(words & set(_folded(f"{graph.docs[d].get('title') or ''} {graph.subject(d) or ''}").split()))
               for d in docs}
    best = max(overlap.values())
    winners = [d for d in docs if overlap[d] == best]
    return winners if best > 0 else docs


def _narrow_keys(query: str, keys: list[str]) -> list[str]:
    years, term = _years(query)
    if years:
        keys = [k for k in keys if (y := split_key(k)[1]) is not None and int(y) in years]
    if term:
        keys = [k for k in keys if (y := split_key(k)[1]) is None or term[0] <= int(y) <= term[1]]
    return keys


# --- the card -----------------------------------------------------------------------------------------

def build(ctx: SearchContext, named: Named, query: str) -> dict[str, Any] | None:
    """The card of `named` (None when the corpus neither holds nor cites it)."""
    graph, backend = ctx.relations(), ctx.backend
    if named.ambiguous:
        docs = backend.documents(named.doc_ids)
        return {"key": named.key, "label": named.key, "document": None, "identity": None,
                "ambiguous": [_fields(d) for d in docs], "validity": None, "relations": [], "cited_by": 0,
                "answer": None}
    doc_id = named.doc_ids[0] if named.doc_ids else None
    key = named.key
    keys = citing_keys(graph, key, doc_id)
    cited = len({p for k in keys for p in backend.pids_citing(k)})
    if doc_id is None and not cited:
        return None
    doc = backend.document(doc_id) if doc_id else None
    validity = graph.validity(key, doc_id=doc_id)
    relations = [_relation(r) for r in graph.relations(key) if r["type"] != "cites"][:MAX_RELATIONS]
    card = {"key": key, "label": graph.display_label(key), "document": _fields(doc) if doc else None,
            "identity": _identity(graph.identity(key)), "ambiguous": [], "validity": _validity(validity),
            "relations": relations, "cited_by": cited, "answer": None}
    if named.asks:
        card["answer"] = _answer(ctx, named, validity, graph.relations(key), doc)
    return card


def citing_keys(graph: RelationGraph, key: str, doc_id: str | None) -> list[str]:
    """Every key the corpus cites a document by: `key`, the document's own keys, and the dated forms the
    graph files under it ("11-NQ/TW ngày 10/02/2022" when the query says "11-NQ/TW")."""
    bare = split_key(key)[0]
    own = graph.canonical(key)
    dated = [d for y in sorted(graph.years.get(bare, ())) if graph.canonical(d := dated_key(bare, y)) == own]
    return list(dict.fromkeys([key, *(graph.keys_of(doc_id) if doc_id else []), *dated]))


def _fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in DOC_FIELDS}


def _identity(ident: dict[str, Any]) -> dict[str, Any]:
    return {k: ident.get(k) for k in ("doc_type", "number", "date", "issuer", "subject", "indexed")}


def _validity(v: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get(k) for k in ("status", "since", "until", "by", "source")}


def _relation(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("type", "direction", "key", "label", "doc_id", "when")}


def _answer(ctx: SearchContext, named: Named, validity: dict[str, Any], relations: list[dict[str, Any]],
            doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The card's answer to what the query asks, each statement with the passage that establishes it;
    None when the corpus holds no passage for it."""
    what = named.asks or ""
    if what == "validity":
        evidence = [(e["pid"], e["text"]) for e in validity.get("evidence") or []]
        carried = [r for r in relations if r["direction"] == "in" and r["type"] in _CARRIED_OUT]
        carried.sort(key=lambda r: r.get("when") or "", reverse=True)
        if validity["status"] == "in_force":  # no text repeals it: what shows it is still carried out
            evidence = [(r["pid"], r["sentence"]) for r in carried] + evidence
        found = _evidence(ctx, evidence)
        if not found:
            return None
        return {"asks": what, "status": validity["status"], "since": validity.get("since"),
                "until": validity.get("until"), "by": validity.get("by") or [],
                "carried_out_by": [_relation(r) for r in carried], "evidence": found}
    if what == "issued":
        return _issued(ctx, named.key, doc)
    rel_type, usual = _RELATION_ASKS[what]
    end = named.direction or usual
    items = [r for r in relations if r["type"] == rel_type and r["direction"] == end]
    found = _evidence(ctx, [(r["pid"], r["sentence"]) for r in items])
    if not found:
        return None
    return {"asks": what, "direction": end, "relations": [_relation(r) for r in items], "evidence": found}


def _issued(ctx: SearchContext, key: str, doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """When and by whom: an indexed document's from its opening passage; a document the corpus only
    cites, from the sentence citing it with its date (the issuer then as that sentence or the number says)."""
    if doc is not None:
        if not (doc.get("date") or doc.get("issuer")):
            return None
        first = ctx.backend.doc_passages(doc["doc_id"])[:1]
        found = _evidence(ctx, [(p["pid"], "") for p in first])
        date, issuer = doc.get("date"), doc.get("issuer")
    else:
        ident = ctx.relations().identity(key)
        source = (ident.get("field_sources") or {}).get("date") or {}
        if not ident.get("date") or source.get("pid") is None:
            return None  # no sentence gives its date: the number alone says nothing of when
        rows = ctx.backend.passages([source["pid"]])
        found = _evidence(ctx, [(source["pid"], _citing_sentence(rows[0]["text"], key) if rows else "")])
        date, issuer = ident["date"], ident.get("issuer")
    if not found:
        return None
    return {"asks": "issued", "date": date, "issuer": issuer, "evidence": found}


def _citing_sentence(text: str, key: str) -> str:
    """The sentence of `text` that cites `key` ("" when none does)."""
    bare = split_key(key)[0]
    for start, end in sentence_spans(text):
        sentence = text[int(start):int(end)]
        if any(split_key(n.key)[0] == bare for n in find_numbers(sentence)):
            return sentence
    return ""


def _evidence(ctx: SearchContext, items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Each (pid, sentence) as the passage holding it, the sentence's offsets in it, and its citation."""
    items = list(dict.fromkeys((p, s) for p, s in items if p is not None and p >= 0))[:MAX_EVIDENCE]
    if not items:
        return []
    rows = {r["pid"]: r for r in ctx.backend.passages(sorted({p for p, _ in items}))}
    docs = {d["doc_id"]: d for d in ctx.backend.documents(sorted({r["doc_id"] for r in rows.values()}))}
    graph = ctx.relations()
    out = []
    for pid, sentence in items:
        row = rows.get(pid)
        doc = docs.get(row["doc_id"]) if row else None
        if row is None or doc is None:
            continue
        out.append({"doc_id": row["doc_id"], "pid": pid, "ordinal": row["ordinal"], "text": row["text"],
                    "answer": _locate(row["text"], sentence),
                    "citation": format_citation(doc, row["section"], row["page"], subject=graph.subject(row["doc_id"]),
                                                note=graph.citation_note(row["doc_id"]))})
    return out


def _locate(text: str, sentence: str) -> list[dict[str, int]]:
    """The offsets of `sentence` in `text` (white space compared loosely), or the first sentence's."""
    if sentence:
        words = [re.escape(w) for w in sentence.split()]
        m = re.search(r"\s+".join(words), text) if words else None
        if m:
            return [{"start": m.start(), "end": m.end()}]
    spans = sentence_spans(text)
    return [{"start": int(spans[0][0]), "end": int(spans[0][1])}] if spans and not sentence else []

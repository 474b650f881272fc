"""Document questions on the political corpus: is the card the right document, is its answer right?

The questions (benchmarks/document_questions.jsonl, written before the system was run on them) are
what staff type about a document: its name in every form (number, "Nghị quyết 57", "NQ 57", without
diacritics, "Resolution 57", with a year or a term), whether it is still in force, what implements or
continues it, what it is based on, when and by whom it was issued, documents the corpus only cites,
and numbers nothing mentions (no card then, never a same-number document of another year or issuer).

Gold per question: `card`, the key of the document the card must show (null: no card); `doc`, the
file holding it when it is indexed (a cited-only document has none, and its card no `document`);
`answer`, null when the card must not answer, else what it must say — `asks`, and `status`, `date`,
`issuer` or `relation` (a document the answer's relations must hold) — and `evidence`: alternatives
{doc, quote}, one of which an evidence passage must match (from that file, holding that quote). The
quotes are checked against ../shared at run time.

The political index (the interview and the three resolution files, e5-small) is built or brought up
to date under --cache, the same one benchmarks.answerable_corpora keeps. Every question falls in a
fixed half by `tuning_split("document_questions:<id>")`; the figures to quote are both halves', the
held-out one apart. The failures listed are the tuning half's (--show-held-out lists the others).

    python -m benchmarks.document_questions --shared ../shared [--cache .cache/answerable] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

from benchmarks.answerable_corpora import indexes
from benchmarks.splits import tuning_split
from indexer.text.docnumbers import split_key
from indexer.text.normalise import fold
from indexer.text.references import reference_key
from search_app.core.searcher import Searcher

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "document_questions.jsonl"
KINDS = ("name", "validity", "implements", "basis", "issued", "cited", "absent")


def read_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _loose(text: str) -> str:
    """NFC, white space (no-break spaces included) as single spaces: the real files mix both forms."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _bare(key: str) -> str:
    bare = split_key(key)[0]
    return reference_key(bare) or bare


def check_gold(questions: list[dict[str, Any]], shared: Path) -> None:
    """Every evidence quote stands in the file it names (../shared/corpus or documents), read now."""
    texts: dict[str, str] = {}
    for q in questions:
        for alt in (q.get("answer") or {}).get("evidence", []):
            name = alt["doc"]
            if name not in texts:
                found = [p for p in (shared / "corpus" / name, shared / "documents" / name) if p.is_file()]
                if not found:
                    raise SystemExit(f"{q['id']}: {name} is in neither {shared}/corpus nor {shared}/documents")
                texts[name] = _loose(found[0].read_text(encoding="utf-8"))
            if _loose(alt["quote"]) not in texts[name]:
                raise SystemExit(f"{q['id']}: quote not in {name}: {alt['quote']!r}")


def card_right(q: dict[str, Any], card: dict[str, Any] | None) -> bool:
    """The card names the gold document (its own file when indexed, no document when only cited)."""
    gold = q["card"]
    if gold is None:
        return card is None
    if card is None:
        return False
    if gold == "ambiguous":
        return bool(card["ambiguous"])
    if card["ambiguous"] or _bare(card["key"]) != _bare(gold):
        return False
    if q.get("doc"):
        return bool(card["document"]) and str(card["document"]["doc_id"]).startswith(q["doc"])
    return card["document"] is None


def evidence_right(gold: list[dict[str, str]], evidence: list[dict[str, Any]]) -> bool:
    """One evidence passage is from a gold file and holds its quote."""
    return any(str(e["doc_id"]).startswith(alt["doc"]) and _loose(alt["quote"]) in _loose(e["text"])
               for e in evidence for alt in gold)


def answer_right(q: dict[str, Any], card: dict[str, Any] | None) -> bool:
    """The card's answer says what the gold says, with a passage that establishes it; or, when the
    gold has no answer, the card answers nothing."""
    gold, got = q.get("answer"), (card or {}).get("answer")
    if gold is None:
        return got is None
    if got is None or got["asks"] != gold["asks"]:
        return False
    if "status" in gold and got.get("status") != gold["status"]:
        return False
    if "date" in gold and got.get("date") != gold["date"]:
        return False
    if "issuer" in gold and fold(gold["issuer"]).lower() not in fold(got.get("issuer") or "").lower():
        return False
    if "relation" in gold and _bare(gold["relation"]) not in {_bare(r["key"]) for r in got.get("relations") or []}:
        return False
    return evidence_right(gold["evidence"], got["evidence"])


def collect(searcher: Searcher, questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for q in questions:
        res = searcher.search(q["query"], 10)
        card = res.card
        answer = (card or {}).get("answer")
        rows.append({"id": q["id"], "half": tuning_split(f"document_questions:{q['id']}"), "kind": q["kind"],
                     "lang": q["lang"], "query": q["query"], "card_right": card_right(q, card),
                     "answer_right": answer_right(q, card), "gold_card": q["card"],
                     "got_card": None if card is None else ("ambiguous" if card["ambiguous"] else card["key"]),
                     "got_asks": answer and answer["asks"], "got_status": answer and answer.get("status"),
                     "got_evidence": [e["doc_id"] for e in (answer or {}).get("evidence", [])],
                     "first_hit": res.hits[0].doc_id if res.hits else None})
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for half in ("tune", "held-out"):
        mine = [r for r in rows if r["half"] == half]
        groups = {"all": mine, **{k: [r for r in mine if r["kind"] == k] for k in KINDS}}
        out[half] = {k: {"n": len(g), "card_right": sum(r["card_right"] for r in g),
                         "answer_right": sum(r["answer_right"] for r in g)} for k, g in groups.items() if g}
    return out


def format_table(res: dict[str, Any], show_held_out: bool = False) -> str:
    lines = [f"Document questions, political corpus ({res['questions']} questions)",
             f"{'half':<9} {'kind':<11} {'n':>3} {'card right':>11} {'answer right':>13}", "-" * 51]
    for half, kinds in res["summary"].items():
        for kind, s in kinds.items():
            lines.append(f"{half:<9} {kind:<11} {s['n']:>3} {s['card_right']:>7}/{s['n']:<3} "
                         f"{s['answer_right']:>9}/{s['n']:<3}")
    halves = ("tune", "held-out") if show_held_out else ("tune",)
    for r in res["rows"]:
        if r["half"] in halves and not (r["card_right"] and r["answer_right"]):
            lines.append(f"  {r['half']:<8} {r['id']} {r['kind']:<10} card {r['got_card']!s:<16} "
                         f"(gold {r['gold_card']!s:<12}) asks {r['got_asks']!s:<10} {r['got_status']!s:<9} "
                         f"{r['query'][:60]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.document_questions", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, required=True, help="../shared: the corpus and the files quoted")
    p.add_argument("--cache", type=Path, default=Path(".cache/answerable"), help="where the index is kept")
    p.add_argument("--model", default="e5-small")
    p.add_argument("--questions", type=Path, default=QUESTIONS)
    p.add_argument("--no-update", action="store_true", help="use the index in --cache as it is")
    p.add_argument("--show-held-out", action="store_true", help="also list the held-out half's failures")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if not (args.shared / "documents").is_dir():
        p.error(f"{args.shared} does not hold documents/")
    questions = read_questions(args.questions)
    check_gold(questions, args.shared)
    index = indexes(args.shared, args.cache, args.model, not args.no_update, names=("political",))["political"]
    rows = collect(Searcher(index, query_cache=0), questions)
    res = {"dataset": "document-questions", "questions": len(rows), "summary": summary(rows), "rows": rows}
    print(format_table(res, args.show_held_out))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

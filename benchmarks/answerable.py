"""Knowing when there is no answer: how often questions the corpus cannot answer are flagged, and how
often questions it does answer are wrongly flagged (search_app/core/answerable.py).

Answerable questions: the gold-substring development sets (every question there has its answer in
the corpus). Out-of-corpus questions: benchmarks/out_of_corpus_tune.jsonl (for choosing the
threshold) and benchmarks/out_of_corpus.jsonl (held out), written for this project: cooking, sport,
weather, code, travel, health… in Vietnamese with and without diacritics, English, and strings
such as "<script>". The development questions are split in two fixed halves by
`splits.tuning_split("<file stem>:<id>")`: the threshold is chosen on the tuning half with the tuning
out-of-corpus set and reported on the held-out half with the held-out set.

Then the unseen groups (`--shared`), each written after the rule and threshold of its time were
fixed and run only once they were: "unseen-1" (benchmarks/heldout_*.jsonl: 36 answerable
questions over the four documents of ../shared/corpus and ../shared/documents, each with gold
quotes checked here against those files; 24 everyday and 6 "near-domain" questions on laws and
events the four documents do not cover) and "unseen-2" (benchmarks/unseen2_*.jsonl, the same
kinds, written after unseen-1 had been run and the rule changed). The newest is the figure to
quote; docs/evaluation.md keeps the history.

    python -m benchmarks.answerable --index /tmp/idx --gold ../shared/eval/dev_queries.jsonl \
        --gold ../shared/eval/dev_resolutions.jsonl [--tune]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
from pathlib import Path
from typing import Any

from benchmarks.splits import tuning_split
from search_app.core import answerable
from search_app.core.searcher import Searcher

HERE = Path(__file__).resolve().parent
OUT_OF_CORPUS = HERE / "out_of_corpus.jsonl"
OUT_OF_CORPUS_TUNE = HERE / "out_of_corpus_tune.jsonl"
# Question sets each written after the rule and threshold of its time were fixed, each run once
# they were: (group, answerable with gold quotes, out of corpus). Once run, a set is seen.
UNSEEN = [("unseen-1", HERE / "heldout_answerable.jsonl", HERE / "heldout_out_of_corpus.jsonl"),
          ("unseen-2", HERE / "unseen2_answerable.jsonl", HERE / "unseen2_out_of_corpus.jsonl")]
GROUPS = ("tune", "held-out", *(g for g, _, _ in UNSEEN))
MAX_WRONGLY_FLAGGED = 0.025  # when tuning: half the 5% floor, room for questions not seen


def read_queries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_gold(questions: list[dict[str, Any]], shared: Path) -> None:
    """Every gold quote of the unseen answerable set stands in the document it names (../shared,
    read now): an answerable question is one whose answer the corpus holds."""
    texts: dict[str, str] = {}
    for q in questions:
        name = q["doc"]
        if name not in texts:
            found = [p for p in (shared / "corpus" / name, shared / "documents" / name) if p.is_file()]
            if not found:
                raise SystemExit(f"{name}: not in {shared}/corpus or {shared}/documents")
            texts[name] = _folded(found[0].read_text(encoding="utf-8"))
        missing = [g for g in q["gold"] if _folded(g) not in texts[name]]
        if missing:
            raise SystemExit(f"{q['id']}: gold not in {name}: {missing}")


def collect(searcher: Searcher, gold: list[Path], ooc: list[Path],
            unseen: list[tuple[str, Path, Path]] | None = None) -> list[dict[str, Any]]:
    """One row per question: its set, group, language, kind, whether it is answerable, the evidence."""
    sets = [(p, True, None) for p in gold] + [(p, False, None) for p in ooc]
    for group, ans, out in unseen or []:
        sets += [(ans, True, group), (out, False, group)]
    rows = []
    for path, is_answerable, group in sets:
        for q in read_queries(path):
            if group:
                half = group
            elif is_answerable:
                half = tuning_split(f"{path.stem}:{q['id']}")
            else:
                half = "tune" if path.name == OUT_OF_CORPUS_TUNE.name else "held-out"
            hits = searcher.search(q["query"], 10)
            found = None
            if is_answerable:  # the gold's passage among the ten shown: the answer is reachable
                golds = [_folded(g) for g in q.get("gold", [])]
                found = any(g in _folded(h.text) for h in hits for g in golds) if golds else None
            # "in_corpus" is the truth; the evidence's own "answerable" is the decision
            rows.append({**hits.evidence, "set": path.stem, "id": q["id"], "half": half,
                         "lang": q.get("lang", "?"), "kind": q.get("kind", "?"), "query": q["query"],
                         "in_corpus": is_answerable, "gold_in_top10": found})
    return rows


def flagged(row: dict[str, Any], margin: float | None = None) -> bool:
    """The search's own decision (core/answerable.py), or with `margin` the margin-only rule of
    earlier versions, kept for comparison."""
    if margin is None:
        return not row["answerable"]
    if row["number_known"] or row["phrase"]:
        return False
    return row["margin"] is None or row["margin"] < margin


def rates(rows: list[dict[str, Any]], margin: float | None = None) -> dict[str, Any]:
    ans = [r for r in rows if r["in_corpus"]]
    ooc = [r for r in rows if not r["in_corpus"]]
    out: dict[str, Any] = {
        "answerable": len(ans), "out_of_corpus": len(ooc),
        "answerable_wrongly_flagged": sum(flagged(r, margin) for r in ans) / max(1, len(ans)),
        "out_of_corpus_flagged": sum(flagged(r, margin) for r in ooc) / max(1, len(ooc)),
    }
    for lang in sorted({r["lang"] for r in rows}):
        a = [r for r in ans if r["lang"] == lang]
        o = [r for r in ooc if r["lang"] == lang]
        out[lang] = {"answerable_wrongly_flagged": f"{sum(flagged(r, margin) for r in a)}/{len(a)}",
                     "out_of_corpus_flagged": f"{sum(flagged(r, margin) for r in o)}/{len(o)}"}
    near = [r for r in ooc if r["kind"] == "near-domain"]
    if near:
        out["near_domain_flagged"] = f"{sum(flagged(r, margin) for r in near)}/{len(near)}"
    reach = [r["gold_in_top10"] for r in ans if r["gold_in_top10"] is not None]
    if reach:
        out["gold_in_top10"] = f"{sum(reach)}/{len(reach)}"
    return out


def tune(rows: list[dict[str, Any]]) -> float:
    """The largest margin threshold that flags at most MAX_WRONGLY_FLAGGED of the tuning half's
    answerable questions: as many out-of-corpus questions flagged as that allows."""
    ans = sorted(r["margin"] for r in rows
                 if r["in_corpus"] and not (r["number_known"] or r["phrase"]) and r["margin"] is not None)
    allowed = int(MAX_WRONGLY_FLAGGED * sum(r["in_corpus"] for r in rows))
    # a threshold at ans[allowed], rounded down, flags exactly the `allowed` lowest answerable questions
    return math.floor((ans[allowed] if len(ans) > allowed else 0.0) * 1000) / 1000


def evaluate(searcher: Searcher, gold: list[Path], ooc: list[Path] | None = None,
             shared: Path | None = None) -> dict[str, Any]:
    unseen = []
    if shared is not None:
        unseen = [u for u in UNSEEN if u[1].is_file() and u[2].is_file()]
        for _, ans, _ in unseen:
            check_gold(read_queries(ans), shared)
    rows = collect(searcher, gold, ooc or [OUT_OF_CORPUS_TUNE, OUT_OF_CORPUS], unseen)
    halves = {h: [r for r in rows if r["half"] == h] for h in GROUPS}
    return {"dataset": "answerable", "margin": answerable.MARGIN, "index": searcher.status(),
            "tuned_margin": tune(halves["tune"]),
            **{h: rates(halves[h]) for h in GROUPS if halves[h]},
            "missed": [{k: r[k] for k in ("set", "id", "half", "query", "in_corpus", "margin")}
                       for r in rows if flagged(r) == r["in_corpus"]],
            "rows": rows}


def format_table(res: dict[str, Any]) -> str:
    lines = [f"Knowing when there is no answer — the search's decision (a margin-only rule on the tuning "
             f"half would choose {res['tuned_margin']})",
             f"{'half':<9} {'answerable':>10} {'wrongly flagged':>16} {'out of corpus':>14} {'flagged':>8}",
             "-" * 62]
    for half in (h for h in GROUPS if h in res):
        r = res[half]
        lines.append(f"{half:<9} {r['answerable']:>10} {r['answerable_wrongly_flagged']:>16.3f} "
                     f"{r['out_of_corpus']:>14} {r['out_of_corpus_flagged']:>8.3f}")
    for half in GROUPS[1:]:
        if half not in res:
            continue
        lines.append(f"{half} by language: " + "; ".join(
            f"{k}: wrongly {v['answerable_wrongly_flagged']}, flagged {v['out_of_corpus_flagged']}"
            for k, v in res[half].items() if isinstance(v, dict)))
        extra = {k: res[half][k] for k in ("near_domain_flagged", "gold_in_top10") if k in res[half]}
        if extra:
            lines.append(f"{half}: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    for m in res["missed"]:
        what = "answerable, flagged" if m["in_corpus"] else "out of corpus, not flagged"
        lines.append(f"  {m['half']:<8} {what:<27} margin {m['margin']}  {m['query'][:60]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.answerable", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, required=True, help="an index of the documents the --gold files ask about")
    p.add_argument("--gold", type=Path, action="append", required=True, help="gold-substring JSONL (answerable)")
    p.add_argument("--shared", type=Path, help="../shared: also run the unseen sets, their gold checked there")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    res = evaluate(Searcher(args.index, query_cache=0), args.gold, shared=args.shared)
    print(format_table(res))
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

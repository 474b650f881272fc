"""Knowing when there is no answer: how often questions the corpus cannot answer are flagged, and how
often questions it does answer are wrongly flagged (search_app/core/answerable.py).

Answerable questions: the gold-substring development sets (every question there has its answer in
the corpus). Out-of-corpus questions: benchmarks/out_of_corpus_tune.jsonl (for choosing the
threshold) and benchmarks/out_of_corpus.jsonl (held out), written for this project: cooking, sport,
weather, code, travel, health… in Vietnamese with and without diacritics, English, and strings
such as "<script>". The development questions are split in two fixed halves by
`eval.tuning_split("<file stem>:<id>")`: the threshold is chosen on the tuning half with the tuning
out-of-corpus set (`--tune`) and reported on the held-out half with the held-out set.

    python -m benchmarks.answerable --index /tmp/idx --gold ../shared/eval/dev_queries.jsonl \
        --gold ../shared/eval/dev_resolutions.jsonl [--tune]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.eval import tuning_split
from search_app.core import answerable
from search_app.core.searcher import Searcher

HERE = Path(__file__).resolve().parent
OUT_OF_CORPUS = HERE / "out_of_corpus.jsonl"
OUT_OF_CORPUS_TUNE = HERE / "out_of_corpus_tune.jsonl"
MAX_WRONGLY_FLAGGED = 0.025  # when tuning: half the 5% floor, room for questions not seen


def read_queries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def evidence(searcher: Searcher, query: str, top_k: int = 10) -> dict[str, Any]:
    details: dict[str, Any] = {}
    searcher.search(query, top_k, details=details)
    return details["evidence"]


def collect(searcher: Searcher, gold: list[Path], ooc: list[Path]) -> list[dict[str, Any]]:
    """One row per question: its set, half, language, whether it is answerable, the evidence."""
    rows = []
    for path, is_answerable in [(p, True) for p in gold] + [(p, False) for p in ooc]:
        for q in read_queries(path):
            if is_answerable:
                half = tuning_split(f"{path.stem}:{q['id']}")
            else:
                half = "tune" if path.name == OUT_OF_CORPUS_TUNE.name else "held-out"
            # "in_corpus" is the truth; the evidence's own "answerable" is the decision
            rows.append({**evidence(searcher, q["query"]), "set": path.stem, "id": q["id"], "half": half,
                         "lang": q.get("lang", "?"), "query": q["query"], "in_corpus": is_answerable})
    return rows


def flagged(row: dict[str, Any], margin: float) -> bool:
    if row["number_known"] or row["phrase"]:
        return False
    return row["margin"] is None or row["margin"] < margin


def rates(rows: list[dict[str, Any]], margin: float = answerable.MARGIN) -> dict[str, Any]:
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
    return out


def tune(rows: list[dict[str, Any]]) -> float:
    """The largest margin threshold that flags at most MAX_WRONGLY_FLAGGED of the tuning half's
    answerable questions: as many out-of-corpus questions flagged as that allows."""
    ans = sorted(r["margin"] for r in rows
                 if r["in_corpus"] and not (r["number_known"] or r["phrase"]) and r["margin"] is not None)
    allowed = int(MAX_WRONGLY_FLAGGED * sum(r["in_corpus"] for r in rows))
    # a threshold at ans[allowed] flags exactly the `allowed` lowest answerable questions
    return round(ans[allowed] if len(ans) > allowed else 0.0, 3)


def evaluate(searcher: Searcher, gold: list[Path], ooc: list[Path] | None = None) -> dict[str, Any]:
    rows = collect(searcher, gold, ooc or [OUT_OF_CORPUS_TUNE, OUT_OF_CORPUS])
    halves = {h: [r for r in rows if r["half"] == h] for h in ("tune", "held-out")}
    return {"dataset": "answerable", "margin": answerable.MARGIN, "index": searcher.status(),
            "tuned_margin": tune(halves["tune"]),
            "tune": rates(halves["tune"]), "held-out": rates(halves["held-out"]),
            "missed": [{k: r[k] for k in ("set", "id", "half", "query", "in_corpus", "margin")}
                       for r in rows if flagged(r, answerable.MARGIN) == r["in_corpus"]],
            "rows": rows}


def format_table(res: dict[str, Any]) -> str:
    lines = [f"Knowing when there is no answer — margin threshold {res['margin']} "
             f"(the tuning half alone would choose {res['tuned_margin']})",
             f"{'half':<9} {'answerable':>10} {'wrongly flagged':>16} {'out of corpus':>14} {'flagged':>8}",
             "-" * 62]
    for half in ("tune", "held-out"):
        r = res[half]
        lines.append(f"{half:<9} {r['answerable']:>10} {r['answerable_wrongly_flagged']:>16.3f} "
                     f"{r['out_of_corpus']:>14} {r['out_of_corpus_flagged']:>8.3f}")
    lines.append("held-out by language: " + "; ".join(
        f"{k}: wrongly {v['answerable_wrongly_flagged']}, flagged {v['out_of_corpus_flagged']}"
        for k, v in res["held-out"].items() if isinstance(v, dict)))
    for m in res["missed"]:
        what = "answerable, flagged" if m["in_corpus"] else "out of corpus, not flagged"
        lines.append(f"  {m['half']:<8} {what:<27} margin {m['margin']}  {m['query'][:60]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.answerable", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, required=True, help="an index of the documents the --gold files ask about")
    p.add_argument("--gold", type=Path, action="append", required=True, help="gold-substring JSONL (answerable)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    res = evaluate(Searcher(args.index, query_cache=0), args.gold)
    print(format_table(res))
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How well `compare` aligns two versions of a document, against a hand-made gold.

The gold (benchmarks/compare_gold.jsonl) was written by reading both texts, before this script was
first run: for a sample of units of one side, the counterpart on the other side, or null (a unit of
NEW that is new, a unit of OLD that was dropped). A `counterpart` may be a list when more than one
unit of the other side is an acceptable counterpart (resolutions, whose sections do not mirror). A
gold row may also carry `figures`: the changed figures `compare` listed for that pair, each judged
by reading both texts (`right`: the figure really changed, and the two sides are the same provision).

Reported per document pair: accuracy on the aligned units (`pairs`), on units new in NEW (`new`), on
units dropped from OLD (`dropped`), overall; the changed-figure list's precision over the judged
figures (a listed figure of a sampled pair with no judgment is counted as unjudged, not as right);
the time of one comparison on each backend given (the same pairs on both, or the difference shown).

    python -m benchmarks.compare_eval --index .cache/eval-compare [--milvus-index .cache/eval-compare-milvus] \\
        [--gold benchmarks/compare_gold.jsonl] [--json eval/compare.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from search_app.core.compare import compare
from search_app.core.searcher import Searcher

GOLD = Path(__file__).with_name("compare_gold.jsonl")


def counterparts(out: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(NEW unit → OLD unit or None, OLD unit → NEW unit or None) of a comparison."""
    new: dict[str, str | None] = {}
    old: dict[str, str | None] = {}
    for p in out["pairs"]:
        o, n = (p["old"] or {}).get("key"), (p["new"] or {}).get("key")
        if n is not None:
            new[n] = o
        if o is not None:
            old[o] = n
    return new, old


def _kind(row: dict[str, Any]) -> str:
    if row["counterpart"] is not None:
        return "pairs"
    return "new" if row["side"] == "new" else "dropped"


def _right(row: dict[str, Any], got: str | None) -> bool:
    want = row["counterpart"]
    return got in want if isinstance(want, list) else got == want


def score(rows: list[dict[str, Any]], out: dict[str, Any]) -> dict[str, Any]:
    new, old = counterparts(out)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrong = []
    figures: dict[str, Any] = {"listed": 0, "judged": 0, "right": 0}
    for row in rows:
        side = new if row["side"] == "new" else old
        got = side.get(row["unit"], "(missing)")
        ok = _right(row, got)
        for k in (_kind(row), "overall"):
            tally[k][0] += ok
            tally[k][1] += 1
        if not ok:
            wrong.append({"unit": row["unit"], "side": row["side"], "gold": row["counterpart"], "got": got})
        if row["side"] == "new" and ok and row["counterpart"] is not None:
            pair = next(p for p in out["pairs"] if (p["new"] or {}).get("key") == row["unit"])
            judged = {(f["old"], f["new"]): f["right"] for f in row.get("figures", [])}
            for f in pair["figures"]:
                figures["listed"] += 1
                verdict = judged.get((f["old"], f["new"]))
                if verdict is not None:
                    figures["judged"] += 1
                    figures["right"] += bool(verdict)
    acc = {k: {"right": r, "total": t, "accuracy": round(r / t, 3) if t else None} for k, (r, t) in tally.items()}
    figures["precision"] = round(figures["right"] / figures["judged"], 3) if figures["judged"] else None
    return {"accuracy": acc, "figures": figures, "wrong": wrong}


def timed(index: Path, old: str, new: str) -> tuple[dict[str, Any], tuple[float, float]]:
    """The comparison and its (wall, CPU) seconds: the CPU time says what the wall time would be on
    an idle machine (this one is shared)."""
    s = Searcher(index)
    s.relations()  # the relation graph is the searcher's, assembled once per generation: not the comparison's
    t0, c0 = time.perf_counter(), time.process_time()
    out = compare(s, old, new)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    s.close()
    return out, (elapsed, cpu)


TUNE_GRID = [round(0.20 + 0.05 * i, 2) for i in range(11)]  # 0.20 … 0.70


def tune(index: Path, path: Path) -> dict[str, Any]:
    """Accuracy on the tuning gold for each candidate `pair_min` (the tuning pair is not reported)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    s = Searcher(index)
    out: dict[str, Any] = {}
    for t in TUNE_GRID:
        res = score(rows, compare(s, rows[0]["old"], rows[0]["new"], pair_min=t))
        out[str(t)] = {k: v["accuracy"] for k, v in res["accuracy"].items()}
        print(f"pair_min {t:.2f}: " + "; ".join(f"{k} {v}" for k, v in out[str(t)].items()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--milvus-index", type=Path, help="the same documents in a Milvus index: timed too")
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--tune", type=Path, help="a tuning gold: print the accuracy of each threshold on it, nothing else")
    args = ap.parse_args(argv)
    if args.tune:
        tuned = tune(args.index, args.tune)
        if args.json:
            args.json.write_text(json.dumps(tuned, indent=2), encoding="utf-8")
        return 0
    rows = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["old"], r["new"])].append(r)
    report: dict[str, Any] = {}
    for (old, new), members in groups.items():
        out, seconds = timed(args.index, old, new)
        res = score(members, out)
        res["counts"] = out["counts"]
        res["seconds"] = {"embedded": round(seconds[0], 2), "embedded_cpu": round(seconds[1], 2)}
        if args.milvus_index:
            mout, mseconds = timed(args.milvus_index, old, new)
            res["seconds"]["milvus"], res["seconds"]["milvus_cpu"] = round(mseconds[0], 2), round(mseconds[1], 2)
            res["milvus_same_pairs"] = counterparts(mout) == counterparts(out)
        report[f"{new} vs {old}"] = res
        acc = res["accuracy"]
        line = "; ".join(f"{k} {v['right']}/{v['total']}" for k, v in acc.items())
        print(f"{new} vs {old}: {line}; figures precision {res['figures']['precision']} "
              f"({res['figures']['right']}/{res['figures']['judged']} judged, {res['figures']['listed']} listed); "
              f"counts {res['counts']}; seconds {res['seconds']}")
        for w in res["wrong"]:
            print(f"    wrong: {w}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

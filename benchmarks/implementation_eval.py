"""How well the implementation map assigns an implementing document's items to a resolution's tasks.

The development set comes from the documents themselves: 03/NQ-CP's programme mirrors 57-NQ/TW, so
each item under its II.k (II.1.a, II.1.b, …) carries out 57-NQ/TW's task III.k. Three readings:

- ``structure``: the map as `python -m search_app map` makes it (structure where the document mirrors);
- ``meaning``: numbers and headings hidden from the matcher — no structure, the items' list markers
  stripped, their parents' headings never read, every sentence embedded again;
- ``meaning_bare_tasks``: the same, and the tasks' own heading lines left out too (03/NQ-CP copies
  57-NQ/TW's task headings into its section headings; here neither side has one).

Reported: the share of items assigned to the right task (unassigned counts as wrong), the share of
57-NQ/TW's tasks found covered, and of those covered by at least one right item. The method's
choices (soft sentence alignment, Tukey's fence, the half-of-sections mirror rule) were fixed before
this set was first run and were not changed after; there is no other pair with a known answer, so
these figures are development figures, not held-out ones.

    python -m benchmarks.implementation_eval --index /tmp/map-idx [--json eval/implementation.json]

(the index: `python -m indexer build ../shared/corpus ../shared/documents --index /tmp/map-idx`)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from search_app.core.implementation import implementation_map
from search_app.core.searcher import Searcher

RESOLUTION, IMPLEMENTER = "57-NQ/TW", "03/NQ-CP"
FLOORS = {"structure": 0.85, "meaning": 0.6, "meaning_bare_tasks": 0.6}
READINGS = {"structure": {}, "meaning": {"meaning_only": True},
            "meaning_bare_tasks": {"meaning_only": True, "task_headings": False}}


def gold_task(item: str | None) -> str | None:
    """'II.3.a' → 'III.3': the task an item of 03/NQ-CP's section II carries out."""
    parts = (item or "").split(".")
    return f"III.{parts[1]}" if len(parts) >= 3 and parts[0] == "II" else None


def score(out: dict[str, Any]) -> dict[str, Any]:
    labels = [t["label"] for t in out["tasks"]]
    right = total = 0
    right_tasks = set()
    wrong: list[str] = []
    for t in out["tasks"]:
        for h in t["items"]:
            g = gold_task(h["item"])
            if g is None:
                continue
            total += 1
            if g == t["label"]:
                right += 1
                right_tasks.add(t["label"])
            else:
                wrong.append(f"{h['item']}→{t['label']}")
    for h in out["unassigned"]:
        if gold_task(h["item"]):
            total += 1
            wrong.append(f"{h['item']}→none")
    gold_tasks = {gold_task(h["item"]) for t in out["tasks"] for h in t["items"]} | \
                 {gold_task(h["item"]) for h in out["unassigned"]}
    gold_tasks.discard(None)
    covered = [lab for lab in labels if lab not in out["uncovered"]]
    return {"items": total, "right": right, "accuracy": round(right / total, 3) if total else 0.0,
            "tasks": len(labels), "tasks_with_gold_items": len(gold_tasks & set(labels)),
            "covered": round(len(covered) / len(labels), 3) if labels else 0.0,
            "covered_right": round(len(right_tasks) / len(labels), 3) if labels else 0.0,
            "unassigned": len(out["unassigned"]), "errors": wrong}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    searcher = Searcher(args.index)
    results: dict[str, Any] = {"resolution": RESOLUTION, "implementer": IMPLEMENTER}
    ok = True
    for name, kwargs in READINGS.items():
        t = time.perf_counter()
        out = implementation_map(searcher, RESOLUTION, by=[IMPLEMENTER], **kwargs)
        r = score(out)
        r["seconds"] = round(time.perf_counter() - t, 2)
        r["floor"] = FLOORS[name]
        r["pass"] = r["accuracy"] >= FLOORS[name]
        ok &= r["pass"]
        results[name] = r
        print(f"{name:<20} items {r['right']}/{r['items']} right = {r['accuracy']:.3f} (floor {r['floor']}) · "
              f"tasks covered {r['covered']:.3f}, by a right item {r['covered_right']:.3f} · "
              f"unassigned {r['unassigned']} · {r['seconds']} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Typed relations and validity on a real index: counts, cost, and a sample to check by hand.

    .venv/bin/python -m indexer build ../shared/datasets/vietnamese-laws --index /tmp/laws-hash --model hash --quiet
    .venv/bin/python -m benchmarks.relations --index /tmp/laws-hash

Prints relations by type, indexed documents by status and the seconds the extraction took, then
draws a fixed-seed sample — typed relations stratified by type and document statuses stratified by
status — and writes it to benchmarks/relations_sample.jsonl. Verdicts already recorded there
(`"verdict": "ok" | "wrong"`, `"note"`) are kept for the items drawn again, and precision per
type / status is printed over the items that have one. The sample's ids (type|source|target|pid
for a relation, the doc_id for a status, with the evidence's doc_id and passage ordinal) let anyone
re-check it against the texts; the file holds no text of ../shared (nothing of it may be copied into
the repository): `--show` prints each item's evidence sentences from the index for reading.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

from indexer.store import open_backend
from search_app.core.relations import STATUSES, RelationGraph

SAMPLE = Path(__file__).with_name("relations_sample.jsonl")
# Relations per type in the sample (50 in all) and statuses per status (30 in all).
RELATION_QUOTA = {"repeals": 12, "amends": 12, "repeals_part": 10, "basis": 8, "replaces": 3, "cites": 5}
STATUS_QUOTA = {"repealed": 3, "partly_repealed": 8, "amended": 9, "in_force": 10}


def relation_id(e) -> str:  # noqa: ANN001 - an Edge
    return f"{e.type}|{e.source_key or 'doc:' + str(e.source_doc)}|{e.target_key}|{e.pid}"


def draw(graph: RelationGraph, seed: int) -> list[dict]:
    rng = random.Random(seed)
    by_type: dict[str, list] = defaultdict(list)
    for e in sorted(graph.edges, key=relation_id):
        by_type[e.type].append(e)
    items: list[dict] = []
    for type_, n in RELATION_QUOTA.items():
        for e in rng.sample(by_type[type_], min(n, len(by_type[type_]))):
            items.append({"kind": "relation", "id": relation_id(e), "type": e.type, "source": e.source_key,
                          "source_doc": e.source_doc, "target": e.target_key, "evidence_doc": e.evidence_doc,
                          "pid": e.pid, "ordinal": graph.ordinals.get(e.pid, (None, None))[1], "when": e.when,
                          "exceptions": len(e.exceptions), "_text": e.sentence})
    by_status: dict[str, list[str]] = defaultdict(list)
    for d in sorted(graph.docs):
        by_status[graph.validity(doc_id=d)["status"]].append(d)
    for status, n in STATUS_QUOTA.items():
        for d in rng.sample(by_status[status], min(n, len(by_status[status]))):
            v = graph.validity(doc_id=d)
            items.append({"kind": "status", "id": d, "status": v["status"], "since": v["since"],
                          "by": [a["label"] for a in v["by"]],
                          "evidence": [{"doc_id": x["doc_id"], "pid": x["pid"], "ordinal": x["ordinal"]}
                                       for x in v["evidence"][:3]],
                          "_text": "\n".join(x["text"] for x in v["evidence"][:3])})
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=Path("/tmp/laws-hash"))
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    ap.add_argument("--no-write", action="store_true", help="print only; leave the sample file alone")
    ap.add_argument("--show", action="store_true", help="print every sampled item with its evidence text")
    args = ap.parse_args(argv)

    backend = open_backend(args.index)
    t = time.perf_counter()
    graph = RelationGraph(backend)
    seconds = time.perf_counter() - t
    stats = graph.stats()
    print(f"index {args.index}: {len(graph.docs)} documents, generation {graph.generation}")
    print(f"graph assembly: {seconds * 1000:.1f} ms (from the rows the indexer stored per document; no passage read)")
    print("relations by type:", json.dumps(stats["relations"]))
    print("documents by status:", json.dumps(stats["documents"]))

    old = {}
    if args.sample.exists():
        for line in args.sample.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                old[(item["kind"], item["id"])] = item
    items = draw(graph, args.seed)
    for item in items:
        prev = old.get((item["kind"], item["id"]))
        if prev and "verdict" in prev:
            item["verdict"], item["note"] = prev["verdict"], prev.get("note", "")
    if args.show:
        for n, item in enumerate(items):
            head = item.get("type") or item.get("status")
            print(f"[{n}] {item['kind']} {head} {item['id']} {item.get('verdict', '')}\n    "
                  + item["_text"].replace("\n", "\n    "))
    if not args.no_write:
        args.sample.write_text("".join(json.dumps({k: v for k, v in i.items() if k != "_text"}, ensure_ascii=False)
                                       + "\n" for i in items), encoding="utf-8")
        print(f"sample: {len(items)} items written to {args.sample}")

    for kind, field, order in (("relation", "type", list(RELATION_QUOTA)), ("status", "status", list(STATUSES))):
        judged = [i for i in items if i["kind"] == kind and i.get("verdict") in ("ok", "wrong")]
        if not judged:
            print(f"{kind}: no verdicts yet")
            continue
        print(f"{kind} precision (checked by reading the text):")
        for value in order:
            group = [i for i in judged if i[field] == value]
            if group:
                ok = sum(i["verdict"] == "ok" for i in group)
                print(f"  {value:<16} {ok}/{len(group)}  {ok / len(group):.2f}")
        ok = sum(i["verdict"] == "ok" for i in judged)
        print(f"  {'all':<16} {ok}/{len(judged)}  {ok / len(judged):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

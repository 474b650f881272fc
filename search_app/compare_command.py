"""`python -m search_app compare OLD NEW`: argument parsing and printing only (the work is in
`search_app/core/compare.py`; the summary and the exports in `search_app/core/compare_report.py`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from indexer.store.base import DEFAULT_INDEX, IndexFormatError, IndexNotFound
from indexer.text.normalise import for_terminal
from search_app.core import compare_report
from search_app.core.compare import CompareError, compare
from search_app.core.searcher import ModelMismatch, Searcher

EXPORTS = {".docx": compare_report.to_docx, ".xlsx": compare_report.to_xlsx}
SHOWN = 400  # characters of a unit's text shown in the terminal (the JSON and the exports hold it all)


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("compare", help="what is new: NEW compared with OLD part by part, with citations")
    c.add_argument("old", help='the earlier document (number or document id), e.g. "68/2014/QH13"')
    c.add_argument("new", help='the later document, e.g. "59/2020/QH14"')
    c.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    c.add_argument("--json", action="store_true")
    c.add_argument("--all", action="store_true", help="also list the units kept or only moved")
    c.add_argument("--export", type=Path, help="also write the table to FILE (.docx, .xlsx or .md)")


def _clean(text: str) -> str:
    """A text for the terminal, line by line: control characters shown escaped, never obeyed."""
    return "\n".join(for_terminal(line) for line in text.split("\n"))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return _clean(text[:SHOWN] + ("…" if len(text) > SHOWN else ""))


def print_pair(p: dict[str, Any]) -> None:
    o, n = p["old"], p["new"]
    where = " ↔ ".join(x["key"] for x in (o, n) if x)
    renumbered = p["moved"] and p["status"] == "changed"
    label = compare_report.STATUS_VI[p["status"]] + (" (đổi số thứ tự)" if renumbered else "")
    print(f"\n[{label}] {where}: {_clean((n or o)['heading'])}")
    for f in p["figures"]:
        print(f"    số liệu: {_clean(compare_report.figure_line(f))}")
    for part in p["parts"]:
        if part["status"] not in ("changed", "new", "dropped"):
            continue
        print(f"    {compare_report.STATUS_VI[part['status']].lower()}:")
        for label, side in (("cũ", part["old"]), ("mới", part["new"])):
            if side:
                print(f"      {label}: {_short(side['text'])}\n        → {_clean(side['citation'])}")
    if not p["parts"]:
        for x in (o, n):
            if x:
                print(f"    {_short(x['text'])}\n        → {_clean(x['citation'])}")


def run(args: argparse.Namespace) -> int:
    try:
        searcher = Searcher(args.index)
        out = compare(searcher, args.old, args.new)
    except (IndexNotFound, IndexFormatError, ModelMismatch, CompareError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.export:
        suffix = args.export.suffix.lower()
        if suffix == ".md":
            args.export.write_text(compare_report.to_markdown(out), encoding="utf-8")
        elif suffix in EXPORTS:
            args.export.write_bytes(EXPORTS[suffix](out))
        else:
            print("error: --export takes a .docx, .xlsx or .md file", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(_clean(compare_report.summary(out)))
    for p in out["pairs"]:
        if args.all or p["status"] not in ("kept", "moved"):
            print_pair(p)
    return 0

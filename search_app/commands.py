"""`python -m search_app map …` and `… follow …`: argument parsing and printing only (the work is in
`search_app/core/implementation.py` and `search_app/core/follow.py`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.store.base import DEFAULT_INDEX, IndexFormatError, IndexNotFound
from search_app.core import follow
from search_app.core.citation import vn_time
from search_app.core.implementation import MapError, implementation_map
from search_app.core.implementation_table import doc_label
from search_app.core.searcher import ModelMismatch, Searcher


def add_parsers(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("map", help="a resolution's tasks and the implementing items that carry them out")
    m.add_argument("key", help='the resolution, e.g. "57-NQ/TW"')
    m.add_argument("--by", action="append", help="an implementing document (key or document id; repeatable); "
                                                 "default: every document that implements, guides or is based on KEY")
    m.add_argument("--draft", type=Path, help="compare a file that is not in the corpus (nothing is indexed)")
    m.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    m.add_argument("--json", action="store_true")

    f = sub.add_parser("follow", help="follow a document or a question: what is new after each update")
    fs = f.add_subparsers(dest="follow_command", required=True)
    fa = fs.add_parser("add", help='follow a document key ("57-NQ/TW") or a question')
    fa.add_argument("target")
    fa.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    fl = fs.add_parser("list", help="the follows of this index")
    fl.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    fl.add_argument("--json", action="store_true")
    fc = fs.add_parser("check", help="what is new since the last check (and mark it seen)")
    fc.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    fc.add_argument("--json", action="store_true")
    fc.add_argument("--atom", type=Path, help="also write one Atom feed per follow into this folder")


def _searcher(index: Path) -> Searcher | None:
    try:
        return Searcher(index)
    except (IndexNotFound, IndexFormatError, ModelMismatch) as e:
        print(f"error: {e}", file=sys.stderr)
        return None


# How an item was placed under its task (core/implementation.py's `match`), in words.
MATCH_LABELS = {"structure": "theo số mục", "meaning": "theo nội dung"}


def print_map(out: dict) -> None:
    docs = ", ".join(doc_label(out, d) for d in out["by"]) or "(không có)"
    print(f"{out['key']}: {len(out['tasks'])} nhiệm vụ; văn bản triển khai: {docs}")
    for t in out["tasks"]:
        mark = "  ✗ CHƯA CÓ VĂN BẢN NÀO TRIỂN KHAI" if not t["items"] else ""
        print(f"\n[{t['label']}] {t['heading'][:110]}{mark}")
        for h in t["items"]:
            said = " ".join(h["text"][h["answer"][0]["start"]:h["answer"][0]["end"]].split())
            how = MATCH_LABELS.get(h["match"], h["match"])
            print(f"    {h['score']:.3f} ({how}) {said[:160]}{'…' if len(said) > 160 else ''}")
            print(f"        → {h['citation']}")
    if out["unassigned"]:
        print(f"\nKhông khớp nhiệm vụ nào: {len(out['unassigned'])} mục")
        for h in out["unassigned"]:
            print(f"    {h['score']:.3f} → {h['citation']}")
    print(f"\nNhiệm vụ chưa có văn bản triển khai: {', '.join(out['uncovered']) or 'không'}")


def run_map(args: argparse.Namespace) -> int:
    searcher = _searcher(args.index)
    if searcher is None:
        return 2
    try:
        out = implementation_map(searcher, args.key, by=args.by, draft=args.draft)
    except MapError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print_map(out)
    return 0


def run_follow(args: argparse.Namespace) -> int:
    try:
        if args.follow_command == "add":
            item = follow.add(args.index, args.target)
            print(f"Theo dõi {item['kind']}: {item['target']} (id {item['id']})")
            return 0
        if args.follow_command == "list":
            items = follow.load(args.index)["follows"]
            if args.json:
                print(json.dumps(items, ensure_ascii=False, indent=2))
            for it in [] if args.json else items:
                when = vn_time(it.get("checked_at")) or "chưa"
                print(f"{it['id']}  {it['kind']:<8} {it['target']}  (kiểm tra lần cuối: {when})")
            return 0
        searcher = _searcher(args.index)
        if searcher is None:
            return 2
        report = follow.check(searcher, args.index, atom_dir=args.atom)
    except follow.FollowError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    for r in report["follows"]:
        print(f"{r['target']} ({r['kind']}): {len(r['new'])} mới kể từ lần cập nhật trước")
        for h in r["new"]:
            print(f"    → {h['citation']}")
    return 0

"""`python -m search_app map …` and `… follow …`: argument parsing and printing only (the work is in
`search_app/core/implementation.py` and `search_app/core/follow.py`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.store.base import DEFAULT_INDEX, BackendUnavailable, IndexFormatError, IndexNotFound
from search_app.core import follow
from search_app.core.citation import vn_time
from search_app.core.escape import terminal_text, unicode_text
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
    fr = fs.add_parser("remove", help="stop following (the id shown by follow list)")
    fr.add_argument("id")
    fr.add_argument("--index", type=Path, default=DEFAULT_INDEX)
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
    except (IndexNotFound, IndexFormatError, ModelMismatch, BackendUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return None


# How an item was placed under its task (core/implementation.py's `match`), in words.
MATCH_LABELS = {"structure": "theo số mục", "meaning": "theo nội dung"}


def say(line: str) -> None:
    """One line for the terminal: text from documents is shown, never obeyed (escape codes, newlines)."""
    print(terminal_text(line))


def print_json(value: object) -> None:
    print(unicode_text(json.dumps(value, ensure_ascii=False, indent=2)))


def print_map(out: dict) -> None:
    docs = ", ".join(doc_label(out, d) for d in out["by"]) or "(không có)"
    say(f"{out['key']}: {len(out['tasks'])} nhiệm vụ; văn bản triển khai: {docs}")
    for t in out["tasks"]:
        mark = "  ✗ CHƯA CÓ VĂN BẢN NÀO TRIỂN KHAI" if not t["items"] else ""
        print()
        say(f"[{t['label']}] {t['heading'][:110]}{mark}")
        for h in t["items"]:
            said = " ".join(h["text"][h["answer"][0]["start"]:h["answer"][0]["end"]].split())
            how = MATCH_LABELS.get(h["match"], h["match"])
            say(f"    {h['score']:.3f} ({how}) {said[:160]}{'…' if len(said) > 160 else ''}")
            say(f"        → {h['citation']}")
    if out["unassigned"]:
        print()
        say(f"Không khớp nhiệm vụ nào: {len(out['unassigned'])} mục")
        for h in out["unassigned"]:
            say(f"    {h['score']:.3f} → {h['citation']}")
    print()
    say(f"Nhiệm vụ chưa có văn bản triển khai: {', '.join(out['uncovered']) or 'không'}")


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
        print_json(out)
    else:
        print_map(out)
    return 0


def print_check(report: dict) -> None:
    for r in report["follows"]:
        say(f"{r['target']} ({r['kind']}): {len(r['new'])} mới kể từ lần cập nhật trước")
        for h in r["new"]:
            say(f"    → {h['citation']}")


def run_follow(args: argparse.Namespace) -> int:
    try:
        if args.follow_command == "add":
            item = follow.add(args.index, args.target)
            say(f"Theo dõi {item['kind']}: {item['target']} (id {item['id']})")
            return 0
        if args.follow_command == "remove":
            if not follow.remove(args.index, args.id):
                print(f"error: no follow with id {terminal_text(args.id)!r} (see: follow list)", file=sys.stderr)
                return 2
            say(f"Bỏ theo dõi {args.id}")
            return 0
        if args.follow_command == "list":
            items = follow.load(args.index)["follows"]
            if args.json:
                print_json(items)
            for it in [] if args.json else items:
                when = vn_time(it.get("checked_at")) or "chưa"
                say(f"{it['id']}  {it['kind']:<8} {it['target']}  (kiểm tra lần cuối: {when})")
            return 0
        searcher = _searcher(args.index)
        if searcher is None:
            return 2
        # the report is printed before the new passages are marked seen (follow.check's `deliver`)
        follow.check(searcher, args.index, atom_dir=args.atom, deliver=print_json if args.json else print_check)
    except follow.FollowError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a read-only folder, a full disk: the follows file cannot be written
        print(f"error: the follows file beside the index cannot be written ({e.strerror or e}); "
              "nothing was marked seen", file=sys.stderr)
        return 2
    return 0

"""`python -m search_app search …` — argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.store import IndexNotFound

from .searcher import DEFAULT_METHOD, METHODS, Filters, ModelMismatch, QueryError, Searcher, clip_query


def _filters(args: argparse.Namespace) -> Filters | None:
    f = Filters(
        doc_types=set(args.type) if args.type else None,
        issuers=set(args.issuer) if args.issuer else None,
        year_from=args.year_from,
        year_to=args.year_to,
        doc_ids=set(args.doc) if args.doc else None,
    )
    return f if f.active() else None


def _print_hits(hits: list, out=sys.stdout) -> None:  # noqa: ANN001
    if not hits:
        print("Không tìm thấy kết quả.", file=out)
    for h in hits:
        print(f"[{h.rank}] {h.score:.4f}  {h.title}", file=out)
        if h.section:
            print(f"    {h.section}", file=out)
        print("    " + h.text[:400].replace("\n", " ") + ("…" if len(h.text) > 400 else ""), file=out)
        print(f"    → {h.citation}\n", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search_app", description="Search the document index.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search", help="search passages")
    s.add_argument("query", nargs="?", help="the question or keywords")
    s.add_argument("--queries", type=Path, help='batch mode: a JSONL file of {"id", "query"} lines')
    s.add_argument("--index", type=Path, default=Path("index"))
    s.add_argument("--top-k", type=int, default=10)
    s.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD)
    s.add_argument("--model", help="refuse to search unless the index was built with this model")
    s.add_argument("--json", action="store_true", help="print hits as JSON")
    s.add_argument("--type", action="append", help="only this document type (repeatable)")
    s.add_argument("--issuer", action="append", help="only this issuing body (repeatable)")
    s.add_argument("--doc", action="append", help="only this document id (repeatable)")
    s.add_argument("--year-from", type=int)
    s.add_argument("--year-to", type=int)

    args = parser.parse_args(argv)
    if (args.query is None) == (args.queries is None):
        parser.error("give either a QUERY or --queries FILE")
    try:
        searcher = Searcher(args.index, model=args.model)
    except (IndexNotFound, ModelMismatch) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    filters = _filters(args)

    try:
        if args.queries is not None:
            for lineno, line in enumerate(args.queries.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    qid, query = item["id"], item["query"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    print(f"error: {args.queries}:{lineno}: expected {{\"id\", \"query\"}}", file=sys.stderr)
                    return 2
                hits = searcher.search(query, args.top_k, filters, args.method)
                print(json.dumps({"id": qid, "results": [h.to_dict() for h in hits]}, ensure_ascii=False))
            return 0

        query, cut = clip_query(args.query)
        if cut:
            print(f"note: the query was cut to its first {len(query)} characters", file=sys.stderr)
        hits = searcher.search(query, args.top_k, filters, args.method)
    except QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
    else:
        _print_hits(hits)
    return 0

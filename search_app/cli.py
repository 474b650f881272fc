"""`python -m search_app search …` — argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from indexer.store.base import DEFAULT_INDEX, IndexFormatError, IndexNotFound
from indexer.text.normalise import for_terminal
from search_app import commands, compare_command
from search_app.core import serialize
from search_app.core.searcher import DEFAULT_METHOD, METHODS, Filters, ModelMismatch, QueryError, Searcher, clip_query
from search_app.labels import STATUS_LABELS, TYPE_LABELS, TYPE_LABELS_IN


def _filters(args: argparse.Namespace, searcher: Searcher | None = None) -> Filters | None:
    f = Filters(
        doc_types=set(args.type) if args.type else None,
        issuers=set(args.issuer) if args.issuer else None,
        year_from=args.year_from,
        year_to=args.year_to,
        doc_ids=set(args.doc) if args.doc else None,
    )
    if getattr(args, "in_force", False) and searcher is not None:
        f = searcher.in_force(f)
    return f if f.active() else None


NO_ANSWER = "Không tìm thấy đoạn văn trả lời câu hỏi này trong kho."


def _print_hits(hits: list, out=sys.stdout, answerable: bool = True) -> None:  # noqa: ANN001
    if not hits:
        print("Không tìm thấy kết quả.", file=out)
    elif not answerable:
        print(f"{NO_ANSWER} Các đoạn văn gần nhất:\n", file=out)
    t = for_terminal  # titles come from file names: an escape code in one is shown, never obeyed
    for h in hits:
        print(f"[{h.rank}] {t(h.title)}" + (f"  ({h.match})" if h.match else ""), file=out)
        if h.section:
            print(f"    {t(h.section)}", file=out)
        print("    " + t(h.text[:400].replace("\n", " ")) + ("…" if len(h.text) > 400 else ""), file=out)
        if h.answer:  # the answering sentence(s), verbatim
            said = " … ".join(" ".join(h.text[a["start"]:a["end"]].split()) for a in h.answer)
            print(f"    ⮕ Trả lời: {t(said)}", file=out)
        print(f"    → {t(h.citation)}\n", file=out)


IDENTITY_NAMES = (("doc_type", "loại"), ("number", "số hiệu"), ("date", "ngày"), ("issuer", "cơ quan ban hành"),
                  ("subject", "trích yếu"))


def _refs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if bool(args.key) == bool(args.list):
        parser.error("cần một số hiệu hoặc tên văn bản (KEY), hoặc --list")
    try:
        searcher = Searcher(args.index)
    except (IndexNotFound, IndexFormatError, ModelMismatch) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.list:
        items = searcher.reference_list()
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
            return 0
        print(f"{'văn bản':<28} {'số đoạn dẫn':>11} {'số văn bản':>10}  trong kho")
        for it in items:
            where = ", ".join(it["doc_ids"]) or "chưa có trong kho"
            print(f"{it['label'][:28]:<28} {it['citing_passages']:>11} {it['citing_documents']:>10}  {where}")
        return 0
    res = searcher.references(args.key)
    doc = res["document"]
    if args.json:
        print(json.dumps(serialize.refs_object(res), ensure_ascii=False, indent=2))
        return 0
    if doc:
        print(for_terminal(f"{res['label']}: {doc['title']} ({doc['doc_id']})"))
    elif res.get("ambiguous"):
        print(for_terminal(f"{res['label']}: {len(res['ambiguous'])} văn bản trong kho có số hiệu này — ghi kèm "
                           "ngày ban hành để chọn một:"))
        for d in res["ambiguous"]:
            print(for_terminal(f"  - {d['title']} ({d.get('date') or 'không rõ ngày'}, {d['doc_id']})"))
    else:
        print(f"{res['label']}: chưa có trong kho — đặt tệp văn bản vào corpus/ rồi chạy make index")
    v = res["validity"]
    print(f"Hiệu lực ({v['source']}): {STATUS_LABELS[v['status']]}"
          + (f" từ {v['since']}" if v["since"] else "") + "".join(f"; {a['label']}" for a in v["by"]))
    ident = res["identity"]
    card = ", ".join(f"{name}: {ident[k]}" for k, name in IDENTITY_NAMES if ident.get(k))
    if card:
        print(f"Thông tin văn bản: {card}")
    for r in res["relations"]:
        if r["type"] != "cites":
            arrow = "→" if r["direction"] == "out" else "←"
            kind = TYPE_LABELS[r["type"]] if r["direction"] == "out" else TYPE_LABELS_IN[r["type"]]
            print(f"  {kind} {arrow} {r['label']}")
    print(f"Được dẫn chiếu trong {len(res['cited_by'])} đoạn văn:\n")
    _print_hits(res["cited_by"])
    return 0


BATCH_PREFETCH = 64  # queries of a batch whose rankings are read ahead together (Searcher.prefetch)


def _batch(args: argparse.Namespace, searcher: Searcher, filters: Filters | None) -> int:
    """Batch mode: one JSON line per query line, in order. The rankings of BATCH_PREFETCH queries are
    read ahead in a few backend calls (a round trip each on Milvus); the lines are the same either way."""
    items: list[tuple[Any, str]] = []

    def flush() -> None:
        searcher.prefetch([q for _, q in items], args.top_k, filters, args.method)
        for qid, query in items:
            hits, answerable = serialize.run_query(searcher, query, args.top_k, filters, args.method)
            print(json.dumps(serialize.batch_line(qid, hits, answerable), ensure_ascii=False))
        items.clear()

    for lineno, line in enumerate(args.queries.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            items.append((item["id"], item["query"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            flush()  # the lines before it are answered, as they were before read-ahead
            print(f"error: {args.queries}:{lineno}: expected {{\"id\", \"query\"}}", file=sys.stderr)
            return 2
        if len(items) >= BATCH_PREFETCH:
            flush()
    flush()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from search_app.api.auth import TokenFileError
    from search_app.api.settings import SettingsError

    try:
        if args.command == "api":
            from search_app.api import serve

            serve(args.index, args.host, args.port, args.workers)
        else:
            from search_app.mcp_server import serve_mcp

            serve_mcp(args.index, http=args.http, host=args.host, port=args.port)
    except (IndexNotFound, IndexFormatError, ModelMismatch, TokenFileError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search_app", description="Search the document index.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search", help="search passages")
    s.add_argument("query", nargs="?", help="the question or keywords")
    s.add_argument("--queries", type=Path, help='batch mode: a JSONL file of {"id", "query"} lines')
    s.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    s.add_argument("--top-k", type=int, default=10)
    s.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD)
    s.add_argument("--model", help="refuse to search unless the index was built with this model")
    s.add_argument("--json", action="store_true", help="print hits as JSON")
    s.add_argument("--type", action="append", help="only this document type (repeatable)")
    s.add_argument("--issuer", action="append", help="only this issuing body (repeatable)")
    s.add_argument("--doc", action="append", help="only this document id (repeatable)")
    s.add_argument("--year-from", type=int)
    s.add_argument("--year-to", type=int)
    s.add_argument("--in-force", action="store_true",
                   help="only documents still in force (leaves out those the corpus says were repealed)")

    r = sub.add_parser("refs", help="a document's context: the document and every passage citing it")
    r.add_argument("key", nargs="?", help='a document number or name, e.g. "57-NQ/TW", "Điều lệ Đảng"')
    r.add_argument("--list", action="store_true", help="list every referenced or indexed document with counts")
    r.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    r.add_argument("--json", action="store_true")

    commands.add_parsers(sub)  # map, follow (search_app/commands.py)
    compare_command.add_parser(sub)

    a = sub.add_parser("api", help="serve the HTTP API (docs/api.md)")
    a.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    a.add_argument("--host", default="127.0.0.1", help="0.0.0.0 serves other machines: set a token first")
    a.add_argument("--port", type=int, default=8000)
    a.add_argument("--workers", type=int, default=1, help="worker processes (each opens the index)")

    m = sub.add_parser("mcp", help="serve the MCP server for AI assistants (stdio, or --http)")
    m.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    m.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    m.add_argument("--host", default="127.0.0.1")
    m.add_argument("--port", type=int, default=8001)

    args = parser.parse_args(argv)
    if args.command == "refs":
        return _refs(args, parser)
    if args.command in ("api", "mcp"):
        return _serve(args)
    if args.command == "map":
        return commands.run_map(args)
    if args.command == "compare":
        return compare_command.run(args)
    if args.command == "follow":
        return commands.run_follow(args)
    if (args.query is None) == (args.queries is None):
        parser.error("give either a QUERY or --queries FILE")
    try:
        searcher = Searcher(args.index, model=args.model)
    except (IndexNotFound, IndexFormatError, ModelMismatch) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    filters = _filters(args, searcher)

    try:
        if args.queries is not None:
            return _batch(args, searcher, filters)

        query, cut = clip_query(args.query)
        if cut:
            print(f"note: the query was cut to its first {len(query)} characters", file=sys.stderr)
        hits, answerable = serialize.run_query(searcher, query, args.top_k, filters, args.method)
    except QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(serialize.search_response(query, hits, answerable), ensure_ascii=False, indent=2))
    else:
        _print_hits(hits, answerable=answerable)
    return 0

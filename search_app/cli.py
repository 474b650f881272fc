"""`python -m search_app search …` — argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from indexer.settings import Settings, SettingsError
from indexer.store.base import DEFAULT_INDEX, BackendUnavailable, IndexFormatError, IndexNotFound
from indexer.text.normalise import for_terminal
from search_app import commands, compare_command, labels
from search_app.core import heap, serialize
from search_app.core.citation import vn_date
from search_app.core.escape import unicode_text
from search_app.core.pipeline import SearchRequest, SearchResult, make_request
from search_app.core.searcher import DEFAULT_METHOD, METHODS, Hit, ModelMismatch, QueryError, Searcher, clip_query
from search_app.labels import TYPE_LABELS, TYPE_LABELS_IN, cited_words


def _request(args: argparse.Namespace, query: str) -> SearchRequest:
    return make_request(query, top_k=args.top_k, method=args.method, type=args.type, issuer=args.issuer,
                        doc=args.doc, year_from=args.year_from, year_to=args.year_to, in_force=args.in_force)


def _print_result(result: SearchResult, out: TextIO = sys.stdout) -> None:
    """The card of the document the query names (its answer first), then the passages; a question the
    corpus does not answer says so before the nearest passages, which are not counted as results."""
    t = for_terminal
    if result.understood:
        print(t(f"(tìm theo: {result.understood})"), file=out)
    if result.card:
        answer = result.card.get("answer")
        for line in labels.answer_lines(answer) if answer else []:
            print(t(f"⮕ {line}"), file=out)
        for line in labels.card_lines(result.card):
            print(t(f"  {line}"), file=out)
        print(file=out)
    if result.hits and not result.answerable:
        print(f"{labels.NO_ANSWER}\n{labels.NEAREST}\n", file=out)
    _print_hits(result.hits, out)


def _print_hits(hits: list[Hit], out: TextIO = sys.stdout) -> None:
    if not hits:
        print("Không tìm thấy kết quả.", file=out)
    t = for_terminal  # titles come from file names: an escape code in one is shown, never obeyed
    for h in hits:
        print(f"[{h.rank}] {t(h.title)}" + (f"  ({h.match})" if h.match else ""), file=out)
        if h.section:
            print(f"    {t(h.section_label)}", file=out)
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
    except (IndexNotFound, IndexFormatError, ModelMismatch, BackendUnavailable) as e:
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
            print(for_terminal(f"  - {d['title']} ({vn_date(d.get('date')) or 'không rõ ngày'}, {d['doc_id']})"))
    else:
        print(f"{res['label']}: chưa có trong kho — đặt tệp văn bản vào corpus/ rồi chạy make index")
    v = res["validity"]
    print(for_terminal(f"Hiệu lực ({v['source']}): {labels.validity_words(v)}"))
    ident = res["identity"]
    # dates as the page writes them (dd/mm/yyyy); --json keeps ISO
    card = ", ".join(f"{name}: {vn_date(ident[k]) if k == 'date' else ident[k]}"
                     for k, name in IDENTITY_NAMES if ident.get(k))
    if card:
        print(f"Thông tin văn bản: {card}")
    for r in res["relations"]:
        if r["type"] != "cites":
            arrow = "→" if r["direction"] == "out" else "←"
            kind = TYPE_LABELS[r["type"]] if r["direction"] == "out" else TYPE_LABELS_IN[r["type"]]
            print(f"  {kind} {arrow} {r['label']}")
    print(cited_words(len(res["cited_by"])) + (":\n" if res["cited_by"] else ""))
    if res["cited_by"]:
        _print_hits(res["cited_by"])
    return 0


BATCH_PREFETCH = 64  # queries of a batch whose rankings are read ahead together (Searcher.prefetch)


def _batch_item(line: str) -> tuple[Any, str] | None:
    """(id, query) of one batch line, or None when it is not {"id": text or number, "query": text}."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(item, dict):
        return None
    qid, query = item.get("id"), item.get("query")
    if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not isinstance(query, str):
        return None
    return qid, query


def _batch(args: argparse.Namespace, searcher: Searcher) -> int:
    """Batch mode: one JSON line per query line, in order. The rankings of BATCH_PREFETCH queries are
    read ahead in a few backend calls (a round trip each on Milvus); the lines are the same either way.
    A bad line stops the batch after every line before it is answered."""
    heap.settle()  # the loaded index left out of the collector's passes over a long batch
    items: list[tuple[Any, str]] = []

    def flush() -> None:
        results = searcher.search_many([_request(args, query) for _, query in items])
        for (qid, _), result in zip(items, results, strict=True):
            print(unicode_text(json.dumps(serialize.batch_line(qid, result), ensure_ascii=False)))
        items.clear()

    where = for_terminal(str(args.queries))
    try:
        lines = args.queries.open("rb")  # decoded line by line: a bad byte stops at its own line
    except OSError as e:
        print(f"error: cannot read {where}: {e.strerror or e}", file=sys.stderr)
        return 2
    with lines:
        for lineno, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                item = _batch_item(raw.decode("utf-8").lstrip("\ufeff"))
            except UnicodeDecodeError:
                item = None
            if item is None:
                flush()  # the lines before it are answered, as they were before read-ahead
                print(f"error: {where}:{lineno}: expected one UTF-8 line "
                      "{\"id\": text or number, \"query\": text}", file=sys.stderr)
                return 2
            items.append(item)
            if len(items) >= BATCH_PREFETCH:
                flush()
    flush()
    return 0


def _serve(args: argparse.Namespace) -> int:
    from search_app.api.auth import TokenFileError
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


def _search_parser(sub: Any) -> None:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search_app", description="Search the document index.")
    sub = parser.add_subparsers(dest="command", required=True)
    _search_parser(sub)
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
    return parser


def _search(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if (args.query is None) == (args.queries is None):
        parser.error("give either a QUERY or --queries FILE")
    try:
        searcher = Searcher(args.index, model=args.model)
    except (IndexNotFound, IndexFormatError, ModelMismatch, BackendUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if args.queries is not None:
            return _batch(args, searcher)
        query, cut = clip_query(args.query)
        if cut:
            print(f"note: the query was cut to its first {len(query)} characters", file=sys.stderr)
        result = searcher.search(_request(args, query))
    except QueryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(serialize.search_response(result), ensure_ascii=False, indent=2))
    else:
        _print_result(result)
    return 0


# Each command's function; the parser is passed to those that report a usage error through it.
COMMANDS: dict[str, Callable[[argparse.Namespace, argparse.ArgumentParser], int]] = {
    "search": _search,
    "refs": _refs,
    "api": lambda args, _: _serve(args),
    "mcp": lambda args, _: _serve(args),
    "map": lambda args, _: commands.run_map(args),
    "follow": lambda args, _: commands.run_follow(args),
    "compare": lambda args, _: compare_command.run(args),
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:  # every setting checked once, at the door (indexer/settings.py); code below reads current()
        Settings.from_env()
    except SettingsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](args, parser)

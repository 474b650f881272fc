"""`python -m indexer build|status` — argument parsing only; the work is in `pipeline`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .embedders import DEFAULT_MODEL
from .pipeline import DEFAULT_CORPUS, DEFAULT_INDEX, build
from .store import read_manifest
from .vectors import FLAT_MAX, KINDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Build and inspect the search index.")
    sub = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("build", "index documents from scratch (TXT, MD, HTML, PDF, DOCX, JSONL)"),
        ("update", "bring the index up to date: read only new or changed files, drop deleted ones"),
    ):
        b = sub.add_parser(name, help=help_text)
        b.add_argument("paths", nargs="*", type=Path,
                       help=f"files or folders (default: {DEFAULT_CORPUS}/, or for update the index's own sources)")
        b.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: index/)")
        b.add_argument("--model", default=None,
                       help=f"{DEFAULT_MODEL} (default, bundled), or a sentence-transformers model name or folder")
        b.add_argument("--no-context", action="store_true",
                       help="embed the passage text alone, without the document title and section path in front")
        b.add_argument("--index-type", choices=KINDS, default="auto",
                       help=f"vector index: exact (flat) up to {FLAT_MAX:,} passages, approximate (ivf) beyond; "
                            "or force flat, ivf or hnsw")
        b.add_argument("--json", action="store_true", help="print the summary as JSON")
        b.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("status", help="show what the index holds")
    s.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    s.add_argument("--json", action="store_true")

    args = parser.parse_args(argv)
    if args.command in ("build", "update"):
        incremental = args.command == "update"
        previous = read_manifest(args.index) if incremental else None
        paths = args.paths or ([Path(p) for p in previous["sources"]] if previous else [DEFAULT_CORPUS])
        model = args.model or (previous["model"] if previous else DEFAULT_MODEL)
        report = build(paths, args.index, model=model, progress=not args.quiet, context=not args.no_context,
                       incremental=incremental, index_type=args.index_type)
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else report.summary())
        if not report.ok:
            reason = "no file could be indexed" if report.skipped else "no supported files were found"
            print(f"error: {reason} under {', '.join(map(str, paths))}; the previous index (if any) is unchanged.",
                  file=sys.stderr)
            return 1
        return 0

    manifest = read_manifest(args.index)
    if manifest is None:
        print(f"No index in {args.index}. Build one with: python -m indexer build [PATH ...] --index {args.index}",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(manifest, ensure_ascii=False, indent=2))
    else:
        print(f"Index:      {args.index} ({manifest['generation']})")
        print(f"Model:      {manifest['model']} ({manifest['dimension']}-d)")
        print(f"Documents:  {manifest['documents']}   passages: {manifest['passages']}")
        print(f"Built at:   {manifest['built_at']} in {manifest.get('build_seconds', '?')} s")
        print(f"Files:      {len(manifest.get('files', {}))}")
        print(f"Vectors:    {manifest.get('vector_index', {'type': 'flat'})}")
        for sk in manifest.get("skipped", []):
            print(f"  skipped {sk['file']}: {sk['reason']}")
    return 0

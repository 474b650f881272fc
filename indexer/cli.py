"""`python -m indexer build|status` — argument parsing only; the work is in `pipeline`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .embedders import DEFAULT_MODEL, canonical_name
from .pipeline import DEFAULT_CORPUS, DEFAULT_INDEX, build, collect_files, file_hash
from .store import read_manifest


def _is_up_to_date(paths: list[Path], index_dir: Path, model: str) -> bool:
    manifest = read_manifest(index_dir)
    if manifest is None or manifest.get("model") != canonical_name(model):
        return False
    files, _ = collect_files(paths)
    current = {rel: file_hash(p) for p, rel in files}
    skipped = {s["file"] for s in manifest.get("skipped", [])}
    indexed = manifest.get("files", {})
    # Files that were skipped last time and have not changed do not force a rebuild.
    return all(indexed.get(rel) == h or rel in skipped for rel, h in current.items()) and set(indexed) <= set(current)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Build and inspect the search index.")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="index documents (TXT, MD, HTML, PDF, DOCX, JSONL)")
    b.add_argument("paths", nargs="*", type=Path, help=f"files or folders (default: {DEFAULT_CORPUS}/)")
    b.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: index/)")
    b.add_argument("--model", default=DEFAULT_MODEL,
                   help="e5-small (default, bundled), or a sentence-transformers model name or folder")
    b.add_argument("--if-changed", action="store_true",
                   help="do nothing when the index already holds exactly these files with this model")
    b.add_argument("--no-context", action="store_true",
                   help="embed the passage text alone, without the document title and section path in front")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.add_argument("--quiet", action="store_true", help="no progress bar")

    s = sub.add_parser("status", help="show what the index holds")
    s.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    s.add_argument("--json", action="store_true")

    args = parser.parse_args(argv)
    if args.command == "build":
        paths = args.paths or [DEFAULT_CORPUS]
        if args.if_changed and _is_up_to_date(paths, args.index, args.model):
            print(f"Index {args.index} is up to date.")
            return 0
        report = build(paths, args.index, model=args.model, progress=not args.quiet, context=not args.no_context)
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
        for sk in manifest.get("skipped", []):
            print(f"  skipped {sk['file']}: {sk['reason']}")
    return 0

"""`python -m indexer build|update|status|milvus-lite` — argument parsing only; the work is in `pipeline`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

from indexer.embed import DEFAULT_MODEL
from indexer.embed.cache import DEFAULT_SENTENCES, SENTENCE_MODES, LateUnsupported
from indexer.pipeline.build import BuildOptions, build
from indexer.pipeline.stages import DEFAULT_CORPUS
from indexer.records import Manifest
from indexer.settings import Settings, SettingsError
from indexer.store import BACKENDS, open_backend
from indexer.store.base import (
    DEFAULT_INDEX,
    BackendUnavailable,
    IndexDamaged,
    IndexFormatError,
    IndexNotFound,
    StoreConfig,
    read_config,
)
from indexer.store.embedded.generation import FORMAT_VERSION, Generation, current_generation
from indexer.store.index_types import FLAT_MAX, INDEX_TYPES
from indexer.store.locks import WriterBusy
from indexer.store.space import disk_full_message, is_disk_full


def _published(index: Path, damaged_ok: bool = False) -> Manifest | None:
    """The manifest of the index in `index`, whatever its format, or None (see _described)."""
    found = _described(index, damaged_ok)
    return found[0] if found is not None else None


def _described(index: Path, damaged_ok: bool = False) -> tuple[Manifest, dict[str, Any]] | None:
    """The manifest of the index in `index`, whatever its format, and where it is kept; None: no index.
    A damaged index raises IndexDamaged, unless `damaged_ok` (an update, which rebuilds it): then its
    manifest if it reads."""
    try:
        backend = open_backend(index, check_format=False)
    except IndexNotFound:
        return None
    except IndexDamaged:
        if not damaged_ok:
            raise
        manifest = _manifest_file(index)
        return (cast(Manifest, manifest), {}) if manifest else None
    try:
        return (backend.manifest, backend.status()) if backend.manifest else None
    finally:
        backend.close()


def _manifest_file(index: Path) -> dict[str, Any] | None:
    gen = current_generation(index)
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8")) if gen else None
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Build and inspect the search index.")
    sub = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("build", "index documents from scratch (TXT, MD, HTML, PDF, DOCX, JSONL)"),
        ("update", "bring the index up to date: read only new or changed files, drop deleted ones"),
    ):
        b = sub.add_parser(name, help=help_text)
        b.add_argument("paths", nargs="*", type=Path,
                       help=f"files or folders (default: {DEFAULT_CORPUS}/, or for update the index's own sources)")
        b.add_argument("--index", type=Path, default=DEFAULT_INDEX, help=f"index folder (default: {DEFAULT_INDEX}/)")
        b.add_argument("--model", default=None,
                       help=f"{DEFAULT_MODEL} (default, bundled), or a sentence-transformers model name or folder")
        b.add_argument("--no-context", action="store_true",
                       help="embed the passage text alone, without the document title and section path in front")
        b.add_argument("--index-type", choices=INDEX_TYPES, default="auto",
                       help=f"vector index: exact (flat) up to {FLAT_MAX:,} passages, approximate (ivf) beyond; "
                            "or force flat, ivf or hnsw (Milvus: flat or hnsw; ivf is refused)")
        b.add_argument("--backend", choices=BACKENDS, default=None,
                       help="where a new index is stored: embedded (default: FAISS + SQLite in the index folder) "
                            "or milvus; an existing index keeps its backend")
        b.add_argument("--milvus-uri", default=None,
                       help="a Milvus server, e.g. http://HOST:19530 (default: Milvus Lite next to the index)")
        b.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="run load/split/embed as a Ray Data pipeline: local Ray without ADDRESS, "
                            "'auto' or ray://HOST:10001 to join a cluster")
        b.add_argument("--ray-actors", type=int, default=None, help="embedding actors (default: one per 2 CPUs)")
        b.add_argument("--ray-writers", type=int, default=None,
                       help="with --backend milvus, a full build's writer actors, each inserting its share "
                            "of the rows in the same epoch (default: as many as embedding actors)")
        b.add_argument("--vectors-from", type=Path, default=None, metavar="INDEX",
                       help="reuse the stored vectors of another index of the same model (e.g. to move an "
                            "index to Milvus without re-embedding)")
        b.add_argument("--sentence-vectors", choices=SENTENCE_MODES, default=None,
                       help="how each sentence gets its vector: 'late' pools it from its passage's own pass "
                            "(late chunking: no second pass, e5-small's PyTorch engine), 'separate' embeds it "
                            f"again on its own (default: the index's own kind, else {DEFAULT_SENTENCES})")
        b.add_argument("--json", action="store_true", help="print the summary as JSON")
        b.add_argument("--quiet", action="store_true", help="no progress bar")
        b.add_argument("--verbose", action="store_true",
                       help="one line per file read: its documents, passages and sentences")

    s = sub.add_parser("status", help="show what the index holds")
    s.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    s.add_argument("--json", action="store_true")

    m = sub.add_parser("milvus-lite", help="start or stop the local Milvus server (the Milvus engine of "
                                           "milvus-lite 2.5.1) of a milvus index folder without --milvus-uri")
    m.add_argument("action", choices=("start", "stop", "status"))
    m.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        Settings.from_env()  # every setting checked once, at the door; code below reads current()
        return _run(args)
    except (IndexFormatError, BackendUnavailable, SettingsError) as e:  # a damaged index, a server gone, a bad setting
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # nothing is published before a build completes: the previous index still serves
        print("interrupted: nothing was changed; the previous index (if any) still serves", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command in ("build", "update"):
        return _build(args)
    if args.command == "milvus-lite":
        return _milvus_lite(args)
    return _status(args)


def _options(args: argparse.Namespace, model: str, incremental: bool) -> BuildOptions:
    store = None
    if args.backend is not None or args.milvus_uri is not None:
        store = StoreConfig(args.backend or ("milvus" if args.milvus_uri else "embedded"), args.milvus_uri)
    return BuildOptions(model=model, progress=not args.quiet, context=not args.no_context, incremental=incremental,
                        index_type=args.index_type, store=store, ray=args.ray, ray_actors=args.ray_actors,
                        ray_writers=args.ray_writers, vectors_from=args.vectors_from, verbose=args.verbose,
                        sentence_vectors=args.sentence_vectors)


def _build(args: argparse.Namespace) -> int:
    incremental = args.command == "update"
    try:
        previous = _published(args.index, damaged_ok=True) if incremental else None
    except (IndexFormatError, OSError, ValueError, BackendUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    paths = args.paths or ([Path(p) for p in previous["sources"]] if previous else [DEFAULT_CORPUS])
    model = args.model or (previous["model"] if previous else DEFAULT_MODEL)
    try:
        report = build(paths, args.index, _options(args, model, incremental))
    # BackendUnavailable: the server died; LateUnsupported: --sentence-vectors late with a model that cannot
    except (IndexFormatError, IndexNotFound, BackendUnavailable, LateUnsupported) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except WriterBusy as e:  # another update or an upload from the page is writing: nothing was lost
        print(f"error: {e}", file=sys.stderr)
        return 3
    except Exception as e:
        if is_disk_full(e):
            print(f"error: {disk_full_message(e, args.index)}", file=sys.stderr)
            return 4
        if not isinstance(e, OSError):
            raise
        print(f"error: the index in {args.index} cannot be written ({e.strerror or e}); the published index "
              "is unchanged", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else report.summary())
    if not report.ok:
        reason = "no file could be indexed" if report.skipped else "no supported files were found"
        print(f"error: {reason} under {', '.join(map(str, paths))}; the previous index (if any) is unchanged.",
              file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> int:
    found = _described(args.index)
    if found is None:
        print(f"No index in {args.index}. Build one with: python -m indexer build [PATH ...] --index {args.index}",
              file=sys.stderr)
        return 1
    manifest, status = found
    gen = current_generation(args.index)
    if status.get("backend") == "embedded" and gen and manifest.get("format_version") == FORMAT_VERSION:
        Generation(gen, light=True).verify()  # IndexDamaged when a file a search reads is broken
    if args.json:
        print(json.dumps({**manifest, "backend": status["backend"], "uri": status["uri"]}, ensure_ascii=False,
                         indent=2))
    else:
        print(f"Index:      {args.index} ({manifest.get('generation')}), backend {status['where']}")
        print(f"Model:      {manifest['model']} ({manifest['dimension']}-d)")
        print(f"Documents:  {manifest.get('documents')}   passages: {manifest.get('passages')}")
        print(f"Built at:   {manifest['built_at']} in {manifest.get('build_seconds', '?')} s")
        if manifest.get("embed_engine"):
            print(f"Embedding:  {manifest['embed_engine']}, {manifest.get('embed_tokens_per_s', 0):.0f} tokens/s; "
                  f"sentence vectors {manifest.get('sentence_vectors', 'separate')}")
        print(f"Files:      {len(manifest.get('files', {}))}")
        print(f"Vectors:    {manifest.get('vector_index', {'type': 'flat'})}")
        for sk in manifest.get("skipped", []):
            print(f"  skipped {sk['file']}: {sk['reason']}")
    return 0


def _milvus_lite(args: argparse.Namespace) -> int:
    from indexer.store import milvus

    if read_config(args.index).get("backend") != "milvus" or read_config(args.index).get("uri"):
        print(f"error: {args.index} is not an index kept in a local Milvus server", file=sys.stderr)
        return 2
    if args.action == "start":
        print(milvus.ensure_lite_server(args.index))
    elif args.action == "stop":
        print("stopped" if milvus.stop_lite_server(args.index) else "not running")
    else:
        uri = milvus.running_lite_server(args.index)
        print(uri or "not running")
        return 0 if uri else 1
    return 0

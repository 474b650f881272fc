"""The original file of a hit, so that a reader can check a passage (an OCR'd one above all) at its page.

A document row names its file by `path`, relative to one of the index's source folders
(`manifest["sources"]`; a source given as a single file stands for its own name), and by
`file_hash`. The file is offered only when it still lies inside that source — no `..`, no
absolute path, no symlink leading out — and still hashes to `file_hash`: a file edited or
replaced since indexing would not hold the page the citation names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from indexer.load.metadata import SIDECAR_SUFFIX
from indexer.pipeline.stages import file_hash


@lru_cache(maxsize=256)
def _cached_hash(path: str, stamp: tuple[int, ...]) -> str:
    # Keyed on size and mtime of file and sidecar: a page rerun re-hashes nothing unchanged.
    return file_hash(Path(path))


def _stamp(path: Path) -> tuple[int, ...]:
    stamp: list[int] = []
    for p in (path, path.with_name(path.name + SIDECAR_SUFFIX)):
        try:
            st = p.stat()
            stamp += [st.st_size, st.st_mtime_ns, st.st_ino]
        except OSError:
            stamp += [-1, -1, -1]
    return tuple(stamp)


def _candidate(root: Path, rel: PurePosixPath) -> Path | None:
    if root.is_file():
        # `indexer build one.pdf`: the document's path is the file's own name.
        return root if rel.as_posix() == root.name else None
    if not root.is_dir():
        return None
    candidate = root / rel
    try:
        # resolve() follows symlinks: a link inside the folder pointing outside it is refused.
        candidate.resolve(strict=True).relative_to(root.resolve(strict=True))
    except (OSError, ValueError, RuntimeError):
        return None
    return candidate if candidate.is_file() else None


def original_file(sources: Iterable[str | Path], doc: Mapping[str, Any], base: Path | None = None) -> Path | None:
    """The file a document was indexed from, or None when it is gone, changed, or outside the sources.

    `sources` are the index's source paths as recorded at build time; relative ones are taken
    from `base` (default: the working directory, where `make index` and the app both run).
    """
    rel_text = doc.get("path")
    expected = doc.get("file_hash")
    if not rel_text or not expected or "\\" in str(rel_text) or "\x00" in str(rel_text):
        return None
    rel = PurePosixPath(str(rel_text))
    if rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or rel.parts[:1] == ("~",):
        return None
    for source in sources:
        root = Path(source).expanduser()
        if not root.is_absolute() and base is not None:
            root = base / root
        candidate = _candidate(root, rel)
        if candidate is None:
            continue
        try:
            if _cached_hash(str(candidate.resolve()), _stamp(candidate)) == expected:
                return candidate
        except OSError:
            continue
    return None

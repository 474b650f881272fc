"""The original file of a hit, so that a reader can check a passage (an OCR'd one above all) at its page.

A document row names its file by `path`, relative to one of the index's source folders
(`manifest["sources"]`; a source given as a single file stands for its own name), and by
`file_hash`. The file is offered only when it still lies inside that source — no `..`, no
absolute path, no symlink leading out — and still hashes to `file_hash`: a file edited or
replaced since indexing would not hold the page the citation names.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from indexer.load.base import MAX_FILE_BYTES
from indexer.load.metadata import MAX_SIDECAR_BYTES, SIDECAR_SUFFIX
from indexer.pipeline.stages import file_hash

UNAVAILABLE = ("Tệp gốc đã thay đổi hoặc không còn nằm trong thư mục đã lập chỉ mục kể từ khi trang hiện ra; "
               "hãy tải lại trang.\n").encode()


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


def _roots(sources: Iterable[str | Path], base: Path | None) -> Iterable[Path]:
    for source in sources:
        root = Path(source).expanduser()
        yield base / root if not root.is_absolute() and base is not None else root


def _safe_rel(doc: Mapping[str, Any]) -> PurePosixPath | None:
    rel_text = doc.get("path")
    if not rel_text or "\\" in str(rel_text) or "\x00" in str(rel_text):
        return None
    rel = PurePosixPath(str(rel_text))
    if rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or rel.parts[:1] == ("~",):
        return None
    return rel


def _read_inside(path: Path, root: Path, limit: int) -> bytes | None:
    """The bytes of `path` read from one descriptor that is checked to be a regular file, not a
    symlink, and (by its real path in /proc) inside `root`; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        try:  # where the opened file really is, whatever directory was swapped on the way
            real = Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            real = Path(os.path.realpath(path))
            if (os.stat(real).st_dev, os.stat(real).st_ino) != (st.st_dev, st.st_ino):
                return None
        real.relative_to(root.resolve(strict=True))
        parts = []
        while chunk := os.read(fd, 1 << 20):
            parts.append(chunk)
        data = b"".join(parts)
        return data if len(data) <= limit else None
    except (OSError, ValueError, RuntimeError):
        return None
    finally:
        os.close(fd)


def read_original(sources: Iterable[str | Path], doc: Mapping[str, Any], base: Path | None = None) -> bytes | None:
    """The bytes of the file a document was indexed from, checked and read in one step, or None.

    Checking a path and reading it later lets a file be swapped in between (a symlink to
    /etc/passwd after the page rendered). So the file is opened once with O_NOFOLLOW, the opened
    descriptor is checked to lie inside the source folder, its bytes (and its sidecar's) must hash
    to the indexed `file_hash`, and those very bytes are what is served.
    """
    rel, expected = _safe_rel(doc), doc.get("file_hash")
    if rel is None or not expected:
        return None
    for root in _roots(sources, base):
        if root.is_file():
            if rel.as_posix() != root.name:
                continue
            path, folder = root, root.parent
        elif root.is_dir():
            path, folder = root / rel, root
        else:
            continue
        data = _read_inside(path, folder, MAX_FILE_BYTES)
        if data is None:
            continue
        h = hashlib.sha256(data)
        side = path.with_name(path.name + SIDECAR_SUFFIX)
        if os.path.lexists(side):
            side_data = _read_inside(side, folder, MAX_SIDECAR_BYTES)
            if side_data is None:
                continue
            h.update(side_data)
        if h.hexdigest() == expected:
            return data
    return None


def original_download(sources: Iterable[str | Path], doc: Mapping[str, Any],
                      base: Path | None = None) -> tuple[str, Callable[[], bytes]] | None:
    """(file name, reader) for the page's "Tải bản gốc" button, or None when there is no original.

    The render-time check (`original_file`, cached) only decides whether to show the button; the
    reader, called on click, checks and reads again in one step (`read_original`).
    """
    sources = list(sources)
    found = original_file(sources, doc, base)
    if found is None:
        return None

    def read() -> bytes:
        data = read_original(sources, doc, base)
        return UNAVAILABLE if data is None else data

    return found.name, read


def original_file(sources: Iterable[str | Path], doc: Mapping[str, Any], base: Path | None = None) -> Path | None:
    """The file a document was indexed from, or None when it is gone, changed, or outside the sources.

    `sources` are the index's source paths as recorded at build time; relative ones are taken
    from `base` (default: the working directory, where `make index` and the app both run).
    """
    rel, expected = _safe_rel(doc), doc.get("file_hash")
    if rel is None or not expected:
        return None
    for root in _roots(sources, base):
        candidate = _candidate(root, rel)
        if candidate is None:
            continue
        try:
            if _cached_hash(str(candidate.resolve()), _stamp(candidate)) == expected:
                return candidate
        except OSError:
            continue
    return None

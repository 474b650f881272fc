"""Cross-process locks (filelock): one writer per index on every backend, one server start at a time.

Readers never lock: they read the published version, which a writer replaces atomically. A writer
holds the index's writer lock from `begin` until `publish` or `abort`; a second writer (another
`make index`, an upload from the page) waits for it up to VNSEARCH_WRITER_TIMEOUT seconds, then stops
with WriterBusy, so no change is ever silently lost by two writers interleaving. The OS drops a
lock whose process died, so a killed writer never leaves the index locked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from indexer.settings import current

WRITER_LOCK = ".writer.lock"


def writer_timeout() -> float:
    """Seconds a writer waits for another one to finish (read at each call, so tests can set it)."""
    return current().writer_timeout


class WriterBusy(RuntimeError):
    """Another process holds the lock (writes this index, or starts its server)."""


class ReadOnlyIndex(WriterBusy):
    """The lock file cannot be created: the folder is read-only (a published copy), full, or not ours."""


def acquire(path: Path, timeout: float, what: str) -> FileLock:
    """The exclusive lock at `path`, held until `.release()`; WriterBusy after `timeout` seconds."""
    # a singleton per path: re-entrant within one process (the pipeline holds it, then its writer takes
    # it again), exclusive between processes
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(path, thread_local=False, is_singleton=True)
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WriterBusy(f"{what}: {path} is held by another process; try again when it has finished") from None
    except OSError as e:
        raise ReadOnlyIndex(f"{what}: the lock file {path} cannot be created ({e.strerror or e}); the folder is "
                            "read-only or not writable by this user — write a writable copy, then publish it") from e
    return lock


@contextlib.contextmanager
def held(path: Path, timeout: float, what: str) -> Iterator[None]:
    lock = acquire(path, timeout, what)
    try:
        yield
    finally:
        lock.release()


def writer_lock(index_dir: Path) -> FileLock:
    """The lock of the one writer of `index_dir`, whatever its backend."""
    return acquire(Path(index_dir) / WRITER_LOCK, writer_timeout(),
                   f"another process is writing the index in {index_dir}")

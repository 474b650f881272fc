"""Free disk space, checked before a writer writes: a full disk gives a clear message, not SIGBUS.

A generation is written beside the live one, so an update needs room for a second copy; the
sentence vectors are written through a memory map, which on a full disk dies with SIGBUS (rc 135,
no message) instead of raising. Each write is preceded by a check of what it will need.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

MIB = 1024 * 1024
MARGIN = 64 * MIB  # SQLite journals, BM25 and FAISS files beyond the estimate


class DiskFull(OSError):
    """Not enough free space for the next write; nothing has been half-written."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return str(self.strerror)


def require_free(folder: Path, needed: int, what: str) -> None:
    """DiskFull unless `folder`'s file system has `needed` bytes (plus a margin) free."""
    free = shutil.disk_usage(folder).free  # looked up at call time: tests simulate a full disk
    if free < needed + MARGIN:
        raise DiskFull(f"not enough free disk space for {what} in {folder}: {free / MIB:.0f} MiB free, about "
                       f"{(needed + MARGIN) / MIB:.0f} MiB needed. Free some space and run it again; the "
                       "published index is unchanged.")


def disk_full_message(exc: BaseException, folder: Path) -> str:
    """What to say of a full disk met mid-write (DiskFull already says it in its own words)."""
    if isinstance(exc, DiskFull):
        return str(exc)
    return (f"the disk holding {folder} is full ({exc}); nothing was published. Free some space and run it "
            "again; the published index is unchanged.")


def is_disk_full(exc: BaseException) -> bool:
    """True for the errors a full disk raises (ENOSPC, SQLite's 'database or disk is full')."""
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in str(exc)

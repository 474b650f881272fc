"""What every loader shares: the RawDocument it returns, LoadError, size limits, text decoding.

Every loader returns `RawDocument`s or raises `LoadError` with a reason a user can act on;
the pipeline turns that into a "skipped: reason" line and goes on with the other files.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.records import PageSpan
from indexer.text.encodings import to_unicode
from indexer.text.normalise import clean_text

MAX_FILE_BYTES = 50 * 1024 * 1024
MIB = 1024 * 1024
CHUNK = 1 << 20  # reads and hashes go by 1 MiB: memory never holds more than the file itself


class LoadError(Exception):
    """A file that cannot be indexed; the message says why."""


@dataclass
class RawDocument:
    text: str
    pages: list[PageSpan] = field(default_factory=list)
    headings: dict[int, int] = field(default_factory=dict)  # line start offset → level (1 = top)
    hints: dict[str, Any] = field(default_factory=dict)  # weak metadata from the format
    explicit: dict[str, Any] = field(default_factory=dict)  # metadata given as data (JSONL fields)
    doc_id: str | None = None  # set when the source names its own id (JSONL)
    notes: list[str] = field(default_factory=list)


class Assembler:
    """Joins cleaned paragraphs into one text, one paragraph per line, keeping offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.headings: dict[int, int] = {}

    def add(self, paragraph: str, heading: int | None = None) -> None:
        for line in clean_text(paragraph).split("\n"):
            if not line:
                continue
            if self.parts:
                self.parts.append("\n")
                self.length += 1
            if heading:
                self.headings[self.length] = heading
            self.parts.append(line)
            self.length += len(line)

    def text(self) -> str:
        return "".join(self.parts)


LEGACY_NAMES = {"cp1258": "Windows-1258", "tcvn3": "TCVN3 (ABC)", "vni": "VNI"}


def decode_text(data: bytes, notes: list[str] | None = None) -> str:
    """UTF-8 (or UTF-16 with a BOM); failing that, a pre-Unicode Vietnamese encoding, converted
    to Unicode NFC with a note saying which."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise LoadError(f"bytes do not decode as UTF-16: {e.reason} at byte {e.start}") from e
    if b"\x00" in data[:4096]:
        raise LoadError("binary content (NUL bytes), not a text document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        utf8_error = f"bytes do not decode as UTF-8 ({e.reason} at byte {e.start})"
    try:
        text, conversion = to_unicode(data)
    except ValueError as e:
        raise LoadError(f"{utf8_error}, nor as Vietnamese Windows-1258, TCVN3 or VNI text ({e})") from e
    if conversion and notes is not None:
        notes.append(f"converted from {LEGACY_NAMES.get(conversion, conversion)} to Unicode")
    return text


def size_problem(size: int) -> str | None:
    """Why a file of `size` bytes is not read, or None. Limits are said in MiB, as they are counted."""
    if size == 0:
        return "empty file"
    if size > MAX_FILE_BYTES:
        return f"file is {size / MIB:.0f} MiB, over the {MAX_FILE_BYTES // MIB} MiB limit"
    return None


def open_document(path: Path) -> int:
    """A file descriptor on `path` opened for reading, or LoadError.

    O_NOFOLLOW: a file swapped for a symlink after the folder was listed is not followed out of it;
    O_NONBLOCK: a FIFO put in the corpus cannot hang the build; then only a regular file is kept.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise LoadError("symbolic link: not followed (it could lead outside the indexed folder)") from e
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LoadError("not a regular file (a device, FIFO or socket): not read")
    return fd


def read_fd(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes from `fd`; LoadError if there are more (the file grew after the check)."""
    parts: list[bytes] = []
    total = 0
    while chunk := os.read(fd, min(CHUNK, limit + 1 - total)):
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise LoadError(f"file is over the {limit // MIB} MiB limit")
    return b"".join(parts)


def read_bytes(path: Path) -> bytes:
    """The bytes of a document file: the size is checked on the opened file before anything is read."""
    fd = open_document(path)
    try:
        if why := size_problem(os.fstat(fd).st_size):
            raise LoadError(why)
        return read_fd(fd, MAX_FILE_BYTES)
    finally:
        os.close(fd)


def require_text(text: str) -> str:
    if not text.strip():
        raise LoadError("no text in the file")
    return text

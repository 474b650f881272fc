"""JSON Lines bulk imports: one document per line."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.load import metadata
from indexer.load.base import (
    LoadError,
    RawDocument,
    decode_text,
    read_bytes,
)
from indexer.text.normalise import clean_text


def _blank_nul_lines(data: bytes, notes: list[str]) -> bytes:
    """`data` with each line holding a NUL byte emptied (and noted): one such line is binary garbage,
    not a reason to refuse the whole file. UTF-16 (NULs everywhere) is left to decode_text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in data:
        return data
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if b"\x00" in line:
            notes.append(f"line {i + 1}: NUL bytes (binary data), skipped")
            lines[i] = b""  # kept as an empty line, so later line numbers stay true
    return b"\n".join(lines)


def load_jsonl(path: Path) -> list[RawDocument]:
    """One document per line: {"id", "title"?, "text", ...metadata}. Bad lines are noted, not fatal."""
    notes: list[str] = []
    text = decode_text(_blank_nul_lines(read_bytes(path), notes), notes)
    docs: list[RawDocument] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            notes.append(f"line {lineno}: not JSON ({e.msg})")
            continue
        if not isinstance(obj, dict):
            notes.append(f"line {lineno}: not a JSON object")
            continue
        doc_id = obj.get("id", obj.get("_id"))
        body = obj.get("text")
        if doc_id is None or not isinstance(body, str) or not body.strip():
            notes.append(f"line {lineno}: needs an \"id\" and a non-empty \"text\"")
            continue
        doc_id = str(doc_id)
        if doc_id in seen:
            notes.append(f"line {lineno}: duplicate id {doc_id!r}")
            continue
        seen.add(doc_id)
        explicit = {k: v for k, v in obj.items() if k not in ("id", "_id", "text") and v is not None}
        explicit = metadata.clean_fields(explicit, notes, f"line {lineno}")
        docs.append(RawDocument(clean_text(body), explicit=explicit, doc_id=doc_id))
    if not docs:
        raise LoadError("no valid documents in the JSONL file" + (f" ({notes[0]})" if notes else ""))
    if notes:
        docs[0].notes.extend(notes)
    return docs

"""Follows ("Theo dõi"): a document key or a question, and what is new for it after each update.

- a **key** follow ("57-NQ/TW"): the passages that cite or implement the document (its citing
  passages, which hold every implementing sentence);
- a **question** follow: the passages that answer it (its top `QUESTION_TOP_K` hits).

"New" is a passage id not seen at any earlier check: `check` compares what the index answers now
with the ids seen so far, reports the rest, and marks them seen — so a passage is reported once.
Nothing is computed again while the index generation is the one of the last check.

Follows live beside the index, in one JSON file (`<index>.follows.json`, next to the index folder
so that no rebuild of the index touches it), written atomically: a temporary file in the same
folder, then `os.replace`. A lock file serialises the read-modify-write of concurrent processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from indexer.text.references import reference_key
from search_app.core.escape import xml_text

QUESTION_TOP_K = 10
MAX_RECENT = 50  # new passages kept per follow for the page and the feed
KEY_MAX_WORDS = 6  # a longer text naming a document is a question about it, not the document
VERSION = 1


class FollowError(ValueError):
    pass


def store_path(index_dir: Path | str) -> Path:
    index_dir = Path(index_dir)
    return index_dir.parent / f"{index_dir.name}.follows.json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def load(index_dir: Path | str) -> dict[str, Any]:
    path = store_path(index_dir)
    if not path.exists():
        return {"version": VERSION, "follows": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise FollowError(f"{path} cannot be read ({e}); fix or remove it") from e
    if not isinstance(data, dict) or not isinstance(data.get("follows"), list):
        raise FollowError(f"{path} is not a follows file")
    return data


def save(index_dir: Path | str, data: dict[str, Any]) -> None:
    """Write the follows atomically: a reader sees the old file or the new one, never half of one."""
    path = store_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lock(index_dir: Path | str) -> FileLock:
    path = store_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path) + ".lock", timeout=30)


def classify(target: str) -> tuple[str, str]:
    """("key", reference key) for a document number or name, else ("question", the question)."""
    target = unicodedata.normalize("NFC", " ".join((target or "").split()))
    if not target:
        raise FollowError("give a document key or a question to follow")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in target):
        raise FollowError("the text to follow holds control characters or bytes that are not UTF-8; type it again")
    key = reference_key(target)
    if key and len(target.split()) <= KEY_MAX_WORDS:
        return "key", key
    return "question", target


def current(searcher: Any, item: dict[str, Any]) -> list[Any]:
    """The hits the follow stands for in the published index, now."""
    if item["kind"] == "key":
        return list(searcher.references(item["target"])["cited_by"])
    return list(searcher.search(item["target"], top_k=QUESTION_TOP_K))


def add(index_dir: Path | str, target: str, searcher: Any = None) -> dict[str, Any]:
    """Follow `target`; what the index holds now counts as seen (when an index is there)."""
    kind, value = classify(target)
    fid = hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=6).hexdigest()
    item: dict[str, Any] = {"id": fid, "kind": kind, "target": value, "created_at": _now(), "checked_at": None,
                            "generation": None, "seen": [], "recent": [], "last_new": []}
    if searcher is None:
        try:
            from search_app.core.searcher import Searcher

            searcher = Searcher(index_dir)
        except Exception:  # noqa: BLE001 — no index yet: the first check reports everything
            searcher = None
    if searcher is not None:
        item["seen"] = sorted({h.pid for h in current(searcher, item)})
        item["generation"] = searcher.manifest.get("generation")
    with _lock(index_dir):
        data = load(index_dir)
        if any(f["id"] == fid for f in data["follows"]):
            return next(f for f in data["follows"] if f["id"] == fid)
        data["follows"].append(item)
        save(index_dir, data)
    return item


def remove(index_dir: Path | str, fid: str) -> bool:
    with _lock(index_dir):
        data = load(index_dir)
        kept = [f for f in data["follows"] if f["id"] != fid]
        if len(kept) == len(data["follows"]):
            return False
        data["follows"] = kept
        save(index_dir, data)
    return True


def _entry(hit: Any, generation: Any, at: str) -> dict[str, Any]:
    return {"pid": hit.pid, "doc_id": hit.doc_id, "title": hit.title, "section": hit.section,
            "section_label": hit.section_label, "text": hit.text,
            "citation": hit.citation, "generation": generation, "found_at": at}


def _unseen(searcher: Any, item: dict[str, Any]) -> list[Any]:
    seen = set(item.get("seen", []))
    return [h for h in current(searcher, item) if h.pid not in seen]


def pending(searcher: Any, index_dir: Path | str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every follow with what is new for it now, without marking anything seen (for the page)."""
    generation = searcher.manifest.get("generation")
    at = _now()
    return [(item, [_entry(h, generation, at) for h in _unseen(searcher, item)]) for item in load(index_dir)["follows"]]


def check(searcher: Any, index_dir: Path | str, atom_dir: Path | None = None,
          deliver: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """What is new for every follow since its last check; marks it seen. Returns
    {"generation", "follows": [{id, kind, target, new: [entries]}]}; writes Atom feeds to `atom_dir`.

    The new passages are marked seen only after the feeds are written and the report delivered
    (`deliver`, e.g. printed): a failure in either leaves them new for the next check."""
    searcher.refresh()
    generation = searcher.manifest.get("generation")
    at = _now()
    report = []
    with _lock(index_dir):
        data = load(index_dir)
        for item in data["follows"]:
            new: list[dict[str, Any]] = []
            if item.get("generation") != generation or item.get("checked_at") is None:
                hits = _unseen(searcher, item)
                new = [_entry(h, generation, at) for h in hits]
                item["seen"] = sorted(set(item.get("seen", [])) | {h.pid for h in hits})
            item["generation"], item["checked_at"], item["last_new"] = generation, at, new
            item["recent"] = (new + item.get("recent", []))[:MAX_RECENT]
            report.append({"id": item["id"], "kind": item["kind"], "target": item["target"], "new": new})
        out = {"generation": generation, "checked_at": at, "follows": report}
        if atom_dir is not None:
            write_feeds(data["follows"], Path(atom_dir))
        if deliver is not None:
            deliver(out)
        save(index_dir, data)
    return out


def feed_xml(item: dict[str, Any]) -> bytes:
    """The Atom feed of one follow: its most recent new passages. feedgen escapes markup; what XML
    cannot hold at all (control characters) goes through xml_text."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(f"urn:vnsearch:follow:{item['id']}")
    fg.title(xml_text(f"Theo dõi: {item['target']}"))
    fg.author({"name": "Tra cứu văn bản chính trị"})
    fg.link(href=f"urn:vnsearch:follow:{item['id']}", rel="self")
    fg.language("vi")
    fg.updated(item.get("checked_at") or item.get("created_at") or _now())
    for e in reversed(item.get("recent", [])):  # feedgen puts the last added first
        fe = fg.add_entry()
        fe.id(f"urn:vnsearch:follow:{item['id']}:passage:{e['pid']}")
        fe.title(xml_text(e["citation"]) or f"Đoạn {e['pid']}")  # Atom requires an entry title
        fe.updated(e["found_at"])
        fe.content(xml_text(e["text"][:2000]), type="text")
    return fg.atom_str(pretty=True)


def write_feeds(follows: list[dict[str, Any]], atom_dir: Path) -> list[Path]:
    atom_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for item in follows:
        path = atom_dir / f"{item['id']}.xml"
        xml = feed_xml(item)  # built before a temporary file exists: a failure leaves nothing behind
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=atom_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(xml)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        out.append(path)
    return out

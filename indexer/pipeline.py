"""load → split → embed → store, with a report a user can read."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import metadata
from .embedders import Embedder, canonical_name, get_embedder
from .keyword import KeywordIndex
from .loaders import LoadError, is_supported, load_file
from .records import Document, Passage
from .splitter import split_document
from .store import IndexFormatError, IndexNotFound, IndexReader, write_generation

EMBED_BATCH = 32
DEFAULT_CORPUS = Path("corpus")
DEFAULT_INDEX = Path("index")


@dataclass
class BuildReport:
    index_dir: Path
    model: str
    files_indexed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    notes: list[str] = field(default_factory=list)
    file_hashes: dict[str, str] = field(default_factory=dict)  # file → sha256 of what was indexed
    unchanged: list[str] = field(default_factory=list)  # files taken as they were from the previous index
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, identical file indexed instead)
    removed: list[str] = field(default_factory=list)  # files of the previous index that are gone
    up_to_date: bool = False
    documents: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.documents > 0

    def summary(self) -> str:
        lines = [
            f"Files indexed: {len(self.files_indexed)}   documents: {self.documents}   "
            f"passages: {self.passages} (embedded {self.embedded}, reused {self.reused})",
            f"Model: {self.model}   index: {self.index_dir}   time: {self.seconds:.1f} s",
        ]
        if self.up_to_date:
            lines.insert(0, "Index is up to date: no file was added, changed or removed.")
        if self.unchanged or self.removed:
            lines.append(f"Unchanged files: {len(self.unchanged)}   removed files: {len(self.removed)}")
            lines += [f"  - removed {f}" for f in self.removed]
        if self.duplicates:
            lines.append(f"Duplicates indexed once: {len(self.duplicates)}")
            lines += [f"  - {f}: same content as {o}" for f, o in self.duplicates]
        if self.skipped:
            lines.append(f"Files skipped: {len(self.skipped)}")
            lines += [f"  - {f}: {why}" for f, why in self.skipped]
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": str(self.index_dir), "model": self.model, "files_indexed": self.files_indexed,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped], "notes": self.notes,
            "documents": self.documents, "passages": self.passages, "embedded": self.embedded,
            "reused": self.reused, "seconds": round(self.seconds, 2), "embed_seconds": round(self.embed_seconds, 2),
            "up_to_date": self.up_to_date,
            "unchanged": self.unchanged, "removed": self.removed,
            "duplicates": [{"file": f, "same_as": o} for f, o in self.duplicates],
        }


def collect_files(paths: Iterable[Path]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(file, document id) pairs to index, and (file, reason) pairs skipped before loading."""
    found: list[tuple[Path, str]] = []
    skipped: list[tuple[str, str]] = []
    for root in paths:
        root = Path(root)
        if root.is_file():
            candidates = [(root, root.name)]
        elif root.is_dir():
            candidates = [
                (p, p.relative_to(root).as_posix())
                for p in sorted(root.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
            ]
        else:
            skipped.append((str(root), "no such file or folder"))
            continue
        for path, rel in candidates:
            if path.name.endswith(metadata.SIDECAR_SUFFIX) or path.name.lower() in ("readme.md", "readme.txt"):
                continue
            if not is_supported(path):
                skipped.append((str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
                continue
            found.append((path, rel))
    return found, skipped


def file_hash(path: Path) -> str:
    h = hashlib.sha256(path.read_bytes())
    side = path.with_name(path.name + metadata.SIDECAR_SUFFIX)
    if side.exists():  # editing the sidecar must count as a change of the document
        h.update(side.read_bytes())
    return h.hexdigest()


def embed_text(doc: Document, passage: Passage, context: bool = True) -> str:
    """What the model sees: title and section path in front give a passage its context."""
    if not context:
        return passage.text
    head = [doc.title] if doc.title else []
    if passage.section:
        head.append(passage.section_label)
    return "\n".join([*head, passage.text])


def embed_hash(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def load_one(path: Path, rel: str, fhash: str) -> tuple[list[tuple[Document, dict[int, int]]], list[str]]:
    """Documents (with their declared headings) read from one file, and notes about it.

    Raises LoadError / MetadataError / OSError with a reason when the file cannot be indexed.
    """
    produced = []
    notes: list[str] = []
    for raw in load_file(path):
        meta = metadata.resolve(path, raw.text, explicit=raw.explicit, hints=raw.hints)
        doc_id = raw.doc_id if raw.doc_id is not None else rel
        extra = {k: v for k, v in meta.items() if k not in metadata.CORE_FIELDS}
        doc = Document(
            doc_id=doc_id, title=str(meta.get("title") or rel), text=raw.text,
            source=str(meta.get("source") or rel), doc_number=meta.get("doc_number"),
            doc_type=meta.get("doc_type"), issuer=meta.get("issuer"), date=meta.get("date"),
            extra=extra, pages=raw.pages, file_hash=fhash, path=rel,
        )
        produced.append((doc, raw.headings))
        notes.extend(f"{rel}: {n}" for n in raw.notes)
    return produced, notes


def embed_all(
    embedder: Embedder,
    texts: list[str],
    progress: bool = True,
    batch_size: int = EMBED_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Embed in batches, shortest first: similar lengths batch with less padding."""
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="Embedding", unit="passage", file=sys.stderr)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        out[idx] = embedder.embed_passages([texts[i] for i in idx])
        if bar:
            bar.update(len(idx))
        if on_batch:
            on_batch(len(idx))
    if bar:
        bar.close()
    return out


def _previous(index_dir: Path) -> tuple[IndexReader | None, bool]:
    """The current index, and whether its records can be reused (same format)."""
    try:
        return IndexReader.open(index_dir), True
    except IndexNotFound:
        return None, False
    except IndexFormatError:
        # An older format is re-read from the files, but its vectors (keyed by the hash of the
        # embedded text, a table every format has) still spare the re-embedding.
        try:
            return IndexReader.open(index_dir, check_format=False), False
        except Exception:  # noqa: BLE001 - a damaged old index only costs a full re-embed
            return None, False


def build(
    paths: list[Path] | None = None,
    index_dir: Path = DEFAULT_INDEX,
    model: str | None = None,
    progress: bool = True,
    embedder: Embedder | None = None,
    context: bool = True,
    incremental: bool = False,
    index_type: str = "auto",
) -> BuildReport:
    """Index every supported file under `paths` into a new generation of `index_dir`.

    Passages whose embedded text is unchanged always reuse their vectors. With `incremental`,
    files whose content hash is unchanged are not even re-read: their documents and passages are
    copied from the previous generation, and when nothing changed no generation is written.
    """
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    embedder = embedder or get_embedder(model)
    model_name = canonical_name(embedder.name)
    report = BuildReport(index_dir=index_dir, model=model_name)

    files, pre_skipped = collect_files(paths or [DEFAULT_CORPUS])
    report.skipped.extend(pre_skipped)

    previous, reusable = _previous(index_dir)
    prev_manifest = previous.manifest if previous else {}
    same_setup = (reusable and prev_manifest.get("model") == model_name
                  and prev_manifest.get("embed_context", True) == context)
    prev_files: dict[str, str] = prev_manifest.get("files", {}) if same_setup else {}

    documents: list[Document] = []
    passages: list[Passage] = []
    hashes: list[str] = []
    texts: list[str | None] = []  # None: vector reused, text not needed
    seen_ids: set[str] = set()
    seen_content: dict[str, str] = {}
    hashed: list[tuple[Path, str, str]] = []
    for path, rel in files:
        try:
            hashed.append((path, rel, file_hash(path)))
        except OSError as e:
            report.skipped.append((rel, f"cannot read: {e.strerror or e}"))
    # Of identical files, the one already indexed keeps its place (and its document id).
    for _path, rel, fhash in hashed:
        if prev_files.get(rel) == fhash:
            seen_content.setdefault(fhash, rel)
    for _path, rel, fhash in hashed:
        seen_content.setdefault(fhash, rel)
    for path, rel, fhash in hashed:
        if seen_content[fhash] != rel:
            report.duplicates.append((rel, seen_content[fhash]))
            continue
        if incremental and previous is not None and prev_files.get(rel) == fhash:
            old_docs, old_passages, old_hashes = previous.file_records(rel)
            if old_docs and not any(d.doc_id in seen_ids for d in old_docs):
                documents.extend(old_docs)
                passages.extend(old_passages)
                hashes.extend(old_hashes)
                texts.extend([None] * len(old_passages))
                seen_ids.update(d.doc_id for d in old_docs)
                report.files_indexed.append(rel)
                report.file_hashes[rel] = fhash
                report.unchanged.append(rel)
                continue
        try:
            loaded, notes = load_one(path, rel, fhash)
        except (LoadError, metadata.MetadataError) as e:
            report.skipped.append((rel, str(e)))
            continue
        except OSError as e:
            report.skipped.append((rel, f"cannot read: {e.strerror or e}"))
            continue
        report.notes.extend(notes)
        made_any = False
        for doc, headings in loaded:
            if doc.doc_id in seen_ids:
                doc.doc_id = f"{rel}#{doc.doc_id}"
            ps = split_document(doc.doc_id, doc.text, headings, doc.pages)
            if not ps:
                report.notes.append(f"{rel}: document {doc.doc_id!r} has no text to index")
                continue
            seen_ids.add(doc.doc_id)
            documents.append(doc)
            for p in ps:
                t = embed_text(doc, p, context)
                passages.append(p)
                texts.append(t)
                hashes.append(embed_hash(model_name, t))
            made_any = True
        if made_any:
            report.files_indexed.append(rel)
            report.file_hashes[rel] = fhash
        else:
            report.skipped.append((rel, "no passages could be made from the text"))

    report.removed = sorted(set(prev_manifest.get("files", {})) - set(report.file_hashes)) if previous else []
    report.documents, report.passages = len(documents), len(passages)
    if not documents:
        report.seconds = time.perf_counter() - t0
        if previous:
            previous.close()
        return report
    if (incremental and previous is not None and same_setup and not report.removed
            and report.file_hashes == prev_files and len(report.unchanged) == len(report.files_indexed)):
        report.up_to_date = True
        report.reused = len(passages)
        report.seconds = time.perf_counter() - t0
        previous.close()
        return report

    cache = previous.cached_vectors() if (previous is not None and prev_manifest.get("model") == model_name) else {}
    if previous:
        previous.close()
    todo = [i for i, h in enumerate(hashes) if h not in cache]
    vectors = np.zeros((len(hashes), embedder.dimension), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in cache:
            vectors[i] = cache[h]
    if todo:
        missing = [i for i in todo if texts[i] is None]
        if missing:  # cannot happen unless the previous index is damaged; re-embedding needs the text
            raise RuntimeError(f"{len(missing)} reused passages have no stored vector; run a full build")
        t_embed = time.perf_counter()
        vectors[todo] = embed_all(embedder, [texts[i] for i in todo], progress=progress)
        report.embed_seconds = time.perf_counter() - t_embed
    report.embedded, report.reused = len(todo), len(hashes) - len(todo)

    by_id = {d.doc_id: d for d in documents}
    keyword_texts = [t if t is not None else embed_text(by_id[p.doc_id], p, context)
                     for t, p in zip(texts, passages, strict=True)]
    manifest = {
        "model": model_name,
        "dimension": embedder.dimension,
        "embed_context": context,
        "files": report.file_hashes,
        "sources": [str(Path(p)) for p in (paths or [DEFAULT_CORPUS])],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
        "duplicates": [{"file": f, "same_as": o} for f, o in report.duplicates],
    }
    report.seconds = time.perf_counter() - t0
    manifest["build_seconds"] = round(report.seconds, 2)
    keyword = KeywordIndex().index(keyword_texts)
    write_generation(index_dir, documents, passages, vectors, hashes, manifest, extra_writers=[keyword.save],
                     index_type=index_type)
    return report

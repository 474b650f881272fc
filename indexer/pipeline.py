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
from .store import IndexNotFound, IndexReader, write_generation

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
    documents: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.documents > 0

    def summary(self) -> str:
        lines = [
            f"Files indexed: {len(self.files_indexed)}   documents: {self.documents}   "
            f"passages: {self.passages} (embedded {self.embedded}, reused {self.reused})",
            f"Model: {self.model}   index: {self.index_dir}   time: {self.seconds:.1f} s",
        ]
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
            "reused": self.reused, "seconds": round(self.seconds, 2),
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


def load_documents(
    files: list[tuple[Path, str]], report: BuildReport
) -> list[tuple[Document, dict[int, int]]]:
    docs: list[tuple[Document, dict[int, int]]] = []
    seen_ids: set[str] = set()
    for path, rel in files:
        try:
            raws = load_file(path)
            fhash = file_hash(path)
            produced = []
            for raw in raws:
                meta = metadata.resolve(path, raw.text, explicit=raw.explicit, hints=raw.hints)
                doc_id = raw.doc_id if raw.doc_id is not None else rel
                if doc_id in seen_ids:
                    doc_id = f"{rel}#{doc_id}"
                seen_ids.add(doc_id)
                extra = {k: v for k, v in meta.items() if k not in metadata.CORE_FIELDS}
                doc = Document(
                    doc_id=doc_id, title=str(meta.get("title") or rel), text=raw.text,
                    source=str(meta.get("source") or rel), doc_number=meta.get("doc_number"),
                    doc_type=meta.get("doc_type"), issuer=meta.get("issuer"), date=meta.get("date"),
                    extra=extra, pages=raw.pages, file_hash=fhash,
                )
                produced.append((doc, raw.headings))
                report.notes.extend(f"{rel}: {n}" for n in raw.notes)
        except LoadError as e:
            report.skipped.append((rel, str(e)))
            continue
        except metadata.MetadataError as e:
            report.skipped.append((rel, str(e)))
            continue
        except OSError as e:
            report.skipped.append((rel, f"cannot read: {e.strerror or e}"))
            continue
        docs.extend(produced)
        report.files_indexed.append(rel)
        report.file_hashes[rel] = fhash
    return docs


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


def build(
    paths: list[Path] | None = None,
    index_dir: Path = DEFAULT_INDEX,
    model: str | None = None,
    progress: bool = True,
    embedder: Embedder | None = None,
    context: bool = True,
) -> BuildReport:
    """Index every supported file under `paths` into a new generation of `index_dir`."""
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    embedder = embedder or get_embedder(model)
    model_name = canonical_name(embedder.name)
    report = BuildReport(index_dir=index_dir, model=model_name)

    files, pre_skipped = collect_files(paths or [DEFAULT_CORPUS])
    report.skipped.extend(pre_skipped)
    loaded = load_documents(files, report)

    documents: list[Document] = []
    passages: list[Passage] = []
    for doc, headings in loaded:
        ps = split_document(doc.doc_id, doc.text, headings, doc.pages)
        if not ps:
            report.skipped.append((doc.source, "no passages could be made from the text"))
            continue
        documents.append(doc)
        passages.extend(ps)
    if not documents:
        report.seconds = time.perf_counter() - t0
        return report

    by_id = {d.doc_id: d for d in documents}
    texts = [embed_text(by_id[p.doc_id], p, context) for p in passages]
    hashes = [embed_hash(model_name, t) for t in texts]

    cache: dict[str, np.ndarray] = {}
    try:
        previous = IndexReader.open(index_dir)
        if previous.manifest.get("model") == model_name:
            cache = previous.cached_vectors()
        previous.close()
    except IndexNotFound:
        pass

    todo = [i for i, h in enumerate(hashes) if h not in cache]
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in cache:
            vectors[i] = cache[h]
    if todo:
        vectors[todo] = embed_all(embedder, [texts[i] for i in todo], progress=progress)
    report.embedded, report.reused = len(todo), len(texts) - len(todo)

    manifest = {
        "model": model_name,
        "dimension": embedder.dimension,
        "embed_context": context,
        "files": report.file_hashes,
        "sources": [str(Path(p)) for p in (paths or [DEFAULT_CORPUS])],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
    }
    report.documents, report.passages = len(documents), len(passages)
    report.seconds = time.perf_counter() - t0
    manifest["build_seconds"] = round(report.seconds, 2)
    keyword = KeywordIndex().index(texts)
    write_generation(index_dir, documents, passages, vectors, hashes, manifest, extra_writers=[keyword.save])
    return report

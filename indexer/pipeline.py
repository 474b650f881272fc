"""load → split → embed → store, with a report a user can read."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import metadata
from .backend import (
    DEFAULT_INDEX,
    Backend,
    DocumentRecords,
    IndexFormatError,
    Writer,
    create_backend,
    open_backend,
    passage_id,
)
from .docnumbers import number_key
from .embedders import Embedder, canonical_name, get_embedder
from .loaders import LoadError, is_supported, load_file
from .records import Document, Passage
from .references import find_references
from .sentences import sentence_spans
from .splitter import split_document

EMBED_BATCH = 32
WINDOW = 512  # passages embedded and written together: bounds the build's memory
DEFAULT_CORPUS = Path("corpus")


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
    sentences_embedded: int = 0  # sentence vectors computed (the rest came from the cache)
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.documents > 0

    def summary(self) -> str:
        lines = [
            f"Files indexed: {len(self.files_indexed)}   documents: {self.documents}   "
            f"passages: {self.passages} (embedded {self.embedded}, reused {self.reused}; "
            f"{self.sentences_embedded} sentences embedded)",
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
            "reused": self.reused, "sentences_embedded": self.sentences_embedded, "seconds": round(self.seconds, 2),
            "embed_seconds": round(self.embed_seconds, 2),
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


def document_keys(doc: Document) -> list[tuple[str, str]]:
    """(key, label) pairs a citation can use for `doc`: its number, and its name if it is a named one."""
    keys: list[tuple[str, str]] = []
    if doc.doc_number:
        keys.append((number_key(doc.doc_number), doc.doc_number))
    named = [r for r in find_references(doc.title or "") if r.kind == "named"]
    if named and named[0].start == 0:
        keys.append((named[0].key, named[0].label))
    return keys


def document_records(doc: Document, passages: list[Passage], model: str, context: bool) -> DocumentRecords:
    """Everything derived from one document except its vectors (filled in by the embedding step)."""
    keys = document_keys(doc)
    own = {k for k, _ in keys}
    texts = [embed_text(doc, p, context) for p in passages]
    spans = [sentence_spans(p.text) for p in passages]
    # A sentence is embedded alone, without the title: on the development questions a title in front
    # pulled every sentence of a document towards the same point and lost English questions.
    sentence_hashes = [embed_hash(model, p.text[a:b]) for p, sp in zip(passages, spans, strict=True) for a, b in sp]
    return DocumentRecords(
        doc=doc, passages=passages, pids=[passage_id(doc.doc_id, p.ordinal) for p in passages],
        embed_texts=texts, embed_hashes=[embed_hash(model, t) for t in texts],
        vectors=np.zeros((0, 0), dtype=np.float32),
        refs=[[r for r in find_references(p.text) if r.key not in own] for p in passages], keys=keys,
        sentences=spans, sentence_hashes=sentence_hashes)


def sentence_texts(rec: DocumentRecords) -> list[str]:
    """The texts behind `rec.sentence_hashes`, in the same order."""
    return [p.text[a:b] for p, sp in zip(rec.passages, rec.sentences, strict=True) for a, b in sp]


def fill_vectors(records: list[DocumentRecords], caches: list[Backend], embedder: Embedder,
                 on_batch: Callable[[int], None] | None = None) -> tuple[list[int], list[int]]:
    """Give every passage and sentence of `records` its vector: cached ones first, the model for the rest
    (identical texts, such as repeated boilerplate, embedded once).

    Returns how many passages, and how many sentences, of each record were embedded (not found in
    a cache).
    """
    hashes: list[str] = []
    texts: list[str] = []
    for r in records:
        hashes += r.embed_hashes + r.sentence_hashes
        texts += r.embed_texts + sentence_texts(r)
    cache: dict[str, np.ndarray] = {}
    for source in caches:
        wanted = sorted(set(hashes) - set(cache))
        if wanted:
            cache.update(source.cached_vectors(wanted))
    unique: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h not in cache:
            unique.setdefault(h, i)
    if unique:
        made = embed_all(embedder, [texts[i] for i in unique.values()], progress=False, on_batch=on_batch)
        cache = {**cache, **dict(zip(unique, made, strict=True))}
    dim = embedder.dimension
    per_record: list[int] = []
    sentences: list[int] = []
    for r in records:
        per_record.append(sum(1 for h in r.embed_hashes if h in unique))
        sentences.append(sum(1 for h in r.sentence_hashes if h in unique))
        r.vectors = np.stack([cache[h] for h in r.embed_hashes]).astype(np.float32) if r.embed_hashes \
            else np.zeros((0, dim), dtype=np.float32)
        r.sentence_vectors = np.stack([cache[h] for h in r.sentence_hashes]).astype(np.float32) \
            if r.sentence_hashes else np.zeros((0, dim), dtype=np.float32)
    return per_record, sentences


@dataclass
class Prepared:
    """What became of one file: its documents (without vectors), notes, or why it was skipped."""

    rel: str
    fhash: str
    records: list[DocumentRecords] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None


def prepare_file(path: Path, rel: str, fhash: str, model: str, context: bool = True) -> Prepared:
    """load → split → references for one file. Never raises for a bad file: it reports why."""
    out = Prepared(rel, fhash)
    try:
        loaded, out.notes = load_one(path, rel, fhash)
    except (LoadError, metadata.MetadataError) as e:
        out.skipped = str(e)
        return out
    except OSError as e:
        out.skipped = f"cannot read: {e.strerror or e}"
        return out
    seen: set[str] = set()
    for doc, headings in loaded:
        if doc.doc_id in seen:
            doc.doc_id = f"{rel}#{doc.doc_id}"
        ps = split_document(doc.doc_id, doc.text, headings, doc.pages)
        if not ps:
            out.notes.append(f"{rel}: document {doc.doc_id!r} has no text to index")
            continue
        seen.add(doc.doc_id)
        out.records.append(document_records(doc, ps, model, context))
    if not out.records:
        out.skipped = "no passages could be made from the text"
    return out


def rename_document(rec: DocumentRecords, doc_id: str) -> None:
    """Give a document another id (ids must be unique across files); vectors stay valid."""
    rec.doc.doc_id = doc_id
    for p in rec.passages:
        p.doc_id = doc_id
    rec.pids = [passage_id(doc_id, p.ordinal) for p in rec.passages]


class Embedding:
    """The embedding step: cached vectors first, the model for the rest, in length-sorted batches."""

    def __init__(self, caches: list[Backend], embedder: Embedder, progress: bool, report: BuildReport) -> None:
        self.caches, self.embedder, self.report = caches, embedder, report
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(desc="Embedding", unit="text", file=sys.stderr)

    def __call__(self, records: list[DocumentRecords]) -> list[DocumentRecords]:
        t = time.perf_counter()
        per_record, sentences = fill_vectors(records, self.caches, self.embedder,
                                             on_batch=self.bar.update if self.bar is not None else None)
        embedded = sum(per_record)
        if embedded or any(sentences):
            self.report.embed_seconds += time.perf_counter() - t
        self.report.embedded += embedded
        self.report.reused += sum(len(r.passages) for r in records) - embedded
        self.report.sentences_embedded += sum(sentences)
        return records

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def windows(records: Iterable[DocumentRecords], size: int = WINDOW) -> Iterator[list[DocumentRecords]]:
    """Group documents into windows of about `size` passages: memory is bounded by the window."""
    window: list[DocumentRecords] = []
    n = 0
    for rec in records:
        window.append(rec)
        n += len(rec.passages)
        if n >= size:
            yield window
            window, n = [], 0
    if window:
        yield window


def record_file(report: BuildReport, prep: Prepared) -> bool:
    """Put one file's outcome into the report; True when it has documents to index."""
    report.notes.extend(prep.notes)
    if prep.skipped is not None:
        report.skipped.append((prep.rel, prep.skipped))
        return False
    report.files_indexed.append(prep.rel)
    report.file_hashes[prep.rel] = prep.fhash
    return True


def _records(prepared: Iterable[Prepared], report: BuildReport) -> Iterator[DocumentRecords]:
    for prep in prepared:
        if record_file(report, prep):
            yield from prep.records


@dataclass
class Plan:
    """What a build has to do, decided before anything is read."""

    to_read: list[tuple[Path, str, str]]  # (file, relative name, content hash)
    full: bool  # start from an empty index
    carried: dict[str, str] = field(default_factory=dict)  # unchanged files kept as indexed: name → hash
    removed: list[str] = field(default_factory=list)  # files of the published index that are gone


def plan(paths: list[Path], backend: Backend, model_name: str, context: bool, incremental: bool,
         report: BuildReport) -> Plan:
    files, pre_skipped = collect_files(paths)
    report.skipped.extend(pre_skipped)
    prev = backend.manifest
    readable = bool(prev) and getattr(backend, "readable", True)
    same_setup = (readable and prev.get("model") == model_name and prev.get("embed_context", True) == context)
    prev_files: dict[str, str] = prev.get("files", {}) if same_setup else {}
    hashed: list[tuple[Path, str, str]] = []
    for path, rel in files:
        try:
            hashed.append((path, rel, file_hash(path)))
        except OSError as e:
            report.skipped.append((rel, f"cannot read: {e.strerror or e}"))
    # Of identical files, the one already indexed keeps its place (and its document id).
    first: dict[str, str] = {}
    for _p, rel, fh in hashed:
        if prev_files.get(rel) == fh:
            first.setdefault(fh, rel)
    for _p, rel, fh in hashed:
        first.setdefault(fh, rel)
    unique = []
    for item in hashed:
        if first[item[2]] != item[1]:
            report.duplicates.append((item[1], first[item[2]]))
        else:
            unique.append(item)
    current = {rel for _p, rel, _h in unique}
    removed = sorted(set(prev.get("files", {})) - current) if prev else []
    if not (incremental and same_setup):
        return Plan(to_read=unique, full=True, removed=removed)
    carried = {rel: fh for _p, rel, fh in unique if prev_files.get(rel) == fh}
    return Plan(to_read=[x for x in unique if x[1] not in carried], full=False, carried=carried,
                removed=sorted(set(prev_files) - current))


def build(
    paths: list[Path] | None = None,
    index_dir: Path = DEFAULT_INDEX,
    model: str | None = None,
    progress: bool = True,
    embedder: Embedder | None = None,
    context: bool = True,
    incremental: bool = False,
    index_type: str = "auto",
    backend: str | None = None,
    milvus_uri: str | None = None,
    ray: str | None = None,
    ray_actors: int | None = None,
    vectors_from: Path | None = None,
) -> BuildReport:
    """Index every supported file under `paths` and publish the result in `index_dir`.

    Passages whose embedded text is unchanged always reuse their stored vectors. With
    `incremental`, files whose content hash is unchanged are not even re-read, files that
    vanished are deleted, and when nothing changed nothing is written. With `ray` ("local",
    "auto" or a cluster address) loading, splitting and embedding run as a Ray Data pipeline.
    `vectors_from` names another index of the same model whose stored vectors are reused (moving
    an index to another backend without re-embedding). Nothing becomes visible to searches before
    the whole change is published.
    """
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    paths = [Path(p) for p in (paths or [DEFAULT_CORPUS])]
    embedder = embedder or get_embedder(model)
    model_name = canonical_name(embedder.name)
    report = BuildReport(index_dir=index_dir, model=model_name)
    store = create_backend(index_dir, backend, milvus_uri)
    try:
        work = plan(paths, store, model_name, context, incremental, report)
        report.unchanged = sorted(work.carried)
        report.removed = work.removed
        if not work.full and not work.to_read and not work.removed:
            report.up_to_date = bool(work.carried)
            report.files_indexed = sorted(work.carried)
            report.file_hashes = dict(work.carried)
            report.documents = int(store.manifest.get("documents", 0))
            report.passages = report.reused = int(store.manifest.get("passages", 0))
            report.seconds = time.perf_counter() - t0
            return report
        caches = [store] + ([_vector_source(Path(vectors_from), model_name)] if vectors_from else [])
        prepared = _prepared_stream(work, caches, model_name, context, embedder, progress, report, ray, ray_actors)
        writer = store.begin(full=work.full)
        try:
            written = _write(writer, prepared, store, work, report)
            report.files_indexed = sorted(set(report.files_indexed) | set(work.carried))
            report.file_hashes.update(work.carried)
            if written == 0 and not work.carried:
                writer.abort()
                report.seconds = time.perf_counter() - t0
                return report
            for rel in work.removed:
                writer.delete_file(rel)
            report.seconds = time.perf_counter() - t0
            manifest = {
                "model": model_name,
                "dimension": embedder.dimension,
                "embed_context": context,
                "files": report.file_hashes,
                "sources": [str(p) for p in paths],
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "build_seconds": round(report.seconds, 2),
                "index_type": index_type,
                "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
                "duplicates": [{"file": f, "same_as": o} for f, o in report.duplicates],
            }
            writer.publish(manifest)
        except BaseException:
            writer.abort()
            raise
        store.refresh()
        report.documents = int(store.manifest.get("documents", 0))
        report.passages = int(store.manifest.get("passages", 0))
        report.seconds = time.perf_counter() - t0
        return report
    finally:
        store.close()


def _vector_source(index_dir: Path, model_name: str) -> Backend:
    source = open_backend(index_dir)
    if source.manifest.get("model") != model_name:
        source.close()
        raise IndexFormatError(f"{index_dir} was built with {source.manifest.get('model')!r}, not {model_name!r}: "
                               "its vectors cannot be reused")
    return source


def _prepared_stream(work: Plan, caches: list[Backend], model_name: str, context: bool, embedder: Embedder,
                     progress: bool, report: BuildReport, ray: str | None,
                     ray_actors: int | None) -> Iterator[list[DocumentRecords]]:
    """Windows of documents with their vectors, from the local loop or from Ray Data."""
    if ray is not None:
        from .ray_pipeline import ray_stream

        yield from ray_stream(work.to_read, model_name, context, caches, report, address=ray, actors=ray_actors)
        return
    embed = Embedding(caches, embedder, progress, report)
    try:
        files = (prepare_file(path, rel, fh, model_name, context) for path, rel, fh in work.to_read)
        for window in windows(_records(files, report)):
            yield embed(window)
    finally:
        embed.close()


def _write(writer: Writer, windows: Iterable[list[DocumentRecords]], store: Backend, work: Plan,
           report: BuildReport) -> int:
    """Hand every document to the writer; returns how many were written.

    A changed file is deleted (its previous version) only when its new version is at hand, so a
    file that no longer loads keeps its previous version in the index.
    """
    taken: set[str] = set()
    if not work.full:
        taken = {d["doc_id"] for d in store.documents() if d.get("path") in work.carried}
    replaced: set[str] = set()
    written = 0
    for window in windows:
        for rec in window:
            rel = rec.doc.path
            if not work.full and rel not in replaced:
                writer.delete_file(rel)
                replaced.add(rel)
            if rec.doc.doc_id in taken:
                rename_document(rec, f"{rel}#{rec.doc.doc_id}")
            taken.add(rec.doc.doc_id)
            writer.add(rec)
            written += 1
    if not work.full:
        prev_files = store.manifest.get("files", {})
        for rel, _why in report.skipped:
            if rel in prev_files and rel not in replaced and rel not in work.removed:
                work.carried[rel] = prev_files[rel]
                report.notes.append(f"{rel}: could not be read again; its previous version stays in the index")
    return written

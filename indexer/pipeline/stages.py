"""The stages every executor runs per file: collect, hash, load, split, reference, records; and the
windowing that bounds memory. The local executor (`build.py`) and the Ray one (`ray_executor.py`)
share them, so both produce the same records."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.embed.cache import DEFAULT_SENTENCES, embed_hash, embed_text, sentence_hash
from indexer.load import LoadError, is_supported, load_file, metadata
from indexer.load.base import CHUNK, MAX_FILE_BYTES, MIB, RawDocument, open_document, size_problem
from indexer.load.bundle import split_bundle
from indexer.pipeline.report import BuildReport
from indexer.records import Document, DocumentRecords, Passage, passage_id
from indexer.split import split_document
from indexer.text.docnumbers import document_key, number_key, split_key
from indexer.text.references import date_within_document, find_references
from indexer.text.sentences import sentence_spans

WINDOW = 512  # passages embedded and written together: bounds the build's memory
DEFAULT_CORPUS = Path("corpus")
README_NAMES = ("readme.md", "readme.txt")


def _walk(root: Path) -> Iterator[tuple[Path, str, str | None]]:
    """(path, name relative to root, reason not to read it or None) for every entry under `root`.

    Nothing is followed out of the folder: symlinks (to files or folders) are reported, not read, and
    a hidden folder is reported once without being entered.
    """
    for here, dirs, files in os.walk(root, followlinks=False):
        base = Path(here)
        for d in sorted(dirs):
            path = base / d
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                yield path, rel, "symbolic link to a folder: not followed (it could lead outside the indexed folder)"
            elif d.startswith("."):
                yield path, rel, "hidden folder (name starts with a dot): not indexed"
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (base / d).is_symlink())
        for f in sorted(files):
            path = base / f
            yield path, path.relative_to(root).as_posix(), None


def _entry_problem(path: Path) -> str | None:
    """Why a listed entry is not read (checked on lstat: nothing is opened yet), or None."""
    try:
        st = path.lstat()
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    if stat.S_ISLNK(st.st_mode):
        return "symbolic link: not followed (it could lead outside the indexed folder)"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a device, FIFO or socket): not read"
    return size_problem(st.st_size) if st.st_size > MAX_FILE_BYTES else None


def collect_files(paths: Iterable[Path]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(file, document id) pairs to index, and (file, reason) pairs skipped before loading."""
    found: list[tuple[Path, str]] = []
    skipped: list[tuple[str, str]] = []
    for root in paths:
        root = Path(root)
        if root.is_file():  # a file named on the command line is read even through a link: it was chosen
            entries: list[tuple[Path, str, str | None]] = [
                (root.resolve() if root.is_symlink() else root, root.name, None)]
        elif root.is_dir():
            entries = list(_walk(root))
        else:
            skipped.append((str(root), "no such file or folder"))
            continue
        for path, rel, why in entries:
            name = path.name
            if why is None and name.endswith(metadata.SIDECAR_SUFFIX):
                continue  # read with its document
            single = root.is_file()
            if why is None and not single:
                why = _entry_problem(path)
            if why is None and name.startswith("."):
                why = "hidden file (name starts with a dot): not indexed"
            if why is None and name.lower() in README_NAMES:
                why = "README: taken as a description of the folder, not a document (rename the file to index it)"
            if why is None and not is_supported(path):
                why = f"unsupported file type {path.suffix or '(none)'!r}"
            if why is not None:
                skipped.append((str(root) if single else rel, why))
                continue
            found.append((path, rel))
    return found, skipped


STAMP_SETTLE_NS = 2_000_000_000  # a file changed this recently may change again within its mtime tick


def file_hash(path: Path) -> str:
    """sha256 of the file's bytes, then its `.meta.json` sidecar's if there is one (editing the sidecar is
    a change of the document), streamed by 1 MiB through the same checks as loading, never over the limit."""
    h = hashlib.sha256()
    side = path.with_name(path.name + metadata.SIDECAR_SUFFIX)
    for p, limit in ((path, MAX_FILE_BYTES), (side, metadata.MAX_SIDECAR_BYTES)):
        if p is side and not side.exists():
            break  # editing the sidecar must count as a change of the document
        try:
            fd = open_document(p)
        except LoadError as e:
            raise OSError(errno.EPERM, f"{p.name}: {e}") from e
        try:
            if os.fstat(fd).st_size > limit:  # said before a byte is read; the loop catches a file that grows
                raise OSError(errno.EFBIG, f"{p.name} is over the {limit // MIB} MiB limit")
            total = 0
            while chunk := os.read(fd, CHUNK):
                total += len(chunk)
                if total > limit:
                    raise OSError(errno.EFBIG, f"{p.name} is over the {limit // MIB} MiB limit")
                h.update(chunk)
        finally:
            os.close(fd)
    return h.hexdigest()


def file_stamp(path: Path) -> list[int]:
    """Size and mtime (ns) of the file and of its sidecar (-1, -1 when it has none): while the stamp
    is unchanged the content hash is taken as unchanged too (the fast path of `indexer update`)."""
    stamp: list[int] = []
    for p in (path, path.with_name(path.name + metadata.SIDECAR_SUFFIX)):
        try:
            st = p.lstat()  # as collect_files: a link is not followed
            stamp += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            stamp += [-1, -1]
    return stamp


def settled(stamp: list[int], now_ns: int) -> bool:
    """Whether a stamp may be trusted later: a file written within STAMP_SETTLE_NS of hashing could
    be written again within the same mtime tick, with the same size (git's "racy" files)."""
    return all(m < now_ns - STAMP_SETTLE_NS for m in stamp[1::2] if m >= 0)

def load_one(path: Path, rel: str, fhash: str) -> tuple[list[tuple[Document, dict[int, int]]], list[str]]:
    """Documents (with their declared headings) read from one file, and notes about it.

    Raises LoadError / MetadataError / OSError with a reason when the file cannot be indexed.
    """
    produced = []
    notes: list[str] = []
    seen_notes: set[str] = set()
    for whole in load_file(path):
        for part_no, raw in enumerate(split_bundle(whole)):
            meta_notes: list[str] = []
            produced.append(_document(path, rel, fhash, whole, raw, part_no, meta_notes))
            notes.extend(f"{rel}: {n}" for n in meta_notes if n not in seen_notes)
            seen_notes.update(meta_notes)  # a sidecar's note once per file, not once per document
            notes.extend(f"{rel}: {n}" for n in raw.notes)
    return produced, notes


def _document(path: Path, rel: str, fhash: str, whole: RawDocument, raw: RawDocument,
              part_no: int, notes: list[str]) -> tuple[Document, dict[int, int]]:
    """One document of a file; a file holding several (load/bundle.py) gives the later ones ids
    of their own, "file.md#69-KL-TW", and its sidecar and explicit fields belong to the first."""
    first = part_no == 0
    meta = metadata.resolve(path if first else None, raw.text, explicit=raw.explicit if first else None,
                            hints=raw.hints, notes=notes)
    doc_id = whole.doc_id if whole.doc_id is not None else rel
    if not first:
        doc_id = f"{doc_id}#{str(meta.get('doc_number') or part_no + 1).replace('/', '-')}"
    extra = {k: v for k, v in meta.items() if k not in metadata.CORE_FIELDS}
    doc = Document(
        doc_id=doc_id, title=str(meta.get("title") or rel), text=raw.text,
        source=str(meta.get("source") or rel), doc_number=meta.get("doc_number"),
        doc_type=meta.get("doc_type"), issuer=meta.get("issuer"), date=meta.get("date"),
        extra=extra, pages=raw.pages, file_hash=fhash, path=rel,
    )
    return doc, raw.headings


def document_keys(doc: Document) -> list[tuple[str, str]]:
    """(key, label) pairs a citation can use for `doc`: its number with its year (what a dated
    reference names), the bare number (which names it only while no other indexed document has that
    number: the relation graph decides), and its name if it is a named one."""
    keys: list[tuple[str, str]] = []
    if doc.doc_number:
        dated, bare = document_key(doc.doc_number, doc.date), number_key(doc.doc_number)
        keys.extend([(dated, doc.doc_number), (bare, doc.doc_number)] if dated != bare else [(bare, doc.doc_number)])
    named = [r for r in find_references(doc.title or "") if r.kind == "named"]
    if named and named[0].start == 0:
        keys.append((named[0].key, named[0].label))
    return keys


def document_records(doc: Document, passages: list[Passage], model: str, context: bool,
                     sentences: str = DEFAULT_SENTENCES) -> DocumentRecords:
    """Everything derived from one document except its vectors (filled in by the embedding step);
    `sentences`: how sentence vectors are made ("separate" or "late", `cache.sentence_hash`)."""
    keys = document_keys(doc)
    own = {k for k, _ in keys}
    # its own number: bare, with its own year, or with any year when its date is unknown (its header)
    own_year = (doc.date or "")[:4] or None
    own_numbers = {split_key(k)[0] for k in own}

    def is_own(key: str) -> bool:
        bare, year = split_key(key)
        return key in own or (bare in own_numbers and (year is None or own_year is None or year == own_year))

    texts = [embed_text(doc, p, context) for p in passages]
    hashes = [embed_hash(model, t) for t in texts]
    spans = [sentence_spans(p.text) for p in passages]
    # A separate sentence is embedded alone, without the title: on the development questions a title in
    # front pulled every sentence of a document towards the same point and lost English questions.
    # (a late sentence is keyed by its place in what the model saw: the passage text ends it)
    sentence_hashes = [sentence_hash(model, sentences, p.text[a:b], h, (a + off, b + off))
                       for p, t, h, sp in zip(passages, texts, hashes, spans, strict=True)
                       for off in [len(t) - len(p.text)] for a, b in sp]
    return DocumentRecords(
        doc=doc, passages=passages, pids=[passage_id(doc.doc_id, p.ordinal) for p in passages],
        embed_texts=texts, embed_hashes=hashes,
        vectors=np.zeros((0, 0), dtype=np.float32),
        refs=date_within_document([[r for r in find_references(p.text) if not is_own(r.key)] for p in passages]),
        keys=keys,
        sentences=spans, sentence_hashes=sentence_hashes)

@dataclass
class Prepared:
    """What became of one file: its documents (without vectors), notes, or why it was skipped."""

    rel: str
    fhash: str
    records: list[DocumentRecords] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None


def prepare_file(path: Path, rel: str, fhash: str, model: str, context: bool = True,
                 sentences: str = DEFAULT_SENTENCES) -> Prepared:
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
    except Exception as e:  # noqa: BLE001 - one file a loader cannot handle must not abort the whole build
        out.skipped = f"could not be read ({type(e).__name__}: {e}); please report this file"
        return out
    seen: set[str] = set()
    cut_notes: list[str] = []
    for doc, headings in loaded:
        if doc.doc_id in seen:
            doc.doc_id = f"{rel}#{doc.doc_id}"
        ps = split_document(doc.doc_id, doc.text, headings, doc.pages, notes=cut_notes)
        out.notes += [f"{rel}: {n}" for n in cut_notes]
        cut_notes.clear()
        if not ps:
            out.notes.append(f"{rel}: document {doc.doc_id!r} has no text to index")
            continue
        seen.add(doc.doc_id)
        out.records.append(document_records(doc, ps, model, context, sentences))
    if not out.records:
        out.skipped = "no passages could be made from the text"
    return out


def rename_document(rec: DocumentRecords, doc_id: str) -> None:
    """Give a document another id (ids must be unique across files); vectors stay valid."""
    rec.doc.doc_id = doc_id
    for p in rec.passages:
        p.doc_id = doc_id
    rec.pids = [passage_id(doc_id, p.ordinal) for p in rec.passages]

def claim_id(rec: DocumentRecords, file_ids: set[str], taken: set[str], report: BuildReport) -> None:
    """Keep `rec`'s id unless another document has it; a file's own id (its path) always wins.

    An id a file declares (a JSONL line's "id") that is another file's path, or already taken, is
    namespaced by its file ("a.jsonl#good1.txt") with a note: an existing document never changes
    id, and an old `?doc=` link never opens a forged one.
    """
    doc_id, rel = rec.doc.doc_id, rec.doc.path
    declared = doc_id != rel
    if doc_id in taken or (declared and doc_id in file_ids):
        new_id = f"{rel}#{doc_id}"
        if declared:
            report.notes.append(f"{rel}: id {doc_id!r} belongs to another document; indexed as {new_id!r}")
        rename_document(rec, new_id)


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
    for rec in prep.records:
        missing = [name for name, value in (("date", rec.doc.date), ("type", rec.doc.doc_type),
                                            ("number", rec.doc.doc_number)) if not value]
        if missing:
            report.incomplete.append((rec.doc.doc_id, missing))
    return True


def _records(prepared: Iterable[Prepared], report: BuildReport) -> Iterator[DocumentRecords]:
    for prep in prepared:
        if record_file(report, prep):
            yield from prep.records

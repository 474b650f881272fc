"""load → split → embed → store: plan what changed, run the stages (locally or on Ray), write, publish."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from indexer.embed import canonical_name, get_bulk_embedder, get_embedder
from indexer.embed.base import Embedder
from indexer.embed.cache import DEFAULT_SENTENCES, SENTENCE_MODES, Embedding, LateUnsupported, can_pool_late
from indexer.embed.engines import engine_of, wants_bulk
from indexer.pipeline.report import BuildReport
from indexer.pipeline.stages import (
    DEFAULT_CORPUS,
    Prepared,
    _records,
    claim_id,
    collect_files,
    file_hash,
    file_stamp,
    prepare_file,
    settled,
    windows,
)
from indexer.records import DocumentRecords
from indexer.store import backend_class, create_backend, open_backend, writing_config
from indexer.store.base import DEFAULT_INDEX, Backend, IndexFormatError, StoreConfig, Writer, check_index_type
from indexer.store.locks import writer_lock

if TYPE_CHECKING:  # imported with Ray, on a Ray build only
    from indexer.pipeline.ray_writers import RayShards


@dataclass
class Plan:
    """What a build has to do, decided before anything is read."""

    to_read: list[tuple[Path, str, str]]  # (file, relative name, content hash)
    full: bool  # start from an empty index
    carried: dict[str, str] = field(default_factory=dict)  # unchanged files kept as indexed: name → hash
    removed: list[str] = field(default_factory=list)  # files of the published index that are gone
    stamps: dict[str, list[int]] = field(default_factory=dict)  # name → size/mtime stamp, for the manifest
    hashed: int = 0  # files whose content was read to hash it (the others' stamps were unchanged)


def _distinct_names(files: list[tuple[Path, str]], prev_stamps: dict[str, list[int]]) -> list[tuple[Path, str]]:
    """Each file under a name of its own. Two folders given together may hold two files under one
    relative name (`update corpus documents`, both with "x.txt"): the one indexed under it before (its
    size and time unchanged), else the first given, keeps the name; each other one is named with its
    folder in front ("documents/x.txt"). Both are then indexed, and an update sees a change to either
    (one manifest entry for both saw only one). The same file given twice (`update corpus corpus`) is
    read once. Only clashing names are looked at: an update of a large corpus resolves no other path."""
    by_name: dict[str, list[int]] = {}
    for i, (_p, rel) in enumerate(files):
        by_name.setdefault(rel, []).append(i)
    names: list[str | None] = [rel for _p, rel in files]
    taken = set(by_name)
    for rel, at in by_name.items():
        if len(at) < 2:
            continue
        seen: set[Path] = set()
        for i in at:
            real = files[i][0].resolve()
            if real in seen:
                names[i] = None
            seen.add(real)
        at = [i for i in at if names[i] is not None]
        keep = next((i for i in at if _stamp(files[i][0]) == prev_stamps.get(rel)), at[0])
        for i in at:
            if i != keep:
                name = names[i] = _qualified(files[i][0], rel, taken)
                taken.add(name)
    return [(p, name) for (p, _), name in zip(files, names, strict=True) if name is not None]


def _stamp(path: Path) -> list[int] | None:
    try:
        return file_stamp(path)
    except OSError:
        return None


def _qualified(path: Path, rel: str, taken: set[str]) -> str:
    """`rel` with the names of the folders above it in front, as few as make it a name not `taken`
    ("documents/x.txt", then "shared/documents/x.txt"), else with a number ("documents-2/x.txt")."""
    above = path.parts[: len(path.parts) - len(Path(rel).parts)]
    folders = [p for p in above if p not in ("/", "")] or ["folder"]
    for k in range(1, len(folders) + 1):
        name = "/".join([*folders[-k:], rel])
        if name not in taken:
            return name
    n = 2
    while f"{folders[-1]}-{n}/{rel}" in taken:
        n += 1
    return f"{folders[-1]}-{n}/{rel}"


def _unique(hashed: list[tuple[Path, str, str]], prev_files: dict[str, str],
            report: BuildReport) -> list[tuple[Path, str, str]]:
    """Each content once: of identical files, the one already indexed keeps its place (and its document
    id), else the first given; each other is noted."""
    first: dict[str, int] = {}
    for i, (_p, rel, fh) in enumerate(hashed):
        if prev_files.get(rel) == fh:
            first.setdefault(fh, i)
    for i, (_p, _rel, fh) in enumerate(hashed):
        first.setdefault(fh, i)
    unique = []
    for i, (path, rel, fh) in enumerate(hashed):
        if first[fh] == i:
            unique.append((path, rel, fh))
        else:
            report.duplicates.append((rel, hashed[first[fh]][1]))
    return unique


def plan(paths: list[Path], backend: Backend, model_name: str, context: bool, incremental: bool,
         report: BuildReport, sentences: str = DEFAULT_SENTENCES) -> Plan:
    files, pre_skipped = collect_files(paths)
    report.skipped.extend(pre_skipped)
    prev = backend.manifest
    if damage := getattr(backend, "damage", None):
        report.notes.append(f"{damage}: every file is indexed again")
    readable = bool(prev) and backend.readable
    # an index holds one kind of sentence vector: a change of kind re-reads every file (the passages'
    # vectors still come from the cache, the sentences' do not: they are keyed apart)
    same_setup = (readable and prev.get("model") == model_name and prev.get("embed_context", True) == context
                  and prev.get("sentence_vectors", "separate") == sentences)
    prev_files: dict[str, str] = prev.get("files", {}) if same_setup else {}
    files = _distinct_names(files, prev.get("file_stamps", {}))
    hashed, stamps, n_hashed = _hash_files(files, prev_files, prev.get("file_stamps", {}), report)
    unique = _unique(hashed, prev_files, report)
    current = {rel for _p, rel, _h in unique}
    removed = sorted(set(prev.get("files", {})) - current) if prev else []
    if not (incremental and same_setup):
        return Plan(to_read=unique, full=True, removed=removed, stamps=stamps, hashed=n_hashed)
    carried = {rel: fh for _p, rel, fh in unique if prev_files.get(rel) == fh}
    return Plan(to_read=[x for x in unique if x[1] not in carried], full=False, carried=carried,
                removed=sorted(set(prev_files) - current), stamps=stamps, hashed=n_hashed)


def _hash_files(files: list[tuple[Path, str]], prev_files: dict[str, str], prev_stamps: dict[str, list[int]],
                report: BuildReport) -> tuple[list[tuple[Path, str, str]], dict[str, list[int]], int]:
    """(file, name, content hash) of every file, the stamps worth keeping, and how many files were read.

    A file whose size and mtime (and its sidecar's) are those the published manifest recorded keeps
    its recorded hash without being read: an update of a large corpus stats every file and reads only
    the changed ones. Stamps too recent to be trusted are not recorded (see `settled`)."""
    now = time.time_ns()
    hashed: list[tuple[Path, str, str]] = []
    stamps: dict[str, list[int]] = {}
    n_read = 0
    for path, rel in files:
        try:
            stamp = file_stamp(path)
            if rel in prev_files and prev_stamps.get(rel) == stamp:
                fh = prev_files[rel]
            else:
                fh = file_hash(path)
                n_read += 1
        except OSError as e:
            report.skipped.append((rel, f"cannot read: {e.strerror or e}"))
            continue
        hashed.append((path, rel, fh))
        if settled(stamp, now):
            stamps[rel] = stamp
    return hashed, stamps, n_read


@dataclass(frozen=True)
class BuildOptions:
    """How `build` runs (the command line's options; every one has a default).

    `store`: the backend of a new index and its options (None: embedded); an existing index keeps its
    own. `incremental`: files whose content hash is unchanged are not even re-read, files that vanished
    are deleted, and when nothing changed nothing is written. `ray` ("local", "auto" or a cluster
    address): loading, splitting and embedding run as a Ray Data pipeline, and a full build into a
    backend whose writer may be joined (Milvus) is written by `ray_writers` Ray actors in the same epoch
    (published once). `vectors_from` names another index of the same model whose stored vectors are
    reused (moving an index to another backend without re-embedding). `verbose` prints one line per
    file read (stderr). `sentence_vectors`: "separate" (each sentence embedded again on its own) or
    "late" (pooled from its passage's own pass, `cache.sentence_hash`; e5-small's PyTorch engine);
    None: the index's own kind, else DEFAULT_SENTENCES."""

    model: str | None = None
    embedder: Embedder | None = None
    progress: bool = True
    context: bool = True
    incremental: bool = False
    index_type: str = "auto"
    store: StoreConfig | None = None
    ray: str | None = None
    ray_actors: int | None = None
    ray_writers: int | None = None
    vectors_from: Path | None = None
    verbose: bool = False
    sentence_vectors: str | None = None

    def but(self, backend: str | None = None, milvus_uri: str | None = None, **changes: Any) -> BuildOptions:
        """These options with `changes` (field names); `backend` / `milvus_uri` name the store, as the
        command line's --backend / --milvus-uri do."""
        if backend is not None or milvus_uri is not None:
            changes["store"] = StoreConfig(backend or ("milvus" if milvus_uri else "embedded"), milvus_uri)
        return replace(self, **changes) if changes else self


def build(paths: list[Path] | None = None, index_dir: Path = DEFAULT_INDEX, options: BuildOptions | None = None,
          **changes: Any) -> BuildReport:
    """Index every supported file under `paths` and publish the result in `index_dir`, as `options` say
    (or the defaults with `changes`: `build(paths, index, model="hash", incremental=True)`).

    Passages whose embedded text is unchanged always reuse their stored vectors. Nothing becomes visible
    to searches before the whole change is published.
    """
    opts = (options or BuildOptions()).but(**changes)
    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    paths = [Path(p) for p in (paths or [DEFAULT_CORPUS])]
    embedder = opts.embedder or get_embedder(opts.model)
    report = BuildReport(index_dir=index_dir, model=canonical_name(embedder.name), engine=engine_of(embedder))
    # refused before anything is created (a Milvus index's server started, its config written)
    check_index_type(backend_class(writing_config(index_dir, opts.store).backend), opts.index_type)
    # One writer at a time on every backend, held from planning to publishing: a second `make index`
    # or an upload from the page waits, then plans against what this one published (no lost update).
    lock = writer_lock(index_dir)
    try:
        store = create_backend(index_dir, opts.store)
    except BaseException:
        lock.release()
        raise
    try:
        opts = replace(opts, sentence_vectors=_sentence_mode(opts, store, embedder))
        report.sentence_vectors = str(opts.sentence_vectors)
        work = plan(paths, store, report.model, opts.context, opts.incremental, report, report.sentence_vectors)
        report.unchanged = sorted(work.carried)
        report.files_hashed = work.hashed
        report.removed = work.removed
        report.previous = sorted(store.manifest.get("files", {})) if store.readable else []
        if not work.full and not work.to_read and not work.removed:
            report.up_to_date = bool(work.carried)
            report.files_indexed = sorted(work.carried)
            report.file_hashes = dict(work.carried)
            report.documents = int(store.manifest.get("documents", 0))
            report.passages = report.reused = int(store.manifest.get("passages", 0))
        elif _write_and_publish(store, work, paths, embedder, opts, report, t0):
            store.refresh()
            report.documents = int(store.manifest.get("documents", 0))
            report.passages = int(store.manifest.get("passages", 0))
        report.seconds = time.perf_counter() - t0
        return report
    finally:
        store.close()
        lock.release()


def _sentence_mode(opts: BuildOptions, store: Backend, embedder: Embedder) -> str:
    """The kind of sentence vectors this build makes: the option, else the index's own, else the
    default; refused (LateUnsupported) where no engine of the model can pool late."""
    mode = opts.sentence_vectors or (store.manifest.get("sentence_vectors") if store.readable else None) \
        or DEFAULT_SENTENCES
    if mode not in SENTENCE_MODES:
        raise LateUnsupported(f"sentence vectors {mode!r}: expected one of {', '.join(SENTENCE_MODES)}")
    if mode == "late" and not can_pool_late(embedder) and (opts.embedder is not None or embedder.name != "e5-small"):
        raise LateUnsupported(f"late sentence vectors need an engine that pools token states; {engine_of(embedder)} "
                              "does not (e5-small's PyTorch engine does): build with sentence vectors 'separate'")
    return mode


def _write_and_publish(store: Backend, work: Plan, paths: list[Path], embedder: Embedder, opts: BuildOptions,
                       report: BuildReport, t0: float) -> bool:
    """Embed and write what `work` planned, and publish it; False when nothing was left to publish."""
    caches = [store] + ([_vector_source(Path(opts.vectors_from), report.model)] if opts.vectors_from else [])
    prepared = _prepared_stream(work, caches, report.model, opts, embedder, report)
    writer = store.begin(full=work.full)
    shards = _ray_shards(writer, work, opts.ray, opts.ray_writers or opts.ray_actors)
    try:
        written = _write(shards or writer, prepared, store, work, report)
        if shards is not None:
            report.writers = shards.close() or 1  # every actor's rows absorbed: one publish for all
        report.files_indexed = sorted(set(report.files_indexed) | set(work.carried))
        report.file_hashes.update(work.carried)
        if written == 0 and not work.carried:
            writer.abort()
            return False
        for rel in work.removed:
            writer.delete_file(rel)
        report.seconds = time.perf_counter() - t0
        manifest = _manifest(report, embedder, opts.context, paths, opts.index_type, work.stamps)
        prev = store.manifest if store.readable else {}
        if not (report.embedded or report.sentences_embedded) and prev.get("model") == report.model \
                and prev.get("embed_engine"):
            # nothing embedded this time: the vectors are still those of the engine that made them
            manifest["embed_engine"] = prev["embed_engine"]
            manifest["embed_tokens_per_s"] = prev.get("embed_tokens_per_s", 0)
        writer.publish(manifest)
    except BaseException:
        if shards is not None:
            shards.kill()  # before the abort drops what they wrote
        writer.abort()
        raise
    return True


def _ray_shards(writer: Writer, work: Plan, ray: str | None, count: int | None) -> RayShards | None:
    """Writer actors for a full Ray build into a backend whose writer may be joined (Milvus), else None.

    The embedded backend keeps writing from the driver: its index is a local folder (one SQLite
    file, FAISS and BM25 built at publish) that one process writes, so actors would only queue on its
    lock. An update (`indexer update`) stays single-writer too: it deletes the replaced files' rows
    as it goes, which one writer orders; it writes a few files, where a bulk build writes them all."""
    sharded = writer.sharded()
    if ray is None or not work.full or sharded is None:
        return None
    from indexer.pipeline.ray_writers import RayShards

    return RayShards(sharded, count)


def _manifest(report: BuildReport, embedder: Embedder, context: bool, paths: list[Path],
              index_type: str, stamps: dict[str, list[int]]) -> dict[str, Any]:
    return {
        "model": report.model,
        # the engine that computed this build's vectors; all of a model's engines are interchangeable
        # (indexer/embed/engines.py), so cached vectors of another engine stay valid
        "embed_engine": report.engine,
        "embed_tokens_per_s": round(report.tokens_per_s, 1),
        # separate or late: the sentence vectors' kind, keyed apart in the cache (cache.sentence_hash)
        "sentence_vectors": report.sentence_vectors or DEFAULT_SENTENCES,
        "dimension": embedder.dimension,
        "embed_context": context,
        "files": report.file_hashes,
        # size/mtime of each indexed file when its hash was taken: an unchanged stamp skips the hashing
        "file_stamps": {rel: stamps[rel] for rel in report.file_hashes if rel in stamps},
        "sources": [str(p) for p in paths],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(report.seconds, 2),
        "index_type": index_type,
        "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
        "duplicates": [{"file": f, "same_as": o} for f, o in report.duplicates],
    }


def _vector_source(index_dir: Path, model_name: str) -> Backend:
    source = open_backend(index_dir)
    if source.manifest.get("model") != model_name:
        source.close()
        raise IndexFormatError(f"{index_dir} was built with {source.manifest.get('model')!r}, not {model_name!r}: "
                               "its vectors cannot be reused")
    return source


def _prepared_stream(work: Plan, caches: list[Backend], model_name: str, opts: BuildOptions, embedder: Embedder,
                     report: BuildReport) -> Iterator[list[DocumentRecords]]:
    """Windows of documents with their vectors, from the local loop or from Ray Data.

    Locally every file is split before the first is embedded: splitting is quick next to
    embedding, and it gives the progress bar its total (passages and sentences) and time left.
    Late sentence vectors take the bulk engine whatever the size (the query engine cannot pool them).
    """
    late = report.sentence_vectors == "late"
    if opts.ray is not None:
        from indexer.pipeline.ray_executor import ray_stream

        if opts.embedder is None:  # the engine is ours to choose (engines.wants_bulk)
            report.engine = engine_of(get_bulk_embedder(model_name, late=late))
        yield from ray_stream(work.to_read, model_name, opts.context, caches, report, address=opts.ray,
                              actors=opts.ray_actors, engine=report.engine, sentences=report.sentence_vectors,
                              progress=opts.progress)
        return
    files = [prepare_file(path, rel, fh, model_name, opts.context, report.sentence_vectors)
             for path, rel, fh in work.to_read]
    if opts.verbose:
        for prep in files:
            print(file_line(prep), file=sys.stderr)
    total = texts_to_embed(files, caches)
    if opts.embedder is None and (wants_bulk(total) or late):  # ours to choose (engines.wants_bulk)
        embedder = get_bulk_embedder(model_name, late=late)
        report.engine = engine_of(embedder)
    embed = Embedding(caches, embedder, opts.progress, report, total=total if opts.progress else None)
    try:
        for window in windows(_records(files, report)):
            yield embed(window)
    finally:
        embed.close()


def texts_to_embed(files: list[Prepared], caches: list[Backend]) -> int:
    """How many texts the model will embed, known before the first is: per window (as `fill_vectors`
    sees them), the distinct passages and sentences that no cache holds. The progress bar's total,
    so that it neither starts at "0/762" nor ends at "756/756"."""
    records = [r for prep in files if prep.skipped is None for r in prep.records]
    n = 0
    for window in windows(records):
        wanted = {h for r in window for h in (*r.embed_hashes, *r.sentence_hashes)}
        for source in caches:
            if wanted:
                wanted -= set(source.cached_vectors(sorted(wanted)))
        n += len(wanted)
    return n


def file_line(prep: Prepared) -> str:
    """One line about a file read: its documents, passages and sentences, or why it was skipped."""
    if prep.skipped is not None:
        return f"{prep.rel}: skipped — {prep.skipped}"
    docs = ", ".join(f"{r.doc.doc_number or r.doc.title[:60]}" for r in prep.records)
    passages = sum(len(r.passages) for r in prep.records)
    sentences = sum(len(r.sentence_hashes) for r in prep.records)
    return f"{prep.rel}: {len(prep.records)} document(s) ({docs}), {passages} passages, {sentences} sentences"


class _Sink(Protocol):
    """Where `_write` hands documents: a writer, or the Ray actors that write for one (RayShards)."""

    def delete_file(self, path: str) -> None: ...

    def add(self, records: DocumentRecords) -> None: ...


def _write(writer: _Sink, windows: Iterable[list[DocumentRecords]], store: Backend, work: Plan,
           report: BuildReport) -> int:
    """Hand every document to the writer; returns how many were written.

    A changed file is deleted (its previous version) only when its new version is at hand, so a
    file that no longer loads keeps its previous version in the index.
    """
    taken: set[str] = set()
    if not work.full:
        taken = {d["doc_id"] for d in store.documents() if d.get("path") in work.carried}
    file_ids = {rel for _p, rel, _h in work.to_read} | set(work.carried)
    replaced: set[str] = set()
    written = 0
    for window in windows:
        for rec in window:
            rel = rec.doc.path
            if not work.full and rel not in replaced:
                writer.delete_file(rel)
                replaced.add(rel)
            claim_id(rec, file_ids, taken, report)
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

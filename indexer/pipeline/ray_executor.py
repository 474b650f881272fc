"""Bulk indexing as a Ray Data pipeline: load → split → embed on a Ray cluster, then write.

    files ─ from_items ─▶ flat_map(prepare)  ─▶ map_batches(Embed, ActorPoolStrategy) ─▶ driver ─▶ write
            (one row     (tasks, num_cpus=0:   (a pool of embedding actors, each with   (joins pieces,
             per file)    I/O-bound, and on     the model loaded once; the embedding     unique ids)
                          2 cores they stall    cache is consulted first)
                          the pool otherwise)

The write: a full build into Milvus goes to a pool of writer actors, one `ShardWriter` each, in the
epoch the driver's writer claimed, which publishes once for all (`ray_writers.py`); the embedded
backend and updates are written by the driver's one writer (`build._ray_shards` says why).

The rows that travel are pickled pieces of `DocumentRecords` (at most 32 passages each, so that a
long law is spread over every actor; the driver joins the pieces again) and one status row per
file (notes, or why it was skipped), so the driver's report is the same as the local build's. Memory
is bounded by Ray's streaming executor (blocks in flight), not by the corpus. Order is preserved,
so a Ray build and a local build of the same files produce the same index.

Offline use: RAY_USAGE_STATS_ENABLED=0 and RAY_AUTH_MODE=disabled are set before Ray starts (2.60
otherwise writes an auth token); Ray still probes cloud metadata addresses with 1 s timeouts when
it starts, which is harmless offline. Joining a cluster (`--ray auto` or `--ray ray://HOST:10001`)
needs this project installed on every node (`pip install '.[scale]'`), and the files to index
readable at the same path on every node (a shared folder).
"""

from __future__ import annotations

import functools
import os
import pickle
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embed.cache import DEFAULT_SENTENCES, fill_vectors
from indexer.pipeline.report import BuildReport
from indexer.pipeline.stages import WINDOW, prepare_file, record_file, windows
from indexer.records import DocumentRecords
from indexer.store.base import Backend, StoreConfig

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
PIECE = 32  # passages per row: a long law is spread over every actor, not left to one
PIECES_PER_CALL = 4  # rows per actor call: 4–128 passages, enough for full embedding batches


def _pieces(rec: DocumentRecords) -> list[DocumentRecords]:
    """A document cut into rows of at most PIECE passages (the document itself rides on the first)."""
    out = []
    first_sentence = [0]
    for sp in rec.sentences:
        first_sentence.append(first_sentence[-1] + len(sp))
    for s in range(0, len(rec.passages), PIECE):
        e = min(s + PIECE, len(rec.passages))
        out.append(DocumentRecords(
            doc=rec.doc if s == 0 else replace(rec.doc, text="", pages=[]), passages=rec.passages[s:e],
            pids=rec.pids[s:e],
            embed_texts=rec.embed_texts[s:e], embed_hashes=rec.embed_hashes[s:e],
            vectors=rec.vectors, refs=rec.refs[s:e], keys=rec.keys if s == 0 else [],
            sentences=rec.sentences[s:e] if rec.sentences else [],
            sentence_hashes=rec.sentence_hashes[first_sentence[s]:first_sentence[e]] if rec.sentences else []))
    return out


def _join(pieces: list[DocumentRecords]) -> DocumentRecords:
    first = pieces[0]
    svecs = [x.sentence_vectors for x in pieces if x.sentence_vectors is not None]
    return DocumentRecords(
        doc=first.doc, passages=[p for x in pieces for p in x.passages], pids=[p for x in pieces for p in x.pids],
        embed_texts=[t for x in pieces for t in x.embed_texts],
        embed_hashes=[h for x in pieces for h in x.embed_hashes],
        vectors=np.concatenate([x.vectors for x in pieces]), refs=[r for x in pieces for r in x.refs], keys=first.keys,
        sentences=[sp for x in pieces for sp in x.sentences],
        sentence_hashes=[h for x in pieces for h in x.sentence_hashes],
        sentence_vectors=np.concatenate(svecs) if svecs else None)


def _prepare(row: dict[str, Any], model: str, context: bool, sentences: str) -> list[dict[str, Any]]:
    prep = prepare_file(Path(row["path"]), row["rel"], row["fhash"], model, context, sentences)
    docs, prep.records = prep.records, []
    out = [{"kind": "file", "payload": pickle.dumps(prep)}]
    for d, rec in enumerate(docs):
        pieces = _pieces(rec)
        out += [{"kind": "doc", "payload": pickle.dumps((row["rel"], d, i, len(pieces), piece))}
                for i, piece in enumerate(pieces)]
    return out


class Embed:
    """An embedding actor: loads the model once, reuses cached vectors, embeds the rest."""

    def __init__(self, model: str, sources: list[tuple[str, dict[str, Any]]], engine: str | None = None,
                 sentences: str = DEFAULT_SENTENCES) -> None:
        from indexer.embed import get_bulk_embedder

        # the driver's engine, named: an actor never measures or reads VNSEARCH_EMBED_ENGINE itself
        self.embedder = get_bulk_embedder(model, engine, late=sentences == "late")
        self.sentences = sentences
        self.caches = [c for d, config in sources if (c := _open_cache(Path(d), config)) is not None]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        kinds = list(batch["kind"])
        payloads = list(batch["payload"])
        rows = {i: pickle.loads(payloads[i]) for i, k in enumerate(kinds) if k == "doc"}
        docs = [(i, row[-1]) for i, row in rows.items()]
        tokens = int(getattr(self.embedder, "tokens", 0))
        fallbacks = int(getattr(self.embedder, "late_fallbacks", 0))
        t = time.perf_counter()
        per_record, sentences = fill_vectors([r for _i, r in docs], self.caches, self.embedder,
                                             sentences=self.sentences)
        seconds = np.zeros(len(kinds), dtype=np.float64)
        made = np.zeros(len(kinds), dtype=np.int64)
        alone = np.zeros(len(kinds), dtype=np.int64)
        if len(kinds):  # the batch's tokens, time and late fallbacks ride on its first row
            made[0] = int(getattr(self.embedder, "tokens", 0)) - tokens
            alone[0] = int(getattr(self.embedder, "late_fallbacks", 0)) - fallbacks
            seconds[0] = time.perf_counter() - t if made[0] else 0.0
        embedded = np.zeros(len(kinds), dtype=np.int64)
        embedded_sentences = np.zeros(len(kinds), dtype=np.int64)
        for (i, rec), n, ns in zip(docs, per_record, sentences, strict=True):
            embedded[i], embedded_sentences[i] = n, ns
            payloads[i] = pickle.dumps((*rows[i][:-1], rec))
        return {"kind": np.array(kinds, dtype=object), "payload": np.array(payloads, dtype=object),
                "embedded": embedded, "embedded_sentences": embedded_sentences, "tokens": made,
                "seconds": seconds, "late_fallbacks": alone}


def _open_cache(index_dir: Path, config: dict[str, Any]) -> Backend | None:
    """The published index, read-only, for its embedding cache; None where it cannot be reached
    (a fresh index, or a worker node that does not see the index folder: a Milvus index opens from
    its config alone)."""
    from indexer.store import backend_class

    try:
        store = StoreConfig.of(config)
        return backend_class(store.backend).open(index_dir, store)
    except Exception:  # noqa: BLE001 - no cache only costs re-embedding
        return None


def init_ray(address: str | None, num_cpus: int | None = None) -> None:
    import ray

    if ray.is_initialized():
        return
    if address in (None, "local"):
        for attempt in range(2):
            try:
                ray.init(num_cpus=num_cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
                return
            except Exception as e:
                # Ray gives its raylet a fixed 30 s to register; on a loaded 2-core machine it
                # sometimes needs longer. A second start then succeeds.
                if attempt or "timed out during startup" not in str(e):
                    raise
                ray.shutdown()
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False)


def ray_stream(to_read: list[tuple[Path, str, str]], model: str, context: bool, caches: list[Backend],
               report: BuildReport, address: str | None = "local", actors: int | None = None,
               window: int = WINDOW, engine: str | None = None, sentences: str = DEFAULT_SENTENCES,
               progress: bool = False) -> Iterator[list[DocumentRecords]]:
    """Windows of documents with vectors, computed by Ray Data; the caller writes them (itself, or
    through `ray_writers.RayShards`). The actors embed on `engine` (the driver's choice) and make
    `sentences` vectors; on a cluster with GPUs, e5-small's actors take one GPU each and embed on it.
    `progress`: a bar of the passages done, with the engine and the tokens/s of the whole pool."""
    if not to_read:
        return
    import ray

    from indexer.store.base import read_config

    init_ray(address)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # the same index as a local build, whatever the timing
    ctx.enable_progress_bars = False
    cpus = int(ray.cluster_resources().get("CPU", 1))
    actors = actors or max(1, cpus // 2)
    # The embedding cache: the actors read the published indexes themselves (no round trip via the driver).
    sources = [(str(c.index_dir.resolve()), read_config(c.index_dir)) for c in caches if c.manifest]
    items = [{"path": str(p.resolve()), "rel": rel, "fhash": fh} for p, rel, fh in to_read]
    ds: ray.data.Dataset = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * cpus))
    ds = ds.flat_map(functools.partial(_prepare, model=model, context=context, sentences=sentences), num_cpus=0)
    per_actor = max(1, cpus // actors)
    # Each actor's model runs OpenMP with as many threads as the cores it was given: left alone,
    # every actor would start one thread per core of the node, and actors would fight for cores
    # (spinning OpenMP threads make oversubscription very costly).
    threads = {k: str(per_actor) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    gpus = int(ray.cluster_resources().get("GPU", 0)) if model == "e5-small" else 0
    if gpus:
        engine, actors = "cuda", min(actors, gpus)
    ds = ds.map_batches(Embed, fn_constructor_kwargs={"model": model, "sources": sources, "engine": engine,
                                                      "sentences": sentences},
                        batch_size=PIECES_PER_CALL, batch_format="numpy",
                        compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=per_actor,
                        runtime_env={"env_vars": threads}, num_gpus=1 if gpus else None)
    bar = None
    if progress:
        import sys

        from tqdm import tqdm

        bar = tqdm(desc=f"Embedding passages and sentences on Ray ({engine or model}, {actors} actors)",
                   unit="passage", file=sys.stderr, dynamic_ncols=True)
    try:
        yield from windows(_documents(ds, report, bar), window)
    finally:
        if bar is not None:
            bar.close()


def _documents(ds: Any, report: BuildReport, bar: Any = None) -> Iterator[DocumentRecords]:
    """Whole documents with their vectors, as their last piece arrives; file outcomes into the report.

    The report's embedding time is the pipeline's wall time, not the sum of the actors' times: the
    actors embed side by side, and the build's tokens/s is the pool's (the sum gave one actor's)."""
    parts: dict[tuple[str, int], list[tuple[int, DocumentRecords]]] = {}  # pieces until a document is whole
    start, before = time.perf_counter(), report.embed_seconds
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        report.embed_tokens += int(np.sum(batch["tokens"]))
        if np.sum(batch["seconds"]) > 0:
            report.embed_seconds = before + time.perf_counter() - start
        report.late_fallbacks += int(np.sum(batch["late_fallbacks"]))
        if bar is not None and report.tokens_per_s:
            bar.set_postfix_str(f"{report.tokens_per_s:.0f} tokens/s", refresh=False)
        for kind, payload, embedded, sentences in zip(batch["kind"], batch["payload"], batch["embedded"],
                                                      batch["embedded_sentences"], strict=True):
            obj = pickle.loads(payload)
            if kind == "file":
                record_file(report, obj)
                continue
            rel, d, i, count, piece = obj
            report.embedded += int(embedded)
            report.reused += len(piece.passages) - int(embedded)
            report.sentences_embedded += int(sentences)
            if bar is not None:
                bar.update(len(piece.passages))
            got = parts.setdefault((rel, d), [])
            got.append((i, piece))
            if len(got) == count:
                del parts[(rel, d)]
                yield _join([p for _i, p in sorted(got, key=lambda x: x[0])])

"""Scale by simulation (`python -m benchmarks.scale --parts sim,writers`): a corpus N times the 208 laws.

The 208 laws of ../shared/datasets/vietnamese-laws are loaded, split (passages, sentences, references)
and embedded once with the `hash` embedder (384-d, the model's dimension); copy k of the corpus is
those records under document ids ``sao-k/LAW.txt``, with new passage ids, new embedding keys, and each
vector perturbed (Gaussian noise of σ = 0.1 per coordinate before normalising, so no two copies have the
same vector). The copies are written straight into the store's writer (loading and splitting are paid
once, not N times: what is measured is the store), then published with a manifest that lists one file
on disk per document (the law's text with a header line "Bản sao mô phỏng số k", so every file has its
own hash) — so a real `indexer update` of that folder sees every file unchanged but the one edited.

Measured per backend: the build (wall seconds, peak RSS of the writing process and, for Milvus, of
the engine server), disk, hybrid query p50/p95 with and without filters (ALQAC's questions as
queries), a one-file update (`python -m indexer update`, a fresh process) and the first search after
it in a searcher that was open before it. `writers`: rows/s into the engine with 1, 2 and 4 writer
processes in one epoch (`ShardWriter`), one publish.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench import LAWS, ROOT, run_measured

# SCALE_SIM_WORK: where the simulated indexes and files go (tens of GB at a million passages)
WORK = Path(os.environ.get("SCALE_SIM_WORK") or ROOT / ".cache" / "scale")
BASE = WORK / "laws-hash-records.pkl"
DIM = 384
NOISE = 0.1


def base_records(laws: int | None = None) -> list[Any]:
    """The 208 laws (or the first `laws`) as DocumentRecords with hash vectors (cached: a minute of CPU)."""
    if BASE.exists():
        return pickle.loads(BASE.read_bytes())[:laws]
    from indexer.embed import get_embedder
    from indexer.embed.cache import fill_vectors
    from indexer.pipeline.stages import file_hash, prepare_file

    emb = get_embedder("hash")
    out = []
    for f in sorted(LAWS.glob("*.txt")):
        prep = prepare_file(f, f.name, file_hash(f), "hash", True)
        fill_vectors(prep.records, [], emb)
        out += prep.records
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = BASE.with_suffix(f".{os.getpid()}.tmp")  # two simulations may start together
    tmp.write_bytes(pickle.dumps(out))
    os.replace(tmp, BASE)
    return out[:laws]


def _perturb(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if v is None or not len(v):
        return v
    x = np.asarray(v, dtype=np.float32) + rng.normal(0, NOISE, size=v.shape).astype(np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def _key(k: int, h: str) -> str:
    return hashlib.sha256(f"sao-{k}\x00{h}".encode()).hexdigest()


def clone(rec: Any, k: int, rng: np.random.Generator, fhash: str) -> Any:
    """Copy k of one document: new id, path, passage ids, embedding keys and perturbed vectors."""
    import dataclasses

    from indexer.records import passage_id

    doc_id = f"sao-{k:03d}/{rec.doc.doc_id}"
    doc = dataclasses.replace(rec.doc, doc_id=doc_id, path=doc_id, file_hash=fhash)
    passages = [dataclasses.replace(p, doc_id=doc_id) for p in rec.passages]
    return dataclasses.replace(
        rec, doc=doc, passages=passages, pids=[passage_id(doc_id, p.ordinal) for p in passages],
        embed_hashes=[_key(k, h) for h in rec.embed_hashes], vectors=_perturb(rec.vectors, rng),
        sentence_hashes=[_key(k, h) for h in rec.sentence_hashes],
        sentence_vectors=_perturb(rec.sentence_vectors, rng) if rec.sentence_vectors is not None else None)


def copy_file(folder: Path, k: int, law: str) -> tuple[str, str]:
    """The file on disk behind copy k of `law` (its own hash); (relative path, content hash)."""
    from indexer.pipeline.stages import file_hash

    rel = f"sao-{k:03d}/{law}"
    path = folder / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Bản sao mô phỏng số {k} (văn bản thử nghiệm)\n\n" + (LAWS / law).read_text(encoding="utf-8"),
                        encoding="utf-8")
    return rel, file_hash(path)


def _rss_mb() -> dict[str, int]:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return {}
    kb = {ln.split(":")[0]: int(ln.split()[1]) for ln in status.splitlines() if ln.startswith(("VmHWM", "VmRSS"))}
    return {"rss_mb": round(kb.get("VmRSS", 0) / 1024), "peak_rss_mb": round(kb.get("VmHWM", 0) / 1024)}


def _note(progress: Path | None, t0: float, **fields: Any) -> None:
    """One line of progress (seconds since the start, this process's RSS) appended to `progress`."""
    if progress is not None:
        with progress.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"seconds": round(time.perf_counter() - t0, 1), **fields, **_rss_mb()}) + "\n")


def write_copies(writer: Any, base: list[Any], copies: range, folder: Path,
                 progress: Path | None = None, t0: float = 0.0) -> tuple[dict[str, str], int]:
    """Copies one after another: only the base records and the copy being written are in memory."""
    files: dict[str, str] = {}
    rows = passages = 0
    for k in copies:
        rng = np.random.default_rng(k)
        for rec in base:
            rel, fh = copy_file(folder, k, rec.doc.path)
            files[rel] = fh
            r = clone(rec, k, rng, fh)
            writer.add(r)
            passages += len(r.passages)
            rows += 1 + len(r.passages) + sum(len(s) for s in r.sentences) + sum(len(x) for x in r.refs)
        _note(progress, t0, copies_written=k + 1 - copies.start, passages_written=passages, rows_written=rows)
    return files, rows


def manifest(files: dict[str, str], folder: Path, seconds: float) -> dict[str, Any]:
    return {"model": "hash", "dimension": DIM, "embed_context": True, "files": files, "sources": [str(folder)],
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "build_seconds": round(seconds, 2),
            # SCALE_SIM_INDEX_TYPE=flat: the local Milvus engine builds no HNSW, which `auto` picks past 100k
            "index_type": os.environ.get("SCALE_SIM_INDEX_TYPE", "auto"), "skipped": [], "duplicates": []}


def build_main(backend: str, copies: int, index: Path, folder: Path) -> int:
    """(In the measured child process.) Write `copies` copies into a fresh index and publish.

    Progress (each copy written, the publish) goes to `<index>.progress.jsonl` as it happens."""
    from indexer.store import create_backend
    from indexer.store.base import StoreConfig

    base = base_records()
    t0 = time.perf_counter()
    progress = index.with_name(index.name + ".progress.jsonl")
    progress.unlink(missing_ok=True)
    store = create_backend(index, StoreConfig(backend))
    try:
        w = store.begin(full=True)
        files, rows = write_copies(w, base, range(copies), folder, progress, t0)
        _note(progress, t0, step="publish started")
        w.publish(manifest(files, folder, time.perf_counter() - t0))
    except Exception as e:  # the measuring parent keeps no stderr: the reason goes into the progress file
        _note(progress, t0, error=f"{type(e).__name__}: {e}"[:2000])
        raise
    _note(progress, t0, step="published")
    store.refresh()
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "documents": store.manifest["documents"],
                      "passages": store.manifest["passages"], "rows": rows}))
    store.close()
    return 0


def shard_main(spec_json: str, first: int, last: int, folder: Path, laws: int | None) -> int:
    """(In a writer process.) Write copies first..last-1 (of the first `laws` laws) through one ShardWriter."""
    from indexer.store.milvus import ShardWriter

    base = base_records(laws)
    w = ShardWriter(json.loads(spec_json))
    files, rows = write_copies(w, base, range(first, last), folder)
    print(json.dumps({**w.close(), "files": files, "rows": rows}))
    return 0


def _server_stats(index: Path) -> dict[str, Any]:
    from indexer.store.milvus.common import LITE_STATE

    try:
        pid = json.loads((index / LITE_STATE).read_text())["pid"]
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError, KeyError):
        return {}
    kb = {ln.split(":")[0]: int(ln.split()[1]) for ln in status.splitlines() if ln.startswith(("VmHWM", "VmRSS"))}
    return {"server_peak_rss_mb": round(kb.get("VmHWM", 0) / 1024), "server_rss_mb": round(kb.get("VmRSS", 0) / 1024)}


def _du_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def _latency(s: Any, queries: list[str], filters: Any) -> dict[str, float]:
    times = []
    for i, q in enumerate(queries):
        t = time.perf_counter()
        s.search(q, 10, filters=filters, method="hybrid")
        if i >= 5:  # warm-up left out
            times.append(1000 * (time.perf_counter() - t))
    return {"p50_ms": round(float(np.percentile(times, 50)), 1), "p95_ms": round(float(np.percentile(times, 95)), 1),
            "queries": len(times)}


def simulate(backend: str, copies: int, queries: list[str],
             save: Callable[[dict[str, Any]], None] | None = None, reuse: bool = False) -> dict[str, Any]:
    """The measurements of one backend at `copies` copies; `save(results so far)` after each one.
    `reuse`: measure the index an earlier simulation of the same size built (no build)."""
    # The files folder belongs to this simulation: another one's (more copies, or running at the
    # same time and editing a file for its update) would make the update see files it never indexed.
    index, folder = WORK / f"sim-{backend}-{copies}", WORK / f"sim-files-{backend}-{copies}"
    save = save or (lambda _res: None)
    if reuse and (index / "backend.json").exists():
        res: dict[str, Any] = {"build": {"reused": str(index)}, "disk_mb": _du_mb(index)}
        if backend == "milvus":
            from indexer.store import milvus

            milvus.ensure_lite_server(index)
            res["build"].update(_server_stats(index))
        return _measure(backend, index, folder, queries, res, save)
    shutil.rmtree(index, ignore_errors=True)
    code, wall, rss, out = run_measured(["-m", "benchmarks.scale_sim", "build", backend, str(copies), str(index),
                                         str(folder)])
    if code != 0:
        progress = index.with_name(index.name + ".progress.jsonl")
        lines = progress.read_text(encoding="utf-8").splitlines() if progress.exists() else []
        res = {"error": f"build exited with {code}", "wall_s": round(wall, 1), "peak_rss_mb": round(rss),
               "last_progress": json.loads(lines[-1]) if lines else None}
        save(res)
        return res
    res: dict[str, Any] = {"build": {**json.loads(out.strip().splitlines()[-1]), "wall_s": round(wall, 1),
                                     "peak_rss_mb": round(rss)}}
    res["build"]["passages_per_s"] = round(res["build"]["passages"] / res["build"]["seconds"])
    res["build"].update(_server_stats(index))
    res["disk_mb"] = _du_mb(index)
    save(res)
    return _measure(backend, index, folder, queries, res, save)


def _measure(backend: str, index: Path, folder: Path, queries: list[str], res: dict[str, Any],
             save: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Queries, a one-file update and the first search after it, on a built simulated index."""
    from indexer.records import Filters
    from search_app.core.searcher import Searcher

    t = time.perf_counter()
    s = Searcher(index, query_cache=0)
    res["searcher_open_s"] = round(time.perf_counter() - t, 1)
    res["queries"] = {}
    for name, filters in (("hybrid", None), ("hybrid, year ≥ 2015", Filters(year_from=2015)),
                          ("hybrid, type Luật, 2010–2020", Filters(type={"Luật"}, year_from=2010,
                                                                    year_to=2020))):
        res["queries"][name] = _latency(s, queries, filters)
        save(res)
    try:
        res["one_file_update"] = one_file_update(s, index, folder, queries)
        res["disk_mb_after_update"] = _du_mb(index)
        save(res)
    finally:
        s.close()
    if backend == "milvus":
        res["build"].update({f"after_queries_{k}": v for k, v in _server_stats(index).items()})
        from indexer.store import milvus

        milvus.stop_lite_server(index)
        save(res)
    return res


def one_file_update(s: Any, index: Path, folder: Path, queries: list[str]) -> dict[str, Any]:
    """One file edited, then `indexer update` in a fresh process; the open searcher's first search after it."""
    target = folder / "sao-000" / sorted(p.name for p in LAWS.glob("*.txt"))[0]
    original = target.read_text(encoding="utf-8")
    try:
        # numbered, so that a second run on the same index (--sim-reuse) edits the file anew
        target.write_text(original + f"\n\nĐiều thử nghiệm. Câu thử nghiệm số {time.time_ns()} thêm vào để đo "
                          "cập nhật một tệp.\n", encoding="utf-8")
        code, wall, urss, out = run_measured(["-m", "indexer", "update", str(folder), "--index", str(index),
                                              "--model", "hash", "--json", "--quiet"])
        rep = json.loads(out) if code == 0 else {}
        out = {"wall_s": round(wall, 1), "peak_rss_mb": round(urss), "rc": code,
               "indexed": len(rep.get("files_indexed", [])) - len(rep.get("unchanged", [])),
               "embedded": rep.get("embedded")}
        # the refresh prepares the new generation (its relation graph) before it switches; the
        # page and the servers run it in the background, so the first search is timed apart
        t = time.perf_counter()
        out["refreshed"] = s.refresh()
        out["refresh_ms"] = round(1000 * (time.perf_counter() - t), 1)
        t = time.perf_counter()
        s.search(queries[0], 10, method="hybrid")
        out["first_search_after_ms"] = round(1000 * (time.perf_counter() - t), 1)
        out["next_searches"] = _latency(s, queries[:30], None)
    finally:
        target.write_text(original, encoding="utf-8")
    return out


def writers(counts: tuple[int, ...], copies_each: int, laws: int | None = None) -> dict[str, Any]:
    """Rows/s into the engine with several writer processes in one epoch (one claim, one publish)."""
    from indexer.store.base import StoreConfig
    from indexer.store.milvus import MilvusBackend, ensure_lite_server, stop_lite_server

    base_records()  # made once, before the timed part
    home, folder = WORK / "writers-server", WORK / "writers-files"  # not sim-files: its copies must stay 0..N-1
    shutil.rmtree(home, ignore_errors=True)
    url = ensure_lite_server(home)
    out: dict[str, Any] = {"copies_per_writer": copies_each, "laws_per_copy": laws or 208}
    try:
        for n in counts:
            b = MilvusBackend.create(WORK / f"writers-{n}", StoreConfig("milvus", url, f"w{n}"))
            t0 = time.perf_counter()
            w = b.begin(full=True)
            specs = w.shard_specs(n, DIM)
            procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.scale_sim", "shard", json.dumps(spec),
                                       str(i * copies_each), str((i + 1) * copies_each), str(folder),
                                       str(laws or 0)],
                                      cwd=ROOT, stdout=subprocess.PIPE, text=True) for i, spec in enumerate(specs)]
            rows = files = 0
            for p in procs:
                stdout, _ = p.communicate()
                if p.returncode != 0:
                    raise RuntimeError(f"a writer exited with {p.returncode}")
                got = json.loads(stdout.strip().splitlines()[-1])
                w.absorb(got)
                rows, files = rows + got["rows"], files + len(got["files"])
            w.publish(manifest({}, folder, time.perf_counter() - t0))
            seconds = time.perf_counter() - t0
            b.refresh()
            out[f"{n} writers"] = {"seconds": round(seconds, 1), "rows": rows, "passages": b.manifest["passages"],
                                   "rows_per_s": round(rows / seconds), "passages_per_s":
                                   round(b.manifest["passages"] / seconds)}
            b.close()
            print(json.dumps(out), file=sys.stderr)
    finally:
        stop_lite_server(home)
    one = out.get("1 writers", {}).get("rows_per_s")
    for v in out.values():
        if isinstance(v, dict) and one:
            v["vs_1"] = round(v["rows_per_s"] / one, 2)
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    cmd, *rest = sys.argv[1:]
    if cmd == "build":
        raise SystemExit(build_main(rest[0], int(rest[1]), Path(rest[2]), Path(rest[3])))
    if cmd == "shard":
        raise SystemExit(shard_main(rest[0], int(rest[1]), int(rest[2]), Path(rest[3]), int(rest[4]) or None))
    raise SystemExit(f"unknown command {cmd}")

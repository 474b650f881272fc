"""Scale-out measurements: `python -m benchmarks.scale` (part of `make bench`).

1. ALQAC 2023–25 on both backends: the 2,249 articles, split into one JSONL file per law (17
   files, so that an update can touch one file), indexed (reusing `make eval`'s vectors: the same
   documents embed to the same texts) into the embedded backend and into
   the Milvus engine (the Milvus index reuses the embedded index's vectors: same model, same texts);
   MRR@10 / Hit@10 overall and on the held-out half, query latency p50/p95 (hybrid, warm);
   a batch of the questions through `python -m search_app search --queries` (the whole process);
   a one-file update (one article of one law changed) on each backend against its full build.
2. Ray Data on one node against the local build (passages/s with the real model, nothing
   cached), with 1 and 2 embedding actors.
3. Peak RSS of building all 208 laws (the streaming pipeline), with the `hash` embedder so that
   the pipeline's own memory is measured, not the model's.

4. `sim`: the store at N times the 208 laws on both backends, `writers`: 1, 2 and 4 writers into
   the engine in one epoch (benchmarks/scale_sim.py says how the corpus is simulated).

Results are printed and written to .cache/bench/scale.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench import LAWS, ROOT, run_measured
from benchmarks.eval import _read_beir, evaluate_beir

ALQAC = ROOT.parent / "shared" / "datasets" / "alqac-2023-2025"
WORK = ROOT / ".cache" / "scale"


def split_alqac(folder: Path, out: Path) -> list[Path]:
    """One JSONL file per law, the lines unchanged (the line ids stay the document ids)."""
    by_law: dict[str, list[str]] = defaultdict(list)
    for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            by_law[json.loads(line)["_id"].split("@")[0]].append(line)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for i, (_law, lines) in enumerate(sorted(by_law.items())):
        # law-NN/corpus.jsonl: the file name gives the documents their title ("Corpus", as in the
        # single-file corpus), so the embedded texts, and the cached vectors, stay the same.
        path = out / f"law-{i:02d}" / "corpus.jsonl"
        path.parent.mkdir(exist_ok=True)
        text = "\n".join(lines) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def _latency(searcher: Any, queries: list[str], method: str = "hybrid") -> dict[str, float]:
    for q in queries[:10]:
        searcher.search(q, 10, method=method)
    times = []
    for q in queries:
        t = time.perf_counter()
        searcher.search(q, 10, method=method)
        times.append(1000 * (time.perf_counter() - t))
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)),
            "queries": len(times)}


def _timed_build(args: list[str]) -> dict[str, Any]:
    code, wall, rss, out = run_measured(["-m", "indexer", *args, "--json", "--quiet"])
    if code != 0:
        return {"error": f"indexer exited with {code}", "args": args}
    rep = json.loads(out)
    return {"seconds": round(wall, 1), "peak_rss_mb": round(rss), "passages": rep["passages"],
            "embedded": rep["embedded"], "reused": rep["reused"]}


def _batch(ix: Path, questions: Path) -> dict[str, Any]:
    """The whole `search --queries` process (start, open, every question, exit)."""
    code, wall, rss, _out = run_measured(["-m", "search_app", "search", "--queries", str(questions), "--index",
                                          str(ix), "--json"])
    return {"rc": code, "wall_s": round(wall, 2), "peak_rss_mb": round(rss)}


def alqac_backends(queries_n: int, vectors_from: Path | None, model: str = "e5-small") -> dict[str, Any]:
    from search_app.core.searcher import Searcher

    split = WORK / "alqac-split"
    files = split_alqac(ALQAC, split)
    out: dict[str, Any] = {"files": len(files)}
    embedded, milvus_ix = WORK / "alqac-embedded", WORK / "alqac-milvus"
    reuse = ["--vectors-from", str(vectors_from)] if vectors_from else []
    out["model"] = model
    out["embedded_build"] = _timed_build(["build", str(split), "--index", str(embedded), "--model", model, *reuse])
    out["embedded_build"]["vectors_from"] = str(vectors_from) if vectors_from else None
    shutil.rmtree(milvus_ix, ignore_errors=True)
    out["milvus_build"] = _timed_build(["build", str(split), "--index", str(milvus_ix), "--backend", "milvus",
                                        "--model", model, "--vectors-from", str(embedded)])
    queries, _qrels = _read_beir(ALQAC)
    texts = [q["text"] for q in queries][:queries_n]
    questions = WORK / "alqac-questions.jsonl"
    questions.write_text("".join(json.dumps({"id": q["_id"], "query": q["text"]}, ensure_ascii=False) + "\n"
                                 for q in queries), encoding="utf-8")
    for name, ix in (("embedded", embedded), ("milvus", milvus_ix)):
        out[f"{name}_batch"] = _batch(ix, questions)
        out[f"{name}_batch"]["questions"] = len(queries)
    for name, ix in (("embedded", embedded), ("milvus", milvus_ix)):
        s = Searcher(ix, query_cache=0)
        res = evaluate_beir(ALQAC, s, methods=("hybrid", "dense", "keyword"))
        out[name] = {m: {k: r["scores"][k] for k in ("overall", "[held-out]", "[tune]")}
                     for m, r in res["methods"].items()}
        out[name]["latency_hybrid"] = _latency(s, texts)
        out[name]["latency_dense"] = _latency(s, texts, "dense")
        out[name]["latency_keyword"] = _latency(s, texts, "keyword")
        s.close()
    # A one-file update: one article of one law gets a (visibly synthetic) sentence more.
    target = files[0]
    original = target.read_text(encoding="utf-8")
    first = json.loads(original.splitlines()[0])
    first["text"] += "\n\nCâu thử nghiệm thêm vào để đo cập nhật một tệp (văn bản thử nghiệm)."
    changed = "\n".join([json.dumps(first, ensure_ascii=False), *original.splitlines()[1:]]) + "\n"
    try:
        target.write_text(changed, encoding="utf-8")
        for name, ix in (("embedded", embedded), ("milvus", milvus_ix)):
            out[name]["one_file_update"] = _timed_build(["update", str(split), "--index", str(ix), "--model", model])
    finally:
        target.write_text(original, encoding="utf-8")
        for _name, ix in (("embedded", embedded), ("milvus", milvus_ix)):
            _timed_build(["update", str(split), "--index", str(ix), "--model", model])
    from indexer.store import milvus

    milvus.stop_lite_server(milvus_ix)
    return out


def latency_only(queries_n: int) -> dict[str, Any]:
    """Query latency on the two ALQAC indexes an earlier `alqac` run left in .cache/scale."""
    from search_app.core.searcher import Searcher

    queries, _qrels = _read_beir(ALQAC)
    texts = [q["text"] for q in queries][:queries_n]
    out: dict[str, Any] = {}
    for name in ("embedded", "milvus"):
        s = Searcher(WORK / f"alqac-{name}", query_cache=0)
        out[name] = {m: _latency(s, texts, m) for m in ("hybrid", "dense", "keyword")}
        s.close()
    from indexer.store import milvus

    milvus.stop_lite_server(WORK / "alqac-milvus")
    return out


def ray_vs_local(files: list[Path]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="scale-ray-"))
    subset = work / "laws"
    subset.mkdir()
    for f in files:
        (subset / f.name).symlink_to(f)
    rows = {}
    for name, extra in (("local", []), ("ray, 1 actor", ["--ray", "--ray-actors", "1"]),
                        ("ray, 2 actors", ["--ray", "--ray-actors", "2"])):
        ix = work / name.replace(" ", "").replace(",", "-")
        r = _timed_build(["build", str(subset), "--index", str(ix), *extra])
        if "seconds" in r:
            r["passages_per_s"] = round(r["passages"] / r["seconds"], 2)
        rows[name] = r
    shutil.rmtree(work, ignore_errors=True)
    base = rows["local"].get("passages_per_s")
    for r in rows.values():
        if base and r.get("passages_per_s"):
            r["vs_local"] = round(r["passages_per_s"] / base, 3)
    return rows


def laws_rss() -> dict[str, Any]:
    ix = Path(tempfile.mkdtemp(prefix="scale-rss-")) / "ix"
    r = _timed_build(["build", str(LAWS), "--index", str(ix), "--model", "hash"])
    shutil.rmtree(ix.parent, ignore_errors=True)
    return r


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="rss,ray,alqac,writers,sim",
                   help="parts to run, comma-separated: rss, ray, alqac, latency (reuses alqac's indexes), "
                        "writers, sim")
    p.add_argument("--model", default="e5-small", help="the model of the ALQAC part (hash: no model needed)")
    p.add_argument("--sim-copies", type=int, default=10, help="copies of the 208 laws (31,214 passages each)")
    p.add_argument("--sim-backends", default="milvus,embedded")
    p.add_argument("--sim-reuse", action="store_true",
                   help="measure the simulated indexes an earlier run of the same size left (no build)")
    p.add_argument("--writer-laws", type=int, default=30, help="laws in each writer's copy (writers part)")
    p.add_argument("--queries", type=int, default=200, help="queries for the latency figures")
    p.add_argument("--ray-files", type=int, default=12,
                   help="the N smallest laws of at least 30 kB for Ray vs local (12: 594 passages, 24: ~1,300)")
    p.add_argument("--json", type=Path, default=ROOT / ".cache" / "bench" / "scale.json")
    p.add_argument("--vectors-from", type=Path, default=ROOT / ".cache" / "eval" / "alqac-2023-2025-e5-small",
                   help="an e5-small index of the ALQAC corpus whose vectors the builds reuse (make eval makes it)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not ALQAC.exists() or not LAWS.exists():
        print("error: ../shared/datasets is missing", file=sys.stderr)
        return 2
    parts = set(args.parts.split(","))
    result: dict[str, Any] = {}
    t0 = time.perf_counter()
    if "rss" in parts:
        print("Building all 208 laws (hash embedder) for peak memory …", file=sys.stderr)
        result["laws_rss"] = laws_rss()
    if "ray" in parts:
        print("Ray Data vs local build …", file=sys.stderr)
        files = sorted((f for f in LAWS.glob("*.txt") if f.stat().st_size >= 30_000),
                       key=lambda f: (f.stat().st_size, f.name))[: args.ray_files]
        result["ray_vs_local"] = ray_vs_local(files)
    if "alqac" in parts:
        print("ALQAC on both backends …", file=sys.stderr)
        reuse = args.vectors_from if (args.vectors_from / "CURRENT").exists() and args.model == "e5-small" else None
        result["alqac"] = alqac_backends(args.queries, reuse, args.model)
    if "latency" in parts:
        print("Query latency on both backends …", file=sys.stderr)
        result["latency"] = latency_only(args.queries)
    if "writers" in parts:
        from benchmarks.scale_sim import writers

        print("Writers into the Milvus engine …", file=sys.stderr)
        result["writers"] = writers((1, 2, 4), 1, laws=args.writer_laws)
    if "sim" in parts:
        from benchmarks.scale_sim import simulate

        queries, _qrels = _read_beir(ALQAC)

        def save(key: str, res: dict[str, Any]) -> None:  # each measurement on disk as soon as it is taken
            result[key] = res
            _write(args.json, {**result, "partial": True})

        for backend in args.sim_backends.split(","):
            print(f"Simulated corpus, {args.sim_copies} copies, on {backend} …", file=sys.stderr)
            key = f"sim_{backend}"
            result[key] = simulate(backend, args.sim_copies, [q["text"] for q in queries][:args.queries],
                                   lambda res, key=key: save(key, res), reuse=args.sim_reuse)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=float))
    _write(args.json, result)
    return 0


def _write(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=float), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())

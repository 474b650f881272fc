"""What an update costs against a full build: `python -m benchmarks.update_cost [--backend B]`.

On a copy of the 208 laws (mtimes kept), with the `hash` embedder so that the model's speed does
not hide the index's own costs, one run measures:

- a cached full build: `build` from scratch into an index whose embedding cache holds every vector;
- an update with nothing changed (every file stat-ed, none read: the size+mtime fast path);
- a one-file update: one law gets a visibly synthetic article appended;
- the first search after that update (the searcher opened before it, `refresh`, then one search:
  the refresh assembles the new relation graph before it switches) against the median of warm searches.

The ratio one-file update / cached full build is the figure issue 17 asks to bring under 0.05.
An index of the copy is built once and reused (`--index`); pass `--fresh` to start over.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAWS = ROOT.parent / "shared" / "datasets" / "vietnamese-laws"
QUERIES = ["trách nhiệm của cơ quan nhà nước", "quyền và nghĩa vụ của người lao động", "xử phạt vi phạm hành chính",
           "thời hạn kháng cáo", "điều kiện kinh doanh", "bảo vệ môi trường", "hiệu lực thi hành",
           "hợp đồng lao động", "thuế thu nhập doanh nghiệp", "quy hoạch sử dụng đất"]
APPENDED = "\nĐiều 999. Điều thử nghiệm\nVăn bản thử nghiệm: điều khoản giả định thêm vào để đo chi phí cập nhật {n}.\n"


def _timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def run(work: Path, backend: str, fresh: bool, milvus_uri: str | None, files: int | None) -> dict[str, Any]:
    from indexer.pipeline.build import build
    from search_app.core.searcher import Searcher

    tag = f"-{files}" if files else ""
    corpus, index = work / f"laws{tag}", work / f"index-{backend}{tag}"
    if fresh:
        shutil.rmtree(index, ignore_errors=True)
    if not corpus.exists():
        corpus.mkdir(parents=True)
        for p in sorted(LAWS.glob("*.txt"))[:files]:
            shutil.copy2(p, corpus / p.name)  # mtimes kept
    kw: dict[str, Any] = {"model": "hash", "progress": False, "backend": backend, "milvus_uri": milvus_uri}
    if not index.exists():
        build([corpus], index, **kw)  # fills the embedding cache
    full, t_full = _timed(lambda: build([corpus], index, **kw))
    noop, t_noop = _timed(lambda: build([corpus], index, incremental=True, **kw))
    s = Searcher(index, query_cache=0)
    for q in QUERIES:  # warm: graph assembled, caches filled
        s.search(q, top_k=10)
    warm = []
    for q in QUERIES * 2:
        warm.append(_timed(lambda q=q: s.search(q, top_k=10))[1])
    target = sorted(corpus.glob("*.txt"))[len(QUERIES) % len(list(corpus.glob("*.txt")))]
    with target.open("a", encoding="utf-8") as f:
        f.write(APPENDED.format(n=time.time_ns()))
    upd, t_update = _timed(lambda: build([corpus], index, incremental=True, **kw))
    _, t_refresh = _timed(s.refresh)
    _, t_first = _timed(lambda: s.search(QUERIES[0], top_k=10))
    _, t_second = _timed(lambda: s.search(QUERIES[1], top_k=10))
    manifest = dict(s.manifest)
    s.close()
    return {
        "backend": backend, "files": len(list(corpus.glob("*.txt"))), "passages": full.passages,
        "cached_full_build_s": round(t_full, 2), "noop_update_s": round(t_noop, 3),
        "noop_files_hashed": noop.files_hashed, "one_file_update_s": round(t_update, 3),
        "update_files_hashed": upd.files_hashed, "update_cost_ratio": round(t_update / t_full, 4),
        "delta_generation": "base" in manifest, "refresh_s": round(t_refresh, 3),
        "first_search_after_update_ms": round(t_first * 1000, 1), "second_search_ms": round(t_second * 1000, 1),
        "warm_search_p50_ms": round(statistics.median(warm) * 1000, 1),
        "warm_search_max_ms": round(max(warm) * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/update-cost"), help="where the copy and indexes go")
    ap.add_argument("--backend", action="append", choices=("embedded", "milvus"), default=None)
    ap.add_argument("--milvus-uri", default=None)
    ap.add_argument("--fresh", action="store_true", help="build the indexes again first")
    ap.add_argument("--files", type=int, default=None, help="only the first N laws by name (default: all 208)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = [run(args.work, b, args.fresh, args.milvus_uri, args.files) for b in args.backend or ["embedded"]]
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

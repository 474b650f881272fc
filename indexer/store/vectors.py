"""The embedded backend's vector index (FAISS): exact while it is fast enough, approximate beyond, chosen
by size (`index_types.choose`).

Above FLAT_MAX an IVF index (inverted lists over k-means cells) is used: it builds much faster than HNSW
for a million vectors, and with the nprobe below it keeps recall@10 high against exact search (figures:
docs/benchmarks.md).
HNSW stays available (`--index-type hnsw`) for those who prefer its latency profile.
"""

from __future__ import annotations

import math
import os
from typing import Any

import faiss
import numpy as np

from indexer.store.index_types import (
    FLAT_MAX,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    IVF_NPROBE,
    choose,
)

__all__ = ["FLAT_MAX", "build", "choose", "configure", "search"]

EXACT_FILTER_MAX = 50_000  # a filtered search over fewer allowed vectors than this is done exactly


def _threads(n: int | None) -> None:
    """FAISS's OpenMP threads: all cores to build or to answer a batch, one to answer a single query.

    One query is too small to split, and threads left spinning after a search steal the cores
    the query embedder (its own OpenMP runtime) needs next (the figures: docs/benchmarks.md).
    """
    faiss.omp_set_num_threads(n or os.cpu_count() or 1)


def ivf_lists(n: int) -> int:
    # ~4·√n cells, the usual rule of thumb, capped so that each cell still gets training points.
    return max(1, min(int(4 * math.sqrt(n)), n // 39))


def build(vectors: np.ndarray, kind: str = "auto", seed: int = 1234) -> tuple[faiss.Index, dict[str, Any]]:
    """An index over `vectors` (L2-normalised rows; inner product = cosine) and its parameters."""
    _threads(None)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
    kind = choose(n, kind)
    index: faiss.Index
    if kind == "flat" or n == 0:
        index = faiss.IndexFlatIP(max(dim, 1) if n == 0 else dim)
        params: dict[str, Any] = {"type": "flat"}
    elif kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index = hnsw
        params = {"type": "hnsw", "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    else:
        nlist = ivf_lists(n)
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        # 40 points per cell and 10 k-means rounds: enough for stable cells (recall is measured in
        # `make bench`), and it keeps training a 1M-vector index near a minute on 2 cores.
        ivf.cp.niter = 10
        rng = np.random.default_rng(seed)
        sample = vectors if n <= 40 * nlist else vectors[rng.choice(n, 40 * nlist, replace=False)]
        ivf.train(sample)
        index = ivf
        params = {"type": "ivf", "nlist": nlist, "nprobe": min(IVF_NPROBE, nlist)}
    if n:
        index.add(vectors)
    configure(index, params)
    return index, params


def configure(index: faiss.Index, params: dict[str, Any]) -> None:
    """Apply search-time parameters (they are not stored in the FAISS file)."""
    kind = params.get("type", "flat")
    if kind == "hnsw":
        hnsw = faiss.downcast_index(index)
        if isinstance(hnsw, faiss.IndexHNSW):
            hnsw.hnsw.efSearch = int(params.get("efSearch", HNSW_EF_SEARCH))
    elif kind == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = int(params.get("nprobe", IVF_NPROBE))
        ivf.make_direct_map()  # lets a filtered search fetch the allowed vectors exactly


def search(index: faiss.Index, params: dict[str, Any], query: np.ndarray, k: int,
           allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ids) of the k nearest vectors to each row of `query` (one vector, or a batch: one row
    each), optionally among `allowed` ids only. A batch is one call over the index, and each of its
    rows gets what it gets searched alone (faiss scores each query on its own; the tests check it).

    A filter is applied inside the search, never by dropping results after the top-k: exactly
    (on the allowed vectors) when there are few of them or the index is flat, otherwise through
    the approximate index with the filter as an ID selector and a wider search.
    """
    q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1, index.d)
    # a batch's queries shared among the cores (each query still scored by one thread, as alone:
    # 64 ALQAC queries 7.6–8.2 ms on one thread, 3.9–4.4 on two); one query on one thread
    _threads(1 if len(q) == 1 else None)
    kind = params.get("type", "flat")
    if allowed is None:
        return index.search(q, k)
    allowed = np.asarray(allowed, dtype=np.int64)
    if allowed.size == 0:
        return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
    k = min(k, int(allowed.size))
    if kind == "flat":
        # faiss's generated stubs lack the keyword constructors its Python layer adds (below too)
        return index.search(q, k, params=faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed)))  # type: ignore[call-arg]
    if allowed.size <= EXACT_FILTER_MAX:
        mat = index.reconstruct_batch(allowed)
        sims = [mat @ row for row in q]
        tops = [np.argsort(-x)[:k] for x in sims]
        return np.stack([x[t] for x, t in zip(sims, tops, strict=True)]), np.stack([allowed[t] for t in tops])
    sel = faiss.IDSelectorBatch(allowed)
    if kind == "hnsw":
        sp = faiss.SearchParametersHNSW(sel=sel, efSearch=int(params.get("efSearch", HNSW_EF_SEARCH)) * 2)  # type: ignore[attr-defined]
    else:
        sp = faiss.SearchParametersIVF(sel=sel, nprobe=int(params.get("nprobe", IVF_NPROBE)) * 2)  # type: ignore[call-arg]
    return index.search(q, k, params=sp)

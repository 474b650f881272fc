"""The dense index types a build may ask for, and their parameters: shared by every backend, and free of
any engine (the embedded backend builds them with FAISS, `vectors.py`; Milvus with its own indexes).

Exact inner-product search grows linearly with the vectors; up to FLAT_MAX it stays fast enough and
needs no training or tuning. Above that an approximate index is used (figures: docs/benchmarks.md).
"""

from __future__ import annotations

FLAT_MAX = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
IVF_NPROBE = 24
INDEX_TYPES = ("auto", "flat", "hnsw", "ivf")


def choose(n: int, kind: str = "auto") -> str:
    """The index type for `n` vectors: `kind`, or for "auto" exact up to FLAT_MAX and IVF beyond."""
    if kind not in INDEX_TYPES:
        raise ValueError(f"unknown index type {kind!r}; choose one of {', '.join(INDEX_TYPES)}")
    if kind != "auto":
        return kind
    return "flat" if n <= FLAT_MAX else "ivf"

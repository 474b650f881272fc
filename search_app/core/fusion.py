"""Combining ranked lists from the dense and the keyword retrievers."""

from __future__ import annotations

import numpy as np


def minmax(scores: np.ndarray) -> np.ndarray:
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.ones_like(scores) if hi > 0 else np.zeros_like(scores)
    return (scores - lo) / (hi - lo)


def weighted(
    dense: dict[int, float], keyword: dict[int, float], dense_weight: float = 0.5
) -> dict[int, float]:
    """Convex combination of min-max normalised scores over the union of candidates.

    A candidate missing from one list gets that list's minimum (its weakest candidate's score),
    i.e. 0 after normalisation, on both sides alike: each list is stretched over its own range.
    """
    pids = sorted(set(dense) | set(keyword))
    if not pids:
        return {}
    d_floor = min(dense.values()) if dense else 0.0
    k_floor = min(keyword.values()) if keyword else 0.0
    d = np.array([dense.get(p, d_floor) for p in pids], dtype=np.float64)
    kw = np.array([keyword.get(p, k_floor) for p in pids], dtype=np.float64)
    fused = dense_weight * minmax(d) + (1 - dense_weight) * minmax(kw)
    return dict(zip(pids, fused.tolist(), strict=True))


def top(scores: dict[int, float], n: int) -> list[int]:
    return [p for p, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

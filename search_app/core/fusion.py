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
    """Convex combination of per-query normalised scores over the union of candidates.

    The two sides are normalised differently, on purpose. Dense similarities have no natural zero
    (E5 cosines sit in a narrow band), so they are min-max normalised and a candidate the dense side
    did not return gets its minimum. BM25 has one: a passage the keyword side did not return scores 0,
    so keyword scores are normalised over [0, max] — how far the best BM25 hit stands above the rest
    is kept. Giving the keyword side its own minimum instead was measured worse (ALQAC hybrid MRR@10
    0.907 vs 0.915 on the tuning half, 0.896 vs 0.903 held out; docs/evaluation.md).
    """
    pids, fused = _weighted(dense, keyword, dense_weight)
    return dict(zip(pids.tolist(), fused.tolist(), strict=True))


def weighted_ranking(dense: dict[int, float], keyword: dict[int, float],
                     dense_weight: float = 0.5) -> list[tuple[int, float]]:
    """`ranking(weighted(…))` without the dictionary between them."""
    return _ranked(*_weighted(dense, keyword, dense_weight))


def _weighted(dense: dict[int, float], keyword: dict[int, float],
              dense_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """The union's pids, ascending, and their fused scores (see `weighted`)."""
    pids = sorted(set(dense) | set(keyword))
    if not pids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    d_floor = min(dense.values()) if dense else 0.0
    d = np.array([dense.get(p, d_floor) for p in pids], dtype=np.float64)
    kw = np.array([keyword.get(p, 0.0) for p in pids], dtype=np.float64)
    return np.array(pids, dtype=np.int64), dense_weight * minmax(d) + (1 - dense_weight) * minmax(kw)


def ranking(scores: dict[int, float]) -> list[tuple[int, float]]:
    """(pid, score) by score, highest first, ties by pid: `sorted` with the key (-score, pid), in one
    numpy sort (a Python key per candidate was a tenth of a millisecond a search)."""
    if not scores:
        return []
    pids = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    return _ranked(pids, values)


def _ranked(pids: np.ndarray, values: np.ndarray) -> list[tuple[int, float]]:
    order = np.lexsort((pids, -values))
    return list(zip(pids[order].tolist(), values[order].tolist(), strict=True))


def top(scores: dict[int, float], n: int) -> list[int]:
    return [p for p, _ in ranking(scores)[:n]]

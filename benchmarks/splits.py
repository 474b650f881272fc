"""The fixed halves of a set of questions: parameters are tuned on one and reported on the other."""

from __future__ import annotations

import hashlib


def tuning_split(query_id: str) -> str:
    """Fixed half of the queries that parameters were tuned on; the other half is held out."""
    return "tune" if int(hashlib.md5(query_id.encode()).hexdigest(), 16) % 2 == 0 else "held-out"

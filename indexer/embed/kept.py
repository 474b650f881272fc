"""Arrays kept in the user's cache folder ($VNSEARCH_CACHE, else ~/.cache/vnsearch), keyed by what
they were made from: converted model weights, the background texts' vectors. Whole or absent: a
concurrent reader never sees half a file; an entry that cannot be read is made again."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from indexer.settings import current

Arrays = dict[str, np.ndarray]


def kept(name: str, make: Callable[[], Arrays], valid: Callable[[Arrays], bool] = lambda _: True) -> Arrays:
    """The arrays kept under `name` (a relative path ending in .npz) when they can be read and are
    `valid`; else `make()`, kept there for the next process (a read-only cache folder: made each time)."""
    path = current().cache / name
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                got = {k: z[k] for k in z.files}
            if valid(got):
                return got
        except (OSError, ValueError, EOFError):
            pass  # a damaged or partly written entry: made again below
    arrays = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy types **kwds as its bool flag
        os.replace(tmp, path)
    except OSError:
        pass
    return arrays

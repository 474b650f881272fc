"""The published pointer and the visibility rule (MVCC by epoch) every read applies."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from indexer.store.milvus.common import (
    FORMAT_VERSION,
    PASSAGE_CACHE_ROWS,
)
from indexer.store.milvus.expressions import (
    _and,
    lit_list,
)

# --- the pointer --------------------------------------------------------------------------------


@dataclass
class Pointer:
    epoch: int = 0  # the published epoch (0: nothing published)
    set: str | None = None  # the live collection set, e.g. "s3"
    claimed: int = 0  # the last epoch a writer claimed
    generation: str = ""
    manifest_chunks: int = 0
    hidden_chunks: int = 0
    dim: int | None = None
    vector_index: str = "flat"
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> Pointer:
        d = json.loads(data)
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class RowCache:
    """A bounded, thread-safe LRU map (key → row) of one published version's rows."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._rows: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Iterable[Any]) -> dict[Any, Any]:
        out = {}
        with self._lock:
            for k in keys:
                if k in self._rows:
                    self._rows.move_to_end(k)
                    out[k] = self._rows[k]
        return out

    def put_many(self, rows: dict[Any, Any]) -> None:
        with self._lock:
            for k, row in rows.items():
                self._rows[k] = row
                self._rows.move_to_end(k)
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)


@dataclass
class _View:
    """One published version as a reader sees it; immutable, swapped whole on refresh."""

    pointer: Pointer
    manifest: dict[str, Any]
    hidden: list[str]
    names: dict[str, str]
    vis: str
    cache: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    passages: RowCache = field(default_factory=lambda: RowCache(PASSAGE_CACHE_ROWS))  # pid → hydrated row
    # pid → its visible sentence rows (rid, pid, born, k, start, end): tuples, ~100 bytes a sentence
    sentences: RowCache = field(default_factory=lambda: RowCache(PASSAGE_CACHE_ROWS))
    # pid → its sentences' row ids in order and their spans (sentences.py, _plan), from `sentences`
    plans: RowCache = field(default_factory=lambda: RowCache(PASSAGE_CACHE_ROWS))

    def where(self, *exprs: str) -> str:
        return _and(self.vis, *exprs)


def visibility(epoch: int, hidden: list[str]) -> str:
    """The rows of epoch `epoch`: written by it or before, minus the replaced files' older rows.

    `not (path in HIDDEN and born < E)` by De Morgan: the Milvus engine has no `not (...)`."""
    expr = f"born <= {int(epoch)}"
    if hidden:
        expr += f" and (born == {int(epoch)} or path not in {lit_list(hidden)})"
    return expr

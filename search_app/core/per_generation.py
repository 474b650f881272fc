"""What a Searcher assembles once per published generation of the index (its relation graph, the
numbers it holds): the current generation's and the next one's, which a refresh assembles before it
switches (`Backend.refresh`'s `warm`), so that no search after an update waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from indexer.store.base import Backend

T = TypeVar("T")


class GenerationCache(Generic[T]):
    """`build(backend)` by generation; `of(backend)` gives the published generation's."""

    def __init__(self, build: Callable[[Backend], T]) -> None:
        self._build = build
        self._held: dict[Any, T] = {}
        self._lock = threading.Lock()

    def prepare(self, ahead: Backend) -> None:
        """Assemble what the generation `ahead` reads (not yet the published one) needs."""
        gen = ahead.manifest.get("generation")
        value = self._build(ahead)
        with self._lock:
            self._held[gen] = value

    def of(self, backend: Backend) -> T:
        """The value of `backend`'s published generation, assembled here if no refresh prepared it."""
        with self._lock:
            value: T | None = None
            for attempt in range(3):
                gen = backend.manifest.get("generation")
                value = self._held.get(gen)
                if value is not None:
                    break
                try:
                    value = self._build(backend)
                except Exception:
                    # The index switched while it was being read (a retired generation closes under
                    # a long read): read the new one; a failure on an unchanged index is a real error.
                    if attempt == 2 or backend.manifest.get("generation") == gen:
                        raise
                    continue
                self._held[gen] = value
                if backend.manifest.get("generation") == gen:
                    break  # else an update was published meanwhile: build again from the new one
            # kept: this generation's and the newest other one (a refresh prepares the next
            # generation's while searches still read this one)
            for old in [g for g in self._held if g != gen][:-1]:
                del self._held[old]
            assert value is not None
            return value

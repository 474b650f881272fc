"""The published index for long-running servers (the HTTP API, the MCP server): updates without a
restart, and no answer that mixes two generations.

`Searcher.refresh()` switches the backend under a searcher in place, which suits the page (one
search per rerun) but not a server answering many requests at once: a search running while it
switches could read its ranking from one generation and its passages from the next. Here each
request instead *leases* a whole Searcher, opened on one generation, and keeps it to the end of the
response. When the indexer publishes a newer generation, a background check opens a new Searcher
on it (its relation graph computed before anyone sees it, so no request pays for that) and swaps
one reference; requests already running finish on the old one, which is closed when the last of
them returns. The cost: while requests are still running on the old generation both are in memory.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.embed.base import Embedder
from search_app.core import heap
from search_app.core.searcher import QUERY_CACHE, Searcher

log = logging.getLogger("vnsearch.live")
DEFAULT_INTERVAL = 2.0  # seconds between two looks for a newer generation


@dataclass
class _Held:
    searcher: Searcher
    users: int = 0
    retired: bool = False


class LiveIndex:
    """The index in `index_dir` as its newest published generation; see the module docstring."""

    def __init__(self, index_dir: Path | str, model: str | None = None, embedder: Embedder | None = None,
                 interval: float = DEFAULT_INTERVAL, searcher: Searcher | None = None,
                 query_cache: int = QUERY_CACHE) -> None:
        self.index_dir = Path(index_dir)
        self.model, self.embedder, self.interval, self.query_cache = model, embedder, interval, query_cache
        self._held = _Held(searcher or self._open())
        self._lock = threading.Lock()  # guards _held and the use counts
        self._check_lock = threading.Lock()  # one check at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> Searcher:
        return Searcher(self.index_dir, model=self.model, embedder=self.embedder, query_cache=self.query_cache)

    @property
    def searcher(self) -> Searcher:
        """The current searcher, for reads that need no consistency across calls (status, health)."""
        return self._held.searcher

    @contextlib.contextmanager
    def lease(self) -> Iterator[Searcher]:
        """The current searcher, kept open (on its generation) until the block ends."""
        with self._lock:
            held = self._held
            held.users += 1
        try:
            yield held.searcher
        finally:
            with self._lock:
                held.users -= 1
                close = held.retired and held.users == 0
            if close:
                held.searcher.close()

    def published_generation(self) -> str | None:
        """The generation the indexer published last, read cheaply (the embedded index's CURRENT file,
        one pointer read on Milvus) by the backend being served, which keeps reading its own."""
        return self._held.searcher.backend.published_generation()

    def check(self) -> bool:
        """Swap to a newer published generation if there is one. True when it swapped."""
        with self._check_lock:
            current = self._held.searcher
            published = self.published_generation()
            if published is None or published == current.manifest.get("generation"):
                return False
            new = self._open()
            new.warm_up()  # its graph, keyword columns and passages (core/preload.py) ready before the swap
            with self._lock:
                old, self._held = self._held, _Held(new)
                old.retired = True
                close = old.users == 0
            if close:
                old.searcher.close()
            heap.settle()  # the retired generation's cycles collected, the new one's objects set aside
            log.info("serving generation %s", new.manifest.get("generation"))
            return True

    def _loop(self) -> None:
        said = None  # a damaged generation is reported once, in one line, not at every look
        while not self._stop.wait(self.interval):
            try:
                self.check()
                said = None
            except Exception as e:  # noqa: BLE001 - a generation pruned or half-written: the next look retries
                line = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                if line != said:
                    log.warning("could not open the newer index generation (%s); still serving the current one",
                                line)
                    log.debug("details", exc_info=True)
                    said = line

    def start(self) -> None:
        """Warm the current searcher (`Searcher.warm_up`: a server's first request then costs what any
        request costs) and settle the heap (`heap.settle`), then look for newer generations every
        `interval` seconds in a daemon thread."""
        with self.lease() as searcher:
            searcher.warm_up()
        heap.settle()
        if self._thread is None and self.interval > 0:
            self._thread = threading.Thread(target=self._loop, name="vnsearch-live", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            held = self._held
            held.retired = True
            close = held.users == 0
        if close:
            held.searcher.close()

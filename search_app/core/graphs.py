"""The relation graphs a Searcher keeps: one per published generation, the current one's and the
next one's, which a refresh assembles before it switches (`Backend.refresh`'s `warm`), so that no
search after an update waits for it.
"""

from __future__ import annotations

import threading
from typing import Any

from indexer.store.base import Backend
from search_app.core.relations import RelationGraph


class GraphCache:
    """Relation graphs by generation; `of(backend)` gives the published generation's."""

    def __init__(self) -> None:
        self._graphs: dict[Any, RelationGraph] = {}
        self._lock = threading.Lock()

    def prepare(self, ahead: Backend) -> None:
        """Assemble the graph of the generation `ahead` reads (not yet the published one)."""
        graph = RelationGraph(ahead)
        with self._lock:
            self._graphs[graph.generation] = graph

    def of(self, backend: Backend) -> RelationGraph:
        """The graph of `backend`'s published generation, assembled here if no refresh prepared it."""
        with self._lock:
            graph = None
            for attempt in range(3):
                gen = backend.manifest.get("generation")
                graph = self._graphs.get(gen)
                if graph is not None:
                    break
                try:
                    graph = RelationGraph(backend)
                except Exception:
                    # The index switched while it was being read (a retired generation closes under
                    # a long read): read the new one; a failure on an unchanged index is a real error.
                    if attempt == 2 or backend.manifest.get("generation") == gen:
                        raise
                    continue
                self._graphs[gen] = graph
                if backend.manifest.get("generation") == gen:
                    break  # else an update was published meanwhile: build again from the new one
            # kept: this generation's graph and the newest other one (a refresh prepares the next
            # generation's while searches still read this one)
            for old in [g for g in self._graphs if g != gen][:-1]:
                del self._graphs[old]
            assert graph is not None
            return graph

"""The garbage collector in a long-running search process (the API, the MCP server, the page, a batch).

A loaded index is hundreds of thousands of long-lived containers: the BM25 vocabularies, the
relation graph, the passage and document maps. CPython's full collections walk every one of them,
although none of them is ever garbage while its generation is served: on ALQAC, one full collection
took 78 ms and the younger ones 5–7 ms, together 0.3 ms a search over a batch of 600 questions
(docs/benchmarks.md). `settle` takes what is alive once an index is loaded out of those walks.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect, then leave every object alive now out of the collector's later passes (`gc.freeze`).

    Called once an index is loaded and warm (a server's start) and again after a switch to a newer
    generation: what an earlier call froze is let go first (`gc.unfreeze`), so that a retired
    generation's reference cycles are collected then instead of kept for the life of the process.
    A generation still serving a request at that moment is frozen again, and collected at the next
    switch."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()

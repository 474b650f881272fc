"""The relation graphs a Searcher keeps, one per published generation (core/per_generation.py)."""

from __future__ import annotations

from search_app.core.per_generation import GenerationCache
from search_app.core.relations import RelationGraph


class GraphCache(GenerationCache[RelationGraph]):
    """Relation graphs by generation; `of(backend)` gives the published generation's."""

    def __init__(self) -> None:
        super().__init__(RelationGraph)

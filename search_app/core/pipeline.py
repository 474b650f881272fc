"""The search as a pipeline of stages: one typed request in, one typed result out.

A `SearchRequest` (query, filters, `in_force`, top_k, method) is what every door parses, once. The
`Searcher` turns it into a `SearchState` and hands that to each `Stage` of its list in turn; each stage
does one thing (`transform`) and says so by its `name`, under which the searcher times it. The last
state becomes the `SearchResult` every door serializes: the hits, how the query was understood,
whether the corpus answers it, the card of the document the query names, the timings. A new signal (a
reranker, a prior) is a new stage and one line in `search_app/core/stages.py:default_stages`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, overload

import numpy as np

from indexer.embed.base import Embedder
from indexer.records import Filters, PassageRow
from indexer.store.base import Backend
from indexer.text.normalise import syllables
from search_app.core.corpus_numbers import CorpusNumbers
from search_app.core.hits import Hit
from search_app.core.prefetch import Prefetched
from search_app.core.relations import RelationGraph

METHODS = ("hybrid", "dense", "keyword")
DEFAULT_METHOD: Final = "hybrid"
MAX_QUERY_CHARS = 1000
CANDIDATES = 100  # per retriever, before fusion

SentenceScores = dict[int, tuple[np.ndarray, np.ndarray]]


class QueryError(ValueError):
    pass


def clip_query(query: str) -> tuple[str, bool]:
    """The query with its white space made single spaces, cut to MAX_QUERY_CHARS; whether it was cut."""
    query = " ".join((query or "").split())
    if len(query) > MAX_QUERY_CHARS:
        return query[:MAX_QUERY_CHARS], True
    return query, False


@dataclass(frozen=True)
class SearchRequest:
    """What a user asks, as every door hands it to the core: the page, the CLI, the API and MCP."""

    query: str
    top_k: int = 10
    filters: Filters | None = None
    method: str = DEFAULT_METHOD
    in_force: bool = False  # only documents the corpus does not show repealed ("Chỉ văn bản còn hiệu lực")

    def checked(self) -> SearchRequest:
        if self.method not in METHODS:
            raise QueryError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        return self


class SearchContext(Protocol):
    """What the stages read besides the state: the published index and its model (the Searcher)."""

    backend: Backend

    def embed_query(self, query: str) -> np.ndarray: ...

    def passages(self, pids: list[int]) -> list[PassageRow]: ...

    def embedder(self) -> Embedder: ...

    def relations(self) -> RelationGraph: ...

    def corpus_numbers(self) -> CorpusNumbers: ...

    def references(self, query: str) -> dict[str, Any]: ...


@dataclass
class Named:
    """The document a query names ("57-NQ/TW", "Nghị quyết 57", "Resolution 57"): its reference key,
    the indexed documents it resolves to (one, or several when it is ambiguous), and whether the query
    named it by its full number."""

    key: str
    doc_ids: list[str]
    ambiguous: bool
    full_number: bool
    asks: str | None = None  # what the query asks of it: "validity", "relations", "issued", or None
    bare: bool = True  # the query is the name alone (with a year, an issuer…), no question besides
    # for a relation question, which end the document is: "in" (what implements it), "out" (what it
    # implements, what it is based on); None: the relation's usual reading
    direction: str | None = None


@dataclass
class SearchState:
    """One search on its way through the stages; each stage reads what earlier ones wrote."""

    request: SearchRequest
    query: str  # clipped, white space made single
    filters: Filters | None  # the request's, narrowed by in_force
    n: int  # candidates per retriever
    unaccented: bool  # typed without a single diacritic
    ahead: Prefetched | None = None  # what a batch read ahead for this query
    keyword: dict[int, float] = field(default_factory=dict)
    dense: dict[int, float] = field(default_factory=dict)
    vector: np.ndarray | None = None
    understood: str = ""  # the text embedded: the query, or the query with its diacritics put back
    coverage: float = 0.0
    dense_weight: float = 1.0
    named: Named | None = None
    ranked: list[tuple[int, float]] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    rows: dict[int, PassageRow] = field(default_factory=dict)  # passage rows read, by pid
    sentences: SentenceScores = field(default_factory=dict)  # sentence spans and similarities, by pid
    best: dict[int, float] = field(default_factory=dict)  # each passage's best sentence similarity (best_of)
    evidence: dict[str, Any] = field(default_factory=dict)
    answerable: bool = False
    card: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.request.method

    def timed(self, name: str, fn: Callable[[], Any]) -> Any:
        """`fn()`, its seconds added to timings[name] (a stage's own parts: the embedding, a read)."""
        t = time.perf_counter()
        try:
            return fn()
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t


class Stage(Protocol):
    """One step of the search: reads the state, writes its part of it, returns it."""

    name: str

    def transform(self, state: SearchState) -> SearchState: ...


@dataclass
class SearchResult(Sequence[Hit]):
    """What a search returns, and every door serializes (a sequence of its hits, in rank order)."""

    query: str
    hits: list[Hit]
    answerable: bool
    understood: str | None = None  # shown as "tìm theo: …" when it differs from the query
    card: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    dense_weight: float | None = None  # the dense side's share in the fusion (hybrid)
    coverage: float | None = None  # the share of the query's words the keyword side found
    timings: dict[str, float] = field(default_factory=dict)

    @overload
    def __getitem__(self, i: int) -> Hit: ...

    @overload
    def __getitem__(self, i: slice) -> list[Hit]: ...

    def __getitem__(self, i: int | slice) -> Hit | list[Hit]:
        return self.hits[i]

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    @classmethod
    def empty(cls, query: str) -> SearchResult:
        return cls(query=query, hits=[], answerable=False)

    @classmethod
    def of(cls, state: SearchState) -> SearchResult:
        # shown only where it says something: "NQ 57" read as "nq 57" (nothing put back) is the query
        understood = state.understood if state.understood and state.understood != state.query and \
            syllables(state.understood) != syllables(state.query) else None
        return cls(query=state.query, hits=state.hits, answerable=state.answerable, understood=understood,
                   card=state.card, evidence=state.evidence,
                   dense_weight=state.dense_weight if state.method == "hybrid" and state.vector is not None else None,
                   coverage=state.coverage if state.keyword else None, timings=state.timings)


def run(stages: Sequence[Stage], state: SearchState) -> SearchState:
    """Each stage in turn, each timed under its name."""
    for stage in stages:
        t = time.perf_counter()
        state = stage.transform(state)
        state.timings[f"stage:{stage.name}"] = time.perf_counter() - t
    return state


def make_request(query: str, *, top_k: int = 10, method: str = DEFAULT_METHOD,
                 type: Sequence[str] | None = None, issuer: Sequence[str] | None = None,  # noqa: A002
                 doc: Sequence[str] | None = None, year_from: int | None = None, year_to: int | None = None,
                 in_force: bool = False) -> SearchRequest:
    """The request from the doors' vocabulary (`type`, `issuer`, `doc`, `year_from`, `year_to`,
    `in_force`: the CLI's options, the API's parameters, the MCP tool's arguments, the page's filters)."""
    filters = Filters(type=set(type) if type else None, issuer=set(issuer) if issuer else None,
                      year_from=year_from, year_to=year_to, doc=set(doc) if doc else None)
    return SearchRequest(query, top_k, filters if filters.active() else None, method, in_force).checked()

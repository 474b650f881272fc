"""The API's request bodies and the documented shape of its answers (OpenAPI).

Answers are built by search_app/core/serialize.py, the same functions the CLI prints with; these
models only describe them (the routes return the serializer's objects as they are, so no field is
renamed, reordered or dropped on the way). The schema test (tests/test_api.py) checks that every
answer matches its description.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from search_app.core.searcher import DEFAULT_METHOD, MAX_QUERY_CHARS

MAX_TOP_K = 100
MAX_BATCH = 100  # queries in one POST /v1/search
MAX_PAGE = 200  # passages in one page of GET /v1/documents/{doc_id}
Method = Literal["hybrid", "dense", "keyword"]


def _unicode(value: str) -> str:
    # JSON can spell a lone surrogate ("\ud800"); it is no character, could match nothing and could
    # not be written back in an answer
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("holds a lone surrogate (\\ud800–\\udfff), which is not Unicode text")
    return value


Text = Annotated[str, AfterValidator(_unicode)]


class Span(BaseModel):
    start: int = Field(description="offset into `text` where the answering sentence starts")
    end: int


class Hit(BaseModel):
    """One passage found, as `search --json` prints it."""

    rank: int
    score: float = Field(description="the passage's score within this query's ranking (per-query normalised): "
                                     "it orders the results of one query and means nothing across queries")
    doc_id: str
    pid: int = Field(description="the passage's id in the index")
    ordinal: int = Field(description="the passage's place in its document: GET /v1/documents/{doc_id}?ordinal=")
    title: str
    doc_number: str | None
    doc_type: str | None
    date: str | None = Field(description="the document's date, ISO 8601")
    section: list[str] = Field(description="where in the document: its heading path, from the top level down, "
                                           "e.g. ['Chương II', 'Điều 3']")
    section_label: str = Field(description="that path as one line, e.g. 'Chương II › Điều 3'")
    page: int | None
    text: str = Field(description="the passage, verbatim: quote it as it is")
    start: int = Field(description="offset of the passage in the document's text")
    end: int
    citation: str = Field(description="the official citation of the passage: quote it as it is")
    validity: dict[str, Any] = Field(description="{status, since, by}: whether the document is still in force, "
                                                 "as far as the indexed documents tell")
    answer: list[Span] = Field(description="the sentence(s) of `text` that answer the query; empty when none "
                                           "answers clearly")


class Evidence(BaseModel):
    """A passage that establishes what a card's answer says."""

    doc_id: str
    pid: int
    ordinal: int
    text: str = Field(description="the passage, verbatim")
    answer: list[Span] = Field(description="the sentence of `text` that says it")
    citation: str


class CardAnswer(BaseModel):
    """What the query asks of the document it names, answered from the corpus, with its evidence."""

    model_config = ConfigDict(extra="allow")

    asks: Literal["validity", "replaces", "amends", "implements", "basis", "issued"]
    evidence: list[Evidence] = Field(description="the passages that establish the answer (at least one)")


class Card(BaseModel):
    """The document a query names ("57-NQ/TW", "Nghị quyết 57", "Resolution 57"): what the corpus says of it."""

    key: str = Field(description="the reference key, as `GET /v1/refs?key=` takes it")
    label: str
    document: dict[str, Any] | None = Field(description="the indexed document's fields; null when only cited")
    identity: dict[str, Any] | None = Field(description="{doc_type, number, date, issuer, subject, indexed}")
    ambiguous: list[dict[str, Any]] = Field(description="when several indexed documents fit the name: their "
                                                        "fields, none chosen")
    validity: dict[str, Any] | None = Field(description="{status, since, until, by, source}")
    relations: list[dict[str, Any]] = Field(description="typed relations both ways: {type, direction, key, label, "
                                                        "doc_id, when}")
    cited_by: int = Field(description="how many passages cite it")
    answer: CardAnswer | None = Field(description="the answer to what the query asks of the document (is it in "
                                                  "force, what implements it, when was it issued…), or null")


class SearchResponse(BaseModel):
    query: str
    understood: str | None = Field(description="the text searched when it differs from the query (diacritics put "
                                               "back from the corpus), else null")
    answerable: bool = Field(description="whether the indexed documents answer the query; when false the results "
                                         "are only the nearest passages, not answers")
    card: Card | None = Field(description="the card of the document the query names, or null")
    results: list[Hit]


class FilterParams(BaseModel):
    """What to restrict a search to (all optional, combined with AND)."""

    model_config = ConfigDict(extra="forbid")

    type: list[Text] | None = Field(None, description="only these document types", examples=[["Nghị quyết"]])
    issuer: list[Text] | None = Field(None, description="only these issuing bodies")
    doc: list[Text] | None = Field(None, description="only these document ids")
    year_from: int | None = Field(None, ge=0, le=9999)
    year_to: int | None = Field(None, ge=0, le=9999)
    in_force: bool = Field(False, description="only documents still in force (leaves out those the indexed "
                                              "documents say were repealed)")


class BatchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Text | int = Field(description="your id for the query, returned with its results")
    query: Text = Field(min_length=1, max_length=MAX_QUERY_CHARS)


class BatchRequest(FilterParams):
    queries: list[BatchQuery] = Field(min_length=1, max_length=MAX_BATCH)
    top_k: int = Field(10, ge=1, le=MAX_TOP_K)
    method: Method = DEFAULT_METHOD

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "queries": [{"id": "q1", "query": "trách nhiệm của cơ quan"}, {"id": "q2", "query": "57-NQ/TW"}],
        "top_k": 5, "in_force": True}]})


class BatchItem(BaseModel):
    id: str | int
    understood: str | None
    answerable: bool
    card: Card | None
    results: list[Hit]


class BatchResponse(BaseModel):
    results: list[BatchItem]


class DocumentMeta(BaseModel):
    doc_id: str
    title: str
    doc_number: str | None
    doc_type: str | None
    issuer: str | None
    date: str | None
    source: str | None
    extra: dict[str, Any]


class RefsResponse(BaseModel):
    key: str = Field(description="the reference key the input was read as")
    label: str
    document: DocumentMeta | None = Field(description="the document itself, when it is indexed")
    cited_by: list[Hit] = Field(description="every passage citing it, in document order")
    validity: dict[str, Any]
    relations: list[dict[str, Any]]
    identity: dict[str, Any]


class Passage(BaseModel):
    pid: int
    ordinal: int
    section: list[str] = Field(description="the heading path, from the top level down")
    section_label: str = Field(description="that path as one line, e.g. 'Chương II › Điều 3'")
    page: int | None
    start: int
    end: int
    text: str
    citation: str


class PassagePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[Passage]


class DocumentResponse(BaseModel):
    document: DocumentMeta
    key: str | None = Field(description="the reference key the document is cited by")
    validity: dict[str, Any]
    identity: dict[str, Any] | None
    passages: PassagePage


class StatusResponse(BaseModel):
    backend: str
    generation: str
    documents: int
    passages: int
    model: str
    built_at: str


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ErrorResponse(BaseModel):
    detail: str = Field(description="what was wrong, in words")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error answers a route can give."""
    words = {401: "missing or wrong bearer token", 404: "no such document", 411: "a POST needs Content-Length",
             413: "request body too large", 422: "a parameter is out of bounds or malformed",
             429: "rate limit reached: retry after the Retry-After header's seconds"}
    return {c: {"model": ErrorResponse, "description": words[c]} for c in codes}


class CompareDoc(BaseModel):
    doc_id: str
    key: str = Field(description="the reference key the document was read as")
    title: str | None
    doc_number: str | None
    doc_type: str | None
    date: str | None
    units: int = Field(description="how many units (articles, or sections) it was cut into")
    mode: Literal["law", "sections"]
    citation: str


class CompareSide(BaseModel):
    key: str = Field(description='"Điều 43", "III.2", or a clause number ("2"; "" for the lines before the first)')
    heading: str | None = None
    text: str = Field(description="verbatim")
    citation: str
    pid: int | None
    doc_id: str | None = None
    section: list[str] | None = Field(None, description="the unit's heading path")
    section_label: str | None = Field(None, description="that path as one line")


class CompareFigure(BaseModel):
    old: str | None = Field(description='e.g. "100% vốn điều lệ"; null for a figure NEW adds')
    new: str | None = Field(description='e.g. "trên 50% vốn điều lệ"; null for a figure NEW drops')
    unit: str
    old_citation: str
    new_citation: str
    old_unit: str | None = None
    new_unit: str | None = None


class DiffOp(BaseModel):
    op: Literal["equal", "delete", "insert", "replace"]
    old: str
    new: str


class ComparePart(BaseModel):
    status: Literal["kept", "moved", "changed", "new", "dropped"]
    old: CompareSide | None
    new: CompareSide | None
    figures: list[CompareFigure] = []
    diff: list[DiffOp] = Field(default=[], description="over syllables, each piece a verbatim slice")


class ComparePair(BaseModel):
    status: Literal["kept", "moved", "changed", "new", "dropped"]
    moved: bool = Field(description="the unit's number changed")
    score: float | None = Field(description="similarity of the aligned units")
    old: CompareSide | None
    new: CompareSide | None
    figures: list[CompareFigure]
    parts: list[ComparePart] = Field(description="a changed pair's clauses (lines) compared")


class CompareResponse(BaseModel):
    old: CompareDoc
    new: CompareDoc
    mode: Literal["law", "sections"]
    related: bool = Field(description="false: the documents are on different subjects and no pairs are listed")
    matched_share: float
    message: str | None
    counts: dict[str, int]
    pairs: list[ComparePair]
    figures: list[CompareFigure] = Field(description="every changed figure, listed first for readers")
    summary: str = Field(description="the pasteable summary")

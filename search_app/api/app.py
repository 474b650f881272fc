"""The HTTP API: the search core behind FastAPI, read-only, answering with the CLI's objects.

Every route that reads the index leases one Searcher (search_app/core/live.py) for the whole
request, so an answer comes from one generation, named in its `X-Index-Generation` header; a newer
generation published by `indexer update` is picked up without a restart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from search_app.api import models
from search_app.api.auth import RateLimiter, identify, retry_after
from search_app.api.models import MAX_PAGE, MAX_TOP_K, Method, errors
from search_app.api.settings import ApiSettings
from search_app.core import compare, compare_report, serialize
from search_app.core.live import LiveIndex
from search_app.core.pipeline import SearchRequest, make_request
from search_app.core.searcher import DEFAULT_METHOD, MAX_QUERY_CHARS, QueryError, Searcher

log = logging.getLogger("vnsearch.api")
disable_created_metrics()  # the *_created series only double what a scraper needs to read
GENERATION_HEADER = "X-Index-Generation"
# wrong tokens one client address may send: a burst of AUTH_FAILURE_BURST, then this many a minute
AUTH_FAILURES_PER_MINUTE = 6
AUTH_FAILURE_BURST = 10

DESCRIPTION = """Semantic search over Vietnamese political and legal documents, with exact citations.

Every answer quotes passages verbatim (`text`) with their official `citation`; `answerable` says
whether the indexed documents answer the query at all. When the server has tokens configured,
every `/v1` route but `/v1/health` needs `Authorization: Bearer <token>`. The `X-Index-Generation`
header names the index generation an answer was read from."""

bearer = HTTPBearer(auto_error=False, description="a token the operator gave you (when tokens are configured)")


class Metrics:
    """Prometheus metrics of one app (a registry of its own: tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("vnsearch_api_requests", "HTTP requests answered", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("vnsearch_api_request_seconds", "time to answer a request", ["route"],
                                 registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.generation = Gauge("vnsearch_index_generation_info", "the index generation served (value 1)",
                                ["generation"], registry=self.registry)
        self.documents = Gauge("vnsearch_index_documents", "documents in the served index", registry=self.registry)
        self.passages = Gauge("vnsearch_index_passages", "passages in the served index", registry=self.registry)

    def render(self, searcher: Searcher) -> bytes:
        m = searcher.manifest
        self.generation.clear()
        self.generation.labels(generation=str(m.get("generation"))).set(1)
        self.documents.set(m.get("documents") or 0)
        self.passages.set(m.get("passages") or 0)
        return generate_latest(self.registry)


class AccessLog:
    """One JSON line per request: time, token name, method, route, status, milliseconds. Never the
    token, the query or a client's address (the proxy in front logs those, if anyone must)."""

    def __init__(self, path: Path | None) -> None:
        self.out = path.open("a", encoding="utf-8", buffering=1) if path else sys.stderr

    def write(self, token: str | None, method: str, route: str, status: int, ms: float) -> None:
        line = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "token": token,
                "method": method, "route": route, "status": status, "ms": round(ms, 2)}
        with contextlib.suppress(OSError, ValueError):  # a full disk must not fail the request
            self.out.write(json.dumps(line, ensure_ascii=False) + "\n")


async def caller(request: Request,
                 creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str | None:
    """The token's name (None when the API is open), after the rate limit; 401 / 429 otherwise.
    async: it never blocks, and a sync dependency would cost every request a thread hand-off."""
    settings: ApiSettings = request.app.state.settings
    name = None
    address = request.client.host if request.client else "-"
    if settings.tokens:
        # a client that sent wrong tokens too often waits, even with a right one: guessing stays slow
        failures: RateLimiter = request.app.state.auth_failures
        if wait := failures.wait(address):
            raise HTTPException(429, f"too many wrong tokens from this address; retry in {retry_after(wait)} s",
                                headers={"Retry-After": retry_after(wait)})
        name = identify(settings.tokens, creds.credentials if creds else None)
        if name is None:
            failures.take(address)
            raise HTTPException(401, "missing or wrong bearer token (Authorization: Bearer <token>)",
                                headers={"WWW-Authenticate": "Bearer"})
    request.state.token_name = name
    who = f"token:{name}" if name else f"addr:{address}"
    wait = request.app.state.limiter.take(who)
    if wait:
        raise HTTPException(429, f"rate limit of {settings.rate_per_minute:g} requests a minute reached; "
                                 f"retry in {retry_after(wait)} s", headers={"Retry-After": retry_after(wait)})
    return name


Caller = Annotated[str | None, Depends(caller)]


def _answer(obj: Any, searcher: Searcher) -> JSONResponse:
    return JSONResponse(obj, headers={GENERATION_HEADER: str(searcher.manifest.get("generation"))})


def _request(query: str, f: models.FilterParams, top_k: int, method: str) -> SearchRequest:
    return make_request(query, top_k=top_k, method=method, type=f.type, issuer=f.issuer, doc=f.doc,
                        year_from=f.year_from, year_to=f.year_to, in_force=f.in_force)


# White space as JSON Schema's (ECMAScript's) `\s` knows it. A parameter must hold something else: the
# schema's pattern says it in the one form every regex engine on the way reads alike (ECMAScript for
# clients and schemathesis, Rust's for pydantic, Python's here), since `\S` differs between them (U+0085
# is white space to Rust and Python, not to ECMAScript). The routes refuse exactly what the schema
# says they refuse; other control characters reach the search core, which finds no words in them.
_SPACE = r" \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = f"[^{_SPACE}]"
_BLANK = re.compile(f"[{_SPACE}]*")


def _live(request: Request) -> LiveIndex:
    return request.app.state.live


def search_get(
    request: Request, _: Caller,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, pattern=NOT_BLANK,
                            description="the question or keywords",
                            openapi_examples={"question": {"value": "trách nhiệm của cơ quan"},
                                              "number": {"value": "57-NQ/TW"}})],
    top_k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description="how many passages")] = 10,
    method: Annotated[Method, Query(description="hybrid (default), dense or keyword")] = DEFAULT_METHOD,
    type: Annotated[list[str] | None, Query(description="only this document type (repeatable)")] = None,
    issuer: Annotated[list[str] | None, Query(description="only this issuing body (repeatable)")] = None,
    doc: Annotated[list[str] | None, Query(description="only this document id (repeatable)")] = None,
    year_from: Annotated[int | None, Query(ge=0, le=9999)] = None,
    year_to: Annotated[int | None, Query(ge=0, le=9999)] = None,
    in_force: Annotated[bool, Query(description="only documents still in force")] = False,
) -> JSONResponse:
    """The passages answering one query: exactly the object `search QUERY --json` prints."""
    f = models.FilterParams(type=type, issuer=issuer, doc=doc, year_from=year_from, year_to=year_to, in_force=in_force)
    if not _has_text(q):
        raise HTTPException(422, "q: the query has no words")
    query = " ".join(q.split())
    with _live(request).lease() as searcher:
        return _answer(serialize.search_response(searcher.search(_request(query, f, top_k, method))), searcher)


def search_post(request: Request, _: Caller, body: models.BatchRequest) -> JSONResponse:
    """Several queries at once, with the same filters: the lines batch mode (`search --queries`)
    prints, as `{"results": [{"id", "answerable", "results"}]}` in the order given."""
    with _live(request).lease() as searcher:
        results = searcher.search_many([_request(item.query, body, body.top_k, body.method) for item in body.queries])
        out = [serialize.batch_line(item.id, r) for item, r in zip(body.queries, results, strict=True)]
        return _answer({"results": out}, searcher)




def _has_text(value: str) -> bool:
    return _BLANK.fullmatch(value) is None


def refs(request: Request, _: Caller,
         key: Annotated[str, Query(min_length=1, max_length=200, pattern=NOT_BLANK,  # blank is not a key
                                   description="a document number or name",
                                   openapi_examples={"number": {"value": "57-NQ/TW"},
                                                     "name": {"value": "Điều lệ Đảng"}})]) -> JSONResponse:
    """A document's context: the document if indexed, its validity, relations, identity and every
    passage citing it — what `refs KEY --json` prints."""
    if not _has_text(key):
        raise HTTPException(422, "key: give a document number or name")
    with _live(request).lease() as searcher:
        return _answer(serialize.refs_object(searcher.references(key)), searcher)


def document(request: Request, _: Caller,
             doc_id: Annotated[str, PathParam(description="the document id, as hits give it")],
             offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
             limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
             ordinal: Annotated[int | None, Query(ge=0, le=10_000_000, description="the page holding this "
                                                  "passage (a hit's `ordinal`); replaces `offset`")] = None,
             ) -> JSONResponse:
    """A document: metadata, validity, identity, and its passages (a page of them, in order)."""
    with _live(request).lease() as searcher:
        obj = serialize.document_object(searcher, doc_id, offset, limit, ordinal=ordinal)
        if obj is None:
            raise HTTPException(404, f"no document {doc_id!r} in the index")
        return _answer(obj, searcher)


EXPORT_TYPES = {"markdown": "text/markdown; charset=utf-8",
                "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def compare_route(request: Request, _: Caller,
                  old: Annotated[str, Query(min_length=1, max_length=200, pattern=NOT_BLANK,
                                            description="the earlier document: number or document id",
                                            openapi_examples={"law": {"value": "68/2014/QH13"}})],
                  new: Annotated[str, Query(min_length=1, max_length=200, pattern=NOT_BLANK,
                                            description="the later document",
                                            openapi_examples={"law": {"value": "59/2020/QH14"}})],
                  format: Annotated[Literal["json", "markdown", "docx", "xlsx"],
                                    Query(description="json (default), or the table as a file")] = "json",
                  ) -> Response:
    """What is new: NEW compared with OLD part by part, every side verbatim with its citation —
    what `compare OLD NEW --json` prints; `format` gives the Markdown, DOCX or XLSX table instead."""
    with _live(request).lease() as searcher:
        try:
            out = compare.compare(searcher, old, new)
        except compare.NotIndexed as e:
            raise HTTPException(404, str(e)) from e
        except compare.CompareError as e:
            raise HTTPException(422, str(e)) from e
        if format == "json":
            return _answer(out, searcher)
    body = compare_report.to_markdown(out).encode() if format == "markdown" else \
        compare_report.to_docx(out) if format == "docx" else compare_report.to_xlsx(out)
    name = "so-sanh." + ("md" if format == "markdown" else format)
    return Response(body, media_type=EXPORT_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def health() -> dict[str, str]:
    """Whether the server answers (no token needed; says nothing about the index)."""
    return {"status": "ok"}


def status(request: Request, _: Caller) -> JSONResponse:
    """The served index: backend, generation, counts, model."""
    with _live(request).lease() as searcher:
        return _answer(serialize.status_object(searcher), searcher)


def metrics(request: Request, _: Caller) -> Response:
    """Prometheus text: requests and latency per route, the index generation served."""
    with _live(request).lease() as searcher:
        return Response(request.app.state.metrics.render(searcher), media_type=CONTENT_TYPE_LATEST)


def _routes(app: FastAPI) -> None:
    auth = errors(401, 429)
    app.get("/v1/search", response_model=models.SearchResponse, tags=["search"],
            responses={**auth, **errors(422)})(search_get)
    app.post("/v1/search", response_model=models.BatchResponse, tags=["search"],
             responses={**auth, **errors(411, 413, 422)})(search_post)
    app.get("/v1/refs", response_model=models.RefsResponse, tags=["documents"],
            responses={**auth, **errors(422)})(refs)
    app.get("/v1/documents/{doc_id:path}", response_model=models.DocumentResponse, tags=["documents"],
            responses={**auth, **errors(404, 422)})(document)
    app.get("/v1/compare", response_model=models.CompareResponse, tags=["documents"],
            responses={**auth, **errors(404, 422)})(compare_route)
    app.get("/v1/health", response_model=models.HealthResponse, tags=["service"])(health)
    app.get("/v1/status", response_model=models.StatusResponse, tags=["service"], responses=auth)(status)
    app.get("/metrics", tags=["service"], response_class=Response, responses={
        **auth, 200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})(metrics)


def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with the reasons in words, e.g. "top_k: Input should be less than or equal to 100"."""
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)


def _query_error(_: Request, exc: QueryError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def _observe(app: FastAPI) -> None:
    settings: ApiSettings = app.state.settings

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        t0 = time.perf_counter()
        response: Response | None = None
        if request.method == "POST":
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                response = JSONResponse({"detail": "a POST needs a Content-Length header"}, status_code=411)
            elif int(length) > settings.max_body:
                response = JSONResponse({"detail": f"request body over {settings.max_body} bytes"}, status_code=413)
        if response is None:
            try:
                response = await call_next(request)
            except Exception:  # noqa: BLE001 - logged here; the client gets no traceback
                log.exception("error answering %s %s", request.method, request.url.path)
                response = JSONResponse({"detail": "internal error; the server log has the details"},
                                        status_code=500)
        # Labels only from the route table: the matched route's template (no doc id in a label), a
        # fixed path of the table (/openapi.json, /v1/search answered 411 before routing), else
        # "unmatched" — never a path a client made up.
        route = getattr(request.scope.get("route"), "path", None)
        name = route or (request.url.path if request.url.path in app.state.fixed_paths else "unmatched")
        seconds = time.perf_counter() - t0
        app.state.metrics.requests.labels(name, request.method, str(response.status_code)).inc()
        app.state.metrics.latency.labels(name).observe(seconds)
        app.state.access_log.write(getattr(request.state, "token_name", None), request.method, name,
                                   response.status_code, seconds * 1000)
        return response


def _open_schema(app: FastAPI) -> None:
    """With no token configured the API is open: its schema must not claim a bearer token is needed."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for ops in spec.get("paths", {}).values():
                for op in ops.values():
                    op.pop("security", None)
                    op.get("responses", {}).pop("401", None)
            spec.get("components", {}).pop("securitySchemes", None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: ApiSettings, live: LiveIndex | None = None) -> FastAPI:
    """The API over the index in `settings.index_dir` (or over `live`, already open)."""
    live = live or LiveIndex(settings.index_dir, interval=settings.refresh_interval, query_cache=settings.query_cache)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        live.start()
        try:
            yield
        finally:
            live.close()

    app = FastAPIOffline(title="Vietnamese political documents search", version="1", description=DESCRIPTION,
                         lifespan=lifespan)
    app.state.settings, app.state.live = settings, live
    app.state.limiter = RateLimiter(settings.rate_per_minute, settings.burst)
    app.state.auth_failures = RateLimiter(AUTH_FAILURES_PER_MINUTE, AUTH_FAILURE_BURST)
    app.state.metrics, app.state.access_log = Metrics(), AccessLog(settings.access_log)
    # Starlette types a handler as taking any Exception; these take the one they are registered for
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(QueryError, _query_error)  # type: ignore[arg-type]
    _routes(app)
    app.state.fixed_paths = frozenset(getattr(r, "path", "") for r in app.routes if "{" not in getattr(r, "path", "{"))
    _observe(app)
    if not settings.tokens:
        _open_schema(app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=[GENERATION_HEADER])
    return app


def from_env() -> FastAPI:
    """The app as uvicorn's factory builds it in each worker, from the environment."""
    return create_app(ApiSettings.from_env())

"""The MCP server (`python -m search_app mcp`): the search core as tools for AI assistants.

Four read-only tools — `search`, `get_document`, `find_references`, `compare_documents` — answering with the objects of
search_app/core/serialize.py (the CLI's and the HTTP API's), a search hit adding its answering
sentences as text. The descriptions tell the assistant to quote passages and citations verbatim
and to say so when the documents do not answer: the exact citation is what an assistant gets
wrong most often and what this index has.

stdio (the default) is for a desktop assistant that starts the server itself; `--http` serves
streamable HTTP at /mcp under the API's token rule (VNSEARCH_API_TOKEN / VNSEARCH_API_TOKENS_FILE)
and rate limit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from search_app.api.auth import RateLimiter, identify, retry_after
from search_app.api.models import MAX_PAGE, MAX_TOP_K
from search_app.api.settings import ApiSettings
from search_app.core import compare, serialize
from search_app.core.live import LiveIndex
from search_app.core.pipeline import make_request
from search_app.core.searcher import MAX_QUERY_CHARS

INSTRUCTIONS = """This server searches an index of Vietnamese political and legal documents (Party
resolutions, Government decisions, laws, interviews) and returns passages with their official
citations. When you use a result: quote the passage's `text` and its `citation` verbatim — never
paraphrase or rebuild a citation, never cite a document the results did not give you. When a search
says `answerable: false`, tell the user the indexed documents do not answer the question instead of
answering from the nearest passages. `validity` says whether a document is still in force, as far as
the indexed documents tell; mention it when a document is repealed or amended."""

SEARCH = """Search the documents for passages answering `query` (Vietnamese or English; a document
number such as "57-NQ/TW" or a name such as "Nghị quyết 57" finds that document and the passages citing
it). Returns {query, understood, answerable, card, results}. `card` is null or the named document's card:
its identity, validity, relations and, when the question asks it (is it still in force? what implements
it? when was it issued?), an `answer` whose `evidence` passages say so, each with its `citation`. Each
result has `text` (the passage, verbatim), `citation` (the official citation),
`answer_text` (the sentence(s) of `text` that answer, verbatim), `validity` and the document's fields.
Quote `text` / `answer_text` and `citation` exactly as given. If `answerable` is false, say the
documents do not answer the question."""

GET_DOCUMENT = """A document by its `doc_id` (as search results give it): metadata, validity, identity
and its passages in order, each with its citation, `limit` at a time from `offset`. Quote passages
and citations verbatim."""

FIND_REFERENCES = """What the documents say about one document, given its number or name (e.g.
"57-NQ/TW", "Điều lệ Đảng"): the document if it is indexed, its identity card (type, number, date,
issuer, subject), its validity, its relations (amends, repeals, replaces…, both ways) and every passage
citing it (`cited_by`). Quote passages and citations verbatim."""

COMPARE = """What is new: the later document `new` compared with the earlier `old` (numbers such as
"68/2014/QH13" and "59/2020/QH14", or doc_ids), part by part: a law article by article (across
renumbering), clause by clause; a resolution by its own sections. Returns {summary, counts, figures,
pairs}: each pair is kept / moved / changed / new / dropped, each side's `text` verbatim with its
`citation`; a changed pair lists its changed `figures` first, then its clauses with a word `diff`.
When `related` is false the documents are on different subjects: say so. Quote texts and citations
verbatim; never describe a change the pairs do not show."""

_SURROGATE = re.compile("[\ud800-\udfff]")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


# A ToolError reaches the assistant with its words (any other exception only as "Error executing tool").


def _hit(hit: dict[str, Any]) -> dict[str, Any]:
    return {**hit, "answer_text": serialize.answer_texts(hit)}


def build_server(live: LiveIndex) -> MCPServer:
    """The MCP server over `live` (each tool call leases one generation, as an API request does)."""
    server = MCPServer(name="vnsearch", title="Vietnamese political documents search", instructions=INSTRUCTIONS,
                       version="1")

    @server.tool(description=SEARCH, annotations=READ_ONLY)
    def search(query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)],
               top_k: Annotated[int, Field(ge=1, le=MAX_TOP_K, description="how many passages")] = 5,
               type: Annotated[list[str] | None, Field(description="only these document types")] = None,
               issuer: Annotated[list[str] | None, Field(description="only these issuing bodies")] = None,
               year_from: Annotated[int | None, Field(ge=0, le=9999)] = None,
               year_to: Annotated[int | None, Field(ge=0, le=9999)] = None,
               in_force: Annotated[bool, Field(description="only documents still in force")] = False,
               ) -> dict[str, Any]:
        query = " ".join(query.split())
        if not query:
            raise ToolError("the query has no words")
        request = make_request(query, top_k=top_k, type=type, issuer=issuer, year_from=year_from, year_to=year_to,
                               in_force=in_force)
        with live.lease() as searcher:
            out = serialize.search_response(searcher.search(request))
        out["results"] = [_hit(h) for h in out["results"]]
        return out

    @server.tool(description=GET_DOCUMENT, annotations=READ_ONLY)
    def get_document(doc_id: Annotated[str, Field(min_length=1)],
                     offset: Annotated[int, Field(ge=0)] = 0,
                     limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 20) -> dict[str, Any]:
        with live.lease() as searcher:
            obj = serialize.document_object(searcher, doc_id, offset, limit)
        if obj is None:
            raise ToolError(f"no document {doc_id!r} in the index; use a doc_id from the search results")
        return obj

    @server.tool(description=FIND_REFERENCES, annotations=READ_ONLY)
    def find_references(key: Annotated[str, Field(min_length=1, max_length=200)]) -> dict[str, Any]:
        if not key.strip():
            raise ToolError("give a document number or name")
        with live.lease() as searcher:
            return serialize.refs_object(searcher.references(key))

    @server.tool(description=COMPARE, annotations=READ_ONLY)
    def compare_documents(old: Annotated[str, Field(min_length=1, max_length=200)],
                          new: Annotated[str, Field(min_length=1, max_length=200)]) -> dict[str, Any]:
        try:
            with live.lease() as searcher:
                return compare.compare(searcher, old, new)
        except compare.CompareError as e:
            raise ToolError(str(e)) from e

    return server


class TokenGate:
    """ASGI middleware: the API's token rule and rate limit in front of the MCP HTTP app."""

    def __init__(self, app: Any, settings: ApiSettings) -> None:
        self.app, self.settings = app, settings
        self.limiter = RateLimiter(settings.rate_per_minute, settings.burst)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        name = None
        if self.settings.tokens:
            auth = headers.get("authorization", "")
            scheme, _, presented = auth.partition(" ")
            name = identify(self.settings.tokens, presented.strip() if scheme.lower() == "bearer" else None)
            if name is None:
                await _reply(send, 401, "missing or wrong bearer token (Authorization: Bearer <token>)",
                             [(b"www-authenticate", b"Bearer")])
                return
        client = scope.get("client") or ("-", 0)
        wait = self.limiter.take(f"token:{name}" if name else f"addr:{client[0]}")
        if wait:
            await _reply(send, 429, "rate limit reached", [(b"retry-after", retry_after(wait).encode())])
            return
        await self.app(scope, receive, send)


async def _reply(send: Any, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


def http_app(live: LiveIndex, settings: ApiSettings, host: str = "127.0.0.1") -> Any:
    """The streamable-HTTP MCP app (at /mcp) behind the token gate."""
    return TokenGate(build_server(live).streamable_http_app(streamable_http_path="/mcp", host=host), settings)


def serve_mcp(index_dir: Path, http: bool = False, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve over stdio (one assistant) or streamable HTTP; newer index generations are picked up."""
    from dataclasses import replace

    from indexer.settings import Settings
    from search_app.api import quiet_openmp

    quiet_openmp()
    settings = ApiSettings.from_settings(replace(Settings.from_env(), index=Path(index_dir)))
    live = LiveIndex(index_dir, interval=settings.refresh_interval, query_cache=settings.query_cache)
    live.start()
    try:
        if http:
            import uvicorn

            uvicorn.run(http_app(live, settings, host), host=host, port=port, log_level="warning")
        else:
            import anyio

            anyio.run(_run_stdio, build_server(live))
    finally:
        live.close()


def clean_json_line(line: str) -> str:
    """One JSON-RPC line with every lone surrogate ("\\ud800", legal JSON, not Unicode) as U+FFFD. The
    SDK's parser refuses such a line without knowing its id, so the client would get no reply at all;
    cleaned, the call is answered like any other. A line that is not JSON passes as it is."""
    if "\\u" not in line.lower():
        return line
    try:
        message = json.loads(line)
    except ValueError:
        return line
    return json.dumps(_without_surrogates(message), ensure_ascii=False) + "\n"


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


class _CleanLines:
    """stdin's lines through clean_json_line (what the SDK's stdio reader iterates over)."""

    def __init__(self, lines: Any) -> None:
        self.lines = lines

    async def __aiter__(self) -> Any:
        async for line in self.lines:
            yield clean_json_line(line)


async def _run_stdio(server: MCPServer) -> None:
    import io
    import sys

    import anyio
    from mcp.server.stdio import stdio_server

    stdin = anyio.wrap_file(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
    # MCPServer.run("stdio") with the SDK's own reader but for the cleaned lines (its low-level server
    # is the documented way to run over custom streams)
    async with stdio_server(stdin=_CleanLines(stdin)) as (read, write):  # type: ignore[arg-type]
        low = server._lowlevel_server  # noqa: SLF001
        await low.run(read, write, low.create_initialization_options())

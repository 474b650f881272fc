"""The MCP server through the official SDK's own client: over stdio (a subprocess, as a desktop
assistant starts it) and over streamable HTTP with the API's token rule."""

from __future__ import annotations

import json
import sys
import threading
import time

import anyio
import httpx
import pytest
from helpers import ROOT

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from search_app.api.auth import load_tokens  # noqa: E402
from search_app.api.settings import ApiSettings  # noqa: E402
from search_app.core import serialize  # noqa: E402
from search_app.core.live import LiveIndex  # noqa: E402
from search_app.core.searcher import Searcher  # noqa: E402
from search_app.mcp_server import http_app  # noqa: E402

TOOLS = {"search", "get_document", "find_references", "compare_documents"}


def _structured(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content


async def _exercise(client: Client, index) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert all("verbatim" in t.description for t in tools.values())
    assert "answerable" in tools["search"].description and "answerable" in (client.instructions or "")

    got = _structured(await client.call_tool("search", {"query": "kiểm thử tự động", "top_k": 3}))
    s = Searcher(index)
    expected = serialize.search_response(s.search("kiểm thử tự động", 3))
    assert [{k: v for k, v in h.items() if k != "answer_text"} for h in got["results"]] == expected["results"]
    assert got["answerable"] is True
    for h in got["results"]:  # the answering sentences as text, each a verbatim piece of the passage
        assert h["answer_text"] == serialize.answer_texts(h)
        assert all(a in " ".join(h["text"].split()) for a in h["answer_text"])
    assert any(h["answer_text"] for h in got["results"])

    doc_id = got["results"][0]["doc_id"]
    doc = _structured(await client.call_tool("get_document", {"doc_id": doc_id, "limit": 2}))
    assert doc == serialize.document_object(s, doc_id, 0, 2)
    refs = _structured(await client.call_tool("find_references", {"key": "999-NQ/TEST"}))
    assert refs == serialize.refs_object(s.references("999-NQ/TEST")) and refs["cited_by"]
    s.close()

    missing = await client.call_tool("get_document", {"doc_id": "khong-co.txt"})
    assert missing.is_error and "khong-co.txt" in missing.content[0].text
    bad = await client.call_tool("search", {"query": "x", "top_k": 0})
    assert bad.is_error


@pytest.mark.slow
def test_mcp_tools_over_stdio_through_the_sdk_client(hash_index):
    params = StdioServerParameters(command=sys.executable, args=["-m", "search_app", "mcp", "--index", str(hash_index)],
                                   cwd=str(ROOT))

    async def main() -> None:
        with anyio.fail_after(90):
            async with Client(params) as client:
                await _exercise(client, hash_index)

    anyio.run(main)


@pytest.mark.slow
def test_mcp_over_http_needs_the_token(hash_index):
    import httpx2
    import uvicorn
    from mcp.client.streamable_http import streamable_http_client

    settings = ApiSettings(index_dir=hash_index, tokens=load_tokens("tok"), refresh_interval=0)
    live = LiveIndex(hash_index, interval=0)
    server = uvicorn.Server(uvicorn.Config(http_app(live, settings), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/mcp"
        hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = httpx.post(url, json=hello, headers=headers, timeout=10)
            assert r.status_code == 401 and "bearer token" in json.loads(r.text)["detail"]

        async def main() -> None:
            with anyio.fail_after(60):
                async with (httpx2.AsyncClient(headers={"Authorization": "Bearer tok"}, timeout=30) as http,
                            Client(streamable_http_client(url, http_client=http)) as client):
                    await _exercise(client, hash_index)

        anyio.run(main)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        live.close()


@pytest.mark.slow
def test_mcp_tools_answer_arguments_of_any_shape(hash_index):
    """Every tool, called with arguments of any JSON shape (lone surrogates, huge numbers, nested
    values, unknown names), answers — a result or an error the assistant can read — never a crash."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from search_app.mcp_server import build_server

    text = st.one_of(st.text(max_size=20), st.integers(0xD800, 0xDFFF).map(chr), st.sampled_from(["", " ", "\x00"]))
    scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), text)
    value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
    names = st.sampled_from(["query", "top_k", "type", "issuer", "year_from", "year_to", "in_force", "doc_id",
                             "offset", "limit", "key", "other"])
    live = LiveIndex(hash_index, interval=0)
    server = build_server(live)

    @given(tool=st.sampled_from(sorted(TOOLS)), args=st.dictionaries(names, value, max_size=4))
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(tool, args) -> None:
        async def call() -> None:
            with anyio.fail_after(30):
                async with Client(server) as client:
                    result = await client.call_tool(tool, args)
                    assert result.is_error or result.structured_content is not None

        anyio.run(call)

    try:
        check()
    finally:
        live.close()

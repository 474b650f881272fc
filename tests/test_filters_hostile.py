"""Filters agree on both backends for the values that used to split them (an empty type or issuer, a
year below zero) and never crash on a lone surrogate: through the core, the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import BACKEND_PARAMS, backend_uri, write

from indexer.pipeline.build import build
from indexer.records import Filters
from search_app import cli
from search_app.api.app import create_app
from search_app.api.settings import ApiSettings
from search_app.core.searcher import Searcher

DATED = ("Văn bản thử nghiệm có ngày\nĐiều 1. Cơ quan thử nghiệm kiểm tra bộ lọc của kho văn bản thử nghiệm "
         "theo năm ban hành và loại văn bản giả định.\n")
UNDATED = ("Ghi chú thử nghiệm không ngày\nKho văn bản thử nghiệm kiểm tra bộ lọc đối với ghi chú giả định "
           "không có loại, không có cơ quan ban hành và không có ngày.\n")


@pytest.fixture(params=BACKEND_PARAMS)
def two_docs(request, tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    write(corpus / "co-ngay.txt", DATED)
    write(corpus / "co-ngay.txt.meta.json", json.dumps({"doc_type": "Nghị quyết", "issuer": "Ban thử nghiệm",
                                                        "date": "01/02/2099", "doc_number": "999-NQ/TEST"}))
    write(corpus / "khong-ngay.txt", UNDATED)
    index = tmp_path / f"index-{request.param}"
    report = build([corpus], index, model="hash", progress=False, backend=request.param,
                   milvus_uri=backend_uri(request, request.param))
    assert report.ok and report.documents == 2, report.summary()
    return index


def _docs(s: Searcher, f: Filters) -> set[str]:
    return {h.doc_id for h in s.search("kho văn bản thử nghiệm kiểm tra bộ lọc", top_k=10, filters=f)}


def test_filters_mean_the_same_on_both_backends(two_docs):
    s = Searcher(two_docs)
    assert _docs(s, Filters()) == {"co-ngay.txt", "khong-ngay.txt"}
    assert _docs(s, Filters(type={""})) == set()  # "" is no type: the undated note has none
    assert _docs(s, Filters(issuer={""})) == set()
    assert _docs(s, Filters(type={"", "Nghị quyết"})) == {"co-ngay.txt"}
    assert _docs(s, Filters(year_from=-5)) == {"co-ngay.txt"}  # an undated document fails every year filter
    assert _docs(s, Filters(year_to=-5)) == set()
    for bad in ("\ud800", "Nghị\udcff"):
        assert _docs(s, Filters(type={bad})) == set()
        assert _docs(s, Filters(issuer={bad})) == set()
        assert _docs(s, Filters(doc={bad})) == set()
    assert _docs(s, Filters(exclude_doc={"\ud800"})) == {"co-ngay.txt", "khong-ngay.txt"}


def test_a_surrogate_through_the_cli_and_the_api_is_an_answer_not_a_crash(two_docs, capsys):
    assert cli.main(["search", "kho thử nghiệm", "--index", str(two_docs), "--type", "\udcff", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []
    with TestClient(create_app(ApiSettings(index_dir=two_docs, refresh_interval=0))) as c:
        for body in ('{"queries": [{"id": "\\ud800", "query": "kho"}]}', '{"queries": [{"id": 1, "query": "\\udfff"}]}',
                     '{"queries": [{"id": 1, "query": "kho"}], "type": ["\\ud800"]}'):
            r = c.post("/v1/search", content=body.encode(), headers={"Content-Type": "application/json"})
            assert r.status_code == 422 and r.json()["detail"], r.text  # refused in words, never a 500
        r = c.get("/v1/search", params={"q": "kho", "type": ""})
        assert r.status_code == 200 and r.json()["results"] == []


@pytest.mark.slow
def test_mcp_stdio_answers_a_call_with_a_lone_surrogate(hash_index):
    import subprocess
    import sys
    import threading

    from helpers import ROOT

    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    raw = [json.dumps(x) for x in lines]
    raw.append('{"jsonrpc": "2.0", "id": 2, "method": "tools/call", '
               '"params": {"name": "search", "arguments": {"query": "kho \\ud800 thử nghiệm", "type": ["\\udfff"]}}}')
    raw.append('{"jsonrpc": "2.0", "id": 3, "method": "tools/call", '
               '"params": {"name": "get_document", "arguments": {"doc_id": "\\ud800"}}}')
    proc = subprocess.Popen([sys.executable, "-m", "search_app", "mcp", "--index", str(hash_index)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    replies: dict[int, dict] = {}
    watchdog = threading.Timer(90, proc.kill)  # a server that never answers ends the wait
    watchdog.start()
    try:
        proc.stdin.write("\n".join(raw) + "\n")
        proc.stdin.flush()
        while len(replies) < 3:  # every call answered (before: the surrogate call got no reply, ever)
            line = proc.stdout.readline()
            assert line, f"the server ended with replies to {sorted(replies)} only"
            message = json.loads(line)
            replies[message["id"]] = message
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait(10)
    assert replies[2]["result"]["structuredContent"]["results"] == []  # no type matches: an answer, not silence
    assert replies[3]["result"]["isError"] is True

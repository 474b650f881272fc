"""`compare` on the real Enterprise Laws (68/2014/QH13 → 59/2020/QH14) from ../shared, on both backends:
the seal article found where it went, the state-owned-enterprise definition with its changed figure,
through the core, the CLI, the API and MCP. Skips when ../shared is absent (hash vectors: the
alignment's words decide; the real model is measured by benchmarks/compare_eval.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import BACKEND_PARAMS, backend_uri, shared_dir

from indexer.pipeline.build import build
from search_app.cli import main
from search_app.core.compare import compare
from search_app.core.searcher import Searcher

OLD, NEW = "68/2014/QH13", "59/2020/QH14"
FILES = ("Luat-Doanh-nghiep-2014-259730.txt", "Luat-Doanh-nghiep-so-59-2020-QH14-427301.txt")

pytestmark = pytest.mark.slow


@pytest.fixture(params=BACKEND_PARAMS)
def laws_index(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    laws = shared_dir() / "datasets" / "vietnamese-laws"
    index = tmp_path / "index"
    uri = backend_uri(request, request.param)
    report = build([laws / f for f in FILES], index, model="hash", progress=False,
                   backend=request.param, milvus_uri=uri)
    assert report.ok, report.summary()
    return index


def _pair(out: dict, new_key: str) -> dict:
    return next(p for p in out["pairs"] if (p["new"] or {}).get("key") == new_key)


def check(out: dict) -> None:
    seal = _pair(out, "Điều 43")
    assert seal["status"] == "changed" and seal["moved"] and seal["old"]["key"] == "Điều 44"
    assert seal["old"]["heading"] == "Điều 44. Con dấu của doanh nghiệp"
    assert seal["new"]["heading"] == "Điều 43. Dấu của doanh nghiệp"
    definitions = _pair(out, "Điều 4")
    soe = [f for f in definitions["figures"] if f["old"] == "100% vốn điều lệ"]
    assert soe and soe[0]["new"] == "trên 50% vốn điều lệ"
    assert soe[0]["new_citation"].endswith("khoản 11 Điều 4") and NEW in soe[0]["new_citation"]
    assert "khoản 8 Điều 4" in soe[0]["old_citation"] and OLD in soe[0]["old_citation"]
    assert "Luật số 68/2014/QH13 hết hiệu lực" not in json.dumps(out["figures"], ensure_ascii=False)
    assert out["related"] and out["counts"]["changed"] > 150


def test_enterprise_laws_core_and_cli(laws_index: Path, capsys: pytest.CaptureFixture[str]):
    check(compare(Searcher(laws_index), OLD, NEW))
    assert main(["compare", OLD, NEW, "--index", str(laws_index), "--json"]) == 0
    check(json.loads(capsys.readouterr().out))
    assert main(["compare", OLD, NEW, "--index", str(laws_index)]) == 0
    text = capsys.readouterr().out
    assert "[Sửa đổi (đổi số thứ tự)] Điều 44 ↔ Điều 43: Điều 43. Dấu của doanh nghiệp" in text
    assert "số liệu: 100% vốn điều lệ → trên 50% vốn điều lệ" in text


def test_enterprise_laws_api_and_mcp(laws_index: Path):
    import anyio
    from fastapi.testclient import TestClient

    from search_app.api.app import create_app
    from search_app.api.settings import ApiSettings
    from search_app.core.live import LiveIndex
    from search_app.mcp_server import build_server

    with TestClient(create_app(ApiSettings(index_dir=laws_index, refresh_interval=0))) as c:
        got = c.get("/v1/compare", params={"old": OLD, "new": NEW})
        assert got.status_code == 200
        check(got.json())
        docx = c.get("/v1/compare", params={"old": OLD, "new": NEW, "format": "docx"})
    import io

    from docx import Document
    cells = [cell.text for t in Document(io.BytesIO(docx.content)).tables for r in t.rows for cell in r.cells]
    assert any(cell.startswith("Luật số 59/2020/QH14") and cell.endswith("Điều 43") for cell in cells)
    server = build_server(LiveIndex(laws_index))

    async def call() -> object:
        return await server.call_tool("compare_documents", {"old": OLD, "new": NEW})

    result = anyio.run(call)
    assert not result.is_error
    check(result.structured_content)


def test_enterprise_laws_page(laws_index: Path, monkeypatch: pytest.MonkeyPatch):
    import streamlit as st
    from helpers import APP, page_text
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(laws_index))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["old"], at.query_params["new"] = OLD, NEW
    at.run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert "Sửa đổi · Điều 44 ↔ Điều 43" in labels and "Sửa đổi · Điều 4 ↔ Điều 4" in labels
    text = page_text(at)
    assert "**Số liệu:** 100% vốn điều lệ → trên 50% vốn điều lệ" in text
    assert any("100% vốn điều lệ → trên 50% vốn điều lệ" in c.value for c in at.code)  # the summary to paste
    st.cache_resource.clear()

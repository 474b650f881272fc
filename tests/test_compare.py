"""What is new: two synthetic laws compared article by article, clause by clause (hash embedder)."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import pytest
from compare_fixtures import NEW_KEY, OLD_KEY, UNRELATED_KEY, compare_corpus

from indexer.pipeline.build import build
from search_app.cli import main
from search_app.core import compare_report
from search_app.core.compare import CompareError, body, compare
from search_app.core.searcher import Searcher
from search_app.core.textdiff import changed_figures, figures, word_diff


@pytest.fixture(scope="module")
def compare_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compare")
    index = root / "index"
    assert build([compare_corpus(root)], index, model="hash", progress=False).ok
    return index


@pytest.fixture(scope="module")
def result(compare_index: Path) -> dict:
    return compare(Searcher(compare_index), OLD_KEY, NEW_KEY)


def _verdicts(out: dict) -> list[tuple[str, str | None, str | None]]:
    return [(p["status"], (p["old"] or {}).get("key"), (p["new"] or {}).get("key")) for p in out["pairs"]]


def test_articles_align_across_renumbering(result: dict):
    assert _verdicts(result) == [
        ("kept", "Điều 1", "Điều 1"), ("changed", "Điều 2", "Điều 2"), ("new", None, "Điều 3"),
        ("changed", "Điều 3", "Điều 4"), ("dropped", "Điều 4", None), ("kept", "Điều 5", "Điều 5"),
        ("new", None, "Điều 6"), ("moved", "Điều 6", "Điều 7"), ("new", None, "Điều 8")]
    assert result["counts"] == {"kept": 2, "moved": 1, "changed": 2, "new": 3, "dropped": 1}
    assert result["related"] and result["mode"] == "law"


def test_a_changed_clause_shows_its_figure_and_diff_verbatim(result: dict):
    pair = result["pairs"][1]
    assert [f["old"] for f in pair["figures"]] == ["100% vốn điều lệ"]
    assert pair["figures"][0]["new"] == "trên 50% vốn điều lệ"
    assert pair["figures"][0]["new_citation"].endswith("khoản 2 Điều 2") and "999/2099/QH99" in \
        pair["figures"][0]["new_citation"]
    changed = [q for q in pair["parts"] if q["status"] == "changed"]
    # the old law's citation says it is no longer in force (the new one repeals it)
    assert len(changed) == 1 and "khoản 2 Điều 2 (đã hết hiệu lực" in changed[0]["old"]["citation"]
    ops = changed[0]["diff"]
    assert {"op": "replace", "old": "100", "new": "trên 50"} in ops
    for side in ("old", "new"):  # every piece a verbatim slice of its side, in order, nothing left out
        assert "".join(o[side] for o in ops) == body(changed[0][side]["text"])
    assert all(q["status"] == "kept" for q in pair["parts"] if q is not changed[0])


def test_renamed_article_aligns_clause_by_clause(result: dict):
    pair = result["pairs"][3]
    assert pair["moved"] and pair["new"]["heading"] == "Điều 4. Dấu của đơn vị thử nghiệm"
    assert "998/2098/QH98" in pair["old"]["citation"] and ", Điều 3 (" in pair["old"]["citation"]
    statuses = sorted(q["status"] for q in pair["parts"])
    assert statuses.count("new") == 1 and statuses.count("dropped") == 1  # "1. Dấu bao gồm …" / "2. Trước khi …"


def test_unrelated_documents_get_a_message_not_a_table(compare_index: Path):
    out = compare(Searcher(compare_index), NEW_KEY, UNRELATED_KEY)
    assert not out["related"] and out["pairs"] == [] and "không cùng nội dung" in out["message"]


def test_bad_keys_say_why(compare_index: Path):
    s = Searcher(compare_index)
    with pytest.raises(CompareError, match="neither an indexed document"):
        compare(s, "123/2000/QH00", NEW_KEY)
    with pytest.raises(CompareError, match="same document"):
        compare(s, NEW_KEY, NEW_KEY)


def test_figures_are_counts_not_references():
    text = "Trong thời hạn 05 ngày làm việc theo khoản 3 Điều 10 Luật số 59/2020/QH14, đến năm 2030 đạt 2% GDP."
    assert [f.text for f in figures(text)] == ["05 ngày làm việc", "đến năm 2030", "đạt 2%"]
    assert changed_figures("trong 10 ngày", "trong 10 ngày") == []
    assert changed_figures("ít nhất 3 thành viên", "ít nhất 5 thành viên") == \
        [{"old": "ít nhất 3 thành viên", "new": "ít nhất 5 thành viên", "unit": "thành viên"}]
    assert word_diff("a b", "a b") == [{"op": "equal", "old": "a b", "new": "a b"}]
    assert changed_figures("không sớm hơn 05 ngày", "không quá 10 ngày")[0]["new"] == "không quá 10 ngày"


def test_summary_and_exports_hold_the_citations(result: dict):
    text = compare_report.summary(result)
    assert "100% vốn điều lệ → trên 50% vốn điều lệ" in text and "Điều 3. Lưu trữ bản sao điện tử" in text
    from docx import Document
    doc = Document(io.BytesIO(compare_report.to_docx(result)))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert any("khoản 2 Điều 2" in c and "999/2099/QH99" in c for c in cells)
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(compare_report.to_xlsx(result))).active
    assert ws.max_row == 1 + len(result["pairs"]) and ws.cell(row=3, column=1).value == "Sửa đổi"
    md = compare_report.to_markdown(result)
    assert md.count("\n| ") == 1 + len(result["pairs"])


def test_cells_are_escaped():
    assert compare_report.cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and compare_report.cell("a\x1bb") == "a b"
    assert compare_report.md_cell("a | <b>\nc") == "a \\| \\<b\\><br>c"


def test_cli_compare(compare_index: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path):
    assert main(["compare", OLD_KEY, NEW_KEY, "--index", str(compare_index), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["changed"] == 2
    docx = tmp_path / "so-sanh.docx"
    assert main(["compare", OLD_KEY, NEW_KEY, "--index", str(compare_index), "--export", str(docx)]) == 0
    text = capsys.readouterr().out
    assert "[Sửa đổi] Điều 2 ↔ Điều 2" in text and "số liệu: 100% vốn điều lệ → trên 50% vốn điều lệ" in text
    assert docx.stat().st_size > 0
    assert main(["compare", "nothing", NEW_KEY, "--index", str(compare_index)]) == 2
    assert "error:" in capsys.readouterr().err


def test_api_route_answers_what_the_cli_prints(compare_index: Path, capsys: pytest.CaptureFixture[str]):
    from fastapi.testclient import TestClient

    from search_app.api.app import create_app
    from search_app.api.models import CompareResponse
    from search_app.api.settings import ApiSettings

    assert main(["compare", OLD_KEY, NEW_KEY, "--index", str(compare_index), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    with TestClient(create_app(ApiSettings(index_dir=compare_index, refresh_interval=0))) as c:
        got = c.get("/v1/compare", params={"old": OLD_KEY, "new": NEW_KEY})
        assert got.status_code == 200 and got.json() == expected
        CompareResponse.model_validate(got.json())  # the OpenAPI schema describes what is sent
        assert c.get("/v1/compare", params={"old": "1/2000/QH00", "new": NEW_KEY}).status_code == 404
        assert c.get("/v1/compare", params={"old": NEW_KEY, "new": NEW_KEY}).status_code == 422
        docx = c.get("/v1/compare", params={"old": OLD_KEY, "new": NEW_KEY, "format": "docx"})
        assert docx.status_code == 200 and docx.content[:2] == b"PK"
        md = c.get("/v1/compare", params={"old": OLD_KEY, "new": NEW_KEY, "format": "markdown"})
        assert "100% vốn điều lệ → trên 50% vốn điều lệ" in md.text
        assert "/v1/compare" in c.get("/openapi.json").json()["paths"]


def test_mcp_tool_answers_the_core_object(compare_index: Path):
    import anyio

    from search_app.core.live import LiveIndex
    from search_app.mcp_server import build_server

    server = build_server(LiveIndex(compare_index))

    async def call(args: dict) -> object:
        return await server.call_tool("compare_documents", args)

    got = anyio.run(call, {"old": OLD_KEY, "new": NEW_KEY})
    assert not got.is_error and got.structured_content == compare(Searcher(compare_index), OLD_KEY, NEW_KEY)
    from mcp.server.mcpserver.exceptions import ToolError

    with pytest.raises(ToolError, match="neither an indexed document"):  # the client sees it as an error result
        anyio.run(call, {"old": "nothing", "new": NEW_KEY})


def test_page_offers_the_comparison_on_the_card_and_shows_it(compare_index: Path, monkeypatch: pytest.MonkeyPatch):
    from helpers import APP, page_text
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VNSEARCH_INDEX", str(compare_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["q"] = NEW_KEY
    at.run()
    offer = [b for b in at.button if b.key == "cmp-card-0"]
    # labels are Markdown: their text is entity-escaped (core/escape.py label_text), shown as typed
    assert offer and html.unescape(offer[0].label) == f"So sánh / Điểm mới: {NEW_KEY} so với {OLD_KEY}"
    offer[0].click().run()
    assert not at.exception and at.query_params["old"] == OLD_KEY and at.query_params["new"] == NEW_KEY
    text = page_text(at)
    assert "100% vốn điều lệ → trên 50% vốn điều lệ" in text
    assert "<del>100</del><ins>trên 50</ins>% vốn điều lệ" in text
    assert any("Giữ nguyên: 2" in c.value for c in at.code)
    assert {b.proto.label for b in at.get("download_button")} == {"Tải DOCX", "Tải XLSX", "Tải Markdown"}
    import streamlit as st
    st.cache_resource.clear()


def test_continuation_is_offered_within_one_issuing_system():
    from search_app.page.compare_view import _system

    assert [_system(k) for k in ("69-KL/TW", "20-NQ/TW@2012", "03/NQ-CP", "59/2020/QH14")] == ["TW", "TW", "CP", "QH"]

"""The implementation map: a resolution's tasks and the implementing items that carry them out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import write
from implementation_fixtures import RESOLUTION, programme, resolution_corpus

from indexer.pipeline.build import build
from search_app.cli import main
from search_app.core.implementation import MapError, implementation_map, section_number, segments
from search_app.core.searcher import HIT_FIELDS, Searcher

KEY = "999-NQ/TEST"
PROGRAMME_DOC = "chuong-trinh-thu-nghiem.txt"


@pytest.fixture
def map_index(tmp_path: Path) -> Path:
    index = tmp_path / "index"
    assert build([resolution_corpus(tmp_path)], index, model="hash", progress=False).ok
    return index


def _items(out: dict) -> dict[str, list[str]]:
    return {t["label"]: [h["item"] for h in t["items"]] for t in out["tasks"]}


def test_tasks_are_the_finest_sections_of_the_task_part():
    rows = [{"pid": 1, "doc_id": "d", "ordinal": 0, "section": [], "text": RESOLUTION}]
    paths = {s.path for s in segments(rows)}
    assert ("II. NHIỆM VỤ, GIẢI PHÁP", "2. Đào tạo kiểm thử viên") in paths
    assert section_number(("II. NHIỆM VỤ, GIẢI PHÁP", "2. Đào tạo kiểm thử viên")) == "II.2"
    assert section_number(("III- NHIỆM VỤ", "2- Đổi mới", "2.1- Cơ chế")) == "III.2.1"


def test_map_follows_the_mirrored_structure(map_index: Path):
    out = implementation_map(Searcher(map_index), KEY)
    assert out["key"] == KEY and out["by"] == [PROGRAMME_DOC]
    assert [t["label"] for t in out["tasks"]] == ["II.1", "II.2", "II.3"]  # not I.1 nor III (not the task part)
    assert _items(out) == {"II.1": ["II.1.a", "II.1.b"], "II.2": ["II.2.a", "II.2.b"], "II.3": ["II.3.a", "II.3.b"]}
    assert out["uncovered"] == [] and out["unassigned"] == []
    hit = out["tasks"][1]["items"][0]
    assert set(HIT_FIELDS) <= set(hit) and hit["match"] == "structure"
    span = hit["text"][hit["answer"][0]["start"]:hit["answer"][0]["end"]]
    assert span.startswith("a) Mở lớp đào tạo kiểm thử viên")
    assert hit["citation"].endswith("mục II.2.a") and "999/NQ-TEST" in hit["citation"]
    assert out["tasks"][0]["passages"][0]["pid"] and "máy chủ" in out["tasks"][0]["passages"][0]["text"]


def test_map_by_meaning_alone_finds_the_same_tasks(map_index: Path):
    # numbers and headings hidden from the matcher: only the words of the items decide (hash embedder)
    out = implementation_map(Searcher(map_index), KEY, meaning_only=True, task_headings=False)
    assert all(h["match"] == "meaning" for t in out["tasks"] for h in t["items"])
    assert _items(out) == {"II.1": ["II.1.a", "II.1.b"], "II.2": ["II.2.a", "II.2.b"], "II.3": ["II.3.a", "II.3.b"]}


def test_a_draft_that_leaves_a_task_out_shows_it_uncovered(map_index: Path, tmp_path: Path):
    draft = write(tmp_path / "du-thao.txt", programme(tasks=(1, 3), number="998/KH-TEST"))
    before = Searcher(map_index).status()
    out = implementation_map(Searcher(map_index), KEY, draft=draft)
    assert out["uncovered"] == ["II.2"]
    assert _items(out)["II.3"] == ["II.3.a", "II.3.b"]  # the draft keeps the numbering: structure
    assert out["by"] == ["(dự thảo) du-thao.txt"] and out["tasks"][2]["items"][0]["pid"] is None
    after = Searcher(map_index).status()
    assert (after["documents"], after["generation"]) == (before["documents"], before["generation"])  # nothing indexed


def test_bad_inputs_say_why(map_index: Path, tmp_path: Path):
    s = Searcher(map_index)
    with pytest.raises(MapError, match="not an indexed document"):
        implementation_map(s, "123-NQ/NONE")
    with pytest.raises(MapError, match="neither an indexed document"):
        implementation_map(s, KEY, by=["nothing-here"])
    empty = write(tmp_path / "rong.txt", "   \n")
    with pytest.raises(MapError, match="rong.txt"):
        implementation_map(s, KEY, draft=empty)


def test_cli_map_json_contract(map_index: Path, capsys):
    assert main(["map", KEY, "--index", str(map_index), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"key", "by", "tasks", "uncovered", "unassigned"}
    assert set(out["tasks"][0]) == {"label", "heading", "passages", "items"}
    assert main(["map", KEY, "--index", str(map_index), "--by", "999/NQ-TEST"]) == 0
    text = capsys.readouterr().out
    assert "[II.2] 2. Đào tạo kiểm thử viên" in text and "mục II.2.b" in text
    assert main(["map", "123-NQ/NONE", "--index", str(map_index)]) == 2
    assert "not an indexed document" in capsys.readouterr().err


@pytest.mark.milvus
def test_map_on_milvus_matches_embedded(tmp_path: Path, map_index: Path):
    pytest.importorskip("pymilvus")
    index = tmp_path / "index-milvus"
    assert build([tmp_path / "corpus"], index, model="hash", progress=False, backend="milvus").ok
    s = Searcher(index)
    try:
        got, want = implementation_map(s, KEY), implementation_map(Searcher(map_index), KEY)
        assert _items(got) == _items(want)
        # Milvus keeps the sentence vectors at a lower precision
        assert [h["score"] for t in got["tasks"] for h in t["items"]] == \
               pytest.approx([h["score"] for t in want["tasks"] for h in t["items"]], abs=1e-3)
    finally:
        s.close()
        from indexer.store import milvus

        milvus.stop_lite_server(index)


@pytest.mark.slow
def test_real_programme_maps_to_57_nq_tw(shared: Path, tmp_path: Path):
    from benchmarks.implementation_eval import score

    index = tmp_path / "real"
    assert build([shared / "corpus", shared / "documents"], index, progress=False).ok
    s = Searcher(index)
    out = implementation_map(s, "57-NQ/TW")
    assert [t["label"] for t in out["tasks"]] == [f"III.{k}" for k in range(1, 8)]
    assert out["uncovered"] == [] and score(out)["accuracy"] >= 0.85
    assert score(implementation_map(s, "57-NQ/TW", meaning_only=True))["accuracy"] >= 0.6
    # a draft: the programme without its section II.3 (written to a temporary file, never indexed)
    lines = (shared / "documents" / "nghi-quyet-03-NQ-CP-2025.md").read_text(encoding="utf-8").split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("### 3."))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("### 4."))
    draft = write(tmp_path / "du-thao.md", "\n".join(lines[:start] + lines[end:]))
    assert implementation_map(s, "57-NQ/TW", draft=draft)["uncovered"] == ["III.3"]


# --- the page and its exports ----------------------------------------------------------------------

@pytest.fixture
def page_index(tmp_path: Path) -> Path:
    corpus = resolution_corpus(tmp_path)
    # the programme leaves task 3 out, and one of its items carries markup that must show as text
    write(corpus / "chuong-trinh-thu-nghiem.txt",
          programme(tasks=(1, 2)).replace("cấp chứng chỉ kiểm thử viên.", "cấp chứng chỉ <script>alert(1)</script>."))
    index = tmp_path / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    return index


def test_page_table_marks_uncovered_tasks_cites_every_cell_and_escapes(page_index: Path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    from test_app import APP

    monkeypatch.setenv("VNSEARCH_INDEX", str(page_index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["key"] = KEY
    at.run()
    assert not at.exception
    table = next(m.value for m in at.markdown if 'class="impl-table"' in m.value)
    assert "<script" not in table and "&#60;script&#62;alert&#40;1&#41;&#60;/script&#62;" in table
    assert table.count('class="impl-uncovered"') == 1 and "Chưa có văn bản triển khai" in table
    assert table.count('class="impl-cite"') == 4 and "mục II.2.b" in table  # one citation per item
    assert any("II.3" in w.value for w in at.warning)
    assert {b.label for b in at.get("download_button")} >= {"Tải DOCX", "Tải XLSX", "Tải CSV"}
    import streamlit as st

    st.cache_resource.clear()


def test_exports_hold_the_same_rows(page_index: Path):
    import io

    import docx
    import openpyxl

    from search_app.core.implementation_table import (
        CONTEXT_SHEET,
        ITEM_HEADER,
        item_rows,
        rows,
        table_context,
        to_csv,
        to_docx,
        to_xlsx,
    )

    s = Searcher(page_index)
    out = implementation_map(s, KEY)
    ctx = table_context(KEY, s.status())
    header, body = rows(out)
    assert header == ["Nhiệm vụ", "Nghị quyết số 999/NQ-TEST"] and body[2][1] == "Chưa có văn bản triển khai"
    assert "<script>alert(1)</script>" in body[1][1]  # data, as the document says it, in a file
    document = docx.Document(io.BytesIO(to_docx(out, ctx)))
    assert [[c.text for c in r.cells] for r in document.tables[0].rows] == [header, *body]
    assert f"Thế hệ chỉ mục: {s.status()['generation']}" in [p.text for p in document.paragraphs]
    # CSV and XLSX: one row per item, the task's columns repeated; every item of the grid is a row
    items = item_rows(out)
    assert sum(1 for t in out["tasks"] for _ in t["items"]) + len(out["unassigned"]) == \
        sum(1 for r in items if r[4] != "Chưa có văn bản triển khai")
    assert all(r[5] in "\n".join(c for row in body for c in row) for r in items)
    assert [r[4] for r in items if r[0] == out["tasks"][2]["label"]] == ["Chưa có văn bản triển khai"]
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(out, ctx)))
    assert [[c.value or "" for c in r] for r in wb.worksheets[0].iter_rows()] == [ITEM_HEADER, *items]
    assert wb.worksheets[1].title == CONTEXT_SHEET
    assert {r[0].value: r[1].value for r in wb.worksheets[1].iter_rows()} == ctx
    table = list(csv.reader(io.StringIO(to_csv(out, ctx).lstrip("\ufeff"))))
    assert table[0] == [*ctx, *ITEM_HEADER]  # a plain header row first
    assert [r[len(ctx):] for r in table[1:]] == items and all(r[:len(ctx)] == list(ctx.values()) for r in table[1:])


def test_an_uploaded_draft_is_checked_and_never_indexed(page_index: Path):
    from search_app.page.implementation_view import draft_map
    from search_app.page.uploads import UploadError

    s = Searcher(page_index)
    gen = s.status()["generation"]
    out = draft_map(s, KEY, "../../du thao.txt", programme(tasks=(2, 3)).encode())
    assert out["uncovered"] == ["II.1"] and out["by"] == ["(dự thảo) du-thao.txt"]
    with pytest.raises(UploadError):
        draft_map(s, KEY, "du-thao.txt", b"%PDF-1.4 not text")
    assert Searcher(page_index).status()["generation"] == gen


@pytest.mark.slow
def test_a_control_character_in_an_item_never_breaks_the_page_or_its_downloads(tmp_path: Path, monkeypatch):
    import io

    import docx
    import openpyxl
    from streamlit.testing.v1 import AppTest
    from test_app import APP

    from search_app.core.implementation_table import to_docx, to_xlsx

    corpus = resolution_corpus(tmp_path)
    write(corpus / "chuong-trinh-thu-nghiem.txt",  # loaders keep control characters: a PDF's \x0c, a \x01
          programme().replace("cấp chứng chỉ kiểm thử viên.", "cấp chứng\x01 chỉ kiểm\x0b thử viên."))
    index = tmp_path / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    out = implementation_map(Searcher(index), KEY)
    assert any("\x01" in h["text"] for t in out["tasks"] for h in t["items"])
    docx.Document(io.BytesIO(to_docx(out)))  # was ValueError: All strings must be XML compatible
    openpyxl.load_workbook(io.BytesIO(to_xlsx(out)))  # was IllegalCharacterError
    monkeypatch.setenv("VNSEARCH_INDEX", str(index))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["key"] = KEY
    at.run()
    assert not at.exception and not any("Đã xảy ra lỗi" in e.value for e in at.error)
    assert {b.label for b in at.get("download_button")} >= {"Tải DOCX", "Tải XLSX", "Tải CSV"}
    import streamlit as st

    st.cache_resource.clear()

"""The page speaks Vietnamese to its users and shows the state as it is: no environment variable,
file name or internal tag; dates dd/mm/yyyy on the page and in the CLI's human output (ISO in JSON);
the uploader's limit is the app's; a follow shows in the sidebar in the same rerun as the click."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from helpers import APP, ROOT, page_text, write
from implementation_fixtures import programme, resolution_corpus
from streamlit.testing.v1 import AppTest

from indexer.pipeline.build import build

KEY = "999-NQ/TEST"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture(scope="module")
def programme_index(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("programme")
    corpus = resolution_corpus(tmp_path)
    write(corpus / "chuong-trinh-thu-nghiem.txt", programme(tasks=(1, 2)))
    index = tmp_path / "index"
    assert build([corpus], index, model="hash", progress=False).ok
    return index


def _page(index, monkeypatch, uploads: str = "", **params: str) -> AppTest:
    monkeypatch.setenv("VNSEARCH_INDEX", str(index))
    monkeypatch.setenv("VNSEARCH_UPLOADS", uploads)
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at


def _everything(at: AppTest) -> str:
    """Every text the run shows a user: Markdown, HTML, captions, widget labels and messages."""
    parts = [page_text(at), *(c.value for c in at.caption), *(e.value for e in at.warning),
             *(e.value for e in at.info), *(e.value for e in at.success)]
    parts += [str(getattr(w, "label", "")) for w in (*at.button, *at.text_input, *at.get("file_uploader"))]
    return "\n".join(parts)


def test_no_environment_variable_file_name_or_tag_reaches_a_user(programme_index, monkeypatch):
    at = _page(programme_index, monkeypatch, key=KEY)
    shown = _everything(at) + "\n".join(m.value for m in at.sidebar.caption)
    assert "VNSEARCH" not in shown and "Thêm văn bản vào kho: chưa được người quản trị mở" in shown
    assert not re.search(r"\b[\w-]+\.(txt|md|pdf|docx)\b", shown), shown
    assert "(structure)" not in shown and "(meaning)" not in shown


def test_dates_on_the_reference_view_are_day_month_year(programme_index, monkeypatch):
    at = _page(programme_index, monkeypatch, key=KEY)
    shown = _everything(at)
    assert "**Ngày:** 01/02/2099" in shown
    assert not ISO_DATE.search(shown), ISO_DATE.findall(shown)


def test_the_uploader_states_the_apps_limit(hash_index, monkeypatch):
    from search_app.page.uploads import MAX_UPLOAD_BYTES

    at = _page(hash_index, monkeypatch, uploads="1")
    uploader = at.get("file_uploader")[0]
    assert uploader.proto.max_upload_size_mb == MAX_UPLOAD_BYTES // 2**20 == 50
    assert "tối đa 50 MB" in uploader.proto.label


def test_a_follow_shows_in_the_sidebar_in_the_same_rerun(programme_index, monkeypatch):
    at = _page(programme_index, monkeypatch, key=KEY)
    assert not any("Theo dõi" in e.label for e in at.sidebar.expander)
    next(b for b in at.button if b.key == "follow_key").click().run()
    assert any(e.label.startswith("Theo dõi") for e in at.sidebar.expander)
    from search_app.page.render import escape

    assert f"**{escape(KEY)}**: 0 đoạn mới" in "\n".join(m.value for m in at.sidebar.markdown)
    assert any("Đã theo dõi" in s.value for s in at.success)


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "search_app", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=120).stdout


@pytest.mark.slow
def test_the_cli_prints_dates_day_month_year_and_json_keeps_iso(programme_index):
    human = _cli("refs", KEY, "--index", str(programme_index))
    assert "01/02/2099" in human and not ISO_DATE.search(human), human
    data = json.loads(_cli("refs", KEY, "--index", str(programme_index), "--json"))
    assert data["document"]["date"] == "2099-02-01"
    printed = _cli("map", KEY, "--index", str(programme_index))
    assert "(structure)" not in printed and "(meaning)" not in printed and "(theo số mục)" in printed
    assert printed.split("\n")[0] == f"{KEY}: 3 nhiệm vụ; văn bản triển khai: Nghị quyết số 999/NQ-TEST"


def test_an_article_or_interview_is_never_drawn_in_force_in_the_graph():
    from search_app.page.chain_graph import _STATUS_COLORS, node_color

    assert node_color({"key": None, "status": "in_force"}) == _STATUS_COLORS["unknown"] != _STATUS_COLORS["in_force"]
    assert node_color({"key": "999-NQ/TEST", "status": "in_force"}) == _STATUS_COLORS["in_force"]


def test_one_typeface_with_vietnamese_glyphs_everywhere():
    from search_app.page import typeface

    assert typeface.FONT_FAMILY.startswith('"DejaVu Sans"') and "!important" in typeface.CSS
    css = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "search_app" / "page").glob("*.py"))
    assert "font-family: monospace" not in css  # the map's citations were monospace: tone marks came apart


def test_a_document_not_in_the_corpus_says_how_to_add_it_in_a_users_words(hash_index, monkeypatch):
    at = _page(hash_index, monkeypatch, key="999-NQ/TEST")  # cited by the synthetic law, not indexed
    said = "\n".join(w.value for w in at.warning)
    assert "chưa có trong kho" in said and "người quản trị kho" in said
    assert "make index" not in said and "corpus" not in said

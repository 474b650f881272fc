"""The page uses no deprecated Streamlit API: every view is run with Streamlit's deprecation hook
turned into a failure, and no module of the page imports `streamlit.components.v1`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import APP, ROOT
from streamlit.testing.v1 import AppTest


@pytest.fixture
def deprecations(monkeypatch) -> list[str]:
    """Every deprecation warning Streamlit shows while the page runs (its one hook, and its logger)."""
    import streamlit.deprecation_util as du

    seen: list[str] = []
    monkeypatch.setattr(du, "show_deprecation_warning", lambda message, *a, **k: seen.append(str(message)))
    original = du._LOGGER.warning
    monkeypatch.setattr(du._LOGGER, "warning", lambda msg, *a, **k: (seen.append(str(msg)), original(msg, *a, **k)))
    return seen


@pytest.fixture(scope="module")
def programme_index(tmp_path_factory):
    """A resolution and its programme: every view, the implementation map included, has something to draw."""
    from implementation_fixtures import resolution_corpus

    from indexer.pipeline.build import build

    tmp = tmp_path_factory.mktemp("views")
    index = tmp / "index"
    assert build([resolution_corpus(tmp)], index, model="hash", progress=False).ok
    return index


@pytest.mark.parametrize("params", [{}, {"q": "nhiệm vụ thử nghiệm"}, {"doc": "nghi-quyet-thu-nghiem.txt", "p": "1"},
                                    {"ref": "999-NQ/TEST"}, {"ref": "*"}, {"key": "999-NQ/TEST"},
                                    {"doc": "nghi-quyet-thu-nghiem.txt", "ordinal": "1"}])
def test_no_view_of_the_page_calls_a_deprecated_api(programme_index, monkeypatch, deprecations, params):
    monkeypatch.setenv("VNSEARCH_INDEX", str(programme_index))
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert deprecations == []


def test_the_page_imports_no_deprecated_component_api():
    for path in sorted((ROOT / "search_app").rglob("*.py")):
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in names if m.startswith("streamlit.components.v1")], path

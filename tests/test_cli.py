import json
import subprocess
import sys

import pytest
from helpers import ROOT

from search_app.core.searcher import HIT_FIELDS


def run(*args, check=True):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=check,
                          timeout=120)


@pytest.mark.slow
def test_build_status_search_json_contract(synthetic_corpus, tmp_path):
    index = tmp_path / "ix"
    out = run("indexer", "build", str(synthetic_corpus), "--index", str(index), "--model", "hash", "--quiet")
    assert "Files indexed: 3 (added 3, changed 0)" in out.stdout
    st = run("indexer", "status", "--index", str(index))
    assert "Documents:  3" in st.stdout
    res = run("search_app", "search", "kiểm thử tự động", "--index", str(index), "--json", "--top-k", "2")
    out = json.loads(res.stdout)
    assert list(out) == ["query", "understood", "answerable", "card", "results"]
    assert out["query"] == "kiểm thử tự động" and out["answerable"] is True
    hits = out["results"]
    assert len(hits) == 2
    assert all(list(h) == list(HIT_FIELDS) for h in hits)
    assert hits[0]["rank"] == 1 and hits[0]["doc_id"] == "phong-van-thu-nghiem.txt"


@pytest.mark.slow
def test_batch_mode_prints_one_line_per_query(hash_index, tmp_path):
    q = tmp_path / "q.jsonl"
    q.write_text('{"id": "a", "query": "kiểm thử"}\n{"id": "b", "query": "Điều 3 trách nhiệm"}\n', encoding="utf-8")
    res = run("search_app", "search", "--queries", str(q), "--index", str(hash_index), "--top-k", "3")
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert all(list(x) == ["id", "understood", "answerable", "card", "results"] for x in lines)
    assert all(len(x["results"]) == 3 and set(x["results"][0]) == set(HIT_FIELDS) for x in lines)


@pytest.mark.slow
def test_nothing_indexable_exits_non_zero_with_reason(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "empty.txt").write_text("")
    res = run("indexer", "build", str(tmp_path / "c"), "--index", str(tmp_path / "ix"), "--model", "hash",
              check=False)
    assert res.returncode == 1
    assert "empty file" in res.stdout and "no file could be indexed" in res.stderr


@pytest.mark.slow
def test_search_without_index_says_how_to_build(tmp_path):
    res = run("search_app", "search", "x", "--index", str(tmp_path / "none"), check=False)
    assert res.returncode == 2 and "python -m indexer build" in res.stderr

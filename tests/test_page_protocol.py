"""The protocol-level page load client (benchmarks/page_protocol.py) against a real `streamlit run`
on 127.0.0.1 over the synthetic hash index: sessions open, searches come back with hits, no errors."""

from __future__ import annotations

import json

import pytest

from benchmarks import page_protocol

pytestmark = pytest.mark.slow


def test_two_sessions_two_searches(hash_index, tmp_path):
    gold = tmp_path / "queries.jsonl"
    gold.write_text("\n".join(json.dumps({"query": q}, ensure_ascii=False) for q in
                              ["Văn bản thử nghiệm", "trach nhiem co quan thu nghiem", "999-NQ/TEST"]),
                    encoding="utf-8")
    queries = page_protocol.load_queries(gold)
    res = page_protocol.measure(hash_index, sessions=2, searches=2, queries=queries, timeout=60)
    assert res["errors"] == []
    assert res["searches_timed"] == 4
    assert res["hits_per_search"] >= 1  # the hits' HTML arrived in the deltas of every timed search
    assert 0 < res["p50_s"] <= res["p95_s"] <= res["max_s"] < 60
    assert res["server_rss_peak_mb"] > 0


def test_a_search_without_hits_is_an_error():
    """The checks a search must pass: a run with no hits, a URL not set or an error shown is counted."""
    run = page_protocol.Run()
    run.status, run.query_string = 0, "q=abc"
    assert page_protocol._problems(run, "abc") == ["no hits in the deltas"]
    run.html.append('<div class="hit-title">1. Văn bản thử nghiệm</div>')
    assert page_protocol._problems(run, "abc") == []
    assert page_protocol._problems(run, "xyz")  # the URL names another query
    run.errors.append("error shown: Đã xảy ra lỗi")
    assert page_protocol._problems(run, "abc") == ["error shown: Đã xảy ra lỗi"]

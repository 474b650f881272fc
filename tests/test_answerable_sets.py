"""`benchmarks.answerable_corpora --sets DIR`: a question set written apart, asked with the frozen rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import answerable_corpora as ac
from search_app.core import answerable


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    root = tmp_path / "shared"
    (root / "corpus").mkdir(parents=True)
    (root / "corpus" / "thu-nghiem.txt").write_text("Văn bản thử nghiệm quy định việc tách đoạn.", encoding="utf-8")
    _write(root / ac.ALQAC / "corpus.jsonl", [{"_id": "Luật Thử@1", "law_id": "Luật Thử", "text": "Điều 1. Phạm vi."}])
    return root


def test_a_set_folder_asks_only_its_own_questions(tmp_path: Path, shared: Path):
    sets = tmp_path / "fresh"
    _write(sets / "demo_answerable.jsonl", [{"id": "a1", "lang": "vi", "kind": "fact", "doc": "thu-nghiem.txt",
                                             "query": "tách đoạn", "gold": ["việc tách đoạn"]}])
    _write(sets / "demo_out_of_corpus.jsonl", [{"id": "o1", "lang": "en", "kind": "near-domain", "query": "tax"}])
    _write(sets / "laws_out_of_corpus.jsonl", [{"id": "o2", "lang": "vi", "kind": "cooking", "query": "phở"}])
    chosen = ac.corpora_of(sets)
    assert [c.name for c in chosen] == ["demo", "laws"] and not any(c.alqac or c.everyday_only for c in chosen)
    asked = {c.name: [(q["id"], truth) for _, q, truth in ac.questions(c, shared)] for c in chosen}
    assert asked == {"demo": [("a1", True), ("o1", False)], "laws": [("o2", False)]}  # no ALQAC, no earlier set
    _write(sets / "demo_answerable.jsonl", [{"id": "a1", "lang": "vi", "kind": "fact", "doc": "thu-nghiem.txt",
                                             "query": "tách đoạn", "gold": ["không có câu này"]}])
    with pytest.raises(SystemExit, match="gold not in"):
        ac.questions(chosen[0], shared)
    with pytest.raises(SystemExit):
        ac.corpora_of(tmp_path / "empty")


def _row(i: int, in_corpus: bool, margin: float, lang: str, kind: str) -> dict:
    return {"corpus": "demo", "set": "fresh", "id": f"q{i}", "half": "tune", "lang": lang, "kind": kind,
            "query": f"câu hỏi {i}", "in_corpus": in_corpus, "number_known": False, "phrase": False,
            "best": 0.85, "typical": 0.82, "margin": margin, "coverage": 0.5, "bigrams": 0.5, "foreign": False,
            "sentence_pairs": 0.5, "unseen_numbers": 0.0, "near_domain": 0.85 - margin, "gold_in_top10": None}


def test_the_frozen_rule_counts_every_question_and_prints_the_misses():
    rows = [_row(1, True, 0.08, "vi", "fact"), _row(2, False, -0.05, "en", "near-domain"),
            _row(3, False, 0.08, "vi", "near-domain"), _row(4, True, -0.05, "vi-noacc", "fact")]
    res = ac.report(rows)
    assert "fitted" not in res and res["weights"] == list(answerable.WEIGHTS)
    demo = res["results"]["demo"]
    assert (demo["answerable"], demo["out_of_corpus"]) == (2, 2)
    assert demo["by_kind"]["near-domain"]["out_of_corpus_flagged"] == "1/2"
    assert demo["by_language"]["en"]["out_of_corpus_flagged"] == "1/1"
    assert {m["id"] for m in res["missed"]} == {"q3", "q4"}
    table = ac.format_table(res)
    assert "demo by kind" in table and "câu hỏi 3" in table and "câu hỏi 4" in table

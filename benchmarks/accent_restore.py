"""How well a query typed without diacritics gets them back: `python -m benchmarks.accent_restore`.

Each ALQAC question (written with its diacritics) is folded, as a user typing bare would type it; its
keyword top ten over the ALQAC articles (BM25, exact + folded fields, as the searcher's keyword side)
gives the passages `accents.restore` reads, and every restored syllable is compared with the one
the question was written with:

- right: the syllable the question has;
- wrong: another accented form (the confident mistake: "trung dữ" for "trung du");
- left bare: kept as typed while the question writes it with diacritics.

Syllables the question itself writes bare ("quy", "ma") count as right when they stay bare. Nothing
is tuned on these questions: `accents.py` has no parameter. `--legacy PATH` also scores another
copy of accents.py (e.g. the previous version) for a before/after.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from indexer.text.normalise import fold, syllables

ROOT = Path(__file__).resolve().parent.parent
ALQAC = ROOT.parent / "shared" / "datasets" / "alqac-2023-2025"


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("accents_under_test", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def score(restore: Callable[[str, list[str]], str], cases: list[tuple[str, list[str]]]) -> dict[str, float]:
    right = wrong = bare = total = 0
    for question, texts in cases:
        want = syllables(question)
        got = syllables(restore(fold(question), texts))
        if len(got) != len(want):  # a document number kept as typed may split differently: skip
            continue
        for g, w in zip(got, want, strict=True):
            total += 1
            if g == w:
                right += 1
            elif g == fold(g):
                bare += 1
            else:
                wrong += 1
    return {"syllables": total, "right": round(right / total, 4), "wrong": round(wrong / total, 4),
            "left_bare": round(bare / total, 4)}


def cases(alqac: Path, limit: int | None) -> list[tuple[str, list[str]]]:
    from indexer.store.keyword import KeywordIndex

    with (alqac / "corpus.jsonl").open(encoding="utf-8") as f:
        articles = [json.loads(line)["text"] for line in f if line.strip()]
    with (alqac / "queries.jsonl").open(encoding="utf-8") as f:
        questions = [json.loads(line)["text"] for line in f if line.strip()][:limit]
    index = KeywordIndex().index(articles)
    out = []
    for q in questions:
        s = index.scores(fold(q))
        top = np.argsort(-s, kind="stable")[:10]
        out.append((q, [articles[i] for i in top if s[i] > 0]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alqac", type=Path, default=ALQAC)
    ap.add_argument("--limit", type=int, default=None, help="the first N questions only")
    ap.add_argument("--legacy", type=Path, default=None, help="another accents.py to score beside this one")
    args = ap.parse_args(argv)
    from search_app.core import accents

    data = cases(args.alqac, args.limit)
    results = {"questions": len(data), "restore": score(accents.restore, data)}
    if args.legacy:
        results["legacy"] = score(_module(args.legacy).restore, data)
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

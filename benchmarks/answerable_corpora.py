"""Knowing when there is no answer on three corpora, with one rule tuned once (search_app/core/answerable.py).

The corpora: "demo" (the interview of ../shared/corpus alone, one document), "political" (the
interview and the three resolutions of ../shared/documents) and "laws" (a fixed sample of ALQAC's
law articles: the six laws of LAWS, 264 articles; a full e5 build of the 208 laws of
../shared/datasets/vietnamese-laws takes hours on a laptop's two cores).

The questions (benchmarks/answerable_sets/, written for this measurement): for each corpus,
answerable ones with gold quotes (checked here against ../shared at run time) and out-of-corpus
ones — everyday subjects and "near-domain" questions on laws, resolutions and events the corpus
does not cover — in Vietnamese, Vietnamese without diacritics and English. Each corpus also gets the
project's earlier sets that hold for it (the development questions, benchmarks/*out_of_corpus*.jsonl),
and the laws corpus ALQAC's own questions whose relevant articles are all in the sample (written
apart from the project; the answer is reachable when a relevant article is among the ten hits).

All these questions have been looked at (their misses were printed and read), so none of them is
held out any more: the rule's weights and threshold (answerable.WEIGHTS, answerable.THRESHOLD) are
fitted on all of them, the three corpora together (`--fit` prints what they choose), and the signals
are chosen by cross-validation inside them (`--cv`: five folds, the rule refitted on the other
folds, figures per corpus). The figures to quote are those of a question set written apart and
never run before the rule was frozen, asked with `--sets DIR` (the files `<corpus>_answerable.jsonl`
and `<corpus>_out_of_corpus.jsonl` of DIR, gold quotes checked as above, the frozen rule, every
question counted: per corpus, language and kind, and every miss printed).

    python -m benchmarks.answerable_corpora --shared ../shared --cache .cache/answerable [--fit] [--json F]
    python -m benchmarks.answerable_corpora --shared ../shared --rows F --cv   # the signals' ablation
    python -m benchmarks.answerable_corpora --shared ../shared --cache .cache/answerable --sets DIR
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.eval import tuning_split
from search_app.core import answerable
from search_app.core.searcher import Searcher

HERE = Path(__file__).resolve().parent
SETS = HERE / "answerable_sets"
ALQAC = Path("datasets/alqac-2023-2025")
LAWS = ("Luật Cư trú", "Luật An ninh mạng", "Luật Thanh niên", "Luật Tiếp cận thông tin", "Luật Điện ảnh",
        "Luật Phòng, chống ma túy")
EARLIER_OUT = ("out_of_corpus_tune.jsonl", "out_of_corpus.jsonl", "heldout_out_of_corpus.jsonl",
               "unseen2_out_of_corpus.jsonl")
ALQAC_EVERY = 5  # one ALQAC question in five (by id): a run stays within minutes on two cores
MAX_WRONGLY_FLAGGED = 0.015  # when fitting: half the 3% floor, room for questions not seen
FEATURES = ("margin", "lift", "coverage", "pairs", "foreign", "sentence_pairs", "unseen_numbers", "near_margin")
# Features the rule leaves out (weight 0), chosen by `--cv`: beside the near-domain margin the lift
# adds nothing in cross-validation, and its fitted weight turned negative.
LEFT_OUT = ("lift",)


@dataclass(frozen=True)
class Corpus:
    name: str
    answerable: tuple[Path, ...]
    out: tuple[Path, ...]
    everyday_only: tuple[Path, ...] = ()  # out-of-corpus sets of which only the everyday questions hold here
    alqac: bool = False  # also ALQAC's own questions on the sampled laws


def corpora(shared: Path) -> list[Corpus]:
    earlier = tuple(HERE / n for n in EARLIER_OUT)
    dev = (shared / "eval/dev_queries.jsonl",)
    return [
        Corpus("demo", (SETS / "demo_answerable.jsonl", *dev), (SETS / "demo_out_of_corpus.jsonl", *earlier)),
        Corpus("political", (SETS / "political_answerable.jsonl", SETS / "demo_answerable.jsonl", *dev,
                             shared / "eval/dev_resolutions.jsonl", HERE / "heldout_answerable.jsonl",
                             HERE / "unseen2_answerable.jsonl"),
               (SETS / "political_out_of_corpus.jsonl", *earlier)),
        Corpus("laws", (SETS / "laws_answerable.jsonl",), (SETS / "laws_out_of_corpus.jsonl",), earlier, alqac=True),
    ]


def corpora_of(sets: Path) -> list[Corpus]:
    """The corpora a question set written apart asks (`--sets`): those of the three with a file
    `<corpus>_answerable.jsonl` or `<corpus>_out_of_corpus.jsonl` in `sets`, and only its questions."""
    out = []
    for name in ("demo", "political", "laws"):
        ans, ooc = sets / f"{name}_answerable.jsonl", sets / f"{name}_out_of_corpus.jsonl"
        if ans.is_file() or ooc.is_file():
            out.append(Corpus(name, tuple(p for p in (ans,) if p.is_file()), tuple(p for p in (ooc,) if p.is_file())))
    if not out:
        raise SystemExit(f"{sets} holds no <corpus>_answerable.jsonl or <corpus>_out_of_corpus.jsonl")
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def laws_sample(shared: Path, cache: Path) -> Path:
    """The articles of LAWS from ALQAC's corpus, in its order, written to `cache` (the indexed file)."""
    out = cache / "laws-sample.jsonl"
    lines = [line for line in (shared / ALQAC / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip() and json.loads(line)["law_id"] in LAWS]
    text = "\n".join(lines) + "\n"
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return out


def alqac_questions(shared: Path) -> list[dict[str, Any]]:
    """ALQAC's questions whose relevant articles all belong to the sample, each with those articles."""
    relevant: dict[str, set[str]] = {}
    with open(shared / ALQAC / "qrels.tsv", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) >= 2 and row[0] != "query-id":
                relevant.setdefault(row[0], set()).add(row[1])
    keep = {q: a for q, a in relevant.items() if all(x.split("@")[0] in LAWS for x in a)}
    keep = {q: keep[q] for q in sorted(keep)[::ALQAC_EVERY]}
    return [{"id": q["_id"], "lang": "vi", "kind": "alqac", "query": q["text"], "articles": sorted(keep[q["_id"]])}
            for q in read_jsonl(shared / ALQAC / "queries.jsonl") if q["_id"] in keep]


def check_gold(questions: Iterable[dict[str, Any]], shared: Path) -> None:
    """Every gold quote stands in the document it names: a file of ../shared/corpus or documents,
    or an ALQAC article ("Luật Cư trú@12"), read now."""
    articles = {json.loads(line)["_id"]: json.loads(line)["text"]
                for line in (shared / ALQAC / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line}
    texts: dict[str, str] = {}
    for q in questions:
        name = q["doc"]
        if name not in texts:
            found = [p for p in (shared / "corpus" / name, shared / "documents" / name) if p.is_file()]
            if not found and name not in articles:
                raise SystemExit(f"{q['id']}: {name} is neither in {shared}/corpus, {shared}/documents nor ALQAC")
            texts[name] = _folded(found[0].read_text(encoding="utf-8") if found else articles[name])
        missing = [g for g in q["gold"] if _folded(g) not in texts[name]]
        if missing:
            raise SystemExit(f"{q['id']}: gold not in {name}: {missing}")


def questions(corpus: Corpus, shared: Path) -> list[tuple[Path | None, dict[str, Any], bool]]:
    """(file, question, answerable) for every question asked of `corpus`."""
    out: list[tuple[Path | None, dict[str, Any], bool]] = []
    for path in corpus.answerable:
        qs = read_jsonl(path)
        check_gold([q for q in qs if "doc" in q], shared)
        out += [(path, q, True) for q in qs]
    if corpus.alqac:
        out += [(None, q, True) for q in alqac_questions(shared)]
    out += [(path, q, False) for path in corpus.out for q in read_jsonl(path)]
    out += [(path, q, False) for path in corpus.everyday_only for q in read_jsonl(path)
            if q.get("kind") != "near-domain"]
    return out


def collect(searcher: Searcher, corpus: Corpus, shared: Path) -> list[dict[str, Any]]:
    """One row per question: corpus, set, half, language, kind, the truth and the evidence."""
    rows = []
    for path, q, is_answerable in questions(corpus, shared):
        stem = path.stem if path is not None else "alqac"
        hits = searcher.search(q["query"], 10)
        if "articles" in q:
            reach: bool | None = any(h.doc_id in q["articles"] or h.title in q["articles"] for h in hits)
        elif is_answerable and q.get("gold"):
            golds = [_folded(g) for g in q["gold"]]
            reach = any(g in _folded(h.text) for h in hits for g in golds)
        else:
            reach = None
        rows.append({**hits.evidence, "corpus": corpus.name, "set": stem, "id": q["id"],
                     "half": tuning_split(f"{stem}:{q['id']}"), "lang": q.get("lang", "?"),
                     "kind": q.get("kind", "?"), "query": q["query"], "in_corpus": is_answerable,
                     "gold_in_top10": reach, "top_score": hits[0].score if hits else None})
    return rows


def flagged(row: dict[str, Any], weights: tuple[float, ...], threshold: float) -> bool:
    """The rule of answerable.py applied to a row's evidence with these weights and threshold."""
    if row["number_known"] or row["phrase"]:
        return False
    return answerable.confidence(row, weights) < threshold


def fit_weights(rows: list[dict[str, Any]], l2: float = 1e-5, steps: int = 50,
                drop: tuple[int, ...] | None = None) -> tuple[float, ...]:
    """Logistic regression (Newton steps, both classes weighted alike) of in_corpus on the rule's
    features, over the rows the exact signals leave to it; the features at `drop` (0-based) are left
    out (their weight 0; None: those of LEFT_OUT)."""
    drop = tuple(FEATURES.index(f) for f in LEFT_OUT) if drop is None else drop
    use = [r for r in rows if not (r["number_known"] or r["phrase"]) and r["margin"] is not None]
    x = np.array([[1.0, *(0.0 if i in drop else v for i, v in enumerate(answerable.features(r)))] for r in use])
    y = np.array([1.0 if r["in_corpus"] else 0.0 for r in use])
    sw = np.where(y == 1, 0.5 / max(1, int(y.sum())), 0.5 / max(1, int((1 - y).sum())))
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (sw * (p - y)) + reg * w
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(reg)
        w -= np.linalg.solve(hess, grad)
    return tuple(round(float(v), 3) for v in w)


def fit_threshold(rows: list[dict[str, Any]], weights: tuple[float, ...]) -> float:
    """The largest confidence threshold (to 0.01, rounded down) that wrongly flags at most
    MAX_WRONGLY_FLAGGED of any one corpus's answerable questions: one threshold for every corpus."""
    best = 1.0
    for name in sorted({r["corpus"] for r in rows}):
        ans = [r for r in rows if r["corpus"] == name and r["in_corpus"]]
        conf = sorted(answerable.confidence(r, weights) for r in ans
                      if not (r["number_known"] or r["phrase"]) and r["margin"] is not None)
        allowed = int(MAX_WRONGLY_FLAGGED * len(ans))
        if len(conf) > allowed:
            best = min(best, conf[allowed])
    return math.floor(best * 100) / 100


def _fold(row: dict[str, Any], k: int, seed: str = "") -> int:
    """A row's fold among `k`, fixed by its set and id (and `seed`: another assignment of the folds)."""
    return int(hashlib.md5(f"fold{k}{seed}:{row['set']}:{row['id']}".encode()).hexdigest(), 16) % k


def cross_validate(rows: list[dict[str, Any]], k: int, drop: tuple[int, ...] | None = None,
                   seed: str = "") -> dict[str, Any]:
    """`k`-fold cross-validation over all the rows: weights and threshold fitted on k-1 folds (as
    `--fit` does), the fold left out counted, per corpus; and the balanced log-loss of the left-out
    confidences. How a signal is chosen (`--cv`)."""
    per: dict[str, dict[str, int]] = {}
    losses: dict[bool, list[float]] = {True: [], False: []}
    for f in range(k):
        train, test = [r for r in rows if _fold(r, k, seed) != f], [r for r in rows if _fold(r, k, seed) == f]
        w = fit_weights(train, drop=drop)
        th = fit_threshold(train, w)
        for r in test:
            c = per.setdefault(r["corpus"], {"answerable_wrongly_flagged": 0, "answerable": 0,
                                             "out_of_corpus_flagged": 0, "out_of_corpus": 0})
            kind = "answerable" if r["in_corpus"] else "out_of_corpus"
            c[kind] += 1
            c[kind + ("_wrongly_flagged" if r["in_corpus"] else "_flagged")] += flagged(r, w, th)
            if not (r["number_known"] or r["phrase"]) and r["margin"] is not None:
                p = min(1 - 1e-9, max(1e-9, answerable.confidence(r, w)))
                losses[r["in_corpus"]].append(-math.log(p if r["in_corpus"] else 1 - p))
    return {"corpora": per, "log_loss": round(0.5 * sum(map(np.mean, losses.values())), 4)}


def ablation(rows: list[dict[str, Any]], k: int = 5, seeds: tuple[str, ...] = ("", "b")) -> list[str]:
    """`cross_validate` (`k` folds, each fold assignment of `seeds`) of the rule as chosen, then with each
    of its features left out in turn, then with each feature it leaves out (LEFT_OUT) put back: per
    corpus, answerable wrongly flagged and out of corpus flagged."""
    lines = []
    chosen = tuple(FEATURES.index(f) for f in LEFT_OUT)
    variants = [("the rule as chosen", chosen)]
    variants += [(f"without {f}", (*chosen, i)) for i, f in enumerate(FEATURES) if i not in chosen]
    variants += [(f"with {FEATURES[i]}", tuple(j for j in chosen if j != i)) for i in chosen]
    for name, drop in variants:
        for seed in seeds:
            cv = cross_validate(rows, k, drop, seed)
            lines.append(f"{name:<24} folds {seed or 'a'} "
                         f"log-loss {cv['log_loss']:.4f} | " + "  ".join(
                             f"{name}: wrongly {c['answerable_wrongly_flagged']}/{c['answerable']}, flagged "
                             f"{c['out_of_corpus_flagged']}/{c['out_of_corpus']}" for name, c in cv["corpora"].items()))
    return lines


def rates(rows: list[dict[str, Any]], weights: tuple[float, ...], threshold: float) -> dict[str, Any]:
    ans = [r for r in rows if r["in_corpus"]]
    ooc = [r for r in rows if not r["in_corpus"]]

    def share(rs: list[dict[str, Any]]) -> str:
        return f"{sum(flagged(r, weights, threshold) for r in rs)}/{len(rs)}"

    def by(key: str) -> dict[str, dict[str, str]]:
        return {v: {"answerable_wrongly_flagged": share([r for r in ans if r[key] == v]),
                    "out_of_corpus_flagged": share([r for r in ooc if r[key] == v])}
                for v in sorted({r[key] for r in rows})}

    out: dict[str, Any] = {
        "answerable": len(ans), "out_of_corpus": len(ooc),
        "answerable_wrongly_flagged": sum(flagged(r, weights, threshold) for r in ans) / max(1, len(ans)),
        "out_of_corpus_flagged": sum(flagged(r, weights, threshold) for r in ooc) / max(1, len(ooc)),
        "by_language": by("lang"), "by_kind": by("kind"),
        "near_domain_flagged": share([r for r in ooc if r["kind"] == "near-domain"]),
    }
    reach = [r["gold_in_top10"] for r in ans if r["gold_in_top10"] is not None]
    if reach:
        out["gold_in_top10"] = f"{sum(reach)}/{len(reach)}"
    return out


def evaluate(searchers: dict[str, Searcher], shared: Path, fit: bool = False,
             sets: Path | None = None) -> dict[str, Any]:
    chosen = corpora(shared) if sets is None else corpora_of(sets)
    rows = [r for c in chosen if c.name in searchers for r in collect(searchers[c.name], c, shared)]
    return report(rows, fit=fit and sets is None)


def report(rows: list[dict[str, Any]], fit: bool = False) -> dict[str, Any]:
    """The rates of the frozen rule per corpus over `rows` (and, with `fit`, what all of them fit)."""
    names = list(dict.fromkeys(r["corpus"] for r in rows))
    res: dict[str, Any] = {"dataset": "answerable-corpora", "weights": list(answerable.WEIGHTS),
                           "threshold": answerable.THRESHOLD}
    if fit:
        w = fit_weights(rows)
        res["fitted"] = {"weights": list(w), "threshold": fit_threshold(rows, w)}
    res["results"] = {name: rates([r for r in rows if r["corpus"] == name], answerable.WEIGHTS, answerable.THRESHOLD)
                      for name in names}
    res["missed"] = [{k: r[k] for k in ("corpus", "set", "id", "lang", "kind", "query", "in_corpus")}
                     | {"confidence": round(answerable.confidence(r, answerable.WEIGHTS), 3)}
                     for r in rows if flagged(r, answerable.WEIGHTS, answerable.THRESHOLD) == r["in_corpus"]]
    res["rows"] = rows
    return res


def format_table(res: dict[str, Any]) -> str:
    lines = [f"Knowing when there is no answer — weights {res['weights']}, threshold {res['threshold']}"]
    if "fitted" in res:
        lines.append(f"(these questions fit weights {res['fitted']['weights']}, "
                     f"threshold {res['fitted']['threshold']})")
    lines += [f"{'corpus':<12} {'answerable':>10} {'wrongly flagged':>16} {'out of corpus':>14} "
              f"{'flagged':>8} {'near-domain':>12}", "-" * 77]
    for key, r in res["results"].items():
        lines.append(f"{key:<12} {r['answerable']:>10} {r['answerable_wrongly_flagged']:>16.3f} "
                     f"{r['out_of_corpus']:>14} {r['out_of_corpus_flagged']:>8.3f} {r['near_domain_flagged']:>12}")
    for key, r in res["results"].items():
        for what in ("language", "kind"):
            lines.append(f"{key} by {what}: " + "; ".join(
                f"{k}: wrongly {v['answerable_wrongly_flagged']}, flagged {v['out_of_corpus_flagged']}"
                for k, v in r[f"by_{what}"].items()))
        if "gold_in_top10" in r:
            lines.append(f"{key}: gold in top 10 {r['gold_in_top10']}")
    lines.append("Misses:")
    for m in res["missed"]:
        what = "answerable, flagged" if m["in_corpus"] else "out of corpus, not flagged"
        lines.append(f"  {m['corpus']:<9} {what:<27} {m['lang']:<8} {m['kind']:<12} {m['confidence']:.3f}  "
                     f"{m['query'][:80]}")
    return "\n".join(lines)


def indexes(shared: Path, cache: Path, model: str, build_missing: bool = True,
            names: tuple[str, ...] = ("demo", "political", "laws")) -> dict[str, Path]:
    """The indexes under `cache` (demo, political, laws, or those `names`), built or brought up to date."""
    from indexer.pipeline.build import build

    sources = {"demo": lambda: [shared / "corpus"], "political": lambda: [shared / "corpus", shared / "documents"],
               "laws": lambda: [laws_sample(shared, cache)]}
    out = {}
    for name in names:
        paths = sources[name]()
        index_dir = cache / name
        if build_missing or not index_dir.is_dir():
            print(f"Indexing {', '.join(map(str, paths))} into {index_dir} …", file=sys.stderr)
            build(paths, index_dir, model=model, progress=False)
        out[name] = index_dir
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.answerable_corpora", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, required=True, help="../shared: the corpora and the gold quotes")
    p.add_argument("--cache", type=Path, default=Path(".cache/answerable"), help="where the three indexes are kept")
    p.add_argument("--model", default="e5-small")
    p.add_argument("--no-update", action="store_true", help="use the indexes in --cache as they are")
    p.add_argument("--corpus", action="append", choices=("demo", "political", "laws"), help="only these corpora")
    p.add_argument("--fit", action="store_true", help="also print the weights these questions fit")
    p.add_argument("--cv", action="store_true",
                   help="with --rows: cross-validate (five folds, two assignments), each feature left out in turn")
    p.add_argument("--sets", type=Path, help="ask only the questions of this folder (<corpus>_answerable.jsonl, "
                   "<corpus>_out_of_corpus.jsonl) with the frozen rule: no fitting, every question counted")
    p.add_argument("--rows", type=Path, action="append", default=[],
                   help="report from the rows of earlier --json runs instead of searching again")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.rows:
        rows = [r for f in args.rows for r in json.loads(f.read_text(encoding="utf-8"))["rows"]]
        print("\n".join(ablation(rows)) if args.cv else format_table(report(rows, args.fit)))
        return 0
    if not (args.shared / ALQAC / "corpus.jsonl").is_file():
        p.error(f"{args.shared} does not hold {ALQAC}/corpus.jsonl")
    names = tuple(c.name for c in corpora_of(args.sets)) if args.sets else ("demo", "political", "laws")
    names = tuple(n for n in names if not args.corpus or n in args.corpus)
    paths = indexes(args.shared, args.cache, args.model, build_missing=not args.no_update, names=names)
    res = evaluate({n: Searcher(paths[n], query_cache=0) for n in names}, args.shared, fit=args.fit, sets=args.sets)
    print(format_table(res))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

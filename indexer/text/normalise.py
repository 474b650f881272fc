"""Vietnamese text normalisation shared by the indexer and the searcher.

Stored text is always NFC and keeps its diacritics; folding (tone marks stripped, đ→d) is only
ever applied to derived search keys, never to what a user reads or cites.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Lines that web pages leave behind around an article: menus, tag and attachment stubs.
# Matched against a whole stripped line only, so a sentence containing these words survives.
CRUMB_LINES = frozenset(
    s.casefold()
    for s in (
        "Sign In",
        "Sign in",
        "Log in",
        "Đăng nhập",
        "Đăng ký",
        "Tag:",
        "Tags:",
        "Từ khóa:",
        "File đính kèm",
        "File đính kèm:",
        "Tệp đính kèm",
        "Chia sẻ",
        "Chia sẻ:",
        "In bài",
        "In bài viết",
        "Bình luận",
        "Ý kiến bạn đọc",
        "Tin liên quan",
        "Bài viết liên quan",
        "Trở về",
        "Quay lại",
        "Về đầu trang",
        "Trang chủ",
    )
)

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_MANY_BLANKS = re.compile(r"\n{3,}")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """NFC, one space between words, at most one blank line between paragraphs, no web crumbs."""
    text = nfc(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if line.casefold() in CRUMB_LINES:
            continue
        lines.append(line)
    return _MANY_BLANKS.sub("\n\n", "\n".join(lines)).strip()


class _FoldTable(dict[int, str]):
    """Each character's fold, worked out the first time `str.translate` meets it: its canonical
    decomposition without the combining marks (ccc ≠ 0), "đ" as "d". Per character this equals
    decomposing the whole text first: NFD only reorders the marks it then drops."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFD", chr(code))
        out = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")
        if code < _FOLD_KEPT:
            self[code] = out
        return out


_FOLD_KEPT = 0x3000  # alphabets and marks are kept; CJK and the rest worked out each time (bounded memory)


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (tone and vowel marks, đ→d).

    Works on NFC or NFD input alike: decomposing exposes every mark as a combining character,
    which is then dropped.
    """
    lowered = text.casefold()
    return lowered if lowered.isascii() else lowered.translate(_FOLD)


@functools.lru_cache(maxsize=1 << 16)
def fold_token(token: str) -> str:
    """`fold` for one syllable, cached: a language has a few thousand syllables, and query-time code
    folds the same ones over and over."""
    return fold(token)


_WORD = re.compile(r"\w+", re.UNICODE)


def syllables(text: str) -> list[str]:
    """Lower-cased NFC syllables, one-letter ones included ("ở", "ý" are words)."""
    return _WORD.findall(nfc(text).casefold())


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


_BIDI = frozenset("\u2028\u2029")


def for_terminal(text: str) -> str:
    """`text` safe to print on a terminal: control and format characters (ESC sequences, newlines,
    bidi overrides) from file names or documents are shown escaped (\\x1b, \\n, \\u202e), never obeyed."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs") or ch in _BIDI:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)

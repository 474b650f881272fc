"""Milvus filter expressions and field values: literals escaped, sizes clipped to what a VARCHAR holds.

Only forms that every Milvus (Lite, the engine, a cluster) accepts: `x in [...]`, `==`, `and`/`or`,
De Morgan instead of `not (...)`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from indexer.records import Filters
from indexer.store.milvus.common import (
    MAX_VARCHAR,
    NO_TEXT,
    NO_YEAR,
    TEXT_CHUNK_CHARS,
)

# --- small helpers ------------------------------------------------------------------------------


def _nbytes(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8"))


def _clip(s: str | None, limit: int = MAX_VARCHAR) -> str | None:
    """`s` cut to at most `limit` UTF-8 bytes on a character boundary."""
    if s is None or len(s) * 4 <= limit or _nbytes(s) <= limit:
        return s
    return s.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _chunks(s: str, size: int = TEXT_CHUNK_CHARS) -> list[str]:
    return [s[i : i + size] for i in range(0, len(s), size)] or [""]


def lit(value: str) -> str:
    """A Milvus string literal. Templated filters (filter_params) fail on Milvus Lite, so we escape:
    backslash and double quote, and the control characters the grammar forbids inside a literal. A lone
    surrogate (bytes of a command line that are not UTF-8) cannot be sent: it becomes U+FFFD, which no
    stored value holds, so the filter matches nothing, as Filters.accepts does."""
    s = _SURROGATE.sub("\ufffd", str(value))
    s = (s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r"))
    return f'"{s}"'


_SURROGATE = re.compile("[\ud800-\udfff]")


def lit_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def int_list(values: Iterable[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


# The `standard` analyzer of the Milvus engine (tantivy) splits on every character that is not a letter
# or a digit, the underscore included ("quy_hoạch" became two tokens and doubled the BM25 scores); a
# letter that no Vietnamese syllable holds joins the pieces instead (U+01C2, a click letter: Lo).
JOINER = "\u01c2"
_NON_WORD = re.compile(r"[^\w ]|_", re.UNICODE)


def milvus_token(token: str) -> str:
    """One keyword token as Milvus's `standard` analyzer keeps it whole.

    The analyzer lowercases and splits on non-alphanumeric characters (and breaks NFD text), so every
    token is lowercased, NFC-composed and has every non-word character and underscore replaced by
    JOINER: "#57-NQ/TW" → "ǂ57ǂnqǂtw", the bigram "quy_hoạch" → "quyǂhoạch". Applied identically to
    passages and queries.
    """
    return keyword_field([token])


def keyword_field(tokens: Iterable[str], limit: int = MAX_VARCHAR) -> str:
    """Tokens mapped by `milvus_token` and joined by spaces, cut at a token boundary to fit a
    VARCHAR (only a pathological passage of tens of thousands of words loses its tail tokens)."""
    # One pass over the joined string instead of one per token (4x faster on a build): tokens never
    # hold whitespace (syllables are \w+, number keys have none), and NFC never composes across a space.
    joined = " ".join(t for t in ("".join(t.split()) for t in tokens) if t)
    out = _NON_WORD.sub(JOINER, unicodedata.normalize("NFC", joined.lower()))
    if len(out) * 4 > limit and _nbytes(out) > limit:
        out = out.encode("utf-8")[: limit + 1].decode("utf-8", "ignore")
        out = out[: out.rfind(" ")] if " " in out else ""
    return out


def filter_expr(filters: Filters | None) -> str:
    """`Filters` as a Milvus boolean expression over the passage/document fields ("" = none)."""
    if filters is None or not filters.active():
        return ""
    parts: list[str] = []
    # Only values a stored field can hold: "" is how an unknown type/issuer is stored (NO_TEXT), which
    # Filters.accepts never matches, and a lone surrogate is in no stored text. A list left empty
    # matches nothing.
    for field, values in (("doc_type", filters.type), ("issuer", filters.issuer), ("doc_id", filters.doc)):
        if values:
            known = sorted(v for v in values if v != NO_TEXT and not _SURROGATE.search(v))
            parts.append(f"{field} in {lit_list(known)}" if known else f'{field} == "" and {field} != ""')
    excluded = sorted(v for v in filters.exclude_doc or () if not _SURROGATE.search(v))
    if excluded:  # "Chỉ văn bản còn hiệu lực": the repealed documents left out
        parts.append(f"doc_id not in {lit_list(excluded)}")
    # an undated document (year NO_YEAR) fails every year filter, as in Filters.accepts
    dated = filters.year_from is not None or filters.year_to is not None
    if dated and (filters.year_from is None or filters.year_from <= NO_YEAR):
        parts.append(f"year != {NO_YEAR}")  # (a year_from above it already leaves the sentinel out)
    if filters.year_from is not None:
        parts.append(f"year >= {int(filters.year_from)}")
    if filters.year_to is not None:
        parts.append(f"year <= {int(filters.year_to)}")
    return " and ".join(parts)


def _and(*exprs: str) -> str:
    parts = [e for e in exprs if e]
    if not parts:
        return ""
    return " and ".join(f"({e})" if len(parts) > 1 else e for e in parts)


def _sanitize(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:32]
    return s or "index"

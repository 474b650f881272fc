"""Who may call the API and how often: bearer tokens and a per-token rate limit.

Tokens come from the environment, never from a request: `VNSEARCH_API_TOKEN` (one token, named
"default") and/or `VNSEARCH_API_TOKENS_FILE`, a file of JSON lines {"name": …, "sha256": …} — the
hex SHA-256 of each token, so the file can be read by operators without revealing any token.
Neither set: the API is open (as the page is) and the rate limit counts per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path


class TokenFileError(ValueError):
    pass


@dataclass(frozen=True)
class Token:
    name: str
    sha256: str  # lowercase hex digest of the token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(token: str | None = None, tokens_file: Path | str | None = None) -> list[Token]:
    """The configured tokens (empty: no authentication). A malformed file is refused, not skipped:
    a line silently dropped would lock its holder out, or a typo would leave the API open."""
    out: list[Token] = []
    if token:
        out.append(Token("default", token_hash(token)))
    if tokens_file:
        path = Path(tokens_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise TokenFileError(f"cannot read the token file {path}: {e.strerror}") from e
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                name, digest = str(item["name"]), str(item["sha256"]).lower()
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise TokenFileError(f'{path}:{lineno}: expected {{"name", "sha256"}}') from e
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise TokenFileError(f"{path}:{lineno}: sha256 must be 64 hex digits (sha256sum of the token)")
            out.append(Token(name, digest))
        if not out:
            raise TokenFileError(f"{path} names no token")
    return out


def identify(tokens: list[Token], presented: str | None) -> str | None:
    """The name of the token `presented` is, or None. Every configured hash is compared, in
    constant time, so the answer's timing says nothing about which token came close."""
    if not presented:
        return None
    digest = token_hash(presented).encode()
    found = None
    for t in tokens:
        if hmac.compare_digest(digest, t.sha256.encode()) and found is None:
            found = t.name
    return found


@dataclass
class _Bucket:
    tokens: float
    stamp: float


MAX_CALLERS = 10_000  # buckets kept; the least recently seen caller's is dropped past it


@dataclass
class RateLimiter:
    """A token bucket per caller: `burst` requests at once, refilled at `per_minute` a minute.
    `per_minute` 0 turns the limit off. At most `max_callers` buckets are kept (least recently
    used dropped first): the state is bounded whatever the number of callers."""

    per_minute: float
    burst: int
    clock: object = time.monotonic
    max_callers: int = MAX_CALLERS
    _buckets: OrderedDict[str, _Bucket] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _bucket(self, caller: str, now: float) -> _Bucket:
        b = self._buckets.get(caller)
        if b is None:
            b = self._buckets[caller] = _Bucket(float(self.burst), now)
            while len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(caller)
        b.tokens = min(float(self.burst), b.tokens + (now - b.stamp) * self.per_minute / 60.0)
        b.stamp = now
        return b

    def take(self, caller: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before the next one may."""
        if self.per_minute <= 0:
            return 0.0
        with self._lock:
            b = self._bucket(caller, self.clock())  # type: ignore[operator]
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / (self.per_minute / 60.0)

    def wait(self, caller: str) -> float:
        """The seconds before `caller` may go ahead (0: now), without taking anything."""
        if self.per_minute <= 0:
            return 0.0
        with self._lock:
            if caller not in self._buckets:
                return 0.0
            b = self._bucket(caller, self.clock())  # type: ignore[operator]
            return 0.0 if b.tokens >= 1.0 else (1.0 - b.tokens) / (self.per_minute / 60.0)

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(seconds: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))

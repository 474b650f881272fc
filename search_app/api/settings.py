"""The API's settings, read from the environment once at start (so several workers share them)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from search_app.api.auth import Token, load_tokens
from search_app.core.live import DEFAULT_INTERVAL
from search_app.core.searcher import QUERY_CACHE

DEFAULT_RATE = 120  # requests a minute per token (or per client address when the API is open)
DEFAULT_BURST = 30
DEFAULT_MAX_BODY = 256 * 1024  # bytes of a POST body: 100 queries of 1000 characters fit
DEFAULT_HEADER_TIMEOUT = 10.0  # seconds a client has to send a request's headers
DEFAULT_BODY_TIMEOUT = 30.0  # seconds a client has to send a request's body, once its headers are in
MAX_SETTING = 1e9  # no setting is meant to be larger; a bigger one is a typo (or "inf")


class SettingsError(ValueError):
    pass


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as e:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from e
    if not math.isfinite(value) or not 0 <= value <= MAX_SETTING:  # nan would silently turn a limit off
        raise SettingsError(f"{name} must be a number from 0 to {MAX_SETTING:g}, got {raw!r}")
    return value


@dataclass
class ApiSettings:
    index_dir: Path
    tokens: list[Token] = field(default_factory=list)
    rate_per_minute: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST
    cors_origins: list[str] = field(default_factory=list)
    max_body: int = DEFAULT_MAX_BODY
    refresh_interval: float = DEFAULT_INTERVAL
    access_log: Path | None = None  # None: JSON lines on stderr
    query_cache: int = QUERY_CACHE  # query vectors kept per worker (0 in benchmarks: every search pays)
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    # Proxy addresses whose X-Forwarded-For / X-Forwarded-Proto are believed; none: the headers are
    # ignored and the client is the connection's address (anyone can write the header).
    trusted_proxies: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """VNSEARCH_INDEX, VNSEARCH_API_TOKEN / VNSEARCH_API_TOKENS_FILE, VNSEARCH_API_RATE (a minute,
        0: off), VNSEARCH_API_BURST, VNSEARCH_API_CORS (comma-separated origins), VNSEARCH_API_MAX_BODY
        (bytes), VNSEARCH_API_REFRESH (seconds between looks for a new generation), VNSEARCH_API_ACCESS_LOG,
        VNSEARCH_QUERY_CACHE (query vectors kept), VNSEARCH_API_HEADER_TIMEOUT / VNSEARCH_API_BODY_TIMEOUT
        (seconds), VNSEARCH_TRUSTED_PROXIES (comma-separated addresses of the reverse proxy)."""
        env = os.environ if env is None else env
        cors = [o.strip() for o in env.get("VNSEARCH_API_CORS", "").split(",") if o.strip()]
        return cls(
            index_dir=Path(env.get("VNSEARCH_INDEX", "index")),
            tokens=load_tokens(env.get("VNSEARCH_API_TOKEN"), env.get("VNSEARCH_API_TOKENS_FILE")),
            rate_per_minute=_number(env, "VNSEARCH_API_RATE", DEFAULT_RATE),
            burst=max(1, int(_number(env, "VNSEARCH_API_BURST", DEFAULT_BURST))),
            cors_origins=cors,
            max_body=int(_number(env, "VNSEARCH_API_MAX_BODY", DEFAULT_MAX_BODY)),
            refresh_interval=_number(env, "VNSEARCH_API_REFRESH", DEFAULT_INTERVAL),
            access_log=Path(env["VNSEARCH_API_ACCESS_LOG"]) if env.get("VNSEARCH_API_ACCESS_LOG") else None,
            query_cache=int(_number(env, "VNSEARCH_QUERY_CACHE", QUERY_CACHE)),
            header_timeout=max(0.1, _number(env, "VNSEARCH_API_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT)),
            body_timeout=max(0.1, _number(env, "VNSEARCH_API_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT)),
            trusted_proxies=[p.strip() for p in env.get("VNSEARCH_TRUSTED_PROXIES", "").split(",") if p.strip()],
        )

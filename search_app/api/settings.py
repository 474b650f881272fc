"""The API's settings, read from the environment once at start (so several workers share them)."""

from __future__ import annotations

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
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        """VNSEARCH_INDEX, VNSEARCH_API_TOKEN / VNSEARCH_API_TOKENS_FILE, VNSEARCH_API_RATE (a minute,
        0: off), VNSEARCH_API_BURST, VNSEARCH_API_CORS (comma-separated origins), VNSEARCH_API_MAX_BODY
        (bytes), VNSEARCH_API_REFRESH (seconds between looks for a new generation), VNSEARCH_API_ACCESS_LOG,
        VNSEARCH_QUERY_CACHE (query vectors kept)."""
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
        )

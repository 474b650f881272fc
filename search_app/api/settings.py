"""The API's settings, built once at start from the one settings object (indexer/settings.py), so
several workers share them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from indexer.settings import MAX_SETTING, Settings, SettingsError
from search_app.api.auth import Token, load_tokens
from search_app.core.live import DEFAULT_INTERVAL
from search_app.core.searcher import QUERY_CACHE

__all__ = ["MAX_SETTING", "ApiSettings", "SettingsError"]

DEFAULT_RATE = 120  # requests a minute per token (or per client address when the API is open)
DEFAULT_BURST = 30
DEFAULT_MAX_BODY = 256 * 1024  # bytes of a POST body: 100 queries of 1000 characters fit
DEFAULT_HEADER_TIMEOUT = 10.0  # seconds a client has to send a request's headers
DEFAULT_BODY_TIMEOUT = 30.0  # seconds a client has to send a request's body, once its headers are in


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def read_timeouts(settings: Settings) -> tuple[float, float]:
    """(header, body) seconds a client has to send a request's headers, then its body."""
    api = settings.api
    return (max(0.1, _or(api.header_timeout, DEFAULT_HEADER_TIMEOUT)),
            max(0.1, _or(api.body_timeout, DEFAULT_BODY_TIMEOUT)))


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
        """From the environment (`env`, default this process's): see indexer/settings.py."""
        return cls.from_settings(Settings.from_env(env))

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiSettings:
        """VNSEARCH_INDEX, VNSEARCH_API_TOKEN / VNSEARCH_API_TOKENS_FILE, VNSEARCH_API_RATE (a minute,
        0: off), VNSEARCH_API_BURST, VNSEARCH_API_CORS (comma-separated origins), VNSEARCH_API_MAX_BODY
        (bytes), VNSEARCH_API_REFRESH (seconds between looks for a new generation), VNSEARCH_API_ACCESS_LOG,
        VNSEARCH_QUERY_CACHE (query vectors kept), VNSEARCH_API_HEADER_TIMEOUT / VNSEARCH_API_BODY_TIMEOUT
        (seconds), VNSEARCH_TRUSTED_PROXIES (comma-separated addresses of the reverse proxy)."""
        api = settings.api
        header, body = read_timeouts(settings)
        return cls(
            index_dir=settings.index, tokens=load_tokens(api.token, api.tokens_file),
            rate_per_minute=_or(api.rate, DEFAULT_RATE), burst=max(1, int(_or(api.burst, DEFAULT_BURST))),
            cors_origins=list(api.cors), max_body=int(_or(api.max_body, DEFAULT_MAX_BODY)),
            refresh_interval=_or(api.refresh, DEFAULT_INTERVAL), access_log=api.access_log,
            query_cache=int(_or(api.query_cache, QUERY_CACHE)), header_timeout=header, body_timeout=body,
            trusted_proxies=list(settings.trusted_proxies),
        )

"""Every setting the environment gives, as one typed object: the only module that reads `os.environ`.

Each door (the indexer and search CLIs, the API, the MCP server, the page) reads `Settings.from_env()`
when it starts, so a bad value fails there with the variable's name; code below the doors reads
`current()` when it needs a value (never at import time), so a changed environment — a test's, a
worker's — is seen. Writing the environment of child processes (Ray's defaults, the Milvus binary's
library path, Tesseract's thread count) stays with the code that starts them.

| variable | field | default |
|---|---|---|
| VNSEARCH_INDEX / VNSEARCH_CORPUS | index / corpus | index/, corpus/ |
| VNSEARCH_CACHE (else $XDG_CACHE_HOME/vnsearch) | cache | ~/.cache/vnsearch |
| VNSEARCH_EMBED_ENGINE | embed_engine (checked by embed/engines.py) | auto |
| OMP_NUM_THREADS | omp_threads (a Ray actor's share of cores) | None: the CPU affinity |
| VNSEARCH_TESSERACT | tesseract (a binary outside PATH: its full path) | tesseract |
| VNSEARCH_OCR_MAX_PAGES, VNSEARCH_OCR_SECONDS | ocr_max_pages, ocr_seconds (per file) | 500, 900 |
| VNSEARCH_WRITER_TIMEOUT | writer_timeout (seconds) | 600 |
| VNSEARCH_MILVUS_LITE_TIMEOUT, VNSEARCH_MILVUS_TOKEN | milvus_lite_timeout, milvus_token | 90, "" |
| VNSEARCH_UPLOADS, VNSEARCH_UPLOAD_TOKEN, VNSEARCH_AUDIT_LOG | uploads, upload_token, audit_log | off |
| VNSEARCH_TRUSTED_PROXIES | trusted_proxies (comma-separated) | none |
| VNSEARCH_API_* , VNSEARCH_QUERY_CACHE | api (ApiEnv; search_app/api/settings.py applies the defaults) | |
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_SETTING = 1e9  # no setting is meant to be larger; a bigger one is a typo (or "inf")
UPLOADS_ENV, UPLOAD_TOKEN_ENV, AUDIT_ENV = "VNSEARCH_UPLOADS", "VNSEARCH_UPLOAD_TOKEN", "VNSEARCH_AUDIT_LOG"
PROXIES_ENV = "VNSEARCH_TRUSTED_PROXIES"
ENGINE_ENV = "VNSEARCH_EMBED_ENGINE"
_TRUE = ("1", "on", "true", "yes")


class SettingsError(ValueError):
    pass


def number(env: Mapping[str, str], name: str) -> float | None:
    """A finite number from 0 to MAX_SETTING, or None when unset; SettingsError naming `name` else
    (nan would silently turn a limit off)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as e:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from e
    if not math.isfinite(value) or not 0 <= value <= MAX_SETTING:
        raise SettingsError(f"{name} must be a number from 0 to {MAX_SETTING:g}, got {raw!r}")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number; the default for anything else (a cap that cannot be read must not
    turn into no cap)."""
    value = env.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as e:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from e


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in raw.split(",") if w.strip())


@dataclass(frozen=True)
class ApiEnv:
    """The API's variables as given (None: unset, the API's default applies)."""

    token: str | None = None  # VNSEARCH_API_TOKEN
    tokens_file: str | None = None  # VNSEARCH_API_TOKENS_FILE
    rate: float | None = None  # VNSEARCH_API_RATE, a minute (0: off)
    burst: float | None = None  # VNSEARCH_API_BURST
    cors: tuple[str, ...] = ()  # VNSEARCH_API_CORS, comma-separated origins
    max_body: float | None = None  # VNSEARCH_API_MAX_BODY, bytes
    refresh: float | None = None  # VNSEARCH_API_REFRESH, seconds between looks for a new generation
    access_log: Path | None = None  # VNSEARCH_API_ACCESS_LOG
    query_cache: float | None = None  # VNSEARCH_QUERY_CACHE, query vectors kept
    header_timeout: float | None = None  # VNSEARCH_API_HEADER_TIMEOUT, seconds
    body_timeout: float | None = None  # VNSEARCH_API_BODY_TIMEOUT, seconds

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiEnv:
        def num(name: str) -> float | None:
            return number(env, f"VNSEARCH_{name}")

        return cls(token=env.get("VNSEARCH_API_TOKEN"), tokens_file=env.get("VNSEARCH_API_TOKENS_FILE"),
                   rate=num("API_RATE"), burst=num("API_BURST"), cors=_words(env.get("VNSEARCH_API_CORS", "")),
                   max_body=num("API_MAX_BODY"), refresh=num("API_REFRESH"),
                   access_log=Path(env["VNSEARCH_API_ACCESS_LOG"]) if env.get("VNSEARCH_API_ACCESS_LOG") else None,
                   query_cache=num("QUERY_CACHE"), header_timeout=num("API_HEADER_TIMEOUT"),
                   body_timeout=num("API_BODY_TIMEOUT"))


def _cache(env: Mapping[str, str]) -> Path:
    if env.get("VNSEARCH_CACHE"):
        return Path(env["VNSEARCH_CACHE"])
    return Path(env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "vnsearch"


@dataclass(frozen=True)
class Settings:
    index: Path = Path("index")
    corpus: Path = Path("corpus")
    cache: Path = field(default_factory=lambda: _cache({}))  # converted weights, the measured engine choice
    embed_engine: str = "auto"
    omp_threads: int | None = None
    tesseract: str = "tesseract"  # a binary outside PATH: its full path
    ocr_max_pages: int = 500
    ocr_seconds: int = 900
    writer_timeout: float = 600.0
    milvus_lite_timeout: float = 90.0
    milvus_token: str = ""  # sent only to a server named by URI
    uploads: bool = False
    upload_token: str | None = None
    audit_log: Path | None = None  # None: corpus/.upload-audit.jsonl
    trusted_proxies: tuple[str, ...] = ()
    api: ApiEnv = field(default_factory=ApiEnv)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings `env` (default: this process's environment) gives; SettingsError for a bad value."""
        env = os.environ if env is None else env
        omp = env.get("OMP_NUM_THREADS", "")
        return cls(
            index=Path(env.get("VNSEARCH_INDEX", "index")), corpus=Path(env.get("VNSEARCH_CORPUS", "corpus")),
            cache=_cache(env), embed_engine=(env.get(ENGINE_ENV, "auto").strip().lower() or "auto"),
            omp_threads=int(omp) if omp.isdigit() and int(omp) > 0 else None,
            tesseract=env.get("VNSEARCH_TESSERACT", "tesseract"),
            ocr_max_pages=_count(env, "VNSEARCH_OCR_MAX_PAGES", 500),
            ocr_seconds=_count(env, "VNSEARCH_OCR_SECONDS", 900),
            writer_timeout=_seconds(env, "VNSEARCH_WRITER_TIMEOUT", 600.0),
            milvus_lite_timeout=_seconds(env, "VNSEARCH_MILVUS_LITE_TIMEOUT", 90.0),
            milvus_token=env.get("VNSEARCH_MILVUS_TOKEN", ""),
            uploads=env.get(UPLOADS_ENV, "").strip().lower() in _TRUE, upload_token=env.get(UPLOAD_TOKEN_ENV) or None,
            audit_log=Path(env[AUDIT_ENV]) if env.get(AUDIT_ENV) else None,
            trusted_proxies=_words(env.get(PROXIES_ENV, "")), api=ApiEnv.from_env(env))


def current() -> Settings:
    """The settings as the environment gives them now (read at each call, never cached: a test or a
    worker may change the environment)."""
    return Settings.from_env()

"""How uvicorn serves the API in front of the world: read timeouts for a request's headers and body
(a client that sends slowly is cut off, so slow connections cannot hold every file descriptor), and
forwarded headers believed only from the configured proxies."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from indexer.settings import current
from search_app.api.settings import ApiSettings, read_timeouts


@lru_cache(maxsize=1)
def _env_timeouts() -> tuple[float, float]:
    # uvicorn's worker processes get the class, not an instance: its limits come from the environment
    return read_timeouts(current())


class ReadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for reading each request: `header_timeout` seconds from
    the first byte (or the connection) to the end of the headers, then `body_timeout` seconds for the
    body. Past it the connection is closed. Idle keep-alive connections keep uvicorn's own timeout."""

    header_timeout: float | None = None  # None: from the environment (VNSEARCH_API_HEADER_TIMEOUT)
    body_timeout: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._read_timer: asyncio.TimerHandle | None = None
        self._reading: str | None = None
        env_header, env_body = _env_timeouts()
        self._limits = (self.header_timeout or env_header, self.body_timeout or env_body)
        super().connection_made(transport)
        self._arm("headers", self._limits[0])

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._reading = phase
        self._read_timer = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
        self._read_timer, self._reading = None, None

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY and self._reading != "body":
            self._arm("body", self._limits[1])
        elif state is h11.IDLE and self._reading is None and self.conn.our_state is h11.IDLE:
            self._arm("headers", self._limits[0])  # the first bytes of a next request
        elif state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is read: answering it has no deadline here

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(settings: ApiSettings) -> type[ReadTimeoutProtocol]:
    """The protocol with these settings' limits (a server run in this process, as tests do)."""
    return type("ApiProtocol", (ReadTimeoutProtocol,),
                {"header_timeout": settings.header_timeout, "body_timeout": settings.body_timeout})


def uvicorn_options(settings: ApiSettings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run: the settings travel to the workers in the environment."""
    return {"http": ReadTimeoutProtocol, "proxy_headers": bool(settings.trusted_proxies),
            "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None, "timeout_keep_alive": 5}

"""The API in front of the world: metric labels only from the route table, request read timeouts,
forwarded headers believed only from configured proxies, bounded rate-limit state, and wrong tokens
throttled per client address."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from search_app.api.app import AUTH_FAILURE_BURST, create_app
from search_app.api.auth import RateLimiter, load_tokens
from search_app.api.server import ReadTimeoutProtocol, protocol_for, uvicorn_options
from search_app.api.settings import ApiSettings, SettingsError


def test_metrics_labels_come_only_from_the_route_table(hash_index):
    with TestClient(create_app(ApiSettings(index_dir=hash_index, refresh_interval=0))) as c:
        for i in range(50):  # chunked POSTs (no Content-Length: 411 before any route) to made-up paths
            r = c.post(f"/x{i}/{'a' * 200}", content=iter([b"{}"]))
            assert r.status_code == 411
        assert c.post("/v1/search", content=iter([b"{}"])).status_code == 411
        assert c.get("/nothing-here-1").status_code == 404
        text = c.get("/metrics").text
    assert "/x1/" not in text and "nothing-here" not in text
    assert 'route="unmatched"' in text and 'route="/v1/search",status="411"' in text


def test_rate_limit_state_is_bounded():
    lim = RateLimiter(per_minute=60, burst=1, max_callers=100)
    for i in range(5000):
        lim.take(f"addr:{i}")
    assert len(lim) == 100
    assert lim.take("addr:4999") > 0  # the most recent callers are still counted


def test_wrong_tokens_are_throttled_per_client_even_before_a_right_one(hash_index):
    st = ApiSettings(index_dir=hash_index, tokens=load_tokens("s3cret"), refresh_interval=0)
    with TestClient(create_app(st)) as c:
        codes = [c.get("/v1/status", headers={"Authorization": f"Bearer guess{i}"}).status_code
                 for i in range(AUTH_FAILURE_BURST + 5)]
        assert codes[:AUTH_FAILURE_BURST] == [401] * AUTH_FAILURE_BURST and set(codes[AUTH_FAILURE_BURST:]) == {429}
        r = c.get("/v1/status", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "-1", "abc"])
def test_numbers_that_would_turn_a_limit_off_or_crash_are_refused(tmp_path, value):
    for name in ("VNSEARCH_API_RATE", "VNSEARCH_API_BURST", "VNSEARCH_API_MAX_BODY"):
        with pytest.raises(SettingsError, match=name):
            ApiSettings.from_env({"VNSEARCH_INDEX": str(tmp_path), name: value})


def _serve(app, settings: ApiSettings):  # noqa: ANN001, ANN202 - a uvicorn server in a thread
    import uvicorn

    opts = {**uvicorn_options(settings), "http": protocol_for(settings)}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **opts))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            return server, thread, server.servers[0].sockets[0].getsockname()[1]
        time.sleep(0.05)
    raise AssertionError("uvicorn did not start")


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False


@pytest.mark.slow
def test_slow_headers_and_bodies_are_cut_off_and_forwarded_headers_are_not_believed(hash_index):
    st = ApiSettings(index_dir=hash_index, refresh_interval=0, rate_per_minute=6, burst=3,
                     header_timeout=0.5, body_timeout=0.5)
    opts = uvicorn_options(st)
    assert issubclass(opts["http"], ReadTimeoutProtocol) and opts["proxy_headers"] is False
    server, thread, port = _serve(create_app(st), st)
    try:
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        body = socket.create_connection(("127.0.0.1", port))
        body.sendall(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"queries\"")  # a body that never comes
        idle = socket.create_connection(("127.0.0.1", port))  # connected, nothing sent
        assert _closed_within(slow, 3) and _closed_within(body, 3) and _closed_within(idle, 3)
        base = f"http://127.0.0.1:{port}"
        codes = [httpx.get(f"{base}/v1/status", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                 for i in range(6)]
        assert codes[:3] == [200] * 3 and set(codes[3:]) == {429}  # one client, whatever the header says
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.slow
def test_a_configured_proxy_is_believed(hash_index):
    st = ApiSettings(index_dir=hash_index, refresh_interval=0, rate_per_minute=6, burst=1,
                     trusted_proxies=["127.0.0.1"])
    server, thread, port = _serve(create_app(st), st)
    try:
        codes = [httpx.get(f"http://127.0.0.1:{port}/v1/status", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                 for i in range(3)]
        assert codes == [200, 200, 200]  # three clients behind the proxy, one request each
    finally:
        server.should_exit = True
        thread.join(10)

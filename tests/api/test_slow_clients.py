"""Slow clients are timed out, and open connections are bounded (`api.serving`).

The probe held 100 connections open for 40 s by sending headers slowly. Here the server runs
as `livelihood-ledger serve` runs it (uvicorn with `GuardedHttpToolsProtocol`, and with
`GuardedH11Protocol`) on loopback, with
short deadlines so the test is quick: connections that dribble their headers or their body
are closed within the deadline, connections beyond the bound are closed at once, and an
ordinary request is still answered.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import AuthSettings
from api.serving import ServeSettings
from ledger.store.database import Database
from tests.api.conftest import TEST_SECRET_KEY
from tests.api.live_server import serving

SETTINGS = ServeSettings(
    header_read_seconds=2.0, body_read_seconds=2.5, connections_max=20, keep_alive_seconds=1
)
SLACK_SECONDS = 4.0  # a loaded 2-core machine: the deadline plus this, at most
# How long a test watches: well past deadline + slack, so "never closed" cannot pass.
WATCH_SECONDS = 10.0
SLOW_CLIENTS = 10


@pytest.fixture(params=["httptools", "h11"])
def server(db: Database, request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """The app behind each of uvicorn's HTTP/1.1 parsers (`serve` runs httptools)."""
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(url, migrate=False, auth=AuthSettings(secret_key=TEST_SECRET_KEY))
    with serving(app, SETTINGS, request.param) as address:
        yield address


def _connect(address: tuple[str, int]) -> socket.socket:
    connection = socket.create_connection(address, timeout=10)
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _dribble_until_closed(
    connections: list[socket.socket], first: bytes, drip: bytes, seconds_max: float
) -> list[float]:
    """Send `first`, then `drip` every 0.2 s on each connection until the server closes it;
    the seconds each one stayed open (`seconds_max` if it never closed)."""
    started = time.monotonic()
    for connection in connections:
        connection.sendall(first)
        connection.setblocking(False)
    open_for: dict[int, float] = {}
    while len(open_for) < len(connections) and time.monotonic() - started < seconds_max:
        for index, connection in enumerate(connections):
            if index in open_for:
                continue
            if _is_closed(connection, drip):
                open_for[index] = time.monotonic() - started
        time.sleep(0.2)
    for connection in connections:
        connection.close()
    return [open_for.get(index, seconds_max) for index in range(len(connections))]


def _is_closed(connection: socket.socket, drip: bytes) -> bool:
    try:
        if connection.recv(1024) == b"":
            return True
    except BlockingIOError:
        pass
    except OSError:
        return True
    try:
        connection.send(drip)
    except OSError:
        return True
    return False


def _health(address: tuple[str, int]) -> Any:
    host, port = address
    return httpx.get(f"http://{host}:{port}/health", timeout=10)


def test_headers_sent_slowly_are_cut_off_at_the_deadline(server: tuple[str, int]) -> None:
    connections = [_connect(server) for _ in range(SLOW_CLIENTS)]
    open_for = _dribble_until_closed(
        connections, b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X", WATCH_SECONDS
    )
    assert all(
        SETTINGS.header_read_seconds * 0.8 <= s <= SETTINGS.header_read_seconds + SLACK_SECONDS
        for s in open_for
    ), open_for
    assert _health(server).status_code == 200


def test_a_body_sent_slowly_is_cut_off_at_the_deadline(server: tuple[str, int]) -> None:
    head = (
        b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n{"
    )
    connections = [_connect(server) for _ in range(SLOW_CLIENTS)]
    open_for = _dribble_until_closed(connections, head, b" ", WATCH_SECONDS)
    assert all(
        SETTINGS.body_read_seconds * 0.8 <= s <= SETTINGS.body_read_seconds + SLACK_SECONDS
        for s in open_for
    ), open_for
    assert _health(server).status_code == 200


def test_connections_beyond_the_bound_are_closed_at_once(server: tuple[str, int]) -> None:
    extra = 10
    connections = [_connect(server) for _ in range(SETTINGS.connections_max + extra)]
    open_for = _dribble_until_closed(
        connections, b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X", WATCH_SECONDS
    )
    at_once = [s for s in open_for if s < SETTINGS.header_read_seconds * 0.8]
    assert len(at_once) >= extra, open_for
    assert max(open_for) <= SETTINGS.header_read_seconds + SLACK_SECONDS, open_for
    assert _health(server).status_code == 200


def test_a_kept_alive_connection_serves_requests_and_then_idles_out(
    server: tuple[str, int],
) -> None:
    connection = _connect(server)
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(6):  # 3 s in all: the head deadline is per request, not per connection
        connection.sendall(request)
        answer = connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        time.sleep(SETTINGS.keep_alive_seconds * 0.5)  # idle, but not for long
    started = time.monotonic()
    connection.settimeout(10)
    assert connection.recv(1024) == b""  # closed by the keep-alive timeout
    assert time.monotonic() - started <= SETTINGS.keep_alive_seconds + SLACK_SECONDS
    connection.close()

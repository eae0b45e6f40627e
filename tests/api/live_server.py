"""The app served by uvicorn on loopback, as `livelihood-ledger serve` runs it (real sockets).

For what the test client cannot show: the client's address (127.0.0.2 is loopback too, so a
test can sign in from two addresses) and how the server treats slow connections.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from api.serving import SERVE_DEFAULTS, HttpParser, ServeSettings, server_config

START_SECONDS_MAX = 20.0


@contextmanager
def serving(
    app: Any, settings: ServeSettings = SERVE_DEFAULTS, parser: HttpParser = "httptools"
) -> Iterator[tuple[str, int]]:
    """Serve `app` on 127.0.0.1 (a free port) in a thread; yields (host, port)."""
    config = server_config(app, "127.0.0.1", 0, settings, parser, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS_MAX
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(START_SECONDS_MAX)

"""A real browser for the web tests: the app served by uvicorn on a free port of 127.0.0.1
(on the suite's migrated database) and Debian's chromium driven by Playwright."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from playwright.sync_api import Browser, sync_playwright

from api.app import create_app
from api.auth import AuthSettings
from ledger.store.database import Database
from tests.api.conftest import TEST_SECRET_KEY

CHROMIUM = "/usr/bin/chromium"
SERVER_START_SECONDS_MAX = 20.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(db: Database) -> Iterator[str]:
    """The whole app on a real port, in a thread; its base URL."""
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(url, migrate=False, auth=AuthSettings(secret_key=TEST_SECRET_KEY))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS_MAX
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_SECONDS_MAX)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium (never a downloaded browser), headless."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()

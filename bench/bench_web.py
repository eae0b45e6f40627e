"""The treasurer's meeting page on a slow phone network: bytes transferred and time to
interactive, first load (empty cache) and next load, in Debian's chromium.

The demo organisation is loaded into a temporary SQLite database (savings group sg-kt-002:
15 members, loans outstanding), the app is served by uvicorn on 127.0.0.1, and chromium
(Playwright, 360x740) opens the meeting form with Chrome's network emulation set to the
"slow 3G" profile Lighthouse uses: 400 ms round trip, 400 kbit/s down and up. Signing in
happens first in another context, so the measured context starts with an empty cache.

Time to interactive is measured as the later of DOMContentLoaded and the moment HTMX (the
page's only script for the form) has run, from the start of navigation; bytes are what the
network carried (compressed), from the DevTools protocol's `Network.loadingFinished`.

    .venv/bin/python -m bench.bench_web

Targets (issue 14): under 60 KB on first load, under 10 KB on the next, interactive in
under 3 s.
"""

from __future__ import annotations

import statistics
import tempfile
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

from bench.common import print_conditions
from ledger.access import users
from ledger.demo import load_demo
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from tests.web.browser import chromium, live_server

GROUP = "sg-kt-002"
TREASURER = "sreymom.treasurer"
PASSWORD = "a treasurer's long passphrase"
RUNS = 3
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * 1000 / 8,
    "uploadThroughput": 400 * 1000 / 8,
}
HTMX_LOADED = """async () => {
  while (window.htmx === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
}"""
INTERACTIVE = """() => {
  const t = performance.getEntriesByType("navigation")[0];
  return Math.max(t.domContentLoadedEventEnd, window.__htmxReadyAt || 0);
}"""


def _session_cookies(browser: Browser, base_url: str) -> list[Any]:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto("/")
    page.fill("input[name=username]", TREASURER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    page.wait_for_url(f"**/groups/{GROUP}")
    cookies = context.cookies()
    context.close()
    return list(cookies)


def _load(page: Page, path: str, transferred: list[int]) -> tuple[float, int]:
    transferred.clear()
    page.goto(path, wait_until="load")
    # Not wait_for_function: its predicate is an eval, which the pages' CSP refuses.
    page.evaluate(HTMX_LOADED)
    interactive_ms = float(page.evaluate(INTERACTIVE))
    return interactive_ms, sum(transferred)


def _measure(browser: Browser, base_url: str, cookies: list[Any]) -> tuple[float, int, float, int]:
    # The service worker's own fetches are not seen from the page's DevTools session: it is
    # blocked here, so the next load is what the browser's HTTP cache alone saves.
    context: BrowserContext = browser.new_context(
        base_url=base_url, viewport={"width": 360, "height": 740}, service_workers="block"
    )
    context.add_cookies(cookies)
    context.add_init_script(
        "document.addEventListener('htmx:load', "
        "() => { window.__htmxReadyAt ||= performance.now(); });"
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    transferred: list[int] = []
    cdp.on(
        "Network.loadingFinished", lambda event: transferred.append(int(event["encodedDataLength"]))
    )
    path = f"/groups/{GROUP}/meetings/new"
    first_ms, first_bytes = _load(page, path, transferred)
    next_ms, next_bytes = _load(page, path, transferred)
    context.close()
    return first_ms, first_bytes, next_ms, next_bytes


def main() -> None:
    print_conditions(
        "meeting page on slow 3G (chromium)",
        {"network": "400 ms RTT, 400 kbit/s down and up", "runs": str(RUNS)},
    )
    with tempfile.TemporaryDirectory() as scratch:
        db = Database.connect(f"sqlite:///{scratch}/demo.sqlite3")
        upgrade(db.engine)
        load_demo(db)
        db.write(
            lambda conn: users.create_user(
                conn, TREASURER, PASSWORD, "treasurer", (f"book:{GROUP}",)
            )
        )
        with live_server(db) as base_url, chromium() as browser:
            cookies = _session_cookies(browser, base_url)
            runs = [_measure(browser, base_url, cookies) for _ in range(RUNS)]
        db.dispose()
    first_ms = statistics.median(r[0] for r in runs)
    next_ms = statistics.median(r[2] for r in runs)
    print(
        f"first load: {runs[0][1] / 1000:.1f} KB transferred, interactive after {first_ms:.0f} ms"
    )
    print(f"next load:  {runs[0][3] / 1000:.1f} KB transferred, interactive after {next_ms:.0f} ms")
    print("(medians of the runs; target: under 60 KB, under 10 KB, under 3000 ms)")


if __name__ == "__main__":
    main()

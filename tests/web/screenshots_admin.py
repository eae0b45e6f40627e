"""Screenshots of the auditor's and the administrator's pages, for the README.

    .venv/bin/python -m tests.web.screenshots_admin [docs/screenshots]

Loads the demo organisation into a temporary SQLite database, signs in as an auditor and as
an administrator in Debian's chromium, and saves `/audit`, Fava inside the app on the
organisation's book, and `/admin` (users) at 1280x800 and 360x740, in English and Khmer, as
`<role>-<page>-<size>-<language>.png`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page
from sqlalchemy import Connection

from api.fava import FAVA_DIR_ENV
from ledger.access import users
from ledger.demo import load_demo
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from tests.api.conftest import PASSWORD
from tests.web.browser import chromium, live_server

SIZES = {"1280x800": (1280, 800), "360x740": (360, 740)}
PEOPLE = {"auditor": "chan.auditor", "admin": "srey.admin"}
PAGES = {
    "auditor": (("home", "/audit"), ("fava", "/fava/org/")),
    "admin": (("users", "/admin"), ("tokens", "/admin/tokens")),
}


def _sign_in(page: Page, username: str) -> None:
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    page.wait_for_load_state()


def _shoot(browser: Browser, base_url: str, folder: Path, role: str) -> list[Path]:
    taken = []
    for language in ("en", "km"):
        for size, (width, height) in SIZES.items():
            context = browser.new_context(
                viewport={"width": width, "height": height},
                base_url=base_url,
                locale="km-KH" if language == "km" else "en-US",
                extra_http_headers={"Accept-Language": language},
            )
            page = context.new_page()
            _sign_in(page, PEOPLE[role])
            for name, path in PAGES[role]:
                page.goto(path)
                if name == "fava":
                    page.get_by_text("Net Profit").first.wait_for(timeout=30_000)
                target = folder / f"{role}-{name}-{size}-{language}.png"
                page.screenshot(path=str(target))
                taken.append(target)
            context.close()
    return taken


def take(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ[FAVA_DIR_ENV] = f"{scratch}/fava"
        db = Database.connect(f"sqlite:///{scratch}/demo.sqlite3")
        upgrade(db.engine)
        load_demo(db)

        def people(conn: Connection) -> None:
            for role, username in PEOPLE.items():
                users.create_user(conn, username, PASSWORD, role)

        db.write(people)
        with live_server(db) as base_url, chromium() as browser:
            for role in PEOPLE:
                taken += _shoot(browser, base_url, folder, role)
        db.dispose()
    return taken


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for shot in take(out):
        print(shot)

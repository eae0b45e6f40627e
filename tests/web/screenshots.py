"""Screenshots of the treasurer's pages at 360x740, in Khmer and English, for the README.

    .venv/bin/python -m tests.web.screenshots [docs/screenshots]

Loads the demo organisation (its savings group sg-kt-002 has 15 members, 16 meetings and
loans) into a temporary SQLite database, signs in as that group's treasurer in Debian's
chromium, and saves group-home, meeting and passbook pages as PNG files.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page

from ledger.access import users
from ledger.demo import load_demo
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from tests.api.conftest import PASSWORD
from tests.web.browser import chromium, live_server

GROUP = "sg-kt-002"
TREASURER = "sreymom.treasurer"
PAGES = (
    ("group-home", f"/groups/{GROUP}"),
    ("meeting", f"/groups/{GROUP}/meetings/new"),
    ("passbook", f"/groups/{GROUP}/members/M03"),
)


def sign_in_as(page: Page, username: str, landing: str) -> None:
    """Sign in through the landing page (test password) and go to `landing`."""
    page.goto(f"/?next={landing}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/sign-in'] button")
    page.wait_for_url(f"**{landing}")


def _sign_in(page: Page) -> None:
    sign_in_as(page, TREASURER, f"/groups/{GROUP}")


def demo_database(scratch: str) -> Database:
    """The demo organisation loaded into a new SQLite database in the folder `scratch` (for
    any role's screenshots)."""
    db = Database.connect(f"sqlite:///{scratch}/demo.sqlite3")
    upgrade(db.engine)
    load_demo(db)
    return db


def take(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    with tempfile.TemporaryDirectory() as scratch:
        db = demo_database(scratch)
        db.write(
            lambda conn: users.create_user(
                conn, TREASURER, PASSWORD, "treasurer", (f"book:{GROUP}",)
            )
        )
        with live_server(db) as base_url, chromium() as browser:
            for language in ("km", "en"):
                context = browser.new_context(
                    viewport={"width": 360, "height": 740},
                    base_url=base_url,
                    locale="km-KH" if language == "km" else "en-US",
                    extra_http_headers={"Accept-Language": language},
                )
                page = context.new_page()
                _sign_in(page)
                for name, path in PAGES:
                    page.goto(path)
                    target = folder / f"{name}-{language}.png"
                    page.screenshot(path=str(target))
                    taken.append(target)
                context.close()
        db.dispose()
    return taken


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for shot in take(out):
        print(shot)

"""Screenshots of the livelihood officer's pages at 1280x800 and 360x740, for the README.

    .venv/bin/python -m tests.web.screenshots_officer [docs/screenshots]

Loads the demo organisation (its household LA-001 in Svay Rieng has a grant, four follow-up
visits to its pigs and income against a baseline) into a temporary SQLite database, signs in
as an officer for Svay Rieng in Debian's chromium, and saves the officer's home, the
household page, the register form and the visit form as
`officer-<page>-<1280x800|360x740>-<en|km>.png`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import ViewportSize

from ledger.access import users
from tests.api.conftest import PASSWORD
from tests.web.browser import chromium, live_server
from tests.web.screenshots import demo_database, sign_in_as

OFFICER = "dara.officer"
HOUSEHOLD = "LA-001"
PAGES = (
    ("home", "/households"),
    ("household", f"/households/{HOUSEHOLD}"),
    ("register", "/households/new"),
    ("visit", f"/households/{HOUSEHOLD}/visits/new"),
)
SIZES: dict[str, ViewportSize] = {
    "1280x800": {"width": 1280, "height": 800},
    "360x740": {"width": 360, "height": 740},
}


def take(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    with tempfile.TemporaryDirectory() as scratch:
        db = demo_database(scratch)
        db.write(
            lambda conn: users.create_user(
                conn, OFFICER, PASSWORD, "officer", ("province:Svay Rieng",)
            )
        )
        with live_server(db) as base_url, chromium() as browser:
            for language in ("km", "en"):
                for size, viewport in SIZES.items():
                    context = browser.new_context(
                        viewport=viewport,
                        base_url=base_url,
                        locale="km-KH" if language == "km" else "en-US",
                        extra_http_headers={"Accept-Language": language},
                    )
                    page = context.new_page()
                    sign_in_as(page, OFFICER, "/households")
                    for name, path in PAGES:
                        page.goto(path)
                        target = folder / f"officer-{name}-{size}-{language}.png"
                        page.screenshot(path=str(target))
                        taken.append(target)
                    context.close()
        db.dispose()
    return taken


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for shot in take(out):
        print(shot)

"""Screenshots of the finance team's pages at 1280x800 and 360x740, in Khmer and English,
for the README ("Finance team").

    .venv/bin/python -m tests.web.screenshots_finance [docs/screenshots]

Loads the demo organisation into a temporary SQLite database, imports the ACLEDA sample
statement (tests/data/statement-acleda-usd-walkthrough.csv) into its operating account so
the matching screen has a proposal, signs in as a finance user in Debian's chromium and
saves `finance-<page>-<size>-<language>.png`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page
from sqlalchemy import Connection

from ledger.access import users
from ledger.demo import load_demo
from ledger.demo.organisation import AWARD, BANK, ORG_BOOK
from ledger.demo.statements import ACLEDA_LIKE
from ledger.reconcile import service as reconcile
from ledger.store import books
from ledger.store.database import Database
from ledger.store.migrate import upgrade
from tests.api.conftest import PASSWORD
from tests.web.browser import chromium, live_server
from tests.web.screenshots import sign_in_as

FINANCE = "chenda.finance"
STATEMENT = Path(__file__).resolve().parents[1] / "data" / "statement-acleda-usd-walkthrough.csv"
SIZES = ((1280, 800), (360, 740))


def _import_statement(conn: Connection) -> int:
    bank = next(a for a in books.list_accounts(conn, ORG_BOOK) if a.name == BANK)
    text = STATEMENT.read_text("utf-8")
    found = reconcile.import_statement(
        conn, ORG_BOOK, bank.id, text, ACLEDA_LIKE, STATEMENT.name, FINANCE
    )
    return found.id


def _pages(statement_id: int) -> tuple[tuple[str, str], ...]:
    return (
        ("home", "/finance"),
        ("award", f"/awards/{AWARD}"),
        ("journal", "/journal/?date_from=2018-11-01&date_to=2018-11-30"),
        ("transaction-form", "/journal/new"),
        ("matching", f"/reconcile/{statement_id}"),
        ("close", "/close/?date=2018-11-30"),
    )


def _shoot(page: Page, folder: Path, size: str, language: str, statement_id: int) -> list[Path]:
    taken = []
    for name, path in _pages(statement_id):
        page.goto(path)
        target = folder / f"finance-{name}-{size}-{language}.png"
        page.screenshot(path=str(target))
        taken.append(target)
    return taken


def take(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch:
        db = Database.connect(f"sqlite:///{scratch}/demo.sqlite3")
        upgrade(db.engine)
        load_demo(db)
        db.write(lambda conn: users.create_user(conn, FINANCE, PASSWORD, "finance", ()))
        statement_id = db.write(_import_statement)
        with live_server(db) as base_url, chromium() as browser:
            for width, height in SIZES:
                for language in ("km", "en"):
                    context = browser.new_context(
                        viewport={"width": width, "height": height},
                        base_url=base_url,
                        locale="km-KH" if language == "km" else "en-US",
                        extra_http_headers={"Accept-Language": language},
                    )
                    page = context.new_page()
                    sign_in_as(page, FINANCE, "/finance")
                    size = f"{width}x{height}"
                    taken += _shoot(page, folder, size, language, statement_id)
                    context.close()
        db.dispose()
    return taken


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    for shot in take(out):
        print(shot)

"""Screenshots of the livelihood officer's grant and training pages, for the README.

    .venv/bin/python -m tests.web.screenshots_officer_grants [docs/screenshots]

Loads the demo organisation into a temporary SQLite database, adds two grants proposed by a
second officer (waiting for approval) and one approved grant (to disburse), in riel, signs in as
dara.officer (Svay Rieng, Prey Veng, Phnom Penh) in Debian's chromium and saves the grant list
with its approval queue, the proposal form, the disbursement form and the training page at
1280x800 and 360x740 (English; Khmer too for the grant list and the training page) as
`officer-<page>-<size>-<lang>.png`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import ViewportSize
from sqlalchemy import Connection

from ledger.access import users
from ledger.demo.organisation import AWARD
from ledger.grants import service as grants
from ledger.grants.service import GrantDraft
from ledger.store.database import Database
from tests.web.browser import chromium, live_server
from tests.web.screenshots import demo_database, sign_in_as

OFFICER = "dara.officer"
CHECKER = "sokha.officer"
SCOPES = ("province:Svay Rieng", "province:Prey Veng", "province:Phnom Penh")
SIZES: dict[str, ViewportSize] = {
    "1280x800": {"width": 1280, "height": 800},
    "360x740": {"width": 360, "height": 740},
}


def _proposal(case_code: str, amount: str, business: str, purpose: str) -> GrantDraft:
    return GrantDraft(
        case_code, AWARD, "livelihood-grants", business, amount, (), purpose, currency="KHR"
    )


def _grants_to_show(conn: Connection) -> int:
    """Two grants waiting for dara's approval and one approved; the approved one's id."""
    for user in (OFFICER, CHECKER):
        users.create_user(conn, user, "correct horse battery staple", "officer", SCOPES)
    grants.propose_grant(
        conn, _proposal("LA-003", "1200000", "pig_raising", "Two sows and feed"), CHECKER
    )
    grants.propose_grant(
        conn, _proposal("LA-005", "1100000", "grocery", "Stock for a village shop"), CHECKER
    )
    approved = grants.propose_grant(
        conn, _proposal("LA-004", "1050000", "chicken_raising", "Thirty hens and a coop"), CHECKER
    )
    grants.approve_grant(conn, approved.id, OFFICER)
    return approved.id


def _pages(grant_id: int) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(name, path, languages) of each screenshot."""
    return (
        ("grants", "/grants", ("en", "km")),
        ("grant-new", "/grants/new?case_code=LA-002", ("en",)),
        ("disburse", f"/grants/{grant_id}/disburse", ("en",)),
        ("training", "/trainings/1", ("en", "km")),
    )


def take(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    with tempfile.TemporaryDirectory() as scratch:
        db: Database = demo_database(scratch)
        grant_id = db.write(_grants_to_show)
        with live_server(db) as base_url, chromium() as browser:
            for language in ("en", "km"):
                for size, viewport in SIZES.items():
                    context = browser.new_context(
                        viewport=viewport,
                        base_url=base_url,
                        locale="km-KH" if language == "km" else "en-US",
                        extra_http_headers={"Accept-Language": language},
                    )
                    page = context.new_page()
                    sign_in_as(page, OFFICER, "/grants")
                    for name, path, languages in _pages(grant_id):
                        if language not in languages:
                            continue
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

"""The auditor's home: the books they may read, each with Fava (`/fava/{book}/`) and its
Beancount export, and the read-only reports. The export is served here for the page session
(the API's `GET /api/books/{book}/export.beancount` takes a bearer token, never a cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import MediaType, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream, Template

from api.auth import policy
from api.pages.render import page
from ledger.access.policy import Action, Principal, Target, decide
from ledger.export.beancount import export_book
from ledger.store import books
from ledger.store.database import Database, run_blocking

# The organisation's book first, then the savings groups, then the households.
KIND_ORDER = {"organisation": 0, "savings_group": 1, "household": 2}


def readable_books(db: Database, principal: Principal) -> list[books.Book]:
    with db.read() as conn:
        found = [
            b
            for b in books.list_books(conn)
            if decide(principal, Action.JOURNAL_READ, Target(b.code, b.province)) == "allow"
        ]
    return sorted(found, key=lambda b: (KIND_ORDER.get(b.kind, 3), b.code))


@get("/audit", opt=policy(Action.JOURNAL_READ), include_in_schema=False)
async def audit_home(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    principal: NamedDependency[Principal],
) -> Template:
    """Every book in the reader's scope, with Fava and the export."""
    found = await run_blocking(readable_books, db, principal)
    reports = decide(principal, Action.DONOR_REPORTS_READ) == "allow"
    return page(request, "audit.html", {"books": found, "reports": reports})


@get(
    "/audit/{book:str}/export.beancount",
    opt=policy(Action.JOURNAL_READ),
    include_in_schema=False,
    media_type=MediaType.TEXT,
)
async def audit_export(db: NamedDependency[Database], book: FromPath[str]) -> Stream:
    """The book's Beancount file, as the API streams it (the guard checked the scope)."""

    def chunks() -> Iterator[bytes]:
        with db.read() as conn:
            for text in export_book(conn, book):
                yield text.encode("utf-8")

    return Stream(
        chunks(),
        media_type=MediaType.TEXT,
        headers={"Content-Disposition": f'attachment; filename="{book}.beancount"'},
    )

"""Reports and exports for download under the page session: an award's donor report (PDF,
CSV) and budget against actual (CSV); a book's Beancount file and its transactions (CSV).

The same readers and printers as the API's routes; only the sign-in differs (the session
cookie instead of a bearer token), so the finance team downloads them from the browser.
`{book}` in a path is guarded by the book's scope, as in the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Stream, Template

from api.auth import policy
from api.files import CSV, PDF, csv_chunks, csv_response, csv_stream, pdf_response
from api.pages.render import page
from api.schemas.transactions import TRANSACTIONS_HEADER, Transaction, transaction_rows
from ledger.access.policy import Action
from ledger.core import limits
from ledger.export.beancount import export_book
from ledger.funds import service as funds
from ledger.reports.donor_report import (
    CSV_HEADER,
    build_donor_report,
    csv_rows,
    render_donor_report,
)
from ledger.reports.registers import BUDGET_HEADER, budget_rows, to_csv
from ledger.store import books, queries
from ledger.store.database import Database, run_blocking


def _transaction_pages(db: Database, book: str) -> Iterator[list[tuple[str, ...]]]:
    """Every transaction of the book, a page per short read, up to the API's CSV limit."""
    cursor: str | None = None
    sent = 0
    while sent < limits.CSV_TRANSACTIONS_MAX:
        with db.read() as conn:
            found = queries.list_transactions(
                conn, book, queries.TransactionFilter(), cursor, limits.PAGE_SIZE_MAX
            )
            precisions = books.commodity_precisions(conn)
        items = found.items[: limits.CSV_TRANSACTIONS_MAX - sent]
        yield list(transaction_rows(Transaction.of(book, t, precisions) for t in items))
        sent += len(items)
        cursor = found.next_cursor
        if cursor is None:
            return


class ReportPages(Controller):
    path = "/reports"
    include_in_schema = False

    @get("/", opt=policy(Action.DONOR_REPORTS_READ))
    async def reports(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        def read() -> dict[str, Any]:
            with db.read() as conn:
                return {"awards": funds.list_awards(conn), "books": books.list_books(conn)}

        return page(request, "finance/reports.html", await run_blocking(read))

    @get(
        "/awards/{award:str}/donor-report.pdf",
        opt=policy(Action.DONOR_REPORTS_READ),
        media_type=PDF,
    )
    async def donor_pdf(
        self, db: NamedDependency[Database], award: FromPath[str]
    ) -> Response[bytes]:
        def render() -> bytes:
            with db.read() as conn:
                report = build_donor_report(conn, award, None, None)
            return render_donor_report(report)

        return pdf_response(await run_blocking(render), f"donor-report-{award}.pdf")

    @get(
        "/awards/{award:str}/donor-report.csv",
        opt=policy(Action.DONOR_REPORTS_READ),
        media_type=CSV,
    )
    async def donor_csv(
        self, db: NamedDependency[Database], award: FromPath[str]
    ) -> Response[bytes]:
        def read() -> str:
            with db.read() as conn:
                return to_csv(CSV_HEADER, csv_rows(build_donor_report(conn, award, None, None)))

        return csv_response(await run_blocking(read), f"donor-report-{award}.csv")

    @get("/awards/{award:str}/budget.csv", opt=policy(Action.FUNDS_READ), media_type=CSV)
    async def budget_csv(
        self, db: NamedDependency[Database], award: FromPath[str]
    ) -> Response[bytes]:
        def read() -> str:
            with db.read() as conn:
                return to_csv(BUDGET_HEADER, budget_rows(funds.budget_report(conn, award)))

        return csv_response(await run_blocking(read), f"budget-{award}.csv")

    @get(
        "/books/{book:str}/export.beancount",
        opt=policy(Action.JOURNAL_READ),
        media_type=MediaType.TEXT,
    )
    async def beancount(self, db: NamedDependency[Database], book: FromPath[str]) -> Stream:
        def chunks() -> Iterator[bytes]:
            with db.read() as conn:
                for text in export_book(conn, book):
                    yield text.encode("utf-8")

        return Stream(
            chunks(),
            media_type=MediaType.TEXT,
            headers={"Content-Disposition": f'attachment; filename="{book}.beancount"'},
        )

    @get("/books/{book:str}/transactions.csv", opt=policy(Action.JOURNAL_READ), media_type=CSV)
    async def transactions_csv(self, db: NamedDependency[Database], book: FromPath[str]) -> Stream:
        pages = _transaction_pages(db, book)
        return csv_stream(csv_chunks(TRANSACTIONS_HEADER, pages), f"transactions-{book}.csv")

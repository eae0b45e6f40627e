"""The finance team's home (donor awards), an award's budget against actual (a chart and the
table), and currency exchanges. Thin: the funds service reads and writes, the templates
show; `finance_forms` reads what was typed.

The finance pages work on one book at a time: `?book=<code>`, by default the organisation's
book (the first book of kind `organisation`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import BOOK_NOT_FOUND, ensure_allowed, policy
from api.errors import STATUS_BY_KIND
from api.i18n import format_count, page_gettext
from api.pages import finance_forms as forms
from api.pages.render import language_of, page
from api.schemas.grants import Exchange, ExchangeCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target
from ledger.core.errors import LedgerRejected
from ledger.funds import service as funds
from ledger.reports.charts import GROUPS_MAX, BarChart, grouped_bars
from ledger.store import books
from ledger.store.books import utc_today
from ledger.store.database import Database, run_blocking

EXCHANGE_FIELDS = ("date", "from_account", "to_account", "from_amount", "to_amount", "rate")
BOOK_CODE_LENGTH_MAX = 64


def choose_book(conn: Connection, requested: str | None) -> books.Book:
    """The book a finance page works on: the one asked for, else the organisation's."""
    if requested:
        return books.get_book(conn, requested[:BOOK_CODE_LENGTH_MAX])
    found = books.list_books(conn)
    for book in found:
        if book.kind == "organisation":
            return book
    if not found:
        raise LedgerRejected([BOOK_NOT_FOUND])
    return found[0]


def readable_book(
    conn: Connection, principal: Principal, action: Action, requested: str | None
) -> books.Book:
    """`choose_book`, answered 404 when the book is outside the user's scope (as the API)."""
    book = choose_book(conn, requested)
    ensure_allowed(principal, action, Target(book.code, book.province))
    return book


def written_id(response: Response[Any]) -> int:
    """The id of what a write recorded (the writer answers with the encoded response)."""
    found = msgspec.json.decode(response.content)
    return int(found["id"])


def budget_chart(report: funds.BudgetReport, language: str) -> BarChart | None:
    """Budget, actual and committed per budget line, labelled in the reader's language."""
    lines = report.lines[-GROUPS_MAX:]
    if not lines:
        return None
    award = report.award

    def label(units: int) -> str:
        # Whole units without the currency (the heading names it): the ticks fit the margin.
        return format_count(units // 10**award.precision, language)

    series = [
        (page_gettext(language, "Budget"), [use.line.amount for use in lines]),
        (page_gettext(language, "Spent"), [use.actual for use in lines]),
        (page_gettext(language, "Committed"), [use.committed for use in lines]),
    ]
    return grouped_bars([use.line.code for use in lines], series, label, width=640, height=260)


class FinancePages(Controller):
    include_in_schema = False

    @get("/finance", opt=policy(Action.FUNDS_READ))
    async def finance_home(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        """Every donor award with its budget, spending and what is left."""

        def read() -> list[funds.BudgetReport]:
            with db.read() as conn:
                return [funds.budget_report(conn, a.code) for a in funds.list_awards(conn)]

        return page(request, "finance/home.html", {"reports": await run_blocking(read)})

    @get("/awards/{award:str}", opt=policy(Action.FUNDS_READ))
    async def award(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], award: FromPath[str]
    ) -> Template:
        def read() -> funds.BudgetReport:
            with db.read() as conn:
                return funds.budget_report(conn, award)

        report = await run_blocking(read)
        chart = budget_chart(report, language_of(request))
        return page(request, "finance/award.html", {"report": report, "chart": chart})


def _exchange_context(db: Database, principal: Principal, requested: str | None) -> dict[str, Any]:
    with db.read() as conn:
        book = readable_book(conn, principal, Action.FUNDS_READ, requested)
        accounts = [a for a in books.list_accounts(conn, book.code) if len(a.currencies) == 1]
        found = funds.list_exchanges(conn, book.code)
    return {"book": book, "accounts": accounts, "exchanges": found}


class ExchangePages(Controller):
    path = "/exchanges"
    include_in_schema = False

    @get("/", opt=policy(Action.FUNDS_READ))
    async def exchanges(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        book: FromQuery[str | None] = None,
    ) -> Template:
        context = await run_blocking(_exchange_context, db, principal, book)
        state = forms.blank({"date": utc_today().isoformat()})
        saved = request.query_params.get("saved")
        return page(request, "finance/exchanges.html", {**context, "form": state, "saved": saved})

    @post("/", opt=policy(Action.FUNDS_WRITE), status_code=HTTP_303_SEE_OTHER)
    async def record_exchange(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
    ) -> Response[Any] | Template:
        state = forms.typed(dict(await request.form()))
        context = await run_blocking(_exchange_context, db, principal, state.values.get("book"))
        state, data = forms.read_exchange(state, context["book"].code)
        if data is None:
            return page(
                request, "finance/exchanges.html", {**context, "form": state}, status_code=422
            )
        request_data: ExchangeCreate = data
        draft = request_data.to_draft()

        def work(conn: Connection) -> Exchange:
            return Exchange.of(funds.record_exchange(conn, draft, principal.username))

        try:
            await writer.write(
                "exchange.create", work, request_data, book=request_data.book, key=state.key
            )
        except LedgerRejected as rejected:
            state = state.refused(rejected.errors, EXCHANGE_FIELDS)
            status = STATUS_BY_KIND[rejected.first.kind]
            return page(
                request, "finance/exchanges.html", {**context, "form": state}, status_code=status
            )
        target = f"/exchanges?book={request_data.book}&saved=1"
        return Redirect(target, status_code=HTTP_303_SEE_OTHER)

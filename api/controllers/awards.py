"""Donor awards, their budget lines, fund receipts, budget-line expenses, budget vs actual;
and currency exchanges."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.files import CSV, csv_response
from api.schemas.grants import (
    EXAMPLE_AWARD,
    EXAMPLE_EXCHANGE,
    Award,
    AwardCreate,
    BudgetExpenseCreate,
    BudgetLineCreate,
    BudgetReport,
    Exchange,
    ExchangeCreate,
    FundReceiptCreate,
    Posted,
)
from api.writes import audited_write
from ledger.access.policy import Action, Principal
from ledger.core.amount import format_units
from ledger.funds import service as funds
from ledger.funds.rules import CONVERSION_METHOD
from ledger.funds.service import BudgetLineDraft
from ledger.reports.registers import BUDGET_HEADER, budget_rows, to_csv
from ledger.store import books
from ledger.store.database import Database


def _line_draft(line: BudgetLineCreate) -> BudgetLineDraft:
    return BudgetLineDraft(line.code, line.name, line.amount, line.expense_account)


class AwardController(Controller):
    path = "/api/awards"
    tags = ["donor funds"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Record a donor award with its budget lines",
        opt=policy(Action.FUNDS_WRITE),
    )
    def create_award(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        data: Annotated[
            AwardCreate, Body(examples=[Example(summary="USAID CTIP", value=EXAMPLE_AWARD)])
        ],
    ) -> Response[Award]:
        def unit(conn: Connection) -> Award:
            return Award.of(
                funds.create_award(
                    conn,
                    data.book,
                    data.code,
                    data.donor,
                    data.currency,
                    data.amount,
                    data.start_date,
                    data.end_date,
                    data.approval_threshold,
                    data.income_account,
                    [_line_draft(line) for line in data.budget_lines],
                    principal.username,
                )
            )

        return audited_write(
            db, request, principal, data, HTTP_201_CREATED, "award.create", unit, book=data.book
        )

    @get("/", sync_to_thread=True, summary="Donor awards", opt=policy(Action.FUNDS_READ))
    def list_awards(self, db: NamedDependency[Database]) -> list[Award]:
        with db.read() as conn:
            return [Award.of(a) for a in funds.list_awards(conn)]

    @get("/{award:str}", sync_to_thread=True, summary="One award", opt=policy(Action.FUNDS_READ))
    def get_award(self, db: NamedDependency[Database], award: FromPath[str]) -> Award:
        with db.read() as conn:
            return Award.of(funds.get_award(conn, award))

    @post(
        "/{award:str}/budget-lines",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Add a budget line to an award",
        opt=policy(Action.FUNDS_WRITE),
    )
    def add_budget_line(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        award: FromPath[str],
        data: JSONBody[BudgetLineCreate],
    ) -> Response[Award]:
        def unit(conn: Connection) -> Award:
            return Award.of(funds.add_budget_line(conn, award, _line_draft(data)))

        return audited_write(
            db, request, principal, data, HTTP_201_CREATED, "award.budget_line", unit
        )

    @post(
        "/{award:str}/receipts",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Record funds received from the donor (restricted income on receipt)",
        opt=policy(Action.FUNDS_WRITE),
    )
    def receive_funds(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        award: FromPath[str],
        data: JSONBody[FundReceiptCreate],
    ) -> Response[Posted]:
        def unit(conn: Connection) -> Posted:
            found = funds.get_award(conn, award)
            transaction_id = funds.receive_funds(
                conn,
                award,
                data.date,
                data.bank_account,
                data.amount,
                data.narration,
                data.reference,
                principal.username,
            )
            return Posted(found.book_code, transaction_id)

        return audited_write(db, request, principal, data, HTTP_201_CREATED, "award.receipt", unit)

    @post(
        "/{award:str}/expenses",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Spend on a budget line (within the award's dates and the line's remainder)",
        opt=policy(Action.FUNDS_WRITE),
    )
    def spend(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        award: FromPath[str],
        data: JSONBody[BudgetExpenseCreate],
    ) -> Response[Posted]:
        def unit(conn: Connection) -> Posted:
            found = funds.get_award(conn, award, lock=True)
            line = found.line(data.budget_line)
            currency = funds.account_currency(conn, found.book_id, data.paid_from, "paid_from")
            units = funds.positive_amount(conn, currency, data.amount, "amount")
            spent = funds.spend(
                conn,
                found,
                line,
                data.date,
                data.paid_from,
                units,
                currency,
                data.narration,
                data.payee,
                "expense",
                funds.parse_rate(data.exchange_rate),
                principal.username,
            )
            conversion = spent.conversion
            return Posted(
                found.book_code,
                spent.transaction_id,
                format_units(conversion.award_units, found.precision),
                conversion.method,
                None if conversion.rate is None else format(conversion.rate, "f"),
            )

        return audited_write(db, request, principal, data, HTTP_201_CREATED, "award.expense", unit)

    @get(
        "/{award:str}/budget",
        sync_to_thread=True,
        summary="Budget against actual per budget line, in the award's currency",
        opt=policy(Action.FUNDS_READ),
    )
    def budget(
        self,
        db: NamedDependency[Database],
        award: FromPath[str],
        as_of: FromQuery[datetime.date | None] = None,
    ) -> BudgetReport:
        with db.read() as conn:
            return BudgetReport.of(funds.budget_report(conn, award, as_of), CONVERSION_METHOD)

    @get(
        "/{award:str}/budget.csv",
        sync_to_thread=True,
        summary="Budget against actual as CSV",
        opt=policy(Action.FUNDS_READ),
        media_type=CSV,
    )
    def budget_csv(
        self,
        db: NamedDependency[Database],
        award: FromPath[str],
        as_of: FromQuery[datetime.date | None] = None,
    ) -> Response[str]:
        with db.read() as conn:
            report = funds.budget_report(conn, award, as_of)
        return csv_response(to_csv(BUDGET_HEADER, budget_rows(report)), f"budget-{award}.csv")


class ExchangeController(Controller):
    path = "/api/exchanges"
    tags = ["donor funds"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Exchange money between currencies (e.g. bank dollars into riel cash)",
        description="Give both amounts, or one amount and the rate (units received for one "
        "unit given). Posted with a total price; the rate is kept as the day's price.",
        opt=policy(Action.FUNDS_WRITE),
    )
    def exchange(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        data: Annotated[
            ExchangeCreate,
            Body(examples=[Example(summary="Dollars into riel", value=EXAMPLE_EXCHANGE)]),
        ],
    ) -> Response[Exchange]:
        def unit(conn: Connection) -> Exchange:
            record = funds.record_exchange(
                conn,
                data.book,
                data.date,
                data.from_account,
                data.to_account,
                data.from_amount,
                data.to_amount,
                data.rate,
                data.narration,
                principal.username,
            )
            return Exchange.of(record, books.commodity_precisions(conn))

        return audited_write(
            db, request, principal, data, HTTP_201_CREATED, "exchange.create", unit, book=data.book
        )

    @get(
        "/",
        sync_to_thread=True,
        summary="A book's exchanges in date order",
        opt=policy(Action.FUNDS_READ),
    )
    def list_exchanges(self, db: NamedDependency[Database], book: FromQuery[str]) -> list[Exchange]:
        with db.read() as conn:
            precisions = books.commodity_precisions(conn)
            return [Exchange.of(r, precisions) for r in funds.list_exchanges(conn, book)]

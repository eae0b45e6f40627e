"""Donor awards, their budget lines, fund receipts, budget-line expenses, budget vs actual;
and currency exchanges."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
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
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.funds import amendments
from ledger.funds import service as funds
from ledger.funds.rules import CONVERSION_METHOD
from ledger.reports.registers import BUDGET_HEADER, budget_rows, to_csv
from ledger.store.database import Database


class AwardController(Controller):
    path = "/api/awards"
    tags = ["donor funds"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Record a donor award with its budget lines",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def create_award(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        data: Annotated[
            AwardCreate, Body(examples=[Example(summary="USAID CTIP", value=EXAMPLE_AWARD)])
        ],
    ) -> Response[Award]:
        draft = data.to_draft()

        def work(conn: Connection) -> Award:
            return Award.of(funds.create_award(conn, draft, principal.username))

        return await writer.write("award.create", work, data, book=data.book)

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
        status_code=HTTP_201_CREATED,
        summary="Add a budget line to an award",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def add_budget_line(
        self,
        writer: NamedDependency[AuditedWriter],
        award: FromPath[str],
        data: JSONBody[BudgetLineCreate],
    ) -> Response[Award]:
        def work(conn: Connection) -> Award:
            return Award.of(funds.add_budget_line(conn, award, data.to_draft()))

        return await writer.write("award.budget_line", work, data)

    @post(
        "/{award:str}/receipts",
        status_code=HTTP_201_CREATED,
        summary="Record funds received from the donor (restricted income on receipt)",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def receive_funds(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        award: FromPath[str],
        data: JSONBody[FundReceiptCreate],
    ) -> Response[Posted]:
        def work(conn: Connection) -> Posted:
            received = funds.receive_funds(
                conn,
                award,
                data.date,
                data.bank_account,
                data.amount,
                data.narration,
                data.reference,
                principal.username,
            )
            return Posted.of_receipt(received)

        return await writer.write("award.receipt", work, data)

    @post(
        "/{award:str}/expenses",
        status_code=HTTP_201_CREATED,
        summary="Spend on a budget line (within the award's dates and the line's remainder)",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def spend(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        award: FromPath[str],
        data: JSONBody[BudgetExpenseCreate],
    ) -> Response[Posted]:
        draft = data.to_draft()

        def work(conn: Connection) -> Posted:
            return Posted.of_expense(funds.record_expense(conn, award, draft, principal.username))

        return await writer.write("award.expense", work, data)

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
            report = funds.budget_report(conn, award, as_of)
            revision = amendments.revision(conn, report.award)
            return BudgetReport.of(report, CONVERSION_METHOD, revision)

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
    ) -> Response[bytes]:
        with db.read() as conn:
            report = funds.budget_report(conn, award, as_of)
        return csv_response(to_csv(BUDGET_HEADER, budget_rows(report)), f"budget-{award}.csv")


class ExchangeController(Controller):
    path = "/api/exchanges"
    tags = ["donor funds"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Exchange money between currencies (e.g. bank dollars into riel cash)",
        description="Give both amounts, or one amount and the rate (units received for one "
        "unit given). Posted with a total price; the rate is kept as the day's price.",
        opt=policy(Action.FUNDS_WRITE),
    )
    async def exchange(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        data: Annotated[
            ExchangeCreate,
            Body(examples=[Example(summary="Dollars into riel", value=EXAMPLE_EXCHANGE)]),
        ],
    ) -> Response[Exchange]:
        draft = data.to_draft()

        def work(conn: Connection) -> Exchange:
            return Exchange.of(funds.record_exchange(conn, draft, principal.username))

        return await writer.write("exchange.create", work, data, book=data.book)

    @get(
        "/",
        sync_to_thread=True,
        summary="A book's exchanges in date order",
        opt=policy(Action.FUNDS_READ),
    )
    def list_exchanges(self, db: NamedDependency[Database], book: FromQuery[str]) -> list[Exchange]:
        with db.read() as conn:
            return [Exchange.of(r) for r in funds.list_exchanges(conn, book)]

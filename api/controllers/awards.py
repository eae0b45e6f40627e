"""Donor awards, their budget lines, fund receipts, budget-line expenses, budget vs actual;
and currency exchanges."""

from __future__ import annotations

import datetime

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from sqlalchemy import Connection

from api.cursors import id_after
from api.files import CSV, csv_response
from api.injected import Db, Page, Writer
from api.routes import creates, reads
from api.schemas.grants import (
    Award,
    AwardBody,
    AwardPage,
    BudgetLineBody,
    BudgetReport,
    Exchange,
    ExchangeBody,
    ExchangePage,
    ExpenseBody,
    FundReceiptBody,
    Posted,
)
from ledger.access.policy import Action
from ledger.funds import amendments
from ledger.funds import service as funds
from ledger.funds.rules import CONVERSION_METHOD
from ledger.reports.registers import BUDGET_HEADER, budget_rows, to_csv


class AwardController(Controller):
    path = "/api/awards"
    tags = ["donor funds"]

    @creates("/", "Record a donor award with its budget lines", Action.FUNDS_WRITE)
    async def create_award(self, writer: Writer, data: AwardBody) -> Response[Award]:
        """Records an award of an organisation's book in its currency, with its dates,
        maker-checker `approval_threshold` and budget lines; opens the income and expense
        accounts it names when the book has none by those names. Posts nothing: money comes
        in with `receipts`. Refuses `award_exists` (409), `book_not_organisation`,
        `award_dates_invalid`, `income_account_not_income`, `budget_exceeds_award`,
        `budget_line_repeated` and `too_many_budget_lines`."""
        draft = data.to_draft()
        username = writer.principal.username

        def work(conn: Connection) -> Award:
            return Award.of(funds.create_award(conn, draft, username))

        return await writer.write("award.create", work, data, book=data.book)

    @reads("/", "Donor awards", Action.FUNDS_READ)
    def list_awards(self, db: Db, page: Page) -> AwardPage:
        """One page of the awards in the order they were recorded, each with its budget lines
        as approved and amended, amounts in the award's currency. Pass `next_cursor` back as
        `cursor` for the next page."""
        with db.read() as conn:
            found = funds.page_of_awards(conn, id_after(page.cursor), page.limit)
        return AwardPage.of(found, page.limit)

    @reads("/{award:str}", "One award", Action.FUNDS_READ)
    def get_award(self, db: Db, award: FromPath[str]) -> Award:
        """The award by its code with its budget lines as approved and amended; 404
        `award_not_found` for a code no award has."""
        with db.read() as conn:
            return Award.of(funds.get_award(conn, award))

    @creates("/{award:str}/budget-lines", "Add a budget line to an award", Action.FUNDS_WRITE)
    async def add_budget_line(
        self, writer: Writer, award: FromPath[str], data: BudgetLineBody
    ) -> Response[Award]:
        """Adds a budget line with its expense account (opened when the book has none by that
        name); answers the award with all its lines. Refuses `budget_line_exists` (409),
        `budget_exceeds_award`, `too_many_budget_lines`, `budget_line_account_not_expense`."""

        def work(conn: Connection) -> Award:
            return Award.of(funds.add_budget_line(conn, award, data.to_draft()))

        return await writer.write("award.budget_line", work, data)

    @creates(
        "/{award:str}/receipts",
        "Record funds received from the donor (restricted income on receipt)",
        Action.FUNDS_WRITE,
    )
    async def receive_funds(
        self, writer: Writer, award: FromPath[str], data: FundReceiptBody
    ) -> Response[Posted]:
        """Posts the money received in the award's currency: the bank account debited, the
        award's restricted income account credited, tagged `fund-receipt` with the award's
        code (and `reference`) in its metadata. Answers the transaction's id. Refuses
        `award_not_found`, `account_unknown`, `account_not_asset`, `amount_not_positive`."""
        username = writer.principal.username

        def work(conn: Connection) -> Posted:
            received = funds.receive_funds(
                conn,
                award,
                data.date,
                data.bank_account,
                data.amount,
                data.narration,
                data.reference,
                username,
            )
            return Posted.of_receipt(received)

        return await writer.write("award.receipt", work, data)

    @creates(
        "/{award:str}/expenses",
        "Spend on a budget line (within the award's dates and the line's remainder)",
        Action.FUNDS_WRITE,
    )
    async def spend(
        self, writer: Writer, award: FromPath[str], data: ExpenseBody
    ) -> Response[Posted]:
        """Posts an expense on the line's expense account paid from a bank or cash account,
        in that account's currency, and measures it in the award's currency (at
        `exchange_rate` when given, else the weighted average rate of the exchanges from the
        award's currency into that account). Refuses `budget_line_not_found`,
        `award_not_active` (outside the award's dates), `exchange_rate_required`,
        and 409 `budget_line_exceeded` or `account_overdrawn` (a cash box below zero)."""
        draft = data.to_draft()
        username = writer.principal.username

        def work(conn: Connection) -> Posted:
            return Posted.of_expense(funds.record_expense(conn, award, draft, username))

        return await writer.write("award.expense", work, data)

    @reads(
        "/{award:str}/budget",
        "Budget against actual per budget line, in the award's currency",
        Action.FUNDS_READ,
    )
    def budget(
        self, db: Db, award: FromPath[str], as_of: FromQuery[datetime.date | None] = None
    ) -> BudgetReport:
        """Per budget line: budget (as amended), actual spent, committed by approved grants,
        remaining and percent used, in the award's currency, up to `as_of` (default: all);
        with the funds received and the amendment history. 404 `award_not_found`."""
        with db.read() as conn:
            report = funds.budget_report(conn, award, as_of)
            revision = amendments.revision(conn, report.award)
            return BudgetReport.of(report, CONVERSION_METHOD, revision)

    @reads(
        "/{award:str}/budget.csv",
        "Budget against actual as CSV",
        Action.FUNDS_READ,
        media_type=CSV,
    )
    def budget_csv(
        self, db: Db, award: FromPath[str], as_of: FromQuery[datetime.date | None] = None
    ) -> Response[bytes]:
        """The budget report's lines as a CSV file for a spreadsheet: one row a budget line
        with budget, actual, committed and remaining in the award's currency, up to `as_of`.
        404 `award_not_found`."""
        with db.read() as conn:
            report = funds.budget_report(conn, award, as_of)
        return csv_response(to_csv(BUDGET_HEADER, budget_rows(report)), f"budget-{award}.csv")


class ExchangeController(Controller):
    path = "/api/exchanges"
    tags = ["donor funds"]

    @creates(
        "/",
        "Exchange money between currencies (e.g. bank dollars into riel cash)",
        Action.FUNDS_WRITE,
    )
    async def exchange(self, writer: Writer, data: ExchangeBody) -> Response[Exchange]:
        """Give both amounts, or one amount and the rate (units received for one unit given).
        Posted with a total price; the rate is kept as the day's price, and payments from
        the receiving account are measured in an award's currency at the weighted average
        of these exchanges. Refuses `exchange_same_currency`, `exchange_terms_invalid`,
        `account_unknown` and `amount_not_positive`."""
        draft = data.to_draft()
        username = writer.principal.username

        def work(conn: Connection) -> Exchange:
            return Exchange.of(funds.record_exchange(conn, draft, username))

        return await writer.write("exchange.create", work, data, book=data.book)

    @reads("/", "A book's exchanges in the order recorded", Action.FUNDS_READ)
    def list_exchanges(self, db: Db, book: FromQuery[str], page: Page) -> ExchangePage:
        """One page of the book's exchanges in the order they were recorded (id order): the
        amounts given and received with their accounts and currencies, and the rate. `book`
        is required; 404 `book_not_found` for a book that does not exist."""
        with db.read() as conn:
            found = funds.page_of_exchanges(conn, book, id_after(page.cursor), page.limit)
        return ExchangePage.of(found, page.limit)

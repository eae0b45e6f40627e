"""Bank statements, matching, reconciliations and cash counts of one account; the period
close of a book; the donor financial report of an award (JSON, CSV, PDF)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from litestar import Controller, Response
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import dated_after, id_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Db, Page, Writer
from api.routes import acts, creates, reads
from api.schemas import example
from api.schemas.books import Book
from api.schemas.reconcile import (
    EXAMPLE_CASH_COUNT,
    EXAMPLE_MATCH,
    EXAMPLE_PERIOD_CLOSE,
    EXAMPLE_RECONCILIATION,
    EXAMPLE_REJECTION,
    EXAMPLE_STATEMENT,
    STATEMENT_REQUEST_BYTES_MAX,
    CashCountCreate,
    DonorReport,
    Match,
    MatchCreate,
    PeriodClose,
    Proposals,
    Reconciliation,
    ReconciliationClose,
    ReconciliationPage,
    Rejection,
    RejectionCreate,
    StatementImport,
    StatementImportCreate,
    StatementImportPage,
    Unmatched,
)
from ledger.access.policy import Action
from ledger.reconcile import rules
from ledger.reconcile import service as reconcile
from ledger.reports.donor_report import (
    CSV_HEADER,
    build_donor_report,
    csv_rows,
    render_donor_report,
)
from ledger.reports.donor_report import DonorReport as StoredDonorReport
from ledger.reports.registers import to_csv
from ledger.store.database import Database

StatementImportCreateBody = Annotated[
    StatementImportCreate, example("An ACLEDA-like export", EXAMPLE_STATEMENT)
]
MatchCreateBody = Annotated[MatchCreate, example("Accept a proposal", EXAMPLE_MATCH)]
RejectionCreateBody = Annotated[RejectionCreate, example("Not the same money", EXAMPLE_REJECTION)]
ReconciliationCloseBody = Annotated[
    ReconciliationClose, example("A bank fee", EXAMPLE_RECONCILIATION)
]
CashCountCreateBody = Annotated[CashCountCreate, example("An empty riel box", EXAMPLE_CASH_COUNT)]
PeriodCloseBody = Annotated[PeriodClose, example("November", EXAMPLE_PERIOD_CLOSE)]

ACCOUNT = "/{book:str}/accounts/{account_id:int}"
T = TypeVar("T")


def _read(db: Database, read: Callable[[Connection], T]) -> T:
    """What `read` makes of the books, in one read."""
    with db.read() as conn:
        return read(conn)


class ReconcileController(Controller):
    path = "/api/books"
    tags = ["reconciliation"]

    @creates(
        f"{ACCOUNT}/statements",
        "Import a bank statement (CSV with a column mapping)",
        Action.RECONCILE_WRITE,
        request_max_body_size=STATEMENT_REQUEST_BYTES_MAX,
    )
    async def import_statement(
        self,
        writer: Writer,
        book: FromPath[str],
        account_id: FromPath[int],
        data: StatementImportCreateBody,
    ) -> Response[StatementImport]:
        """Stores the lines of a bank's CSV export for an `Assets:Bank:` account of one
        currency, read through `mapping`; posts nothing. The CSV text travels in `csv` (at
        most 5 MiB, 20,000 lines, 2,000 characters a line: 422 `statement_too_large`,
        `statement_too_many_lines`, `statement_line_too_long`). A missing column, a bad date
        or amount, another currency or a running balance that does not follow refuses the
        whole file, every bad row named. Lines already stored are not added again."""

        def work(conn: Connection) -> StatementImport:
            rules_ = data.mapping.to_rules()
            username = writer.principal.username
            return StatementImport.of(
                reconcile.import_statement(
                    conn, book, account_id, data.csv, rules_, data.file_name, username
                )
            )

        return await writer.write("statement.import", work, data, book=book)

    @reads(f"{ACCOUNT}/statements", "The account's statement imports", Action.RECONCILE_READ)
    def list_statements(
        self, db: Db, book: FromPath[str], account_id: FromPath[int], page: Page
    ) -> StatementImportPage:
        """One page of the bank account's statement imports in the order imported: the dates
        they cover, lines read and added, the closing balance. `next_cursor` asks for the next
        page (null on the last); 422 `cursor_invalid` for a cursor this API did not return,
        `account_not_bank` for an account not under `Assets:Bank:`."""
        after, limit = id_after(page.cursor), page.limit
        found = _read(db, lambda conn: reconcile.list_imports(conn, book, account_id, after, limit))
        return StatementImportPage.of(found, limit)

    @reads(
        f"{ACCOUNT}/unmatched",
        "Statement lines and postings not matched yet",
        Action.RECONCILE_READ,
    )
    def unmatched(self, db: Db, book: FromPath[str], account_id: FromPath[int]) -> Unmatched:
        """The bank account's statement lines and ledger postings (in its one currency) that
        no match holds yet, in date order: what is left to explain before a close. 422
        `account_not_bank` for an account not under `Assets:Bank:`."""
        return _read(db, lambda conn: Unmatched.of(reconcile.unmatched(conn, book, account_id)))

    @reads(
        f"{ACCOUNT}/proposals",
        "Proposed matches: same amount, dates within the window, similar text",
        Action.RECONCILE_READ,
    )
    def proposals(
        self,
        db: Db,
        book: FromPath[str],
        account_id: FromPath[int],
        window_days: FromQuery[int] = rules.DATE_WINDOW_DAYS_DEFAULT,
    ) -> Proposals:
        """Pairs unmatched statement lines with unmatched postings of the same amount whose
        dates are at most `window_days` apart (0 to 31, default 5: else 422
        `window_days_invalid`), the most similar reference or description first; one line may
        pair with several postings or several lines with one. A rejected pair is never
        proposed again. Nothing is recorded until a match is accepted."""
        found, proposed = _read(
            db, lambda conn: reconcile.propose(conn, book, account_id, window_days)
        )
        return Proposals.of(found, proposed, window_days)

    @creates(f"{ACCOUNT}/matches", "Accept a proposal or match by hand", Action.RECONCILE_WRITE)
    async def match(
        self, writer: Writer, book: FromPath[str], account_id: FromPath[int], data: MatchCreateBody
    ) -> Response[Match]:
        """Records that these statement lines and postings are the same money (`proposed`:
        an accepted proposal); posts nothing. Their amounts must add up the same (422
        `match_amounts_differ`), one line to many postings or many lines to one, at most 50 on
        a side. Refused: a line or posting matched already (409 `already_matched`), named
        twice (422 `match_repeats_item`) or not of this account (404
        `statement_line_not_found`, `posting_not_found`)."""

        def work(conn: Connection) -> Match:
            how = "proposed" if data.proposed else "manual"
            username = writer.principal.username
            return Match.of(
                reconcile.match(
                    conn, book, account_id, data.line_ids, data.posting_ids, how, username
                )
            )

        return await writer.write("match.create", work, data, book=book)

    @creates(
        f"{ACCOUNT}/rejections",
        "Reject a proposal: these lines and postings are not proposed together again",
        Action.RECONCILE_WRITE,
    )
    async def reject(
        self,
        writer: Writer,
        book: FromPath[str],
        account_id: FromPath[int],
        data: RejectionCreateBody,
    ) -> Response[Rejection]:
        """Records every pair of these lines and postings as not the same money, so that
        proposals never pair them again; returns how many pairs. Needs at least one line and
        one posting of this account (422 `match_incomplete`; 404 `statement_line_not_found`,
        `posting_not_found`); a pair rejected already counts again, nothing changes."""

        def work(conn: Connection) -> Rejection:
            username = writer.principal.username
            return Rejection(
                reconcile.reject(conn, book, account_id, data.line_ids, data.posting_ids, username)
            )

        return await writer.write("match.reject", work, data, book=book)

    @creates(
        f"{ACCOUNT}/reconciliations",
        "Close the reconciliation: the statement's balance becomes a balance assertion",
        Action.RECONCILE_WRITE,
    )
    async def close(
        self,
        writer: Writer,
        book: FromPath[str],
        account_id: FromPath[int],
        data: ReconciliationCloseBody,
    ) -> Response[Reconciliation]:
        """Checks the bank's balance at the end of `date` (`closing_balance`, or the running
        balance of the last statement line up to then: else 422 `closing_balance_required`)
        against the ledger, in the account's currency, and records it as a balance assertion.
        A difference is refused (409 `reconciliation_difference`) unless an
        `adjustment_account` is named: the close then posts the difference against it. Once
        per account and day (409 `already_reconciled`), never in the locked period (409
        `period_locked`)."""

        def work(conn: Connection) -> Reconciliation:
            draft, username = data.to_draft(), writer.principal.username
            return Reconciliation.of(
                reconcile.close_statement(conn, book, account_id, draft, username)
            )

        return await writer.write("reconciliation.close", work, data, book=book)

    @reads(
        f"{ACCOUNT}/reconciliations",
        "The account's closed reconciliations and cash counts",
        Action.RECONCILE_READ,
    )
    def list_reconciliations(
        self, db: Db, book: FromPath[str], account_id: FromPath[int], page: Page
    ) -> ReconciliationPage:
        """One page of the account's closed reconciliations and cash counts in date order:
        what was counted, what the ledger held, the difference and its adjustment.
        `next_cursor` asks for the next page (null on the last); 422 `cursor_invalid` for a
        cursor this API did not return; 404 `account_not_found`."""
        after, limit = dated_after(page.cursor), page.limit
        found = _read(
            db, lambda conn: reconcile.list_reconciliations(conn, book, account_id, after, limit)
        )
        return ReconciliationPage.of(found, limit)

    @creates(
        f"{ACCOUNT}/cash-counts",
        "Count a cash box: the count becomes a balance assertion",
        Action.RECONCILE_WRITE,
    )
    async def count_cash(
        self,
        writer: Writer,
        book: FromPath[str],
        account_id: FromPath[int],
        data: CashCountCreateBody,
    ) -> Response[Reconciliation]:
        """The cash counted in an `Assets:Cash:` box of one currency at the end of `date`,
        checked against the ledger and recorded as a balance assertion, the same close as a
        statement's without a file. A negative count is 422 `amount_not_positive`; a
        difference is 409 `reconciliation_difference` unless an `adjustment_account` is named
        to post it against; once per box and day (409 `already_reconciled`)."""

        def work(conn: Connection) -> Reconciliation:
            draft, username = data.to_draft(), writer.principal.username
            return Reconciliation.of(reconcile.count_cash(conn, book, account_id, draft, username))

        return await writer.write("cash.count", work, data, book=book)

    @acts(
        "/{book:str}/period-close",
        "Close the period: every bank and cash account reconciled, then the lock date",
        Action.PERIOD_CLOSE,
    )
    async def close_period(
        self, writer: Writer, book: FromPath[str], data: PeriodCloseBody
    ) -> Response[Book]:
        """Every `Assets:Bank:` and `Assets:Cash:` account holding money by the end of `date`
        must have its balance checked on that very day (a reconciliation, a cash count or a
        balance assertion: else 409 `account_not_reconciled`, one error per account and
        currency); then the book's lock date moves to `date` (409 `lock_date_backwards` if it
        is later already) and the book is returned."""

        def work(conn: Connection) -> Book:
            return Book.of(reconcile.close_period(conn, book, data.date))

        return await writer.write(
            "book.period_close", work, data, status_code=HTTP_200_OK, book=book
        )


@dataclass(frozen=True, slots=True)
class Period:
    """The days a donor report covers (None: the award's own start or end)."""

    start: datetime.date | None
    end: datetime.date | None


def report_period(
    start: FromQuery[datetime.date | None] = None, end: FromQuery[datetime.date | None] = None
) -> Period:
    """`start` and `end` from the query: the `period` dependency of the report's routes."""
    return Period(start, end)


class DonorReportController(Controller):
    path = "/api/awards/{award:str}"
    tags = ["donor funds"]
    dependencies = {"period": Provide(report_period, sync_to_thread=False)}

    @reads(
        "/donor-report",
        "Donor financial report for a period (by default the award's own dates)",
        Action.DONOR_REPORTS_READ,
    )
    def report(self, db: Db, award: FromPath[str], period: NamedDependency[Period]) -> DonorReport:
        """The award's money from `start` to `end` in its currency: received, spent per budget
        line against budget (in the period and to date, in kind apart), what remains, the
        households and people reached (counted, never named), exchange gains and losses, its
        amendments and each bank and cash account with its last reconciliation. 404
        `award_not_found`."""
        return DonorReport.of(_donor_report(db, award, period))

    @reads(
        "/donor-report.csv",
        "Donor financial report as CSV",
        Action.DONOR_REPORTS_READ,
        media_type=CSV,
    )
    def report_csv(
        self, db: Db, award: FromPath[str], period: NamedDependency[Period]
    ) -> Response[bytes]:
        """The same report as CSV rows under one header, for a spreadsheet or the donor's own
        template: funds received, each budget line (budget, actual in the period and to date,
        remaining, percent used), the total, the reach, exchange gains and losses, then each
        bank and cash account. 404 `award_not_found`."""
        report = _donor_report(db, award, period)
        return csv_response(to_csv(CSV_HEADER, csv_rows(report)), f"donor-report-{award}.csv")

    @reads(
        "/donor-report.pdf",
        "Donor financial report as PDF, with a budget against actual chart",
        Action.DONOR_REPORTS_READ,
        media_type=PDF,
    )
    def report_pdf(
        self, db: Db, award: FromPath[str], period: NamedDependency[Period]
    ) -> Response[bytes]:
        """The same report as an A4 PDF to send the donor: the figures, a chart of budget
        against actual per line, the amendments and the bank and cash accounts. 404
        `award_not_found`."""
        report = _donor_report(db, award, period)
        return pdf_response(render_donor_report(report), f"donor-report-{award}.pdf")


def _donor_report(db: Database, award: str, period: Period) -> StoredDonorReport:
    return _read(db, lambda conn: build_donor_report(conn, award, period.start, period.end))

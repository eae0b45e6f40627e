"""Bank statements, matching, reconciliations and cash counts of one account; the period
close of a book; the donor financial report of an award (JSON, CSV, PDF)."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.files import CSV, PDF, csv_response, pdf_response
from api.schemas.books import Book
from api.schemas.reconcile import (
    EXAMPLE_ACLEDA_MAPPING,
    STATEMENT_REQUEST_BYTES_MAX,
    CashCountCreate,
    DonorReport,
    Match,
    MatchCreate,
    PeriodClose,
    Proposals,
    Reconciliation,
    ReconciliationClose,
    Rejection,
    RejectionCreate,
    StatementImport,
    StatementImportCreate,
    Unmatched,
)
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal
from ledger.reconcile import rules
from ledger.reconcile import service as reconcile
from ledger.reports.donor_report import (
    CSV_HEADER,
    build_donor_report,
    csv_rows,
    render_donor_report,
)
from ledger.reports.registers import to_csv
from ledger.store.database import Database

ACCOUNT = "/{book:str}/accounts/{account_id:int}"


class ReconcileController(Controller):
    path = "/api/books"
    tags = ["reconciliation"]

    @post(
        f"{ACCOUNT}/statements",
        status_code=HTTP_201_CREATED,
        summary="Import a bank statement (CSV with a column mapping)",
        description="The CSV text travels in `csv` (at most 5 MiB, 20,000 lines, 2,000 "
        "characters a line). Lines already stored are recognised and not added again.",
        opt=policy(Action.RECONCILE_WRITE),
        request_max_body_size=STATEMENT_REQUEST_BYTES_MAX,
    )
    async def import_statement(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        account_id: FromPath[int],
        data: Annotated[
            StatementImportCreate,
            Body(
                examples=[
                    Example(
                        summary="An ACLEDA-like export",
                        value={
                            "file_name": "acleda-2018-11.csv",
                            "mapping": EXAMPLE_ACLEDA_MAPPING,
                            "csv": "ACLEDA Bank Plc.\n...\nDate,Description,Reference,Debit,"
                            "Credit,Balance\n02/07/2018,Incoming transfer,TT180702-001,,"
                            '"5,000.00","5,000.00"\n',
                        },
                    )
                ]
            ),
        ],
    ) -> Response[StatementImport]:
        def work(conn: Connection) -> StatementImport:
            return StatementImport.of(
                reconcile.import_statement(
                    conn,
                    book,
                    account_id,
                    data.csv,
                    data.mapping.to_rules(),
                    data.file_name,
                    principal.username,
                )
            )

        return await writer.write("statement.import", work, data, book=book)

    @get(
        f"{ACCOUNT}/statements",
        sync_to_thread=True,
        summary="The account's statement imports",
        opt=policy(Action.RECONCILE_READ),
    )
    def list_statements(
        self, db: NamedDependency[Database], book: FromPath[str], account_id: FromPath[int]
    ) -> list[StatementImport]:
        with db.read() as conn:
            return [StatementImport.of(i) for i in reconcile.list_imports(conn, book, account_id)]

    @get(
        f"{ACCOUNT}/unmatched",
        sync_to_thread=True,
        summary="Statement lines and postings not matched yet",
        opt=policy(Action.RECONCILE_READ),
    )
    def unmatched(
        self, db: NamedDependency[Database], book: FromPath[str], account_id: FromPath[int]
    ) -> Unmatched:
        with db.read() as conn:
            return Unmatched.of(reconcile.unmatched(conn, book, account_id))

    @get(
        f"{ACCOUNT}/proposals",
        sync_to_thread=True,
        summary="Proposed matches: same amount, dates within the window, similar text",
        opt=policy(Action.RECONCILE_READ),
    )
    def proposals(
        self,
        db: NamedDependency[Database],
        book: FromPath[str],
        account_id: FromPath[int],
        window_days: FromQuery[int] = rules.DATE_WINDOW_DAYS_DEFAULT,
    ) -> Proposals:
        with db.read() as conn:
            found, proposed = reconcile.propose(conn, book, account_id, window_days)
        return Proposals.of(found, proposed, window_days)

    @post(
        f"{ACCOUNT}/matches",
        status_code=HTTP_201_CREATED,
        summary="Accept a proposal or match by hand",
        opt=policy(Action.RECONCILE_WRITE),
    )
    async def match(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        account_id: FromPath[int],
        data: JSONBody[MatchCreate],
    ) -> Response[Match]:
        def work(conn: Connection) -> Match:
            how = "proposed" if data.proposed else "manual"
            return Match.of(
                reconcile.match(
                    conn, book, account_id, data.line_ids, data.posting_ids, how,
                    principal.username,
                )
            )  # fmt: skip

        return await writer.write("match.create", work, data, book=book)

    @post(
        f"{ACCOUNT}/rejections",
        status_code=HTTP_201_CREATED,
        summary="Reject a proposal: these lines and postings are not proposed together again",
        opt=policy(Action.RECONCILE_WRITE),
    )
    async def reject(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        account_id: FromPath[int],
        data: JSONBody[RejectionCreate],
    ) -> Response[Rejection]:
        def work(conn: Connection) -> Rejection:
            return Rejection(
                reconcile.reject(
                    conn, book, account_id, data.line_ids, data.posting_ids, principal.username
                )
            )

        return await writer.write("match.reject", work, data, book=book)

    @post(
        f"{ACCOUNT}/reconciliations",
        status_code=HTTP_201_CREATED,
        summary="Close the reconciliation: the statement's balance becomes a balance assertion",
        opt=policy(Action.RECONCILE_WRITE),
    )
    async def close(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        account_id: FromPath[int],
        data: JSONBody[ReconciliationClose],
    ) -> Response[Reconciliation]:
        def work(conn: Connection) -> Reconciliation:
            draft = data.to_draft()
            closed = reconcile.close_statement(conn, book, account_id, draft, principal.username)
            return Reconciliation.of(closed)

        return await writer.write("reconciliation.close", work, data, book=book)

    @get(
        f"{ACCOUNT}/reconciliations",
        sync_to_thread=True,
        summary="The account's closed reconciliations and cash counts",
        opt=policy(Action.RECONCILE_READ),
    )
    def list_reconciliations(
        self, db: NamedDependency[Database], book: FromPath[str], account_id: FromPath[int]
    ) -> list[Reconciliation]:
        with db.read() as conn:
            found = reconcile.list_reconciliations(conn, book, account_id)
        return [Reconciliation.of(r) for r in found]

    @post(
        f"{ACCOUNT}/cash-counts",
        status_code=HTTP_201_CREATED,
        summary="Count a cash box: the count becomes a balance assertion",
        opt=policy(Action.RECONCILE_WRITE),
    )
    async def count_cash(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        book: FromPath[str],
        account_id: FromPath[int],
        data: JSONBody[CashCountCreate],
    ) -> Response[Reconciliation]:
        def work(conn: Connection) -> Reconciliation:
            draft = data.to_draft()
            counted = reconcile.count_cash(conn, book, account_id, draft, principal.username)
            return Reconciliation.of(counted)

        return await writer.write("cash.count", work, data, book=book)

    @post(
        "/{book:str}/period-close",
        status_code=HTTP_200_OK,
        summary="Close the period: every bank and cash account reconciled, then the lock date",
        opt=policy(Action.PERIOD_CLOSE),
    )
    async def close_period(
        self,
        writer: NamedDependency[AuditedWriter],
        book: FromPath[str],
        data: JSONBody[PeriodClose],
    ) -> Response[Book]:
        def work(conn: Connection) -> Book:
            return Book.of(reconcile.close_period(conn, book, data.date))

        return await writer.write(
            "book.period_close", work, data, status_code=HTTP_200_OK, book=book
        )


class DonorReportController(Controller):
    path = "/api/awards/{award:str}"
    tags = ["donor funds"]

    @get(
        "/donor-report",
        sync_to_thread=True,
        summary="Donor financial report for a period (by default the award's own dates)",
        opt=policy(Action.DONOR_REPORTS_READ),
    )
    def report(
        self,
        db: NamedDependency[Database],
        award: FromPath[str],
        start: FromQuery[datetime.date | None] = None,
        end: FromQuery[datetime.date | None] = None,
    ) -> DonorReport:
        with db.read() as conn:
            return DonorReport.of(build_donor_report(conn, award, start, end))

    @get(
        "/donor-report.csv",
        sync_to_thread=True,
        summary="Donor financial report as CSV",
        opt=policy(Action.DONOR_REPORTS_READ),
        media_type=CSV,
    )
    def report_csv(
        self,
        db: NamedDependency[Database],
        award: FromPath[str],
        start: FromQuery[datetime.date | None] = None,
        end: FromQuery[datetime.date | None] = None,
    ) -> Response[bytes]:
        with db.read() as conn:
            report = build_donor_report(conn, award, start, end)
        return csv_response(to_csv(CSV_HEADER, csv_rows(report)), f"donor-report-{award}.csv")

    @get(
        "/donor-report.pdf",
        sync_to_thread=True,
        summary="Donor financial report as PDF, with a budget against actual chart",
        opt=policy(Action.DONOR_REPORTS_READ),
        media_type=PDF,
    )
    def report_pdf(
        self,
        db: NamedDependency[Database],
        award: FromPath[str],
        start: FromQuery[datetime.date | None] = None,
        end: FromQuery[datetime.date | None] = None,
    ) -> Response[bytes]:
        with db.read() as conn:
            report = build_donor_report(conn, award, start, end)
        return pdf_response(render_donor_report(report), f"donor-report-{award}.pdf")

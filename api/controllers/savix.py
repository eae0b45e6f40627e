"""Savings groups across the programme: the SAVIX indicators of every group the caller may
see, of each province and of the programme, as JSON, as the quarterly CSV and as a PDF."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromQuery, Parameter

from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Caller, Db
from api.routes import reads
from api.schemas.savix import SavixReport
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.core.csv_text import to_csv
from ledger.reports import savix as printed
from ledger.savings import savix
from ledger.store.books import utc_today
from ledger.store.database import Database

Year = Annotated[int | None, Parameter(ge=savix.YEAR_MIN, le=savix.YEAR_MAX)]
Quarter = Annotated[int | None, Parameter(ge=1, le=4)]
Province = Annotated[str | None, Parameter(max_length=100)]
AsOf = FromQuery[datetime.date | None]


def _savix(
    db: Database, principal: Principal, as_of: datetime.date, province: str | None
) -> savix.ProgrammeSavix:
    scope = visible_provinces(principal, Action.SAVINGS_READ)
    if province is not None:
        scope = frozenset({province}) & scope if scope is not None else frozenset({province})
    with db.read() as conn:
        return savix.programme_savix(conn, as_of, scope)


class SavixController(Controller):
    path = "/api/savix"
    tags = ["savings groups"]

    @reads(
        "/",
        "SAVIX indicators of every group, each province and the programme, as of a date",
        Action.SAVINGS_READ,
    )
    def report(
        self, db: Db, principal: Caller, as_of: AsOf = None, province: Province = None
    ) -> SavixReport:
        """The SAVIX figures (members, attendance, savings, loans, portfolio at risk, return
        on savings, ...) of every group you may see, of each province and of the programme,
        at the end of `as_of` (default: today); money is summed per (province, currency),
        never across currencies. Groups whose first cycle had not begun by then are left out.
        Formulas: docs/ACCOUNTING.md."""
        return SavixReport.of(_savix(db, principal, as_of or utc_today(), province))

    @reads(
        "/quarterly.csv",
        "The quarter's SAVIX report as CSV: a row per group, province and programme",
        Action.SAVINGS_READ,
        media_type=CSV,
    )
    def quarterly_csv(
        self,
        db: Db,
        principal: Caller,
        year: Year = None,
        quarter: Quarter = None,
        province: Province = None,
    ) -> Response[bytes]:
        """The SAVIX report as of the quarter's last day (default: the current quarter) as
        UTF-8 CSV, the columns SAVIX asks for (docs/ACCOUNTING.md). `year` outside the
        ledger's years or `quarter` outside 1-4 is 422 request_invalid."""
        today = utc_today()
        on = savix.quarter_end(year or today.year, quarter or (today.month - 1) // 3 + 1)
        found = _savix(db, principal, on, province)
        name = f"savix-{printed.period_text(on)}.csv"
        return csv_response(to_csv(printed.HEADER, printed.csv_rows(found)), name)

    @reads(
        "/report.pdf",
        "SAVIX indicators as of a date (Khmer and English, PDF, with a chart)",
        Action.SAVINGS_READ,
        media_type=PDF,
    )
    def report_pdf(
        self, db: Db, principal: Caller, as_of: AsOf = None, province: Province = None
    ) -> Response[bytes]:
        """The SAVIX report (as `GET /api/savix`) printed in Khmer and English, with a chart
        by group (by province when there are many groups); the CSV has every group where the
        printed table stops."""
        found = _savix(db, principal, as_of or utc_today(), province)
        view = printed.savix_view(found, utc_today())
        return pdf_response(printed.render_savix(view), f"savix-{found.as_of}.pdf")

"""The programme's indicator report (JSON, CSV, bilingual PDF): people reached by sex and age
group, by province and quarter; grants; trainees and certificates; income; savings groups.
Counts only: no case code, sex or birth year of anyone (docs/SECURITY.md)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from litestar import Controller, Response
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery

from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Caller, Db
from api.routes import reads
from api.schemas.indicators import Indicators
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.outcomes import indicators
from ledger.reports.indicators import CSV_HEADER, csv_rows, render_indicators
from ledger.reports.registers import to_csv
from ledger.store.books import utc_today
from ledger.store.database import Database

_DESCRIPTION = (
    "People reached (households whose consent date falls in the period, and the people "
    "recorded under their case codes) by sex and age group (children under 18, adults), by "
    "province and quarter; grants disbursed in the period, cash and in kind, and their value; "
    "trainees of trainings starting in the period and certificates; households whose income "
    "rose against their baseline; savings groups and their members on the period's last day. "
    "Within your provinces; `start` left out: from the first record, `end`: today. A `start` "
    "after `end` is refused (422 report_period_invalid)."
)


@dataclass(frozen=True, slots=True)
class Period:
    """What every indicator route reads from its query: a province and a period."""

    province: str | None
    start: datetime.date | None
    end: datetime.date | None


def provide_period(
    province: FromQuery[str | None] = None,
    start: FromQuery[datetime.date | None] = None,
    end: FromQuery[datetime.date | None] = None,
) -> Period:
    """The `period` dependency: the query parameters of the JSON, CSV and PDF alike."""
    return Period(province, start, end)


def _indicators(db: Database, principal: Principal, period: Period) -> indicators.Indicators:
    scope = visible_provinces(principal, Action.OUTCOMES_READ)
    with db.read() as conn:
        return indicators.build_indicators(
            conn, scope, utc_today(), period.province, period.start, period.end
        )


Filter = NamedDependency[Period]


class IndicatorController(Controller):
    path = "/api"
    tags = ["follow-up and income"]
    dependencies = {"period": Provide(provide_period, sync_to_thread=False)}

    @reads(
        "/indicators",
        "Programme indicators for a period: people by sex and age, grants, training",
        Action.OUTCOMES_READ,
        description=_DESCRIPTION,
    )
    def report(self, db: Db, principal: Caller, period: Filter) -> Indicators:
        return Indicators.of(_indicators(db, principal, period))

    @reads(
        "/indicators.csv",
        "Programme indicators as CSV, one figure a row (Khmer and English labels)",
        Action.OUTCOMES_READ,
        media_type=CSV,
    )
    def report_csv(self, db: Db, principal: Caller, period: Filter) -> Response[bytes]:
        """The indicators (as `GET /api/indicators`, same query) as UTF-8 CSV, one figure a
        row with its Khmer and English label; counts only, never a case code."""
        found = _indicators(db, principal, period)
        return csv_response(to_csv(CSV_HEADER, csv_rows(found)), "indicators.csv")

    @reads(
        "/indicators.pdf",
        "Programme indicators as PDF (Khmer and English)",
        Action.OUTCOMES_READ,
        media_type=PDF,
    )
    def report_pdf(self, db: Db, principal: Caller, period: Filter) -> Response[bytes]:
        """The indicators (as `GET /api/indicators`, same query) printed in Khmer and
        English; counts only, never a case code."""
        found = _indicators(db, principal, period)
        return pdf_response(render_indicators(found, utc_today()), "indicators.pdf")

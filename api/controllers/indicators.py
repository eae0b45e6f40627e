"""The programme's indicator report (JSON, CSV, bilingual PDF): people reached by sex and age
group, by province and quarter; grants; trainees and certificates; income; savings groups.
Counts only: no case code, sex or birth year of anyone (docs/SECURITY.md)."""

from __future__ import annotations

import datetime

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from api.auth import policy
from api.files import CSV, PDF, csv_response, pdf_response
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
    "Within your provinces; `start` left out: from the first record, `end`: today."
)


def _indicators(
    db: Database,
    principal: Principal,
    province: str | None,
    start: datetime.date | None,
    end: datetime.date | None,
) -> indicators.Indicators:
    scope = visible_provinces(principal, Action.OUTCOMES_READ)
    with db.read() as conn:
        return indicators.build_indicators(conn, scope, utc_today(), province, start, end)


class IndicatorController(Controller):
    path = "/api"
    tags = ["follow-up and income"]

    @get(
        "/indicators",
        sync_to_thread=True,
        summary="Programme indicators for a period: people by sex and age, grants, training",
        description=_DESCRIPTION,
        opt=policy(Action.OUTCOMES_READ),
    )
    def report(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        province: FromQuery[str | None] = None,
        start: FromQuery[datetime.date | None] = None,
        end: FromQuery[datetime.date | None] = None,
    ) -> Indicators:
        return Indicators.of(_indicators(db, principal, province, start, end))

    @get(
        "/indicators.csv",
        sync_to_thread=True,
        summary="Programme indicators as CSV, one figure a row (Khmer and English labels)",
        description=_DESCRIPTION,
        opt=policy(Action.OUTCOMES_READ),
        media_type=CSV,
    )
    def report_csv(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        province: FromQuery[str | None] = None,
        start: FromQuery[datetime.date | None] = None,
        end: FromQuery[datetime.date | None] = None,
    ) -> Response[bytes]:
        found = _indicators(db, principal, province, start, end)
        return csv_response(to_csv(CSV_HEADER, csv_rows(found)), "indicators.csv")

    @get(
        "/indicators.pdf",
        sync_to_thread=True,
        summary="Programme indicators as PDF (Khmer and English)",
        description=_DESCRIPTION,
        opt=policy(Action.OUTCOMES_READ),
        media_type=PDF,
    )
    def report_pdf(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        province: FromQuery[str | None] = None,
        start: FromQuery[datetime.date | None] = None,
        end: FromQuery[datetime.date | None] = None,
    ) -> Response[bytes]:
        found = _indicators(db, principal, province, start, end)
        return pdf_response(render_indicators(found, utc_today()), "indicators.pdf")

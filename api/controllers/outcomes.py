"""A household's follow-up visits and income records (posted in its book), its outcome, and
the programme's outcome report per award and province."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.files import CSV, PDF, csv_response, pdf_response
from api.schemas.training import (
    EXAMPLE_FOLLOW_UP,
    EXAMPLE_INCOME,
    EXAMPLE_VISIT,
    FollowUp,
    FollowUpCreate,
    HouseholdOutcome,
    Income,
    IncomeCreate,
    ProgrammeOutcome,
    Visit,
    VisitCreate,
)
from api.scopes import household_in_scope, scoped_household
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.income import service as income
from ledger.livestock import follow_up
from ledger.livestock import service as livestock
from ledger.outcomes import rules as outcome_rules
from ledger.outcomes import service as outcomes
from ledger.reports.outcomes import (
    HOUSEHOLD_HEADER,
    MONTHS_HEADER,
    household_rows,
    household_view,
    month_rows,
    programme_view,
    render_outcomes,
)
from ledger.reports.registers import to_csv
from ledger.store.books import utc_today
from ledger.store.database import Database


def _household_outcome(
    db: Database, principal: Principal, case: str, currency: str
) -> outcome_rules.HouseholdReport:
    """The household's outcome, the same for its JSON, CSV and PDF."""
    with db.read() as conn:
        household = scoped_household(conn, principal, Action.OUTCOMES_READ, case)
        return outcomes.household_outcome(conn, household, currency)


def _programme_outcome(
    db: Database,
    principal: Principal,
    award: str | None,
    province: str | None,
    currency: str | None,
) -> outcome_rules.ProgrammeOutcome:
    """The programme's outcome within the caller's provinces, the same for JSON, CSV and PDF."""
    scope = visible_provinces(principal, Action.OUTCOMES_READ)
    with db.read() as conn:
        return outcomes.programme_outcome(conn, scope, award, province, currency)


class HouseholdOutcomeController(Controller):
    path = "/api/households"
    tags = ["follow-up and income"]

    @post(
        "/{case:str}/visits",
        status_code=HTTP_201_CREATED,
        summary="A follow-up visit: livestock counted, births, deaths, sales; feed and vet costs",
        description="Posts the movements in the household's book; a count that differs from "
        "the book is posted as an adjustment and needs its `reason`.",
        opt=policy(Action.OUTCOMES_WRITE),
    )
    async def record_visit(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        data: Annotated[
            VisitCreate, Body(examples=[Example(summary="Pigs at six months", value=EXAMPLE_VISIT)])
        ],
    ) -> Response[Visit]:
        draft = data.to_draft(case)

        def work(conn: Connection) -> Visit:
            household_in_scope(conn, principal, Action.OUTCOMES_WRITE, case)
            return Visit.of(livestock.record_visit(conn, draft, utc_today(), principal.username))

        return await writer.write("visit.create", work, data)

    @post(
        "/{case:str}/follow-ups",
        status_code=HTTP_201_CREATED,
        summary="A whole follow-up visit in one request: the herd and the month's income",
        description="Records a visit (as `POST .../visits`; `species` may be empty when "
        "`income` is given) and the household's income for one month by source (as `POST "
        ".../income`, in the visit's currency), all or nothing: any refusal writes no part. "
        "The officer's phone sends a visit kept offline as this one request, with the "
        "Idempotency-Key made when the form was opened.",
        opt=policy(Action.OUTCOMES_WRITE),
    )
    async def record_follow_up(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        data: Annotated[
            FollowUpCreate,
            Body(examples=[Example(summary="Pigs sold, crops", value=EXAMPLE_FOLLOW_UP)]),
        ],
    ) -> Response[FollowUp]:
        draft = data.to_draft(case)

        def work(conn: Connection) -> FollowUp:
            household_in_scope(conn, principal, Action.OUTCOMES_WRITE, case)
            return FollowUp.of(
                follow_up.record_follow_up(conn, draft, utc_today(), principal.username)
            )

        return await writer.write("follow_up.create", work, data)

    @get(
        "/{case:str}/visits",
        sync_to_thread=True,
        summary="The household's follow-up visits in date order",
        opt=policy(Action.OUTCOMES_READ),
    )
    def list_visits(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
    ) -> list[Visit]:
        with db.read() as conn:
            household = scoped_household(conn, principal, Action.OUTCOMES_READ, case)
            return [Visit.of(v) for v in livestock.list_visits(conn, [household.id])]

    @post(
        "/{case:str}/income",
        status_code=HTTP_201_CREATED,
        summary="A month's income from one source (the baseline before support, or after)",
        opt=policy(Action.OUTCOMES_WRITE),
    )
    async def record_income(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        data: Annotated[
            IncomeCreate, Body(examples=[Example(summary="Crops", value=EXAMPLE_INCOME)])
        ],
    ) -> Response[Income]:
        draft = data.to_draft(case)

        def work(conn: Connection) -> Income:
            household_in_scope(conn, principal, Action.OUTCOMES_WRITE, case)
            return Income.of(income.record_income(conn, draft, utc_today(), principal.username))

        return await writer.write("income.create", work, data)

    @get(
        "/{case:str}/income",
        sync_to_thread=True,
        summary="The household's income records by month",
        opt=policy(Action.OUTCOMES_READ),
    )
    def list_income(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
    ) -> list[Income]:
        with db.read() as conn:
            household = scoped_household(conn, principal, Action.OUTCOMES_READ, case)
            return [Income.of(r) for r in income.list_income(conn, [household.id])]

    @get(
        "/{case:str}/outcomes",
        sync_to_thread=True,
        summary="The household's income by source and month against its baseline; its herds",
        opt=policy(Action.OUTCOMES_READ),
    )
    def household_outcome(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        currency: FromQuery[str] = "KHR",
    ) -> HouseholdOutcome:
        found = _household_outcome(db, principal, case, currency)
        return HouseholdOutcome.of(found.outcome, found.report)

    @get(
        "/{case:str}/outcomes.pdf",
        sync_to_thread=True,
        summary="The household's income by source and month against its baseline (PDF, chart)",
        opt=policy(Action.OUTCOMES_READ),
        media_type=PDF,
    )
    def household_outcome_pdf(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        currency: FromQuery[str] = "KHR",
    ) -> Response[bytes]:
        found = _household_outcome(db, principal, case, currency)
        view = household_view(found.outcome, found.report, utc_today())
        return pdf_response(render_outcomes(view), f"income-{case}.pdf")

    @get(
        "/{case:str}/outcomes.csv",
        sync_to_thread=True,
        summary="The household's income by month and source, as CSV",
        opt=policy(Action.OUTCOMES_READ),
        media_type=CSV,
    )
    def household_outcome_csv(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        currency: FromQuery[str] = "KHR",
    ) -> Response[bytes]:
        found = _household_outcome(db, principal, case, currency)
        return csv_response(
            to_csv(MONTHS_HEADER, month_rows(found.outcome, found.report)), f"income-{case}.csv"
        )


class ProgrammeOutcomeController(Controller):
    path = "/api"
    tags = ["follow-up and income"]

    @get(
        "/outcomes",
        sync_to_thread=True,
        summary="Programme outcomes per award and province, in one currency",
        opt=policy(Action.OUTCOMES_READ),
    )
    def programme(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        award: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
    ) -> ProgrammeOutcome:
        found = _programme_outcome(db, principal, award, province, currency)
        return ProgrammeOutcome.of(found)

    @get(
        "/outcomes.csv",
        sync_to_thread=True,
        summary="Programme outcomes per household, as CSV",
        opt=policy(Action.OUTCOMES_READ),
        media_type=CSV,
    )
    def programme_csv(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        award: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        found = _programme_outcome(db, principal, award, province, currency)
        return csv_response(
            to_csv(HOUSEHOLD_HEADER, household_rows(found.households, found.report)),
            "outcomes.csv",
        )

    @get(
        "/outcomes.pdf",
        sync_to_thread=True,
        summary="Programme outcomes (Khmer and English, PDF, with the income chart)",
        opt=policy(Action.OUTCOMES_READ),
        media_type=PDF,
    )
    def programme_pdf(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        award: FromQuery[str | None] = None,
        province: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        found = _programme_outcome(db, principal, award, province, currency)
        return pdf_response(render_outcomes(programme_view(found, utc_today())), "outcomes.pdf")

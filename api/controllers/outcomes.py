"""A household's follow-up visits and income records (posted in its book), its outcome, and
the programme's outcome report per award and province."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, Response
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from sqlalchemy import Connection

from api.cursors import dated_after
from api.files import CSV, PDF, csv_response, pdf_response
from api.injected import Caller, Db, Page, Writer
from api.routes import creates, reads
from api.schemas import example
from api.schemas.outcomes import IncomePage, VisitPage
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

Case = FromPath[str]
Currency = FromQuery[str]
ResultT = TypeVar("ResultT", bound=msgspec.Struct)


async def _household_write(
    writer: AuditedWriter,
    case: str,
    action: str,
    data: msgspec.Struct,
    record: Callable[[Connection, str], ResultT],
) -> Response[ResultT]:
    """Write `record(conn, username)` for a household of the caller's provinces (404
    household_not_found otherwise), audited as `action`."""
    principal = writer.principal

    def work(conn: Connection) -> ResultT:
        household_in_scope(conn, principal, Action.OUTCOMES_WRITE, case)
        return record(conn, principal.username)

    return await writer.write(action, work, data)


def _household_outcome(
    db: Database, principal: Principal, case: str, currency: str
) -> outcome_rules.HouseholdReport:
    """The household's outcome, the same for its JSON, CSV and PDF."""
    with db.read() as conn:
        household = scoped_household(conn, principal, Action.OUTCOMES_READ, case)
        return outcomes.household_outcome(conn, household, currency)


@dataclass(frozen=True, slots=True)
class ProgrammeFilter:
    """What every programme outcome route reads from its query."""

    award: str | None
    province: str | None
    currency: str | None


def provide_programme_filter(
    award: FromQuery[str | None] = None,
    province: FromQuery[str | None] = None,
    currency: FromQuery[str | None] = None,
) -> ProgrammeFilter:
    """The `where` dependency: the query parameters of the JSON, CSV and PDF alike."""
    return ProgrammeFilter(award, province, currency)


def _programme_outcome(
    db: Database, principal: Principal, where: ProgrammeFilter
) -> outcome_rules.ProgrammeOutcome:
    """The programme's outcome within the caller's provinces, the same for JSON, CSV and PDF."""
    scope = visible_provinces(principal, Action.OUTCOMES_READ)
    with db.read() as conn:
        return outcomes.programme_outcome(conn, scope, where.award, where.province, where.currency)


Where = NamedDependency[ProgrammeFilter]


class HouseholdOutcomeController(Controller):
    path = "/api/households"
    tags = ["follow-up and income"]

    @creates(
        "/{case:str}/visits",
        "A follow-up visit: livestock counted, births, deaths, sales; feed and vet costs",
        Action.OUTCOMES_WRITE,
    )
    async def record_visit(
        self,
        writer: Writer,
        case: Case,
        data: Annotated[VisitCreate, example("Pigs at six months", EXAMPLE_VISIT)],
    ) -> Response[Visit]:
        """Posts the movements (births, deaths, purchases, sales, eaten, passed on) of each
        species in the household's book, in head, and the feed and vet costs in the visit's
        currency. A count that differs from the book is posted as an adjustment and needs its
        `reason` (422 count_reason_required). Also refused: 409 visit_not_after_last; 422
        species_invalid, species_repeated, head_count_negative, date_before_consent,
        date_in_future; 404
        household_not_found (also outside your provinces)."""
        draft = data.to_draft(case)

        def record(conn: Connection, username: str) -> Visit:
            return Visit.of(livestock.record_visit(conn, draft, utc_today(), username))

        return await _household_write(writer, case, "visit.create", data, record)

    @creates(
        "/{case:str}/follow-ups",
        "A whole follow-up visit in one request: the herd and the month's income",
        Action.OUTCOMES_WRITE,
    )
    async def record_follow_up(
        self,
        writer: Writer,
        case: Case,
        data: Annotated[FollowUpCreate, example("Pigs sold, crops", EXAMPLE_FOLLOW_UP)],
    ) -> Response[FollowUp]:
        """Records a visit (as `POST .../visits`; `species` may be empty when `income` is
        given) and the household's income for one month by source (as `POST .../income`, in
        the visit's currency), all or nothing: any refusal writes no part. The officer's phone
        sends a visit kept offline as this one request, with the Idempotency-Key made when
        the form was opened."""
        draft = data.to_draft(case)

        def record(conn: Connection, username: str) -> FollowUp:
            return FollowUp.of(follow_up.record_follow_up(conn, draft, utc_today(), username))

        return await _household_write(writer, case, "follow_up.create", data, record)

    @reads(
        "/{case:str}/visits",
        "The household's follow-up visits in date order",
        Action.OUTCOMES_READ,
    )
    def list_visits(self, db: Db, principal: Caller, case: Case, page: Page) -> VisitPage:
        """One page of the visits in date order, each with its species lines (counted,
        expected by the book, births, deaths by cause, sales) and costs. `next_cursor` asks
        for the next page (422 cursor_invalid for any other text). 404 household_not_found
        (also outside your provinces)."""
        after = dated_after(page.cursor)
        with db.read() as conn:
            household = scoped_household(conn, principal, Action.OUTCOMES_READ, case)
            found = livestock.list_visits(conn, [household.id], page.limit, after)
        return VisitPage.of(found, page.limit)

    @creates(
        "/{case:str}/income",
        "A month's income from one source (the baseline before support, or after)",
        Action.OUTCOMES_WRITE,
    )
    async def record_income(
        self,
        writer: Writer,
        case: Case,
        data: Annotated[IncomeCreate, example("Crops", EXAMPLE_INCOME)],
    ) -> Response[Income]:
        """Posts the amount in the household's book from Income:Household:<Source> to
        Equity:Memorandum:Household-Income (a memorandum: no cash moves), in its currency
        (default KHR), and keeps the record. Refused: a second baseline for the month (409
        baseline_exists), 422 source_invalid, month_invalid, amount_not_positive,
        date_before_consent, date_in_future; 404 household_not_found."""
        draft = data.to_draft(case)

        def record(conn: Connection, username: str) -> Income:
            return Income.of(income.record_income(conn, draft, utc_today(), username))

        return await _household_write(writer, case, "income.create", data, record)

    @reads("/{case:str}/income", "The household's income records by month", Action.OUTCOMES_READ)
    def list_income(self, db: Db, principal: Caller, case: Case, page: Page) -> IncomePage:
        """One page of the income records in month order: source, amount, currency, whether
        it is the baseline, and the transaction that posted it. `next_cursor` asks for the
        next page (422 cursor_invalid for any other text). 404 household_not_found (also
        outside your provinces)."""
        after = dated_after(page.cursor)
        with db.read() as conn:
            household = scoped_household(conn, principal, Action.OUTCOMES_READ, case)
            found = income.list_income(conn, [household.id], limit=page.limit, after=after)
        return IncomePage.of(found, page.limit)

    @reads(
        "/{case:str}/outcomes",
        "The household's income by source and month against its baseline; its herds",
        Action.OUTCOMES_READ,
    )
    def household_outcome(
        self, db: Db, principal: Caller, case: Case, currency: Currency = "KHR"
    ) -> HouseholdOutcome:
        """Income by source and month converted to `currency` (default KHR) at the stored
        exchange rates, the mean monthly income of the baseline and of the follow-up months
        and the change between them, livestock income, and the herd by species. Refused: 422
        exchange_rate_required (no rate for a month); 404 household_not_found."""
        found = _household_outcome(db, principal, case, currency)
        return HouseholdOutcome.of(found.outcome, found.report)

    @reads(
        "/{case:str}/outcomes.pdf",
        "The household's income by source and month against its baseline (PDF, chart)",
        Action.OUTCOMES_READ,
        media_type=PDF,
    )
    def household_outcome_pdf(
        self, db: Db, principal: Caller, case: Case, currency: Currency = "KHR"
    ) -> Response[bytes]:
        """The household's outcome (as `GET .../outcomes`) printed in Khmer and English with
        a chart of income against the baseline."""
        found = _household_outcome(db, principal, case, currency)
        view = household_view(found.outcome, found.report, utc_today())
        return pdf_response(render_outcomes(view), f"income-{case}.pdf")

    @reads(
        "/{case:str}/outcomes.csv",
        "The household's income by month and source, as CSV",
        Action.OUTCOMES_READ,
        media_type=CSV,
    )
    def household_outcome_csv(
        self, db: Db, principal: Caller, case: Case, currency: Currency = "KHR"
    ) -> Response[bytes]:
        """The household's outcome (as `GET .../outcomes`) as UTF-8 CSV, a row per month and
        source, in `currency`."""
        found = _household_outcome(db, principal, case, currency)
        return csv_response(
            to_csv(MONTHS_HEADER, month_rows(found.outcome, found.report)), f"income-{case}.csv"
        )


class ProgrammeOutcomeController(Controller):
    path = "/api"
    tags = ["follow-up and income"]
    dependencies = {"where": Provide(provide_programme_filter, sync_to_thread=False)}

    @reads(
        "/outcomes",
        "Programme outcomes per award and province, in one currency",
        Action.OUTCOMES_READ,
    )
    def programme(self, db: Db, principal: Caller, where: Where) -> ProgrammeOutcome:
        """The households of your provinces (of `award`: granted or trained under it; of
        `province`) with their income against baseline, converted to `currency` (default:
        the award's, else USD), and the totals. At most 10,000 households. Refused: 404
        award_not_found, 422 exchange_rate_required."""
        found = _programme_outcome(db, principal, where)
        return ProgrammeOutcome.of(found)

    @reads(
        "/outcomes.csv",
        "Programme outcomes per household, as CSV",
        Action.OUTCOMES_READ,
        media_type=CSV,
    )
    def programme_csv(self, db: Db, principal: Caller, where: Where) -> Response[bytes]:
        """The programme outcome (as `GET /api/outcomes`) as UTF-8 CSV, a row per
        household."""
        found = _programme_outcome(db, principal, where)
        return csv_response(
            to_csv(HOUSEHOLD_HEADER, household_rows(found.households, found.report)),
            "outcomes.csv",
        )

    @reads(
        "/outcomes.pdf",
        "Programme outcomes (Khmer and English, PDF, with the income chart)",
        Action.OUTCOMES_READ,
        media_type=PDF,
    )
    def programme_pdf(self, db: Db, principal: Caller, where: Where) -> Response[bytes]:
        """The programme outcome (as `GET /api/outcomes`) printed in Khmer and English with
        the income chart."""
        found = _programme_outcome(db, principal, where)
        return pdf_response(render_outcomes(programme_view(found, utc_today())), "outcomes.pdf")

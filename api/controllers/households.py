"""Households by case code (no names here: those are contacts), scoped by province."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import text_after, text_cursor
from api.injected import Caller, Db, Page, Writer
from api.routes import creates, reads, replaces
from api.schemas import example
from api.schemas.grants import EXAMPLE_HOUSEHOLD, Household, HouseholdCreate, HouseholdPage
from api.schemas.people import (
    EXAMPLE_MEMBER,
    HouseholdMember,
    HouseholdMemberIn,
    HouseholdMemberList,
)
from api.scopes import province_in_scope, scoped_household
from ledger.access.policy import Action, visible_provinces
from ledger.core import limits
from ledger.households import members as people
from ledger.households import service as households
from ledger.store.books import utc_today

Case = FromPath[str]
MemberBody = Annotated[HouseholdMemberIn, example("A girl born in 2011", EXAMPLE_MEMBER)]


class HouseholdController(Controller):
    path = "/api/households"
    tags = ["households"]

    @creates("/", "Register a household and open its tracking book", Action.HOUSEHOLDS_WRITE)
    async def register(
        self,
        writer: Writer,
        data: Annotated[HouseholdCreate, example("A returnee family", EXAMPLE_HOUSEHOLD)],
    ) -> Response[Household]:
        """Records the household under its case code (no names: those are contacts) and opens
        its tracking book hh-<case code> in KHR with Assets:Cash and Equity:Opening-Balances,
        in its province. Refused: 409 case_code_exists; 422 case_code_invalid,
        province_invalid, category_invalid, head_sex_invalid, members_invalid,
        consent_date_in_future; 403 province_not_in_scope."""
        principal = writer.principal
        province_in_scope(principal, Action.HOUSEHOLDS_WRITE, data.province)
        draft = data.to_draft()
        today = utc_today()

        def work(conn: Connection) -> Household:
            return Household.of(
                households.register_household(conn, draft, today, principal.username)
            )

        return await writer.write("household.create", work, data)

    @reads("/", "Households in case-code order (those of your provinces)", Action.HOUSEHOLDS_READ)
    def list_households(
        self, db: Db, principal: Caller, page: Page, province: FromQuery[str | None] = None
    ) -> HouseholdPage:
        """One page of the households of your provinces (of `province` if given) in
        case-code order, with place, head, size, category and consent date. `next_cursor`
        asks for the next page (422 cursor_invalid for any other text)."""
        scope = visible_provinces(principal, Action.HOUSEHOLDS_READ)
        with db.read() as conn:
            found = households.list_households(
                conn, scope, province, text_after(page.cursor), page.limit
            )
        return HouseholdPage(
            items=[Household.of(h) for h in found],
            next_cursor=text_cursor(found[-1].case_code) if len(found) == page.limit else None,
        )

    @reads("/{case:str}", "One household", Action.HOUSEHOLDS_READ)
    def get_household(self, db: Db, principal: Caller, case: Case) -> Household:
        """The household as registered, with the code of its tracking book. 404
        household_not_found: no such case code, or one outside your provinces."""
        with db.read() as conn:
            return Household.of(scoped_household(conn, principal, Action.HOUSEHOLDS_READ, case))

    @creates(
        "/{case:str}/members",
        "Record a person of the household (role, sex, birth year or age band)",
        Action.HOUSEHOLDS_WRITE,
        description="A person under the household's case code, numbered 1, 2, ...: no name "
        "(names are contacts); nothing is posted. Refused: 422 birth_year_too_early, "
        "birth_year_in_future, birth_year_and_age_band, household_role_invalid; 409 "
        "household_head_exists (a second head), household_member_limit_reached (more than "
        f"{limits.HOUSEHOLD_MEMBERS_MAX} people); 404 household_not_found.",
    )
    async def add_member(
        self, writer: Writer, case: Case, data: MemberBody
    ) -> Response[HouseholdMember]:
        draft = data.to_draft()
        today = utc_today()
        principal = writer.principal

        def work(conn: Connection) -> HouseholdMember:
            household = scoped_household(conn, principal, Action.HOUSEHOLDS_WRITE, case)
            return HouseholdMember.of(
                case, people.add_member(conn, household, draft, today, principal.username)
            )

        return await writer.write("household.member.add", work, data)

    @reads(
        "/{case:str}/members",
        "The people of a household, by number",
        Action.HOUSEHOLDS_READ,
        description="Every person recorded under the case code (at most "
        f"{limits.HOUSEHOLD_MEMBERS_MAX}, so one answer), by number: role, sex, birth year or "
        "age band. 404 household_not_found.",
    )
    def list_members(self, db: Db, principal: Caller, case: Case) -> HouseholdMemberList:
        with db.read() as conn:
            household = scoped_household(conn, principal, Action.HOUSEHOLDS_READ, case)
            found = people.list_members(conn, household)
        return HouseholdMemberList([HouseholdMember.of(case, m) for m in found])

    @replaces(
        "/{case:str}/members/{number:int}",
        "Correct a person's role, sex and birth year or age band",
        Action.HOUSEHOLDS_WRITE,
    )
    async def update_member(
        self, writer: Writer, case: Case, number: FromPath[int], data: MemberBody
    ) -> Response[HouseholdMember]:
        """Replaces what was recorded for person `number` (the number itself never changes:
        422 household_member_number_fixed). Refused as when recording one, and 404
        household_member_not_found, household_not_found."""
        draft = data.to_draft()
        today = utc_today()
        principal = writer.principal

        def work(conn: Connection) -> HouseholdMember:
            household = scoped_household(conn, principal, Action.HOUSEHOLDS_WRITE, case)
            changed = people.update_member(conn, household, number, draft, today)
            return HouseholdMember.of(case, changed)

        # PUT is idempotent by itself: no Idempotency-Key store.
        return await writer.write(
            "household.member.update", work, data, status_code=HTTP_200_OK, idempotent=False
        )

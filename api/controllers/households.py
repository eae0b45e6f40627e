"""Households by case code (no names here: those are contacts), scoped by province."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.cursors import Cursor, PageSize, text_after, text_cursor
from api.schemas.grants import EXAMPLE_HOUSEHOLD, Household, HouseholdCreate, HouseholdPage
from api.schemas.people import (
    EXAMPLE_MEMBER,
    HouseholdMember,
    HouseholdMemberIn,
    HouseholdMemberList,
)
from api.scopes import province_in_scope, scoped_household
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.core import limits
from ledger.households import members as people
from ledger.households import service as households
from ledger.store.books import utc_today
from ledger.store.database import Database


class HouseholdController(Controller):
    path = "/api/households"
    tags = ["households"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Register a household and open its tracking book",
        opt=policy(Action.HOUSEHOLDS_WRITE),
    )
    async def register(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        data: Annotated[
            HouseholdCreate,
            Body(examples=[Example(summary="A returnee family", value=EXAMPLE_HOUSEHOLD)]),
        ],
    ) -> Response[Household]:
        province_in_scope(principal, Action.HOUSEHOLDS_WRITE, data.province)
        draft = data.to_draft()
        today = utc_today()

        def work(conn: Connection) -> Household:
            return Household.of(
                households.register_household(conn, draft, today, principal.username)
            )

        return await writer.write("household.create", work, data)

    @get(
        "/",
        sync_to_thread=True,
        summary="Households in case-code order (those of your provinces)",
        opt=policy(Action.HOUSEHOLDS_READ),
    )
    def list_households(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        province: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: PageSize = limits.PAGE_SIZE_DEFAULT,
    ) -> HouseholdPage:
        scope = visible_provinces(principal, Action.HOUSEHOLDS_READ)
        with db.read() as conn:
            found = households.list_households(conn, scope, province, text_after(cursor), limit)
        return HouseholdPage(
            items=[Household.of(h) for h in found],
            next_cursor=text_cursor(found[-1].case_code) if len(found) == limit else None,
        )

    @get(
        "/{case:str}",
        sync_to_thread=True,
        summary="One household",
        opt=policy(Action.HOUSEHOLDS_READ),
    )
    def get_household(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
    ) -> Household:
        with db.read() as conn:
            return Household.of(scoped_household(conn, principal, Action.HOUSEHOLDS_READ, case))

    @post(
        "/{case:str}/members",
        status_code=HTTP_201_CREATED,
        summary="Record a person of the household (role, sex, birth year or age band)",
        description="A person under the household's case code, numbered 1, 2, ...: no name "
        "(names are contacts). Refused: a birth year before 1900 or after this year, both a "
        "birth year and an age band, a second head, more than "
        f"{limits.HOUSEHOLD_MEMBERS_MAX} people.",
        opt=policy(Action.HOUSEHOLDS_WRITE),
    )
    async def add_member(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        data: Annotated[
            HouseholdMemberIn,
            Body(examples=[Example(summary="A girl born in 2011", value=EXAMPLE_MEMBER)]),
        ],
    ) -> Response[HouseholdMember]:
        draft = data.to_draft()
        today = utc_today()

        def work(conn: Connection) -> HouseholdMember:
            household = scoped_household(conn, principal, Action.HOUSEHOLDS_WRITE, case)
            return HouseholdMember.of(
                case, people.add_member(conn, household, draft, today, principal.username)
            )

        return await writer.write("household.member.add", work, data)

    @get(
        "/{case:str}/members",
        sync_to_thread=True,
        summary="The people of a household, by number",
        opt=policy(Action.HOUSEHOLDS_READ),
    )
    def list_members(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        case: FromPath[str],
    ) -> HouseholdMemberList:
        with db.read() as conn:
            household = scoped_household(conn, principal, Action.HOUSEHOLDS_READ, case)
            found = people.list_members(conn, household)
        return HouseholdMemberList([HouseholdMember.of(case, m) for m in found])

    @put(
        "/{case:str}/members/{number:int}",
        status_code=HTTP_200_OK,
        summary="Correct a person's role, sex and birth year or age band",
        opt=policy(Action.HOUSEHOLDS_WRITE),
    )
    async def update_member(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        case: FromPath[str],
        number: FromPath[int],
        data: Annotated[
            HouseholdMemberIn,
            Body(examples=[Example(summary="A girl born in 2011", value=EXAMPLE_MEMBER)]),
        ],
    ) -> Response[HouseholdMember]:
        draft = data.to_draft()
        today = utc_today()

        def work(conn: Connection) -> HouseholdMember:
            household = scoped_household(conn, principal, Action.HOUSEHOLDS_WRITE, case)
            changed = people.update_member(conn, household, number, draft, today)
            return HouseholdMember.of(case, changed)

        # PUT is idempotent by itself: no Idempotency-Key store.
        return await writer.write(
            "household.member.update", work, data, status_code=HTTP_200_OK, idempotent=False
        )

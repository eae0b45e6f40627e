"""Households by case code (no names here: those are contacts), scoped by province."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import ensure_allowed, policy
from api.cursors import Cursor, PageSize, text_after, text_cursor
from api.schemas.grants import EXAMPLE_HOUSEHOLD, Household, HouseholdCreate, HouseholdPage
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, Target, visible_provinces
from ledger.core import limits
from ledger.core.errors import LedgerRejected, forbidden
from ledger.households import service as households
from ledger.households.rules import HouseholdDraft
from ledger.households.service import HOUSEHOLD_NOT_FOUND
from ledger.store.database import Database

PROVINCE_NOT_IN_SCOPE = forbidden(
    "province_not_in_scope", "This province is outside your scope.", "province"
)


def household_in_scope(
    conn: Connection, principal: Principal, action: Action, case_code: str
) -> None:
    """404 for a household that does not exist or lies outside the caller's provinces."""
    province = households.province_of_household(conn, case_code)
    if province is None:
        raise LedgerRejected([HOUSEHOLD_NOT_FOUND])
    ensure_allowed(principal, action, Target(province=province), HOUSEHOLD_NOT_FOUND)


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
        ensure_allowed(
            principal,
            Action.HOUSEHOLDS_WRITE,
            Target(province=data.province),
            PROVINCE_NOT_IN_SCOPE,
        )
        draft = HouseholdDraft(
            case_code=data.case_code,
            province=data.province,
            district=data.district,
            commune=data.commune,
            village=data.village,
            head_sex=data.head_sex,
            head_age_band=data.head_age_band,
            members=data.members,
            children=data.children,
            category=data.category,
            referral_source=data.referral_source,
            consent_date=data.consent_date,
        )
        today = datetime.datetime.now(datetime.UTC).date()

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
            household_in_scope(conn, principal, Action.HOUSEHOLDS_READ, case)
            return Household.of(households.get_household(conn, case))

"""Households by case code (no names here: those are contacts), scoped by province."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.cursors import Cursor, PageSize, text_after, text_cursor
from api.schemas.grants import EXAMPLE_HOUSEHOLD, Household, HouseholdCreate, HouseholdPage
from api.scopes import province_in_scope, scoped_household
from api.writes import AuditedWriter
from ledger.access.policy import Action, Principal, visible_provinces
from ledger.core import limits
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

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.auth import policy
from api.schemas.books import Commodity, CommodityCreate
from api.writes import audited_write
from ledger.access.policy import Action, Principal
from ledger.core.amount import Commodity as CoreCommodity
from ledger.store import books
from ledger.store.database import Database


class CommodityController(Controller):
    path = "/api/commodities"
    tags = ["commodities"]

    @post(
        "/",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Define a commodity",
        opt=policy(Action.COMMODITIES_CREATE),
    )
    def create_commodity(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        data: JSONBody[CommodityCreate],
    ) -> Response[Commodity]:
        commodity = CoreCommodity(data.code, data.precision, data.name)
        return audited_write(
            db,
            request,
            principal,
            data,
            HTTP_201_CREATED,
            "commodity.create",
            lambda conn: Commodity.of(books.create_commodity(conn, commodity)),
        )

    @get(
        "/",
        sync_to_thread=True,
        summary="List commodities and their precision",
        opt=policy(Action.COMMODITIES_READ),
    )
    def list_commodities(self, db: NamedDependency[Database]) -> list[Commodity]:
        with db.read() as conn:
            return [Commodity.of(c) for c in books.list_commodities(conn)]

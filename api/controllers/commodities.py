from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.schemas.books import Commodity, CommodityCreate
from api.writes import AuditedWriter
from ledger.access.policy import Action
from ledger.core.amount import Commodity as CoreCommodity
from ledger.store import books
from ledger.store.database import Database


class CommodityController(Controller):
    path = "/api/commodities"
    tags = ["commodities"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Define a commodity",
        opt=policy(Action.COMMODITIES_CREATE),
    )
    async def create_commodity(
        self, writer: NamedDependency[AuditedWriter], data: JSONBody[CommodityCreate]
    ) -> Response[Commodity]:
        commodity = CoreCommodity(data.code, data.precision, data.name)

        def work(conn: Connection) -> Commodity:
            return Commodity.of(books.create_commodity(conn, commodity))

        return await writer.write("commodity.create", work, data)

    @get(
        "/",
        sync_to_thread=True,
        summary="List commodities and their precision",
        opt=policy(Action.COMMODITIES_READ),
    )
    def list_commodities(self, db: NamedDependency[Database]) -> list[Commodity]:
        with db.read() as conn:
            return [Commodity.of(c) for c in books.list_commodities(conn)]

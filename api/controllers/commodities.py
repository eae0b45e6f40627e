"""Commodities: the currencies and in-kind units amounts are counted in, with their precision."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response
from sqlalchemy import Connection

from api.cursors import text_after, text_cursor
from api.injected import Db, Page, Writer
from api.routes import creates, reads
from api.schemas import example
from api.schemas.books import EXAMPLE_COMMODITY, Commodity, CommodityCreate, CommodityPage
from ledger.access.policy import Action
from ledger.core.amount import Commodity as CoreCommodity
from ledger.store import books

CommodityCreateBody = Annotated[
    CommodityCreate, example("Pig feed counted in kg", EXAMPLE_COMMODITY)
]


class CommodityController(Controller):
    path = "/api/commodities"
    tags = ["commodities"]

    @creates("/", "Define a commodity", Action.COMMODITIES_CREATE)
    async def create_commodity(
        self, writer: Writer, data: CommodityCreateBody
    ) -> Response[Commodity]:
        """Defines a currency or an in-kind unit (pigs, feed in kg) that accounts may hold and
        amounts may be written in: `precision` is how many decimals its amounts have (0 to 8;
        an amount with more is refused). Refuses a code that is not 2 to 24 capitals, digits
        and `' . _ -` like `USD` or `FEED-KG` (422 `commodity_code_invalid`) and a code defined
        already (409 `commodity_exists`). A commodity is never changed nor removed."""
        commodity = CoreCommodity(data.code, data.precision, data.name)

        def work(conn: Connection) -> Commodity:
            return Commodity.of(books.create_commodity(conn, commodity))

        return await writer.write("commodity.create", work, data)

    @reads("/", "List commodities and their precision", Action.COMMODITIES_READ)
    def list_commodities(self, db: Db, page: Page) -> CommodityPage:
        """One page of the commodities in code order (`KHR`, `PIG`, `THB`, `USD`...), each
        with its precision and name; `next_cursor` asks for the next page (null on the last).
        A cursor this API did not return is 422 `cursor_invalid`."""
        with db.read() as conn:
            found = books.list_commodities(conn, text_after(page.cursor), page.limit)
        next_cursor = text_cursor(found[-1].code) if len(found) == page.limit else None
        return CommodityPage([Commodity.of(c) for c in found], next_cursor)

"""The application factory: `create_app()` builds the Litestar app on a migrated database."""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from api.controllers.accounts import AccountController
from api.controllers.books import BookController
from api.controllers.commodities import CommodityController
from api.controllers.health import health
from api.controllers.transactions import TransactionController
from api.errors import EXCEPTION_HANDLERS
from ledger.store.database import Database
from ledger.store.migrate import upgrade

REQUEST_BODY_BYTES_MAX = 1024 * 1024


def _provide_db(state: State) -> Database:
    database: Database = state.db
    return database


def create_app(database_url: str | None = None, *, migrate: bool = True) -> Litestar:
    """The API on `database_url` (default: `DATABASE_URL`, else the SQLite file under ./var/).

    With `migrate`, the schema is brought up to date before the first request.
    """
    db = Database.connect(database_url)

    def on_startup(app: Litestar) -> None:
        if migrate:
            upgrade(db.engine)
        app.state.db = db

    def on_shutdown(app: Litestar) -> None:
        db.dispose()

    logging.getLogger("api").setLevel(logging.INFO)
    return Litestar(
        route_handlers=[
            health,
            BookController,
            CommodityController,
            AccountController,
            TransactionController,
        ],
        dependencies={"db": Provide(_provide_db, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=REQUEST_BODY_BYTES_MAX,
        openapi_config=OpenAPIConfig(
            title="Livelihood ledger",
            version="0.1.0",
            description="Double-entry books for NGO livelihood programmes: grants, savings "
            "groups and training outcomes, exported to Beancount. Amounts are decimal strings.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        state=State({"db": db}),
        debug=False,
    )

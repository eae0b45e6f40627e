"""The application factory: `create_app()` builds the Litestar app on a migrated database."""

from __future__ import annotations

import gc
import logging
import os
import sys

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from api.auth import PUBLIC, AuthSettings, CallerCache, authorize, current_principal
from api.controllers.accounts import AccountController
from api.controllers.auth import AuthController
from api.controllers.awards import AwardController, ExchangeController
from api.controllers.books import BookController
from api.controllers.commodities import CommodityController
from api.controllers.contacts import ContactController
from api.controllers.grants import GrantController
from api.controllers.health import health
from api.controllers.households import HouseholdController
from api.controllers.outcomes import HouseholdOutcomeController, ProgrammeOutcomeController
from api.controllers.reconcile import DonorReportController, ReconcileController
from api.controllers.savings import SavingsGroupController
from api.controllers.training import TrainingController
from api.controllers.transactions import TransactionController
from api.controllers.user_tokens import UserTokenController
from api.controllers.users import AuditController, UserController
from api.errors import EXCEPTION_HANDLERS
from api.pages import csrf_config, page_router, static_router, swagger_plugin, template_config
from api.ratelimit import SlidingWindowLimiter, UsernameLockout
from api.requests import request_context_middleware
from api.writes import provide_writer
from ledger.access import users
from ledger.access.secrets import load_secret_key
from ledger.store.database import Database
from ledger.store.migrate import upgrade

REQUEST_BODY_BYTES_MAX = 1024 * 1024
SCHEMA_PATH = "/schema"
ADMIN_PASSWORD_ENV = "LEDGER_ADMIN_PASSWORD"  # noqa: S105 - the name of a variable

_log = logging.getLogger("api")


def _provide_db(state: State) -> Database:
    database: Database = state.db
    return database


def create_first_admin(db: Database) -> None:
    """On an empty database, create `admin` and print its one-time password once.

    `LEDGER_ADMIN_PASSWORD` sets the password instead (and then nothing is printed).
    """
    generated = db.write(
        lambda conn: users.ensure_first_admin(conn, os.environ.get(ADMIN_PASSWORD_ENV))
    )
    if generated is not None:
        # Printed to the console on purpose, once; never logged.
        print(
            "\n  First start: created user 'admin' with one-time password:\n"
            f"    {generated}\n"
            "  Sign in with POST /api/auth/login, then change it with POST /api/auth/password.\n",
            file=sys.stderr,
            flush=True,
        )


def create_app(
    database_url: str | None = None,
    *,
    migrate: bool = True,
    auth: AuthSettings | None = None,
) -> Litestar:
    """The API on `database_url` (default: `DATABASE_URL`, else the SQLite file under ./var/).

    With `migrate`, the schema is brought up to date and a first admin is created before the
    first request.
    """
    db = Database.connect(database_url, group_commit=True)
    settings = auth or AuthSettings(secret_key=load_secret_key())

    def on_startup(app: Litestar) -> None:
        if migrate:
            upgrade(db.engine)
            create_first_admin(db)
        # What exists now (modules, the app, its routes) lives as long as the process: move it
        # out of the cyclic collector's sight, so its collections walk only per-request objects.
        gc.freeze()

    def on_shutdown(app: Litestar) -> None:
        db.dispose()

    return Litestar(
        route_handlers=[
            health,
            AuthController,
            UserController,
            AuditController,
            UserTokenController,
            BookController,
            CommodityController,
            AccountController,
            TransactionController,
            ContactController,
            AwardController,
            ExchangeController,
            HouseholdController,
            GrantController,
            SavingsGroupController,
            TrainingController,
            HouseholdOutcomeController,
            ProgrammeOutcomeController,
            ReconcileController,
            DonorReportController,
            page_router(),
            static_router(),
        ],
        guards=[authorize],
        dependencies={
            "db": Provide(_provide_db, sync_to_thread=False),
            "principal": Provide(current_principal, sync_to_thread=False),
            "writer": Provide(provide_writer, sync_to_thread=False),
        },
        middleware=[request_context_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=REQUEST_BODY_BYTES_MAX,
        template_config=template_config(),
        csrf_config=csrf_config(settings.secret_key),
        # The pages and their scripts travel compressed to phones on 2G/3G; the API as before.
        compression_config=CompressionConfig(backend="gzip", exclude="^/api/"),
        openapi_config=OpenAPIConfig(
            title="Livelihood ledger",
            version="0.1.0",
            description="Double-entry books for NGO livelihood programmes: grants, savings "
            "groups and training outcomes, exported to Beancount. Amounts are decimal strings. "
            "Sign in with POST /api/auth/login and send `Authorization: Bearer <token>`.",
            path=SCHEMA_PATH,
            render_plugins=[swagger_plugin()],
            # The schema is public documentation: the guard lets its routes through.
            openapi_router=Router(path=SCHEMA_PATH, route_handlers=[], opt=PUBLIC),
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"bearer": []}],
        ),
        state=State(
            {
                "db": db,
                "auth": settings,
                "callers": CallerCache(settings.caller_cache_seconds),
                "login_limiter": SlidingWindowLimiter(settings.login_attempts_per_minute_max),
                "username_lockout": UsernameLockout(
                    settings.login_failures_max, settings.lockout_seconds
                ),
            }
        ),
        debug=False,
    )

"""The application factory: `create_app()` builds the Litestar app on a migrated database."""

from __future__ import annotations

import gc
import logging
import os
import sys
from functools import partial
from typing import Any

from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from api.auth import (
    PUBLIC,
    AuthSettings,
    CallerCache,
    authorize,
    current_principal,
)
from api.caching import compression_config
from api.contract import ContractJsonRenderPlugin
from api.controllers.accounts import AccountController
from api.controllers.amendments import AmendmentController
from api.controllers.attachments import ATTACHMENT_CONTROLLERS
from api.controllers.auth import AuthController
from api.controllers.awards import AwardController, ExchangeController
from api.controllers.books import BookController
from api.controllers.commodities import CommodityController
from api.controllers.contacts import ContactController
from api.controllers.grants import GrantController
from api.controllers.health import health
from api.controllers.households import HouseholdController
from api.controllers.imports import ImportController
from api.controllers.indicators import IndicatorController
from api.controllers.outcomes import HouseholdOutcomeController, ProgrammeOutcomeController
from api.controllers.reconcile import DonorReportController, ReconcileController
from api.controllers.savings import SavingsGroupController
from api.controllers.savix import SavixController
from api.controllers.training import TrainingController
from api.controllers.transactions import TransactionController, transactions_csv
from api.controllers.user_tokens import UserTokenController
from api.controllers.users import AuditController, UserController
from api.cursors import page_query
from api.errors import EXCEPTION_HANDLERS
from api.fava import FavaMount
from api.login_throttle import GrowingDelay, LoginThrottle
from api.pages import csrf_config, page_router, static_router, swagger_plugin, template_config
from api.ratelimit import SlidingWindowLimiter
from api.requests import request_context_middleware
from api.writes import provide_writer
from ledger.access import users
from ledger.access.secrets import load_secret_key
from ledger.store.database import Database
from ledger.store.migrate import upgrade

REQUEST_BODY_BYTES_MAX = 1024 * 1024
SCHEMA_PATH = "/schema"
ADMIN_PASSWORD_ENV = "LEDGER_ADMIN_PASSWORD"  # noqa: S105 - the name of a variable
# Net allocations of container objects between two young collections (Python's default: 700).
GC_YOUNG_ALLOCATIONS = 10_000

_log = logging.getLogger("api")


def _provide_db(request: Request[Any, Any, Any]) -> Database:
    """The database (dependency `db`). From the request's app rather than from a `state`
    parameter: Litestar copies the app's state into a new `State` for each such parameter."""
    database: Database = request.app.state.db
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


ROUTE_HANDLERS: tuple[ControllerRouterHandler, ...] = (
    health,
    AuthController,
    UserController,
    AuditController,
    UserTokenController,
    BookController,
    CommodityController,
    AccountController,
    TransactionController,
    transactions_csv,
    ContactController,
    AwardController,
    AmendmentController,
    ExchangeController,
    HouseholdController,
    GrantController,
    SavingsGroupController,
    SavixController,
    ImportController,
    TrainingController,
    HouseholdOutcomeController,
    ProgrammeOutcomeController,
    IndicatorController,
    ReconcileController,
    DonorReportController,
    *ATTACHMENT_CONTROLLERS,
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
    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, page_router(), static_router()],
        guards=[authorize],
        dependencies=request_dependencies(),
        middleware=[request_context_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[partial(start_up, db, migrate)],
        on_shutdown=[partial(shut_down, db)],
        request_max_body_size=REQUEST_BODY_BYTES_MAX,
        template_config=template_config(),
        csrf_config=csrf_config(settings.secret_key),
        # Pages, scripts and API answers over 1 KB travel gzip-compressed (phones on 2G/3G).
        compression_config=compression_config(),
        openapi_config=openapi_config(),
        state=app_state(db, settings),
        debug=False,
    )


def request_dependencies() -> dict[str, Provide]:
    """What handlers may ask for by name: the database, the caller, the write path and the
    page a list was asked for."""
    return {
        "db": Provide(_provide_db, sync_to_thread=False),
        "principal": Provide(current_principal, sync_to_thread=False),
        "writer": Provide(provide_writer, sync_to_thread=False),
        "page": Provide(page_query, sync_to_thread=False),
    }


def app_state(db: Database, settings: AuthSettings) -> State:
    """What lives as long as the app: the database, the auth settings and the per-process
    memories of callers and sign-in attempts."""
    return State(
        {
            "db": db,
            "auth": settings,
            "fava": FavaMount(db),
            "callers": CallerCache(settings.caller_cache_seconds),
            "login_limiter": SlidingWindowLimiter(settings.login_attempts_per_minute_max),
            "login_throttle": LoginThrottle(settings.login_throttle, settings.clock),
            "password_throttle": GrowingDelay(settings.login_throttle, settings.clock),
        }
    )


def openapi_config() -> OpenAPIConfig:
    """The OpenAPI document at /schema (public: the guard lets its routes through)."""
    return OpenAPIConfig(
        title="Livelihood ledger",
        version="0.1.0",
        description="Double-entry books for NGO livelihood programmes: grants, savings "
        "groups and training outcomes, exported to Beancount. Amounts are decimal strings. "
        "Sign in with POST /api/auth/login and send `Authorization: Bearer <token>`.",
        path=SCHEMA_PATH,
        render_plugins=[swagger_plugin(), ContractJsonRenderPlugin()],
        openapi_router=Router(path=SCHEMA_PATH, route_handlers=[], opt=PUBLIC),
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        security=[{"bearer": []}],
        # A handler's docstring is its description (`api/routes.py`).
        use_handler_docstrings=True,
    )


def start_up(db: Database, migrate: bool, app: Litestar) -> None:
    """Before the first request: with `migrate`, bring the schema up to date and create the
    first admin, under the database's start-up lock."""
    if migrate:
        # Several workers start at once (`serve --workers N`): one at a time here, so only the
        # first migrates and creates the admin; the others find both done.
        with db.start_up_lock():
            upgrade(db.engine)
            create_first_admin(db)
    # What exists now (modules, the app, its routes) lives as long as the process: move it
    # out of the cyclic collector's sight, so its collections walk only per-request objects.
    gc.freeze()
    # A request allocates a few thousand objects that reference counting frees; at Python's
    # default (a young collection every 700 net allocations) the collector still cost ~35 us
    # of CPU per POST walking the requests in flight (docs/PERFORMANCE.md, 8d).
    gc.set_threshold(GC_YOUNG_ALLOCATIONS, *gc.get_threshold()[1:])


def shut_down(db: Database, app: Litestar) -> None:
    db.dispose()

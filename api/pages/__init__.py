"""The web pages: server-rendered from `templates/web/`, in Khmer and English.

`create_app` registers `page_router()` (the pages, which read the session cookie),
`static_router()` (our CSS, the vendored HTMX and Swagger UI), `csrf_config()` (every form
post, API excluded: it takes no cookie) and `template_config()`.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.types import ExceptionHandlersMap
from swagger_ui_bundle import swagger_ui_path

from api.auth import PUBLIC
from api.errors import STATUS_BY_KIND, TITLES
from api.fava import fava
from api.i18n import error_text, title_text
from api.pages.admin import AdminPages
from api.pages.audit import audit_export, audit_home
from api.pages.finance import ExchangePages, FinancePages
from api.pages.grants import GrantPages
from api.pages.groups import GroupPages
from api.pages.households import HouseholdPages
from api.pages.journal import JournalPages
from api.pages.meetings import MeetingPages
from api.pages.offline import service_worker
from api.pages.reconcile import CashCountPages, ClosePages, MatchingPages, StatementPages
from api.pages.render import STATIC_DIR, language_of, page, template_config
from api.pages.reports import ReportPages
from api.pages.session import choose_language, home, landing, sign_in, sign_out
from api.pages.trainings import TrainingPages
from ledger.core.errors import LedgerError, LedgerRejected

STATIC_PATH = "/static"
CSRF_COOKIE = "ledger_csrf"
# Static files change only with a release: a day in the browser's cache.
STATIC_CACHE_SECONDS = 24 * 3600
SECURE_COOKIES_ENV = "LEDGER_SECURE_COOKIES"
# Bearer-token routes take no cookie, so they need no CSRF token: the JSON API and its schema;
# nor does `/health` (no form, no session), which would otherwise mint a cookie per probe.
CSRF_EXCLUDED_PATHS = ["^/api/", "^/schema", "^/health$"]


def _error_page(
    request: Request[Any, Any, Any], status: int, errors: list[LedgerError]
) -> Template:
    language = language_of(request)
    messages = [error_text(language, e.code, e.message) for e in errors]
    return page(
        request,
        "error.html",
        {
            "status": status,
            "title": title_text(language, TITLES.get(status, "Error")),
            "messages": messages,
        },
        status_code=status,
    )


def _on_rejected(request: Request[Any, Any, Any], error: LedgerRejected) -> Response[Any]:
    return _error_page(request, STATUS_BY_KIND[error.first.kind], list(error.errors))


def _on_http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """Not signed in: to the sign-in form, then back here. Anything else: a page saying so."""
    if isinstance(error, NotAuthorizedException):
        # The path as sent: a mounted app (Fava) sees only the part after its mount.
        raw = request.scope.get("raw_path", b"").decode("latin-1").partition("?")[0]
        target = quote(unquote(raw) or request.url.path, safe="/")
        return Redirect(f"/?next={target}", status_code=HTTP_303_SEE_OTHER)
    status = error.status_code if error.status_code < 500 else 500
    code = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
        status, "bad_request"
    )
    return _error_page(request, status, [LedgerError(code, TITLES.get(status, "Error"))])


PAGE_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LedgerRejected: _on_rejected,
    HTTPException: _on_http,
}


# The finance team's pages (api/pages/finance.py, journal.py, reconcile.py, reports.py).
FINANCE_PAGES = (
    FinancePages,
    ExchangePages,
    JournalPages,
    StatementPages,
    MatchingPages,
    CashCountPages,
    ClosePages,
    ReportPages,
)


def page_router() -> Router:
    """Every page: `opt={"page": True}` lets the guard read the session cookie."""
    return Router(
        path="/",
        route_handlers=[
            landing,
            sign_in,
            sign_out,
            choose_language,
            home,
            service_worker,
            GroupPages,
            MeetingPages,
            HouseholdPages,
            *FINANCE_PAGES,
            fava,
            audit_home,
            audit_export,
            AdminPages,
            GrantPages,
            TrainingPages,
        ],
        opt={"page": True},
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


def static_router() -> Router:
    """Our stylesheet and scripts, and Swagger UI's files from the `swagger-ui-bundle` wheel."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR, swagger_ui_path.parent],
        opt=PUBLIC,
        cache_control=CacheControlHeader(max_age=STATIC_CACHE_SECONDS, public=True),
        include_in_schema=False,
    )


def swagger_plugin() -> SwaggerRenderPlugin:
    """Swagger UI from our own static route: `/schema` works with no internet."""
    base = f"{STATIC_PATH}/{swagger_ui_path.name}"
    return SwaggerRenderPlugin(
        js_url=f"{base}/swagger-ui-bundle.js",
        css_url=f"{base}/swagger-ui.css",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' href='{base}/favicon-32x32.png'>",
    )


def csrf_config(secret: str) -> CSRFConfig:
    """Double-submit CSRF tokens on every page form (`csrf_input` in the templates)."""
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_secure=os.environ.get(SECURE_COOKIES_ENV) == "1",
        exclude=CSRF_EXCLUDED_PATHS,
    )


__all__ = [
    "csrf_config",
    "page_router",
    "static_router",
    "swagger_plugin",
    "template_config",
]

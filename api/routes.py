"""How a controller declares its routes: one line for what each route does and who may.

Every read of the books runs on a worker thread (`sync_to_thread=True`: the event loop never
waits on the database); every write is an `async` handler that hands its work to the
`AuditedWriter`. The policy action a route performs goes into its `opt`, where the guard and
the OpenAPI document (`api/contract.py`) read it. A handler's docstring is its description in
the OpenAPI document: say what it does, what it returns and what it refuses.

    @reads("/{award:str}", "One award", Action.FUNDS_READ)
    def get_award(self, db: NamedDependency[Database], award: FromPath[str]) -> Award:
        \"\"\"The award with its budget lines, as approved and amended.\"\"\"
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth import policy
from ledger.access.policy import Action


class ApiRoute(HTTPRouteHandler):
    """A route of the JSON API: Litestar's handler, whose guards get the handler itself.

    Litestar hands each guard a shallow copy of the route handler (so that a guard cannot
    change it), about 13 us per request for a handler's ~60 attributes. The app's one guard,
    `api.auth.authorize`, only reads the handler's `opt`; every guard still runs, in order.
    """

    async def authorize_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        for guard in self.resolve_guards():
            await guard(connection, self)  # type: ignore[misc]  # resolved guards are async


def reads(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A GET that reads on a worker thread, allowed to the roles `action` names."""
    return ApiRoute(
        path,
        http_method=HttpMethod.GET,
        sync_to_thread=True,
        summary=summary,
        opt=policy(action),
        **options,
    )


def creates(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A POST that records something new: 201 with what it recorded."""
    return _changes(HttpMethod.POST, HTTP_201_CREATED, path, summary, action, options)


def acts(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A POST that acts on something that exists (approve, close, reverse): 200."""
    return _changes(HttpMethod.POST, HTTP_200_OK, path, summary, action, options)


def replaces(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A PUT that replaces something that exists: 200 with its new state."""
    return _changes(HttpMethod.PUT, HTTP_200_OK, path, summary, action, options)


def removes(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A DELETE: 200 with what it removed (or revoked)."""
    return _changes(HttpMethod.DELETE, HTTP_200_OK, path, summary, action, options)


def _changes(
    method: HttpMethod,
    status_code: int,
    path: str,
    summary: str,
    action: Action,
    options: dict[str, Any],
) -> HTTPRouteHandler:
    return ApiRoute(
        path,
        http_method=method,
        status_code=status_code,
        summary=summary,
        opt=policy(action),
        **options,
    )

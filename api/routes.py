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

from litestar import delete, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth import policy
from ledger.access.policy import Action


def reads(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A GET that reads on a worker thread, allowed to the roles `action` names."""
    return get(path, sync_to_thread=True, summary=summary, opt=policy(action), **options)


def creates(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A POST that records something new: 201 with what it recorded."""
    return post(path, status_code=HTTP_201_CREATED, summary=summary, opt=policy(action), **options)


def acts(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A POST that acts on something that exists (approve, close, reverse): 200."""
    return post(path, status_code=HTTP_200_OK, summary=summary, opt=policy(action), **options)


def replaces(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A PUT that replaces something that exists: 200 with its new state."""
    return put(path, status_code=HTTP_200_OK, summary=summary, opt=policy(action), **options)


def removes(path: str, summary: str, action: Action, **options: Any) -> HTTPRouteHandler:
    """A DELETE: 200 with what it removed (or revoked)."""
    return delete(path, status_code=HTTP_200_OK, summary=summary, opt=policy(action), **options)

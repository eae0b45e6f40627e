"""Authentication and authorization: one guard on every route, deny by default.

Each route handler declares `opt=policy(Action.X)` (or `PUBLIC`). The guard reads the bearer
token (a signed access token or an API token), loads the user, and asks
`ledger.access.policy.decide`: forbidden is 403; an object outside the user's scope is 404,
exactly like one that does not exist.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Connection

from ledger.access import users
from ledger.access.policy import Action, Principal, Target, decide
from ledger.access.tokens import is_api_token, read_access_token
from ledger.core.errors import LedgerError, LedgerRejected, not_found
from ledger.store import books
from ledger.store.database import Database

PUBLIC: dict[str, Any] = {"public": True}
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="livelihood-ledger"'}
AUTHORIZATION_HEADER_LENGTH_MAX = 4_096
BOOK_NOT_FOUND = not_found("book_not_found", "No book has this code.", "book")


def policy(action: Action) -> dict[str, Any]:
    """The `opt` a route handler declares: which action it performs."""
    return {"action": action}


@dataclass(frozen=True, slots=True)
class AuthSettings:
    secret_key: str
    login_failures_max: int = users.LOGIN_FAILURES_MAX
    lockout_seconds: int = users.LOCKOUT_SECONDS
    # Sign-in attempts from one client address in one minute, before any password check.
    login_attempts_per_minute_max: int = 30


def _principal_for(conn: Connection, settings: AuthSettings, header: str) -> Principal | None:
    scheme, _, credential = header.partition(" ")
    if (
        scheme.lower() != "bearer"
        or not credential
        or len(header) > AUTHORIZATION_HEADER_LENGTH_MAX
    ):
        return None
    if is_api_token(credential):
        return users.principal_for_api_token(conn, credential, datetime.datetime.now(datetime.UTC))
    claims = read_access_token(credential, settings.secret_key)
    if claims is None:
        return None
    return users.load_principal(
        conn, claims.user_id, f"jwt:{claims.jti}", issued_at=claims.issued_at
    )


@dataclass(frozen=True, slots=True)
class _Caller:
    principal: Principal | None
    book_exists: bool = False
    book_province: str | None = None


def _identify(db: Database, settings: AuthSettings, header: str, book_code: str | None) -> _Caller:
    """Who is calling, and the book the path names, in one read unit of work."""
    with db.read() as conn:
        principal = _principal_for(conn, settings, header)
        if principal is None or book_code is None:
            return _Caller(principal)
        found = books.find_book_scope(conn, book_code)
    if found is None:
        return _Caller(principal)
    return _Caller(principal, book_exists=True, book_province=found or None)


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app-wide guard: who is calling, and may they do this route's action here?"""
    if handler.opt.get("public"):
        return
    action = handler.opt.get("action")
    if not isinstance(action, Action):  # deny by default: a route without a policy is shut
        raise PermissionDeniedException(detail="This route has no access policy.")
    db: Database = connection.app.state.db
    settings: AuthSettings = connection.app.state.auth
    header = connection.headers.get("authorization", "")
    book_code = connection.path_params.get("book")
    book_code = book_code if isinstance(book_code, str) else None
    caller = await anyio.to_thread.run_sync(_identify, db, settings, header, book_code)
    principal = caller.principal
    if principal is None:
        raise NotAuthorizedException(
            detail="Sign in: send a valid bearer token.", headers=BEARER_CHALLENGE
        )
    connection.state.principal = principal
    # The role first: a role that may never do this gets 403 whether or not the book exists,
    # so the answer tells it nothing about which books there are.
    ensure_allowed(principal, action, None)
    if book_code is not None:
        if not caller.book_exists:
            raise LedgerRejected([BOOK_NOT_FOUND])
        ensure_allowed(principal, action, Target(book=book_code, province=caller.book_province))


def ensure_allowed(
    principal: Principal,
    action: Action,
    target: Target | None,
    hidden: LedgerError = BOOK_NOT_FOUND,
) -> None:
    """Raise 403 when the role may never do `action`; when `target` is outside the user's
    scope, raise `hidden`: the same 404 as for an object that does not exist."""
    decision = decide(principal, action, target)
    if decision == "forbidden":
        raise PermissionDeniedException(detail="Your role may not do this.")
    if decision == "hidden":
        raise LedgerRejected([hidden])


def current_principal(request: Request[Any, Any, Any]) -> Principal:
    """The principal the guard put on this request (dependency `principal`)."""
    principal: Principal = request.state.principal
    return principal

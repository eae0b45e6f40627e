"""Authentication and authorization: one guard on every route, deny by default.

Each route handler declares `opt=policy(Action.X)` (or `PUBLIC`). The guard reads the bearer
token (a signed access token or an API token), loads the user, and asks
`ledger.access.policy.decide`: forbidden is 403; an object outside the user's scope is 404,
exactly like one that does not exist.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Connection

from api.login_throttle import THROTTLE_DEFAULTS, ThrottleSettings
from ledger.access import users
from ledger.access.policy import Action, Principal, Target, decide
from ledger.access.tokens import is_api_token, read_access_token
from ledger.core.errors import LedgerError, LedgerRejected, not_found
from ledger.store import books
from ledger.store.database import Database

PUBLIC: dict[str, Any] = {"public": True}
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="livelihood-ledger"'}
# The web pages' session: an API token (revocable) in an HttpOnly cookie. Only routes that
# declare `opt={"page": True}` read it, so the JSON API never accepts a cookie (no CSRF there).
SESSION_COOKIE = "ledger_session"
AUTHORIZATION_HEADER_LENGTH_MAX = 4_096
BOOK_NOT_FOUND = not_found("book_not_found", "No book has this code.", "book")
CALLERS_REMEMBERED_MAX = 10_000
# Where the guard leaves the signed-in principal: `request.state.principal`.
PRINCIPAL_KEY = "principal"


def policy(action: Action) -> dict[str, Any]:
    """The `opt` a route handler declares: which action it performs."""
    return {"action": action}


@dataclass(frozen=True, slots=True)
class AuthSettings:
    secret_key: str
    # Growing delays for wrong passwords (sign-in and password change): `api.login_throttle`.
    login_throttle: ThrottleSettings = THROTTLE_DEFAULTS
    # The clock of the sign-in limits (monotonic seconds); tests pass a controlled one.
    clock: Callable[[], float] = time.monotonic
    # Sign-in attempts from one client address in one minute, before any password check.
    login_attempts_per_minute_max: int = 30
    # How long a signed-in caller is remembered (`CallerCache`); 0 asks the database each time.
    caller_cache_seconds: float = 5.0


def _principal_for(
    conn: Connection, settings: AuthSettings, header: str
) -> tuple[Principal, datetime.datetime | None] | None:
    """The user a bearer header signs in, and when its token expires; None if it does not."""
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
    principal = users.load_principal(
        conn, claims.user_id, f"jwt:{claims.jti}", claims.credential_version
    )
    return None if principal is None else (principal, claims.expires_at)


@dataclass(frozen=True, slots=True)
class _Caller:
    principal: Principal | None
    book_exists: bool = False
    book_province: str | None = None
    # When the bearer token expires: a remembered caller is never used past it.
    expires_at: datetime.datetime | None = None


def _identify(db: Database, settings: AuthSettings, header: str, book_code: str | None) -> _Caller:
    """Who is calling, and the book the path names, in one read."""
    with db.read() as conn:
        signed_in = _principal_for(conn, settings, header)
        if signed_in is None:
            return _Caller(None)
        principal, expires_at = signed_in
        if book_code is None:
            return _Caller(principal, expires_at=expires_at)
        found = books.find_book_scope(conn, book_code)
    if found is None:
        return _Caller(principal, expires_at=expires_at)
    return _Caller(principal, True, found or None, expires_at)


@dataclass(frozen=True, slots=True)
class _Remembered:
    caller: _Caller
    until: float  # on the cache's clock


class CallerCache:
    """Who a bearer header signs in, and the book its path names, remembered for a few seconds.

    Signing in is a database read on a worker thread; on a write it costs as much as the
    posting itself, so the guard asks the database once per (header, book) every `seconds`.
    Only complete answers are kept: a valid token and, when the path names a book, an
    existing one. An entry is never used after its token expires. `forget_all` drops every
    entry: `api.writes` calls it after each committed change to users, tokens or books, so in
    this process a revoked token, a disabled user or a changed password stop working on the
    next request. A change made by another process (the command line, another server) takes
    effect within `seconds`.
    """

    def __init__(
        self,
        seconds: float,
        size_max: int = CALLERS_REMEMBERED_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.size_max = size_max
        self._clock = clock
        self._known: dict[tuple[str, str | None], _Remembered] = {}
        self._lock = threading.Lock()
        self.generation = 0  # counts `forget_all` calls

    def get(self, header: str, book_code: str | None) -> _Caller | None:
        remembered = self._known.get((header, book_code))
        if remembered is None:
            return None
        caller = remembered.caller
        if remembered.until <= self._clock() or (
            caller.expires_at is not None
            and caller.expires_at <= datetime.datetime.now(datetime.UTC)
        ):
            self._known.pop((header, book_code), None)
            return None
        return caller

    def put(self, header: str, book_code: str | None, caller: _Caller, generation: int) -> None:
        """Remember `caller`, read while the cache was at `generation`."""
        if self.seconds <= 0 or caller.principal is None:
            return
        if book_code is not None and not caller.book_exists:
            return
        with self._lock:
            # Read before a `forget_all`: it may describe a token revoked since.
            if generation != self.generation:
                return
            if len(self._known) >= self.size_max:
                self._known.pop(next(iter(self._known)))  # the oldest entry
            self._known[(header, book_code)] = _Remembered(caller, self._clock() + self.seconds)

    def forget_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._known.clear()


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app-wide guard: who is calling, and may they do this route's action here?"""
    if handler.opt.get("public"):
        return
    action = handler.opt.get("action")
    if not isinstance(action, Action):  # deny by default: a route without a policy is shut
        raise PermissionDeniedException(detail="This route has no access policy.")
    state = connection.app.state
    header = connection.headers.get("authorization", "")
    if not header and handler.opt.get("page"):
        session = connection.cookies.get(SESSION_COOKIE, "")
        header = f"Bearer {session}" if session else ""
    book_code = connection.path_params.get("book")
    book_code = book_code if isinstance(book_code, str) else None
    callers: CallerCache = state.callers
    caller = callers.get(header, book_code)
    if caller is None:
        generation = callers.generation
        caller = await anyio.to_thread.run_sync(_identify, state.db, state.auth, header, book_code)
        callers.put(header, book_code, caller, generation)
    principal = caller.principal
    if principal is None:
        raise NotAuthorizedException(
            detail="Sign in: send a valid bearer token.", headers=BEARER_CHALLENGE
        )
    _request_state(connection)[PRINCIPAL_KEY] = principal
    # The role first: a role that may never do this gets 403 whether or not the book exists,
    # so the answer tells it nothing about which books there are.
    ensure_allowed(principal, action, None)
    if book_code is not None:
        if not caller.book_exists:
            raise LedgerRejected([BOOK_NOT_FOUND])
        ensure_allowed(principal, action, Target(book=book_code, province=caller.book_province))


def forget_callers(state: State) -> None:
    """After a committed change to users, tokens or books: ask the database again."""
    callers: CallerCache = state.callers
    callers.forget_all()


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


def current_principal(request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Principal:
    """The principal the guard put on this request (dependency `principal`).

    It takes `db` only to be resolved after it: Litestar resolves the dependencies of one
    level together in an anyio task group, which costs more than both of them (~0.1 ms).
    """
    return guarded_principal(request)


def guarded_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The principal the guard signed in for this request (`request.state.principal`)."""
    principal: Principal = _request_state(connection)[PRINCIPAL_KEY]
    return principal


def _request_state(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """The request's state, the dict behind `connection.state`: that property builds a new
    `State` around it on every access (a lock and type checks, ~3 us)."""
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    return state

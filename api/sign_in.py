"""Checking a password at sign-in: one home for the API's `POST /api/auth/login` and the web
page's `POST /sign-in`.

Both pass the same gates in the same order: the per-address rate limit, the growing delay
for an address or username that keeps failing (never a lock-out: docs/SECURITY.md), the
password itself, and an audit event for every refusal. What a success makes (a signed token
for the API, an API token in a cookie for the pages) is the caller's `on_success`, run in the
same database transaction as the check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request
from sqlalchemy import Connection

from api.auth import AuthSettings
from api.login_throttle import LoginThrottle
from api.ratelimit import SlidingWindowLimiter
from api.requests import request_facts
from ledger.access import users
from ledger.access.audit import RequestFacts, record_event
from ledger.core.errors import LedgerRejected, rate_limited, unauthenticated
from ledger.store.database import Database

T = TypeVar("T")

TOO_MANY_REQUESTS = rate_limited("too_many_requests", "Too many sign-in attempts; wait a minute.")
LOGIN_THROTTLED = rate_limited(
    "login_throttled",
    "Too many wrong passwords from this address: wait a while before trying again.",
)
INVALID_CREDENTIALS = unauthenticated("invalid_credentials", "Wrong username or password.")

OnSuccess = Callable[[Connection, users.User, RequestFacts], T]


def check_sign_in(
    request: Request[Any, Any, Any],
    db: Database,
    username: str,
    password: str,
    on_success: OnSuccess[T],
) -> T:
    """Check `username` and `password` and return what `on_success` makes of the user.

    Raises `LedgerRejected` with `too_many_requests`, `login_throttled` (429) or
    `invalid_credentials` (401); each refusal is audited. Blocking: call it on a thread.
    """
    settings: AuthSettings = request.app.state.auth
    limiter: SlidingWindowLimiter = request.app.state.login_limiter
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    if not limiter.allow(client, settings.clock()):
        raise LedgerRejected([TOO_MANY_REQUESTS])
    facts = request_facts(request)
    # Only a well-formed username reaches the audit trail (never a typed-in name).
    named = username if users.USERNAME_RE.fullmatch(username) else None
    if throttle.wait_seconds(username, client) > 0:
        db.write(
            lambda conn: record_event(
                conn, None, facts, "auth.login", outcome="login_throttled", username=named
            )
        )
        raise LedgerRejected([LOGIN_THROTTLED])

    def attempt(conn: Connection) -> tuple[T] | None:
        outcome = users.authenticate(conn, username, password)
        if not isinstance(outcome, users.User):
            record_event(conn, None, facts, "auth.login", outcome=outcome, username=named)
            return None  # committed: the refusal's audit event stays
        return (on_success(conn, outcome, facts),)

    made = db.write(attempt)
    if made is None:
        throttle.record_failure(username, client)
        raise LedgerRejected([INVALID_CREDENTIALS])
    throttle.record_success(username, client)
    return made[0]

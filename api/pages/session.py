"""Signing in and out of the web pages, the reader's language, and each role's home page.

A page session is an API token (revocable: `DELETE /api/auth/tokens/{id}`, or signing out)
held in an HttpOnly, SameSite=Lax cookie, Secure when the request came over TLS. A phone
kept signed in holds one for a savings cycle; otherwise it lives a day.
"""

from __future__ import annotations

import datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import PUBLIC, SESSION_COOKIE, forget_callers, policy
from api.i18n import DIGITS_COOKIE, KHMER_DIGITS, LANGUAGE_COOKIE, LANGUAGES
from api.pages.render import page, principal_of
from api.requests import request_facts
from api.sign_in import check_sign_in
from ledger.access import users
from ledger.access.audit import RequestFacts, record_event
from ledger.access.policy import Action, Principal, Target, decide
from ledger.core.errors import LedgerRejected
from ledger.savings import queries
from ledger.store.database import Database, run_blocking

SESSION_DAYS = 1
# A treasurer's phone stays signed in for a savings cycle (at most a year).
DEVICE_SESSION_DAYS = users.API_TOKEN_DAYS_MAX
LANGUAGE_COOKIE_SECONDS = 366 * 24 * 3600
FORM_FIELD_LENGTH_MAX = 300
NEXT_PATH_LENGTH_MAX = 300


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def is_tls(request: Request[Any, Any, Any]) -> bool:
    """Came over TLS (uvicorn reads a trusted proxy's X-Forwarded-Proto into the scheme)."""
    return request.url.scheme == "https"


def safe_next(path: str | None) -> str | None:
    """A local path to go back to after signing in; anything else (another site) is dropped."""
    if not path or len(path) > NEXT_PATH_LENGTH_MAX:
        return None
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path


# Each role's home page; a role not here lands on the list of its savings groups.
ROLE_HOMES = {
    "officer": "/households",
    "finance": "/finance",
    "auditor": "/audit",
    "admin": "/admin",
}


def home_path(conn: Connection, principal: Principal) -> str:
    """Where a role lands: its home page; a treasurer of one group on that group's home,
    everyone else on the list of groups."""
    if principal.role in ROLE_HOMES:
        return ROLE_HOMES[principal.role]
    groups = readable_groups(conn, principal)
    if principal.role == "treasurer" and len(groups) == 1:
        return f"/groups/{groups[0].code}"
    return "/home"


def readable_groups(conn: Connection, principal: Principal) -> list[queries.Group]:
    return [
        g
        for g in queries.list_groups(conn)
        if decide(principal, Action.SAVINGS_READ, Target(g.code, g.province or None)) == "allow"
    ]


def _form_text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value[:FORM_FIELD_LENGTH_MAX] if isinstance(value, str) else ""


def _sign_in_refused(request: Request[Any, Any, Any], code: str, username: str) -> Template:
    """The landing page again, saying why (`code`: invalid_credentials, too_many_requests or
    login_throttled)."""
    return page(
        request,
        "landing.html",
        {"error": code, "username": username, "next": None},
        status_code=401 if code == "invalid_credentials" else 429,
    )


@get("/", summary="The landing page: sign in", opt=PUBLIC, include_in_schema=False)
async def landing(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
    return page(request, "landing.html", {"error": None, "username": "", "next": safe_next(next)})


@post("/sign-in", opt=PUBLIC, include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def sign_in(
    request: Request[Any, Any, Any], db: NamedDependency[Database]
) -> Response[Any] | Template:
    """Check the password as the API's sign-in does (`api/sign_in.py`), then hold a new API
    token in the session cookie."""
    form = await request.form()
    username, password = _form_text(form, "username"), _form_text(form, "password")
    keep = _form_text(form, "keep") == "on"
    now = _now()
    days = DEVICE_SESSION_DAYS if keep else SESSION_DAYS

    def signed_in(conn: Connection, user: users.User, facts: RequestFacts) -> tuple[str, str]:
        name = "phone, kept signed in" if keep else "web page session"
        token, secret = users.create_api_token(conn, user.id, name, days, now)
        principal = users.load_principal(conn, user.id, f"api:{token.id}", user.credential_version)
        if principal is None:  # just authenticated, so enabled
            raise AssertionError("a user who just signed in has no principal")
        record_event(conn, principal, facts, "auth.login", object_type="token")
        return secret, home_path(conn, principal)

    try:
        result = await run_blocking(check_sign_in, request, db, username, password, signed_in)
    except LedgerRejected as refused:
        return _sign_in_refused(request, refused.first.code, username)
    secret, home = result
    response: Response[Any] = Redirect(
        safe_next(_form_text(form, "next")) or home, status_code=HTTP_303_SEE_OTHER
    )
    response.set_cookie(
        Cookie(
            key=SESSION_COOKIE,
            value=secret,
            httponly=True,
            secure=is_tls(request),
            samesite="lax",
            path="/",
            max_age=days * 24 * 3600 if keep else None,
        )
    )
    return response


@post(
    "/sign-out",
    opt=policy(Action.TOKENS_OWN),
    include_in_schema=False,
    status_code=HTTP_303_SEE_OTHER,
)
async def sign_out(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    principal: NamedDependency[Principal],
) -> Redirect:
    """Revoke this session's token (the cookie alone would outlive a copied secret)."""
    facts = request_facts(request)

    def revoke(conn: Connection) -> None:
        kind, _, token_id = (principal.token or "").partition(":")
        if kind == "api" and token_id.isdigit():
            users.revoke_api_token(conn, principal.user_id, int(token_id), _now())
            record_event(conn, principal, facts, "token.revoke", object_type="token")

    await run_blocking(db.write, revoke)
    forget_callers(request.app.state)
    response = Redirect("/", status_code=HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@post("/language", opt=PUBLIC, include_in_schema=False, status_code=HTTP_303_SEE_OTHER)
async def choose_language(request: Request[Any, Any, Any]) -> Redirect:
    """Save the reader's language (and, in Khmer, the digits) in cookies; go back."""
    form = await request.form()
    language = _form_text(form, "lang")
    digits = _form_text(form, "digits")
    response = Redirect(safe_next(_form_text(form, "next")) or "/", status_code=HTTP_303_SEE_OTHER)
    choices = []
    if language in LANGUAGES:
        choices.append((LANGUAGE_COOKIE, language))
    if digits in (KHMER_DIGITS, "latin"):
        choices.append((DIGITS_COOKIE, digits))
    for key, value in choices:
        response.set_cookie(
            Cookie(
                key=key,
                value=value,
                httponly=True,
                secure=is_tls(request),
                samesite="lax",
                path="/",
                max_age=LANGUAGE_COOKIE_SECONDS,
            )
        )
    return response


@get("/home", opt=policy(Action.SAVINGS_READ), include_in_schema=False)
async def home(request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Template:
    """The groups the signed-in user may see (a role's home when it has more than one)."""
    principal = principal_of(request)
    assert principal is not None  # the guard let a signed-in user through

    def read() -> list[queries.Group]:
        with db.read() as conn:
            return readable_groups(conn, principal)

    return page(request, "home.html", {"groups": await run_blocking(read)})

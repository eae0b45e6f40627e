"""The administrator's pages: users (create, disable, reset a password, scopes), books, and
every device's and page's API token (revoke). The same services as the API
(`ledger.access.users`, `ledger.store.books`) through the same audited write path; each form
carries the Idempotency-Key made when it opened, and a refusal comes back beside its field,
in the reader's language, with what was typed (never a password) kept.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER
from sqlalchemy import Connection

from api.auth import policy
from api.errors import STATUS_BY_KIND
from api.pages.forms import IDEMPOTENCY_KEY_RE, new_idempotency_key
from api.pages.render import page
from api.schemas.access import ApiToken, User
from api.schemas.books import Book
from api.writes import AuditedWriter
from ledger.access import users
from ledger.access.policy import ROLES, Action, Principal
from ledger.core.book import BOOK_KINDS
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.store import books
from ledger.store.database import Database, run_blocking

FORM_TEXT_MAX = 300
SCOPES_TEXT_MAX = 6_000
MANAGE = policy(Action.USERS_MANAGE)


class AdminForm(msgspec.Struct):
    """What an admin form's Idempotency-Key is bound to (never a password)."""

    what: str
    fields: dict[str, str]


def _values(form: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: value[: SCOPES_TEXT_MAX if name == "scopes" else FORM_TEXT_MAX]
        for name, value in form.items()
        if isinstance(value, str)
    }


def _key(values: Mapping[str, str]) -> str:
    key = values.get("idempotency_key", "")
    return key if IDEMPOTENCY_KEY_RE.fullmatch(key) else new_idempotency_key()


def scope_lines(text: str) -> list[str]:
    """One scope a line (`book:CODE` or `province:NAME`); blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def errors_by_field(errors: tuple[LedgerError, ...]) -> tuple[dict[str, LedgerError], list[Any]]:
    """Each error beside its field (`scopes[2]` beside `scopes`); the rest above the form."""
    beside: dict[str, LedgerError] = {}
    general = []
    for error in errors:
        field = (error.field or "").split("[", 1)[0]
        if field and field not in beside:
            beside[field] = error
        elif not field:
            general.append(error)
    return beside, general


async def _write(
    writer: AuditedWriter,
    action: str,
    work: Callable[[Connection], Any],
    values: Mapping[str, str],
    *,
    status_code: int = HTTP_200_OK,
) -> LedgerRejected | None:
    """Run the write once per the form's key; the refusal, if any."""
    safe = {k: v for k, v in values.items() if k not in ("password", "_csrf_token")}
    try:
        await writer.write(
            action,
            work,
            AdminForm(action, safe),
            status_code=status_code,
            key=_key(values),
        )
    except LedgerRejected as rejected:
        return rejected
    return None


def _read_users(db: Database) -> list[users.User]:
    with db.read() as conn:
        return users.list_users(conn)


def _users_page(
    request: Request[Any, Any, Any],
    found: list[users.User],
    values: Mapping[str, str] | None = None,
    rejected: LedgerRejected | None = None,
) -> Template:
    beside, general = errors_by_field(rejected.errors if rejected else ())
    shown = {k: v for k, v in (values or {}).items() if k != "password"}
    return page(
        request,
        "admin_users.html",
        {
            "users": found,
            "roles": ROLES,
            "values": shown,
            "errors": beside,
            "general_errors": general,
            "key": new_idempotency_key() if rejected is None else _key(values or {}),
        },
        status_code=STATUS_BY_KIND[rejected.first.kind] if rejected else 200,
    )


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/", opt=MANAGE)
    async def users_page(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        """Every user, and the form to create one."""
        return _users_page(request, await run_blocking(_read_users, db))

    @post("/users", opt=MANAGE, status_code=HTTP_303_SEE_OTHER)
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
    ) -> Response[Any] | Template:
        values = _values(await request.form())
        created: list[int] = []

        def work(conn: Connection) -> User:
            user = users.create_user(
                conn,
                values.get("username", "").strip(),
                values.get("password", ""),
                values.get("role", ""),
                scope_lines(values.get("scopes", "")),
            )
            created.append(user.id)
            return User.of(user)

        rejected = await _write(writer, "user.create", work, values, status_code=201)
        if rejected is not None:
            return _users_page(request, await run_blocking(_read_users, db), values, rejected)
        target = f"/admin/users/{created[0]}?saved=1" if created else "/admin"
        return Redirect(target, status_code=HTTP_303_SEE_OTHER)

    @get("/users/{user_id:int}", opt=MANAGE)
    async def user_page(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        user_id: FromPath[int],
    ) -> Template:
        return await _user_page(request, db, principal, user_id)

    @post("/users/{user_id:int}/{change:str}", opt=MANAGE, status_code=HTTP_303_SEE_OTHER)
    async def change_user(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        user_id: FromPath[int],
        change: FromPath[str],
    ) -> Response[Any] | Template:
        """`disable`, `password` (reset) or `scopes`, each from its own form."""
        values = _values(await request.form())
        work = _user_change(change, user_id, principal, values)
        if work is None:
            return await _user_page(request, db, principal, user_id, status_code=404)
        action, change_work = work
        rejected = await _write(writer, action, change_work, values)
        if rejected is not None:
            return await _user_page(request, db, principal, user_id, values, rejected, change)
        return Redirect(f"/admin/users/{user_id}?saved={change}", status_code=HTTP_303_SEE_OTHER)

    @post(
        "/users/{user_id:int}/tokens/{token_id:int}/revoke",
        opt=MANAGE,
        status_code=HTTP_303_SEE_OTHER,
    )
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        writer: NamedDependency[AuditedWriter],
        user_id: FromPath[int],
        token_id: FromPath[int],
    ) -> Response[Any]:
        values = _values(await request.form())

        def work(conn: Connection) -> ApiToken:
            now = datetime.datetime.now(datetime.UTC)
            return ApiToken.of(users.revoke_api_token(conn, user_id, token_id, now))

        rejected = await _write(writer, "token.revoke", work, values)
        if rejected is not None:
            raise rejected
        back = "/admin/tokens" if values.get("next") == "tokens" else f"/admin/users/{user_id}"
        return Redirect(f"{back}?saved=revoked", status_code=HTTP_303_SEE_OTHER)

    @get("/tokens", opt=MANAGE)
    async def tokens_page(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        """Every device's and page session's token, newest first, with who holds it."""

        def read() -> tuple[list[users.ApiToken], dict[int, str]]:
            with db.read() as conn:
                names = {u.id: u.username for u in users.list_users(conn)}
                return users.list_all_api_tokens(conn), names

        tokens, names = await run_blocking(read)
        context = {
            "tokens": tokens,
            "names": names,
            "now": datetime.datetime.now(datetime.UTC),
            "key": new_idempotency_key(),
            "saved": request.query_params.get("saved"),
        }
        return page(request, "admin_tokens.html", context)

    @get("/books", opt=policy(Action.BOOKS_CREATE))
    async def books_page(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        return _books_page(request, await run_blocking(_read_books, db))

    @post("/books", opt=policy(Action.BOOKS_CREATE), status_code=HTTP_303_SEE_OTHER)
    async def create_book(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        writer: NamedDependency[AuditedWriter],
    ) -> Response[Any] | Template:
        values = _values(await request.form())

        def work(conn: Connection) -> Book:
            created = books.create_book(
                conn,
                values.get("code", "").strip(),
                values.get("name", "").strip(),
                values.get("kind", ""),
                values.get("operating_currency", "").strip(),
                values.get("province", "").strip() or None,
            )
            return Book.of(created)

        rejected = await _write(writer, "book.create", work, values, status_code=201)
        if rejected is not None:
            return _books_page(request, await run_blocking(_read_books, db), values, rejected)
        return Redirect("/admin/books?saved=1", status_code=HTTP_303_SEE_OTHER)


def _user_change(
    change: str, user_id: int, principal: Principal, values: Mapping[str, str]
) -> tuple[str, Callable[[Connection], User]] | None:
    """The audited action and the work of one change to a user; None for an unknown one."""
    if change == "disable":
        return "user.disable", lambda conn: User.of(
            users.disable_user(conn, user_id, principal.user_id)
        )
    if change == "password":
        new = values.get("password", "")
        return "user.password_reset", lambda conn: User.of(users.reset_password(conn, user_id, new))
    if change == "scopes":
        scopes = scope_lines(values.get("scopes", ""))
        return "user.scopes", lambda conn: User.of(users.set_scopes(conn, user_id, scopes))
    return None


async def _user_page(
    request: Request[Any, Any, Any],
    db: Database,
    principal: Principal,
    user_id: int,
    values: Mapping[str, str] | None = None,
    rejected: LedgerRejected | None = None,
    form: str | None = None,
    status_code: int | None = None,
) -> Template:
    def read() -> tuple[users.User, list[users.ApiToken]]:
        with db.read() as conn:
            return users.get_user(conn, user_id), users.list_api_tokens(conn, user_id)

    user, tokens = await run_blocking(read)
    beside, general = errors_by_field(rejected.errors if rejected else ())
    status = status_code or (STATUS_BY_KIND[rejected.first.kind] if rejected else 200)
    shown = {k: v for k, v in (values or {}).items() if k != "password"}
    context = {
        "user": user,
        "tokens": tokens,
        "is_me": user.id == principal.user_id,
        "values": shown,
        "errors": beside,
        "general_errors": general,
        "form": form,
        "saved": request.query_params.get("saved"),
        "key": new_idempotency_key(),
        "now": datetime.datetime.now(datetime.UTC),
    }
    return page(request, "admin_user.html", context, status_code=status)


def _read_books(db: Database) -> list[books.Book]:
    with db.read() as conn:
        return books.list_books(conn)


def _books_page(
    request: Request[Any, Any, Any],
    found: list[books.Book],
    values: Mapping[str, str] | None = None,
    rejected: LedgerRejected | None = None,
) -> Template:
    beside, general = errors_by_field(rejected.errors if rejected else ())
    context = {
        "books": found,
        "kinds": BOOK_KINDS,
        "values": dict(values or {}),
        "errors": beside,
        "general_errors": general,
        "key": new_idempotency_key() if rejected is None else _key(values or {}),
        "saved": request.query_params.get("saved") == "1",
    }
    status = STATUS_BY_KIND[rejected.first.kind] if rejected else 200
    return page(request, "admin_books.html", context, status_code=status)

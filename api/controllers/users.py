"""Admins manage users; auditors and admins read the audit trail."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import policy
from api.cursors import Cursor, PageSize, id_after, id_cursor
from api.schemas.access import (
    AuditEvent,
    AuditPage,
    PasswordReset,
    ScopesUpdate,
    User,
    UserCreate,
)
from api.writes import AuditedWriter
from ledger.access import audit, users
from ledger.access.policy import Action, Principal
from ledger.core import limits
from ledger.store.database import Database


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a user with a role and scopes",
        opt=policy(Action.USERS_MANAGE),
    )
    async def create_user(
        self, writer: NamedDependency[AuditedWriter], data: JSONBody[UserCreate]
    ) -> Response[User]:
        def work(conn: Connection) -> User:
            return User.of(
                users.create_user(conn, data.username, data.password, data.role, data.scopes)
            )

        # Not idempotency-keyed: the request carries a password.
        return await writer.write("user.create", work, None, idempotent=False)

    @post(
        "/{user_id:int}/disable",
        status_code=HTTP_200_OK,
        summary="Disable a user (every token of theirs stops working)",
        opt=policy(Action.USERS_MANAGE),
    )
    async def disable_user(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        user_id: FromPath[int],
    ) -> Response[User]:
        def work(conn: Connection) -> User:
            return User.of(users.disable_user(conn, user_id, principal.user_id))

        return await writer.write("user.disable", work, status_code=HTTP_200_OK)

    @post(
        "/{user_id:int}/password",
        status_code=HTTP_200_OK,
        summary="Set a user's new password (every token of theirs stops working)",
        opt=policy(Action.USERS_MANAGE),
    )
    async def reset_password(
        self,
        writer: NamedDependency[AuditedWriter],
        user_id: FromPath[int],
        data: JSONBody[PasswordReset],
    ) -> Response[User]:
        def work(conn: Connection) -> User:
            return User.of(users.reset_password(conn, user_id, data.password))

        # Not idempotency-keyed: the request carries a password.
        return await writer.write(
            "user.password_reset", work, None, status_code=HTTP_200_OK, idempotent=False
        )

    @put(
        "/{user_id:int}/scopes",
        status_code=HTTP_200_OK,
        summary="Replace a user's scopes",
        opt=policy(Action.USERS_MANAGE),
    )
    async def set_scopes(
        self,
        writer: NamedDependency[AuditedWriter],
        user_id: FromPath[int],
        data: JSONBody[ScopesUpdate],
    ) -> Response[User]:
        def work(conn: Connection) -> User:
            return User.of(users.set_scopes(conn, user_id, data.scopes))

        return await writer.write(
            "user.scopes", work, data, status_code=HTTP_200_OK, idempotent=False
        )

    @get("/", sync_to_thread=True, summary="All users", opt=policy(Action.USERS_MANAGE))
    def list_users(self, db: NamedDependency[Database]) -> list[User]:
        with db.read() as conn:
            return [User.of(u) for u in users.list_users(conn)]


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]

    @get(
        "/",
        sync_to_thread=True,
        summary="The audit trail, oldest first",
        opt=policy(Action.AUDIT_READ),
    )
    def list_events(
        self,
        db: NamedDependency[Database],
        username: Annotated[str | None, QueryParameter(max_length=64)] = None,
        action: Annotated[str | None, QueryParameter(max_length=60)] = None,
        book: Annotated[str | None, QueryParameter(max_length=40)] = None,
        since: Annotated[datetime.datetime | None, QueryParameter()] = None,
        until: Annotated[datetime.datetime | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: PageSize = limits.PAGE_SIZE_DEFAULT,
    ) -> AuditPage:
        where = audit.AuditFilter(
            username=username, action=action, book=book, since=since, until=until
        )
        with db.read() as conn:
            found = audit.list_events(conn, where, id_after(cursor), limit)
        return AuditPage(
            items=[AuditEvent.of(e) for e in found],
            next_cursor=id_cursor(found[-1].id) if len(found) == limit else None,
        )

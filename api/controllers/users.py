"""Admins manage users; auditors and admins read the audit trail."""

from __future__ import annotations

import datetime
from typing import Annotated

from litestar import Controller, Response
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import id_after
from api.injected import Db, Page, Writer
from api.routes import acts, creates, reads, replaces
from api.schemas import next_id_cursor
from api.schemas.access import (
    AuditEvent,
    AuditPage,
    PasswordResetBody,
    ScopesBody,
    User,
    UserBody,
    UserPage,
)
from ledger.access import audit, users
from ledger.access.policy import Action


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]

    @creates("/", "Create a user with a role and scopes", Action.USERS_MANAGE)
    async def create_user(self, writer: Writer, data: UserBody) -> Response[User]:
        """Creates a user who signs in with this username and password (10 to 256
        characters); the role (admin, finance, officer, treasurer or auditor) says what they
        may do and the scopes (`book:CODE`, `province:NAME`) where. Refuses 409
        `user_exists`, `username_invalid`, `password_invalid`, `role_invalid`,
        `scope_invalid`, `too_many_scopes`. Never idempotency-keyed: it carries a password."""

        def work(conn: Connection) -> User:
            return User.of(
                users.create_user(conn, data.username, data.password, data.role, data.scopes)
            )

        return await writer.write("user.create", work, None, idempotent=False)

    @acts(
        "/{user_id:int}/disable",
        "Disable a user (every token of theirs stops working)",
        Action.USERS_MANAGE,
    )
    async def disable_user(self, writer: Writer, user_id: FromPath[int]) -> Response[User]:
        """Disables the user at once: they can no longer sign in and every token and session
        of theirs is refused; their records and audit events stay. Refuses 404
        `user_not_found` and 409 `cannot_disable_self`."""
        by_user_id = writer.principal.user_id

        def work(conn: Connection) -> User:
            return User.of(users.disable_user(conn, user_id, by_user_id))

        return await writer.write("user.disable", work, status_code=HTTP_200_OK)

    @acts(
        "/{user_id:int}/password",
        "Set a user's new password (every token of theirs stops working)",
        Action.USERS_MANAGE,
    )
    async def reset_password(
        self, writer: Writer, user_id: FromPath[int], data: PasswordResetBody
    ) -> Response[User]:
        """Sets the user's password (10 to 256 characters) without the old one, for a user who
        forgot it; every token and session issued before stops working. Refuses 404
        `user_not_found` and `password_invalid`. Never idempotency-keyed."""

        def work(conn: Connection) -> User:
            return User.of(users.reset_password(conn, user_id, data.password))

        return await writer.write(
            "user.password_reset", work, None, status_code=HTTP_200_OK, idempotent=False
        )

    @replaces("/{user_id:int}/scopes", "Replace a user's scopes", Action.USERS_MANAGE)
    async def set_scopes(
        self, writer: Writer, user_id: FromPath[int], data: ScopesBody
    ) -> Response[User]:
        """Replaces all the user's scopes (`book:CODE`, `province:NAME`) with the ones given;
        an empty list removes them. Refuses 404 `user_not_found`, `scope_invalid` and
        `too_many_scopes` (at most 50)."""

        def work(conn: Connection) -> User:
            return User.of(users.set_scopes(conn, user_id, data.scopes))

        return await writer.write(
            "user.scopes", work, data, status_code=HTTP_200_OK, idempotent=False
        )

    @reads("/", "All users", Action.USERS_MANAGE)
    def list_users(self, db: Db, page: Page) -> UserPage:
        """One page of the users in the order they were created (id order), disabled ones
        included, with their role and scopes; never a password. Pass `next_cursor` back as
        `cursor` for the next page."""
        with db.read() as conn:
            found = users.page_of_users(conn, id_after(page.cursor), page.limit)
        return UserPage.of(found, page.limit)


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]

    @reads("/", "The audit trail, oldest first", Action.AUDIT_READ)
    def list_events(
        self,
        db: Db,
        page: Page,
        username: Annotated[str | None, QueryParameter(max_length=64)] = None,
        action: Annotated[str | None, QueryParameter(max_length=60)] = None,
        book: Annotated[str | None, QueryParameter(max_length=40)] = None,
        since: Annotated[datetime.datetime | None, QueryParameter()] = None,
        until: Annotated[datetime.datetime | None, QueryParameter()] = None,
    ) -> AuditPage:
        """One page of the audit trail oldest first: writes and sign-ins with who, when, the
        request, the action, its outcome and the object it touched (by id or case code, never
        personal data); filtered by username, action, book and time. Append-only and
        hash-chained."""
        where = audit.AuditFilter(
            username=username, action=action, book=book, since=since, until=until
        )
        with db.read() as conn:
            found = audit.list_events(conn, where, id_after(page.cursor), page.limit)
        return AuditPage([AuditEvent.of(e) for e in found], next_id_cursor(found, page.limit))

"""Signing in, one's own API tokens and password."""

from __future__ import annotations

import datetime
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.auth import PUBLIC, AuthSettings
from api.cursors import id_after
from api.injected import Caller, Db, Page, Writer
from api.login_throttle import GrowingDelay
from api.routes import acts, creates, reads, removes
from api.schemas.access import (
    AccessToken,
    ApiToken,
    ApiTokenBody,
    ApiTokenCreated,
    ApiTokenPage,
    LoginBody,
    Me,
    PasswordChangeBody,
    PasswordChanged,
)
from api.sign_in import check_sign_in
from ledger.access import users
from ledger.access.audit import RequestFacts, record_event
from ledger.access.policy import Action
from ledger.access.tokens import issue_access_token
from ledger.core.errors import LedgerRejected, rate_limited

PASSWORD_CHANGE_THROTTLED = rate_limited(
    "password_change_throttled",
    "Too many wrong current passwords: wait a while before trying again.",
)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", sync_to_thread=True, status_code=HTTP_200_OK, summary="Sign in", opt=PUBLIC)
    def login(self, db: Db, request: Request[Any, Any, Any], data: LoginBody) -> AccessToken:
        """Checks a username and password and answers a short-lived bearer access token (send
        it as `Authorization: Bearer ...`) with when it expires. Refuses 401
        `invalid_credentials` (the same for an unknown user and a wrong password); 429
        `login_throttled` after wrong passwords for that username from that address, and
        `too_many_requests` for too many attempts a minute from one address. Every attempt is
        audited."""
        settings: AuthSettings = request.app.state.auth

        def signed_in(conn: Connection, user: users.User, facts: RequestFacts) -> users.User:
            record_event(conn, None, facts, "auth.login", outcome="ok", username=user.username)
            return user

        outcome = check_sign_in(request, db, data.username, data.password, signed_in)
        now = _now()
        token, claims = issue_access_token(
            outcome.id, settings.secret_key, now, credential_version=outcome.credential_version
        )
        return AccessToken(
            access_token=token,
            token_type="bearer",  # noqa: S106 - the scheme name, not a secret
            expires_in=int((claims.expires_at - now).total_seconds()),
            expires_at=claims.expires_at,
        )

    @reads("/me", "Who am I", Action.TOKENS_OWN)
    def me(self, principal: Caller) -> Me:
        """The signed-in user's username and role, and the books and provinces their scopes
        name: what every other request is checked against."""
        return Me(
            username=principal.username,
            role=principal.role,
            books=sorted(principal.books),
            provinces=sorted(principal.provinces),
        )

    @acts("/password", "Change your password", Action.TOKENS_OWN)
    async def change_password(
        self, writer: Writer, request: Request[Any, Any, Any], data: PasswordChangeBody
    ) -> Response[PasswordChanged]:
        """Replaces your password (10 to 256 characters) once `current_password` is right;
        every token and session issued before stops working, so sign in again. Refuses 422
        `invalid_credentials` (wrong current password), `password_invalid`, and after too many
        wrong current passwords 429 `password_change_throttled`. Never idempotency-keyed."""
        principal = writer.principal

        def work(conn: Connection) -> PasswordChanged:
            users.change_password(conn, principal.user_id, data.current_password, data.new_password)
            return PasswordChanged(username=principal.username)

        # A stolen token must not become a way to guess the password: wrong current passwords
        # for one user are delayed like wrong sign-ins (only the token's holder can cause it).
        throttle: GrowingDelay = request.app.state.password_throttle
        if throttle.wait_seconds(principal.user_id) > 0:
            raise LedgerRejected([PASSWORD_CHANGE_THROTTLED])
        try:
            # Never idempotency-keyed: the stored request fingerprint would cover a password.
            changed = await writer.write(
                "user.password", work, None, status_code=HTTP_200_OK, idempotent=False
            )
        except LedgerRejected as rejected:
            if rejected.first.code == "invalid_credentials":
                throttle.record_failure(principal.user_id)
            raise
        throttle.forget(principal.user_id)
        return changed

    @creates("/tokens", "Create an API token for a field device (shown once)", Action.TOKENS_OWN)
    async def create_token(self, writer: Writer, data: ApiTokenBody) -> Response[ApiTokenCreated]:
        """Creates a revocable token that acts as you for `days` (1 to 366, default 90): the
        secret is in this answer only, never stored in clear or shown again. Refuses
        `token_name_invalid` and `token_days_invalid`. Never idempotency-keyed (a stored
        answer would keep the secret)."""
        principal = writer.principal

        def work(conn: Connection) -> ApiTokenCreated:
            token, secret = users.create_api_token(
                conn, principal.user_id, data.name, data.days, _now()
            )
            return ApiTokenCreated(token.id, token.name, secret, token.created_at, token.expires_at)

        # Not idempotency-keyed: a stored response would keep the secret in the database.
        return await writer.write("token.create", work, data, idempotent=False)

    @reads("/tokens", "Your API tokens", Action.TOKENS_OWN)
    def list_tokens(self, db: Db, principal: Caller, page: Page) -> ApiTokenPage:
        """One page of your API tokens and web sessions in the order created, revoked and
        expired ones included (`revoked_at`, `expires_at`); never their secrets. Pass
        `next_cursor` back as `cursor` for the next page."""
        with db.read() as conn:
            found = users.list_api_tokens(
                conn, principal.user_id, id_after(page.cursor), page.limit
            )
        return ApiTokenPage.of(found, page.limit)

    @removes("/tokens/{token_id:int}", "Revoke one of your API tokens", Action.TOKENS_OWN)
    async def revoke_token(self, writer: Writer, token_id: FromPath[int]) -> Response[ApiToken]:
        """Revokes the token at once (the device holding it is signed out) and answers it with
        `revoked_at`; revoking it again changes nothing. 404 `token_not_found` for a token
        that is not yours."""
        principal = writer.principal

        def work(conn: Connection) -> ApiToken:
            return ApiToken.of(users.revoke_api_token(conn, principal.user_id, token_id, _now()))

        return await writer.write(
            "token.revoke", work, None, status_code=HTTP_200_OK, idempotent=False
        )

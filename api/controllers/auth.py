"""Signing in, one's own API tokens and password."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import PUBLIC, AuthSettings, policy
from api.login_throttle import GrowingDelay
from api.schemas.access import (
    AccessToken,
    ApiToken,
    ApiTokenCreate,
    ApiTokenCreated,
    LoginCreate,
    Me,
    PasswordChange,
    PasswordChanged,
)
from api.sign_in import check_sign_in
from api.writes import AuditedWriter
from ledger.access import users
from ledger.access.audit import RequestFacts, record_event
from ledger.access.policy import Action, Principal
from ledger.access.tokens import issue_access_token
from ledger.core.errors import LedgerRejected, rate_limited
from ledger.store.database import Database

LOGIN_EXAMPLE = Example(
    summary="Sign in", value={"username": "admin", "password": "the one-time password"}
)


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
    def login(
        self,
        db: NamedDependency[Database],
        request: Request[Any, Any, Any],
        data: Annotated[LoginCreate, Body(examples=[LOGIN_EXAMPLE])],
    ) -> AccessToken:
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

    @get("/me", sync_to_thread=False, summary="Who am I", opt=policy(Action.TOKENS_OWN))
    def me(self, principal: NamedDependency[Principal]) -> Me:
        return Me(
            username=principal.username,
            role=principal.role,
            books=sorted(principal.books),
            provinces=sorted(principal.provinces),
        )

    @post(
        "/password",
        status_code=HTTP_200_OK,
        summary="Change your password",
        opt=policy(Action.TOKENS_OWN),
    )
    async def change_password(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        data: JSONBody[PasswordChange],
    ) -> Response[PasswordChanged]:
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

    @post(
        "/tokens",
        status_code=HTTP_201_CREATED,
        summary="Create an API token for a field device (shown once)",
        opt=policy(Action.TOKENS_OWN),
    )
    async def create_token(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        data: JSONBody[ApiTokenCreate],
    ) -> Response[ApiTokenCreated]:
        def work(conn: Connection) -> ApiTokenCreated:
            token, secret = users.create_api_token(
                conn, principal.user_id, data.name, data.days, _now()
            )
            return ApiTokenCreated(token.id, token.name, secret, token.created_at, token.expires_at)

        # Not idempotency-keyed: a stored response would keep the secret in the database.
        return await writer.write("token.create", work, data, idempotent=False)

    @get("/tokens", sync_to_thread=True, summary="Your API tokens", opt=policy(Action.TOKENS_OWN))
    def list_tokens(
        self, db: NamedDependency[Database], principal: NamedDependency[Principal]
    ) -> list[ApiToken]:
        with db.read() as conn:
            return [ApiToken.of(t) for t in users.list_api_tokens(conn, principal.user_id)]

    @delete(
        "/tokens/{token_id:int}",
        status_code=HTTP_200_OK,
        summary="Revoke one of your API tokens",
        opt=policy(Action.TOKENS_OWN),
    )
    async def revoke_token(
        self,
        writer: NamedDependency[AuditedWriter],
        principal: NamedDependency[Principal],
        token_id: FromPath[int],
    ) -> Response[ApiToken]:
        def work(conn: Connection) -> ApiToken:
            return ApiToken.of(users.revoke_api_token(conn, principal.user_id, token_id, _now()))

        return await writer.write(
            "token.revoke", work, None, status_code=HTTP_200_OK, idempotent=False
        )

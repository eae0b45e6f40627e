"""An administrator's view of a user's API tokens: a treasurer's phone holds one for a savings
cycle (signed in on the web pages with "keep this phone signed in"); when the phone is lost
or the treasurer changes, the administrator revokes it here."""

from __future__ import annotations

import datetime

from litestar import Controller, Response, delete, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.auth import policy
from api.schemas.access import ApiToken
from api.writes import AuditedWriter
from ledger.access import users
from ledger.access.policy import Action
from ledger.store.database import Database


class UserTokenController(Controller):
    path = "/api/users/{user_id:int}/tokens"
    tags = ["users"]

    @get(
        "/",
        sync_to_thread=True,
        summary="A user's API tokens and web sessions (never their secrets)",
        opt=policy(Action.USERS_MANAGE),
    )
    def list_user_tokens(
        self, db: NamedDependency[Database], user_id: FromPath[int]
    ) -> list[ApiToken]:
        with db.read() as conn:
            users.get_user(conn, user_id)  # 404 user_not_found
            return [ApiToken.of(t) for t in users.list_api_tokens(conn, user_id)]

    @delete(
        "/{token_id:int}",
        status_code=HTTP_200_OK,
        summary="Revoke a user's API token (a lost phone, a treasurer replaced)",
        opt=policy(Action.USERS_MANAGE),
    )
    async def revoke_user_token(
        self,
        writer: NamedDependency[AuditedWriter],
        user_id: FromPath[int],
        token_id: FromPath[int],
    ) -> Response[ApiToken]:
        def work(conn: Connection) -> ApiToken:
            now = datetime.datetime.now(datetime.UTC)
            return ApiToken.of(users.revoke_api_token(conn, user_id, token_id, now))

        # Not idempotency-keyed, like revoking one's own token: revoking twice changes nothing.
        return await writer.write("token.revoke", work, status_code=HTTP_200_OK, idempotent=False)

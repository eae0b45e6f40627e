"""An administrator's view of a user's API tokens: a treasurer's phone holds one for a savings
cycle (signed in on the web pages with "keep this phone signed in"); when the phone is lost
or the treasurer changes, the administrator revokes it here."""

from __future__ import annotations

import datetime

from litestar import Controller, Response
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import Connection

from api.cursors import id_after
from api.injected import Db, Page, Writer
from api.routes import reads, removes
from api.schemas.access import ApiToken, ApiTokenPage
from ledger.access import users
from ledger.access.policy import Action


class UserTokenController(Controller):
    path = "/api/users/{user_id:int}/tokens"
    tags = ["users"]

    @reads("/", "A user's API tokens and web sessions (never their secrets)", Action.USERS_MANAGE)
    def list_user_tokens(self, db: Db, user_id: FromPath[int], page: Page) -> ApiTokenPage:
        """One page of the user's API tokens and "keep this phone signed in" sessions in the
        order created, revoked and expired ones included (`revoked_at`, `expires_at`). 404
        `user_not_found` for a user that does not exist."""
        with db.read() as conn:
            users.get_user(conn, user_id)  # 404 user_not_found
            found = users.list_api_tokens(conn, user_id, id_after(page.cursor), page.limit)
        return ApiTokenPage.of(found, page.limit)

    @removes(
        "/{token_id:int}",
        "Revoke a user's API token (a lost phone, a treasurer replaced)",
        Action.USERS_MANAGE,
    )
    async def revoke_user_token(
        self, writer: Writer, user_id: FromPath[int], token_id: FromPath[int]
    ) -> Response[ApiToken]:
        """Revokes the token at once: the phone holding it is signed out and must sign in
        again. Answers the token with `revoked_at`; revoking it again changes nothing. 404
        `token_not_found` for a token that is not this user's."""

        def work(conn: Connection) -> ApiToken:
            now = datetime.datetime.now(datetime.UTC)
            return ApiToken.of(users.revoke_api_token(conn, user_id, token_id, now))

        # Not idempotency-keyed, like revoking one's own token: revoking twice changes nothing.
        return await writer.write("token.revoke", work, status_code=HTTP_200_OK, idempotent=False)

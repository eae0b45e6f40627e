"""Short-lived signed access tokens (JWT, HS256) and long-lived revocable API tokens.

Access tokens are read with one algorithm only, so `alg: none`, a token signed with another
key, an expired or a tampered token are all simply invalid (None). API tokens for field
devices are random secrets shown once and stored only as their SHA-256.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import jwt

ACCESS_TOKEN_SECONDS = 15 * 60
SIGNING_ALGORITHM = "HS256"
API_TOKEN_PREFIX = "llt_"  # noqa: S105 - a public prefix, not a secret
API_TOKEN_LENGTH_MAX = 100


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    jti: str
    issued_at: datetime.datetime
    expires_at: datetime.datetime
    # The user's credential version when the token was issued: void once it changes.
    credential_version: int = 0


def issue_access_token(
    user_id: int,
    secret_key: str,
    now: datetime.datetime,
    seconds: int = ACCESS_TOKEN_SECONDS,
    credential_version: int = 0,
) -> tuple[str, AccessClaims]:
    if now.tzinfo is None:
        raise ValueError("a token is issued at an aware time")
    expires_at = now + datetime.timedelta(seconds=seconds)
    jti = uuid.uuid4().hex
    token = jwt.encode(
        {
            "sub": str(user_id),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": jti,
            "typ": "access",
            "cv": credential_version,
        },
        secret_key,
        algorithm=SIGNING_ALGORITHM,
    )
    issued_at = datetime.datetime.fromtimestamp(int(now.timestamp()), datetime.UTC)
    return token, AccessClaims(user_id, jti, issued_at, expires_at, credential_version)


def read_access_token(token: str, secret_key: str) -> AccessClaims | None:
    """The claims of a valid, unexpired token signed with our key; None for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[SIGNING_ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti", "cv"]},
        )
    except jwt.PyJWTError:
        return None
    version = claims["cv"]
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        return None
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    return AccessClaims(
        user_id=int(claims["sub"]),
        jti=str(claims["jti"]),
        issued_at=datetime.datetime.fromtimestamp(int(claims["iat"]), datetime.UTC),
        expires_at=datetime.datetime.fromtimestamp(int(claims["exp"]), datetime.UTC),
        credential_version=version,
    )


def new_api_token() -> tuple[str, str]:
    """(the secret to show once, its SHA-256 to store)."""
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_api_token(secret)


def hash_api_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_api_token(text: str) -> bool:
    return text.startswith(API_TOKEN_PREFIX) and len(text) <= API_TOKEN_LENGTH_MAX

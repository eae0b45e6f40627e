"""Users, their scopes, sign-in, and API tokens (the access area's records).

Passwords are hashed with argon2 (pwdlib). Nothing here locks an account after wrong
passwords: the API slows guessers down per address and username (`api.login_throttle`).
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Connection, Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.access.policy import ROLES, Principal, parse_scope
from ledger.access.tokens import hash_api_token, is_api_token, new_api_token
from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, not_found, reject_if
from ledger.store.books import utc_now
from ledger.store.tables import api_tokens, user_scopes, users

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
PASSWORD_LENGTH_MIN = 10
PASSWORD_LENGTH_MAX = 256
SCOPES_PER_USER_MAX = 50
TOKEN_NAME_LENGTH_MAX = 100
API_TOKEN_DAYS_MAX = 366
FIRST_ADMIN_USERNAME = "admin"

_hasher = PasswordHash((Argon2Hasher(),))
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    scopes: tuple[str, ...]
    created_at: datetime.datetime
    disabled: bool
    # Counts password changes and disablings; a credential carries the version it was made at.
    credential_version: int = 0


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


LoginRefusal = Literal["invalid_credentials"]


def validate_new_user(
    username: str, password: str, role: str, scopes: Sequence[str]
) -> list[LedgerError]:
    errors: list[LedgerError] = []
    if not USERNAME_RE.fullmatch(username):
        errors.append(
            invalid(
                "username_invalid",
                "A username has 3 to 64 lowercase letters, digits, '.', '_' or '-'.",
                "username",
            )
        )
    if not PASSWORD_LENGTH_MIN <= len(password) <= PASSWORD_LENGTH_MAX:
        errors.append(
            invalid(
                "password_invalid",
                f"A password has {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX} characters.",
                "password",
            )
        )
    if role not in ROLES:
        errors.append(invalid("role_invalid", f"role is one of {', '.join(ROLES)}.", "role"))
    if len(scopes) > SCOPES_PER_USER_MAX:
        errors.append(invalid("too_many_scopes", "Too many scopes.", "scopes"))
    for index, scope in enumerate(scopes):
        if parse_scope(scope) is None:
            errors.append(
                invalid(
                    "scope_invalid",
                    "A scope is book:CODE or province:NAME.",
                    f"scopes[{index}]",
                )
            )
    return errors


def create_user(
    conn: Connection, username: str, password: str, role: str, scopes: Sequence[str] = ()
) -> User:
    reject_if(validate_new_user(username, password, role, scopes))
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise LedgerRejected([conflict("user_exists", "This username is taken.", "username")])
    try:
        user_id = conn.execute(
            insert(users)
            .values(
                username=username,
                password_hash=_hasher.hash(password),
                role=role,
                created_at=utc_now(),
                failed_logins=0,
            )
            .returning(users.c.id)
        ).scalar_one()
    except IntegrityError as race:
        raise LedgerRejected(
            [conflict("user_exists", "This username is taken.", "username")]
        ) from race
    pairs = sorted({pair for pair in map(parse_scope, scopes) if pair is not None})
    if pairs:
        conn.execute(
            insert(user_scopes),
            [{"user_id": user_id, "kind": kind, "value": value} for kind, value in pairs],
        )
    return get_user(conn, int(user_id))


def get_user(conn: Connection, user_id: int) -> User:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise LedgerRejected([not_found("user_not_found", "No such user.")])
    scopes = tuple(
        f"{kind}:{value}"
        for kind, value in conn.execute(
            select(user_scopes.c.kind, user_scopes.c.value)
            .where(user_scopes.c.user_id == user_id)
            .order_by(user_scopes.c.kind, user_scopes.c.value)
        )
    )
    return User(
        id=row.id,
        username=row.username,
        role=row.role,
        scopes=scopes,
        created_at=row.created_at,
        disabled=row.disabled_at is not None,
        credential_version=row.credential_version,
    )


def list_users(conn: Connection) -> list[User]:
    ids = conn.execute(select(users.c.id).order_by(users.c.username)).scalars().all()
    return [get_user(conn, int(i)) for i in ids]


def page_of_users(conn: Connection, after_id: int | None, limit: int) -> list[User]:
    """A page of users in id order (the order they were created): `limit` of them after
    `after_id`. Two queries a page: the users, then the scopes of all of them."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = select(users).order_by(users.c.id).limit(limit)
    if after_id is not None:
        statement = statement.where(users.c.id > after_id)
    rows = conn.execute(statement).all()
    scopes: dict[int, list[str]] = {row.id: [] for row in rows}
    if scopes:
        found = conn.execute(
            select(user_scopes.c.user_id, user_scopes.c.kind, user_scopes.c.value)
            .where(user_scopes.c.user_id.in_(list(scopes)))
            .order_by(user_scopes.c.user_id, user_scopes.c.kind, user_scopes.c.value)
        )
        for user_id, kind, value in found:
            scopes[user_id].append(f"{kind}:{value}")
    return [
        User(
            id=row.id,
            username=row.username,
            role=row.role,
            scopes=tuple(scopes[row.id]),
            created_at=row.created_at,
            disabled=row.disabled_at is not None,
            credential_version=row.credential_version,
        )
        for row in rows
    ]


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


# Every request signs in: these statements are built once.
_PRINCIPAL_USER = select(
    users.c.id,
    users.c.username,
    users.c.role,
    users.c.disabled_at,
    users.c.credential_version,
).where(users.c.id == bindparam("user_id"))
_PRINCIPAL_SCOPES = select(user_scopes.c.kind, user_scopes.c.value).where(
    user_scopes.c.user_id == bindparam("user_id")
)
_API_TOKEN_BY_HASH = select(
    api_tokens.c.id,
    api_tokens.c.user_id,
    api_tokens.c.expires_at,
    api_tokens.c.revoked_at,
    api_tokens.c.credential_version,
).where(api_tokens.c.token_hash == bindparam("token_hash"))


def load_principal(
    conn: Connection, user_id: int, token: str | None, credential_version: int
) -> Principal | None:
    """The user as a Principal, or None when they no longer exist, are disabled, or the
    credential (made at `credential_version`) predates their last password change."""
    row = conn.execute(_PRINCIPAL_USER, {"user_id": user_id}).first()
    if row is None or row.disabled_at is not None:
        return None
    # A counter, not a time: a credential made in the same instant as a change is ordered too.
    if credential_version != row.credential_version:
        return None
    book_scopes: set[str] = set()
    province_scopes: set[str] = set()
    for kind, value in conn.execute(_PRINCIPAL_SCOPES, {"user_id": user_id}):
        (book_scopes if kind == "book" else province_scopes).add(value)
    return Principal(
        user_id=row.id,
        username=row.username,
        role=row.role,
        books=frozenset(book_scopes),
        provinces=frozenset(province_scopes),
        token=token,
    )


def authenticate(conn: Connection, username: str, password: str) -> User | LoginRefusal:
    """The user for a right password, else why not. Never locks an account: a lock anyone can
    trigger keeps the real user out; `api.login_throttle` slows guessers down instead."""
    row = None
    if USERNAME_RE.fullmatch(username) and len(password) <= PASSWORD_LENGTH_MAX:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or row.disabled_at is not None:
        _hasher.verify(password[:PASSWORD_LENGTH_MAX], _DUMMY_HASH)
        return "invalid_credentials"
    if not _hasher.verify(password, row.password_hash):
        return "invalid_credentials"
    return get_user(conn, row.id)


def ensure_first_admin(conn: Connection, password: str | None) -> str | None:
    """On an empty database, create `admin`. Returns the generated one-time password, if any."""
    if count_users(conn):
        return None
    generated = None
    if password is None:
        generated = secrets.token_urlsafe(15)
        password = generated
    create_user(conn, FIRST_ADMIN_USERNAME, password, "admin")
    return generated


def change_password(conn: Connection, user_id: int, current: str, new: str) -> None:
    row = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).first()
    if row is None or not _hasher.verify(current, row.password_hash):
        raise LedgerRejected(
            [invalid("invalid_credentials", "The current password is wrong.", "current_password")]
        )
    if not PASSWORD_LENGTH_MIN <= len(new) <= PASSWORD_LENGTH_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "password_invalid",
                    f"A password has {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX} characters.",
                    "new_password",
                )
            ]
        )
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            password_hash=_hasher.hash(new),
            credentials_changed_at=utc_now(),
            credential_version=users.c.credential_version + 1,
        )
    )


def disable_user(conn: Connection, user_id: int, by_user_id: int) -> User:
    """Disable a user: every token of theirs stops working at once. Not oneself."""
    if user_id == by_user_id:
        raise LedgerRejected([conflict("cannot_disable_self", "You cannot disable yourself.")])
    user = get_user(conn, user_id)
    if not user.disabled:
        now = utc_now()
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                disabled_at=now,
                credentials_changed_at=now,
                credential_version=users.c.credential_version + 1,
            )
        )
    return get_user(conn, user_id)


# The newest tokens an administrator's list shows (older ones expire or were revoked).
TOKENS_LISTED_MAX = 500


def reset_password(conn: Connection, user_id: int, new: str) -> User:
    """An administrator sets a new password (the user forgot theirs): every token of theirs
    stops working, as after a change."""
    if not PASSWORD_LENGTH_MIN <= len(new) <= PASSWORD_LENGTH_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "password_invalid",
                    f"A password has {PASSWORD_LENGTH_MIN} to {PASSWORD_LENGTH_MAX} characters.",
                    "password",
                )
            ]
        )
    get_user(conn, user_id)
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(
            password_hash=_hasher.hash(new),
            credentials_changed_at=utc_now(),
            credential_version=users.c.credential_version + 1,
        )
    )
    return get_user(conn, user_id)


def set_scopes(conn: Connection, user_id: int, scopes: Sequence[str]) -> User:
    """Replace the user's scopes (`book:CODE`, `province:NAME`); they apply from the next
    request."""
    errors = [
        e
        for e in validate_new_user("valid.name", "x" * PASSWORD_LENGTH_MIN, ROLES[0], scopes)
        if e.field is not None and e.field.startswith("scopes")
    ]
    reject_if(errors)
    get_user(conn, user_id)
    conn.execute(delete(user_scopes).where(user_scopes.c.user_id == user_id))
    pairs = sorted({pair for pair in map(parse_scope, scopes) if pair is not None})
    if pairs:
        conn.execute(
            insert(user_scopes),
            [{"user_id": user_id, "kind": kind, "value": value} for kind, value in pairs],
        )
    return get_user(conn, user_id)


def list_all_api_tokens(conn: Connection) -> list[ApiToken]:
    """Every user's API tokens and web sessions, newest first (never their secrets)."""
    rows = conn.execute(
        select(api_tokens).order_by(api_tokens.c.id.desc()).limit(TOKENS_LISTED_MAX)
    )
    return [_token_from_row(r) for r in rows]


# -- API tokens for field devices -----------------------------------------------------------


def _token_from_row(row: Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def create_api_token(
    conn: Connection, user_id: int, name: str, days: int, now: datetime.datetime
) -> tuple[ApiToken, str]:
    """A new token and its secret (shown once; only its hash is kept)."""
    errors: list[LedgerError] = []
    if not name.strip() or len(name) > TOKEN_NAME_LENGTH_MAX or not name.isprintable():
        errors.append(
            invalid(
                "token_name_invalid", "A token has a one-line name of 1 to 100 characters.", "name"
            )
        )
    if not 1 <= days <= API_TOKEN_DAYS_MAX:
        errors.append(
            invalid("token_days_invalid", f"A token lives 1 to {API_TOKEN_DAYS_MAX} days.", "days")
        )
    reject_if(errors)
    secret, digest = new_api_token()
    version = conn.execute(
        select(users.c.credential_version).where(users.c.id == user_id)
    ).scalar_one()
    token_id = conn.execute(
        insert(api_tokens)
        .values(
            user_id=user_id,
            credential_version=version,
            name=name,
            token_hash=digest,
            created_at=now,
            expires_at=now + datetime.timedelta(days=days),
            revoked_at=None,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one()
    return _token_from_row(row), secret


def list_api_tokens(
    conn: Connection, user_id: int, after_id: int | None = None, limit: int = limits.PAGE_SIZE_MAX
) -> list[ApiToken]:
    """A page of the user's API tokens and web sessions in id order: `limit` of them after
    `after_id`, revoked and expired ones included. One query a page."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = (
        select(api_tokens)
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id)
        .limit(limit)
    )
    if after_id is not None:
        statement = statement.where(api_tokens.c.id > after_id)
    return [_token_from_row(r) for r in conn.execute(statement)]


def revoke_api_token(
    conn: Connection, user_id: int, token_id: int, now: datetime.datetime
) -> ApiToken:
    """Revoke one of the user's own tokens (another user's is 'not found')."""
    row = conn.execute(
        select(api_tokens).where(and_(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id))
    ).first()
    if row is None:
        raise LedgerRejected([not_found("token_not_found", "No such token.")])
    if row.revoked_at is None:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))
    return _token_from_row(
        conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one()
    )


def principal_for_api_token(
    conn: Connection, secret: str, now: datetime.datetime
) -> tuple[Principal, datetime.datetime | None] | None:
    """The owner of a live (unrevoked, unexpired) API token and when the token expires, or
    None."""
    if not is_api_token(secret):
        return None
    row = conn.execute(_API_TOKEN_BY_HASH, {"token_hash": hash_api_token(secret)}).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    principal = load_principal(conn, row.user_id, f"api:{row.id}", row.credential_version)
    return None if principal is None else (principal, row.expires_at)

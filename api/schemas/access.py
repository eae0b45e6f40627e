"""Sign-in, tokens, users, the audit trail and contact details as the API shows them."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Annotated

import msgspec

from api.schemas import example, next_id_cursor
from ledger.access.audit import AuditEvent as StoredAuditEvent
from ledger.access.users import ApiToken as StoredApiToken
from ledger.access.users import User as StoredUser
from ledger.people.contacts import Contact as StoredContact


class LoginCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=200, examples=["sopheap.finance"])]
    password: Annotated[str, msgspec.Meta(max_length=1_000)]


class AccessToken(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    expires_at: datetime.datetime


class Me(msgspec.Struct):
    username: str
    role: str
    books: list[str]
    provinces: list[str]


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(max_length=1_000)]
    new_password: Annotated[str, msgspec.Meta(max_length=1_000)]


class PasswordChanged(msgspec.Struct):
    username: str


class ApiTokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100, examples=["Bavet field phone 3"])]
    days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 90


class ApiToken(msgspec.Struct):
    id: int
    name: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None

    @classmethod
    def of(cls, token: StoredApiToken) -> ApiToken:
        return cls(token.id, token.name, token.created_at, token.expires_at, token.revoked_at)


class ApiTokenPage(msgspec.Struct):
    items: list[ApiToken]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredApiToken], limit: int) -> ApiTokenPage:
        return cls([ApiToken.of(t) for t in found], next_id_cursor(found, limit))


class ApiTokenCreated(msgspec.Struct):
    """The only response that ever shows the token: keep it on the device."""

    id: int
    name: str
    token: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=64, examples=["dara.treasurer"])]
    password: Annotated[str, msgspec.Meta(max_length=1_000)]
    role: Annotated[str, msgspec.Meta(examples=["treasurer"])]
    scopes: Annotated[list[str], msgspec.Meta(max_length=50, examples=[["book:sg-kt-001"]])] = (
        msgspec.field(default_factory=list)
    )


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    """An administrator sets a user's new password."""

    password: Annotated[str, msgspec.Meta(max_length=1_000)]


class ScopesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """The user's scopes, all of them (the old ones are replaced)."""

    scopes: Annotated[list[str], msgspec.Meta(max_length=50, examples=[["province:Svay Rieng"]])]


class User(msgspec.Struct):
    id: int
    username: str
    role: str
    scopes: list[str]
    created_at: datetime.datetime
    disabled: bool

    @classmethod
    def of(cls, user: StoredUser) -> User:
        return cls(
            user.id, user.username, user.role, list(user.scopes), user.created_at, user.disabled
        )


class UserPage(msgspec.Struct):
    items: list[User]
    next_cursor: str | None

    @classmethod
    def of(cls, found: Sequence[StoredUser], limit: int) -> UserPage:
        return cls([User.of(u) for u in found], next_id_cursor(found, limit))


# Demo credentials, the README's: never a real password.
EXAMPLE_LOGIN = {"username": "sopheap.finance", "password": "a long finance password"}
EXAMPLE_PASSWORD_CHANGE = {
    "current_password": "a long finance password",
    "new_password": "a new finance passphrase 2026",
}
EXAMPLE_API_TOKEN = {"name": "Bavet field phone 3", "days": 90}
EXAMPLE_USER = {
    "username": "dara.officer",
    "password": "a long officer password",
    "role": "officer",
    "scopes": ["province:Svay Rieng"],
}
EXAMPLE_PASSWORD_RESET = {"password": "a new officer password 2026"}
EXAMPLE_SCOPES = {"scopes": ["province:Svay Rieng", "province:Prey Veng"]}
LoginBody = Annotated[LoginCreate, example("Sign in (demo user)", EXAMPLE_LOGIN)]
PasswordChangeBody = Annotated[
    PasswordChange, example("A new passphrase (demo)", EXAMPLE_PASSWORD_CHANGE)
]
ApiTokenBody = Annotated[ApiTokenCreate, example("A field phone", EXAMPLE_API_TOKEN)]
UserBody = Annotated[UserCreate, example("An officer for Svay Rieng", EXAMPLE_USER)]
PasswordResetBody = Annotated[
    PasswordReset, example("A new password (demo)", EXAMPLE_PASSWORD_RESET)
]
ScopesBody = Annotated[ScopesUpdate, example("Two provinces", EXAMPLE_SCOPES)]


class AuditEvent(msgspec.Struct):
    id: int
    at: datetime.datetime
    username: str | None
    token: str | None
    request_id: str | None
    method: str
    path: str
    action: str
    outcome: str
    book: str | None
    object_type: str | None
    object_id: str | None
    detail: str

    @classmethod
    def of(cls, event: StoredAuditEvent) -> AuditEvent:
        return cls(
            id=event.id,
            at=event.at,
            username=event.username,
            token=event.token,
            request_id=event.request_id,
            method=event.method,
            path=event.path,
            action=event.action,
            outcome=event.outcome,
            book=event.book,
            object_type=event.object_type,
            object_id=event.object_id,
            detail=event.detail,
        )


class AuditPage(msgspec.Struct):
    items: list[AuditEvent]
    next_cursor: str | None


class ContactPut(msgspec.Struct, forbid_unknown_fields=True):
    province: Annotated[str, msgspec.Meta(max_length=100, examples=["Svay Rieng"])]
    name: Annotated[str, msgspec.Meta(max_length=200)]
    phone: Annotated[str, msgspec.Meta(max_length=40)] = ""
    address: Annotated[str, msgspec.Meta(max_length=1_000)] = ""


class Contact(msgspec.Struct):
    case_code: str
    province: str
    name: str
    phone: str
    address: str
    updated_at: datetime.datetime

    @classmethod
    def of(cls, contact: StoredContact) -> Contact:
        return cls(
            contact.case_code,
            contact.province,
            contact.name,
            contact.phone,
            contact.address,
            contact.updated_at,
        )

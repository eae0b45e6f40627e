"""Errors as data: a stable snake_case `code`, a human message and the offending field.

The `kind` says what sort of problem it is; only `api/` turns a kind into an HTTP status.
Messages never contain personal data (names, phone numbers): they name fields and codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ErrorKind = Literal[
    "invalid",
    "conflict",
    "not_found",
    "forbidden",
    "unauthenticated",
    "rate_limited",
    "too_large",  # an upload over its limit (413)
    "unsupported",  # an upload of a type the ledger does not keep (415)
]


@dataclass(frozen=True, slots=True)
class LedgerError:
    """One problem with a request or a write, as data."""

    code: str
    message: str
    field: str | None = None
    kind: ErrorKind = "invalid"


class LedgerRejected(Exception):  # noqa: N818 - it is a rejection, not a crash
    """Raised when a write is refused. Carries every error found, first one first."""

    def __init__(self, errors: Iterable[LedgerError]) -> None:
        self.errors: tuple[LedgerError, ...] = tuple(errors)
        if not self.errors:
            raise ValueError("LedgerRejected needs at least one error")
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in self.errors))

    @property
    def first(self) -> LedgerError:
        return self.errors[0]


def invalid(code: str, message: str, field: str | None = None) -> LedgerError:
    return LedgerError(code=code, message=message, field=field, kind="invalid")


def conflict(code: str, message: str, field: str | None = None) -> LedgerError:
    return LedgerError(code=code, message=message, field=field, kind="conflict")


def not_found(code: str, message: str, field: str | None = None) -> LedgerError:
    return LedgerError(code=code, message=message, field=field, kind="not_found")


def forbidden(code: str, message: str, field: str | None = None) -> LedgerError:
    """The caller may not do this to this object (maker-checker, a province outside scope)."""
    return LedgerError(code=code, message=message, field=field, kind="forbidden")


def unauthenticated(code: str, message: str, field: str | None = None) -> LedgerError:
    return LedgerError(code=code, message=message, field=field, kind="unauthenticated")


def rate_limited(code: str, message: str, field: str | None = None) -> LedgerError:
    return LedgerError(code=code, message=message, field=field, kind="rate_limited")


def reject_if(errors: Iterable[LedgerError]) -> None:
    """Raise `LedgerRejected` when `errors` is not empty."""
    collected = tuple(errors)
    if collected:
        raise LedgerRejected(collected)

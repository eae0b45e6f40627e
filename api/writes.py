"""Every change goes through `audited_write`: one database transaction holding the
Idempotency-Key claim, the change itself and its audit event.

The response is encoded once and stored with the key; a retry with the same key and body
gets the same bytes back with `Idempotent-Replayed: true`, and records no second event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from sqlalchemy import Connection

from api.auth import forget_callers
from api.requests import request_facts
from ledger.access.audit import record_event
from ledger.access.policy import Principal
from ledger.store.database import Database
from ledger.store.idempotency import (
    StoredResponse,
    fingerprint,
    run_idempotent,
    run_idempotent_async,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

ResultT = TypeVar("ResultT", bound=msgspec.Struct)
# Changes to these objects can change who a bearer token signs in or what book a path names.
_ACCESS_OBJECT_TYPES = frozenset({"user", "token", "book"})


def object_id_of(result: msgspec.Struct) -> str | None:
    """The id (or code) of what a write created or changed, for the audit trail."""
    for name in ("id", "code", "case_code"):
        value = getattr(result, name, None)
        if value is not None:
            return str(value)
    return None


def audited_write(
    db: Database,
    request: Request[Any, Any, Any],
    principal: Principal,
    data: msgspec.Struct | None,
    status_code: int,
    action: str,
    unit: Callable[[Connection], ResultT],
    *,
    book: str | None = None,
    idempotent: bool = True,
) -> Response[ResultT]:
    """Run `unit` once (per Idempotency-Key), audit it, and answer with its result."""
    write = _AuditedWrite.of(request, principal, data, status_code, action, unit, book, idempotent)
    stored = run_idempotent(db, write.scope, write.key, write.request_fingerprint, write.unit)
    return write.answer(request, stored)


async def audited_write_async(
    db: Database,
    request: Request[Any, Any, Any],
    principal: Principal,
    data: msgspec.Struct | None,
    status_code: int,
    action: str,
    unit: Callable[[Connection], ResultT],
    *,
    book: str | None = None,
    idempotent: bool = True,
) -> Response[ResultT]:
    """`audited_write` for an `async` handler: the write is awaited without holding a worker
    thread (on SQLite it goes straight to the group writer). For the busiest routes."""
    write = _AuditedWrite.of(request, principal, data, status_code, action, unit, book, idempotent)
    stored = await run_idempotent_async(
        db, write.scope, write.key, write.request_fingerprint, write.unit
    )
    return write.answer(request, stored)


@dataclass(frozen=True, slots=True)
class _AuditedWrite:
    """One audited write, ready to run: its idempotency scope, key and fingerprint, and the
    unit of work that makes the change, records its event and encodes the answer."""

    scope: str
    key: str | None
    request_fingerprint: str
    unit: Callable[[Connection], tuple[int, bytes]]
    object_type: str

    @classmethod
    def of(
        cls,
        request: Request[Any, Any, Any],
        principal: Principal,
        data: msgspec.Struct | None,
        status_code: int,
        action: str,
        unit: Callable[[Connection], ResultT],
        book: str | None,
        idempotent: bool,
    ) -> _AuditedWrite:
        facts = request_facts(request)
        scope = f"{facts.method} {facts.path}"
        key = request.headers.get(IDEMPOTENCY_HEADER) if idempotent else None
        request_fingerprint = ""  # only a keyed request is ever compared with another
        if key is not None:
            body = msgspec.json.encode(data) if data is not None else b""
            request_fingerprint = fingerprint(scope.encode(), body)
        object_type = action.split(".", 1)[0]

        def write(conn: Connection) -> tuple[int, bytes]:
            result = unit(conn)
            record_event(
                conn,
                principal,
                facts,
                action,
                book=book,
                object_type=object_type,
                object_id=object_id_of(result),
            )
            return status_code, msgspec.json.encode(result)

        return cls(
            # A key belongs to one user: another user's retry with the same key is their own.
            scope=f"{principal.user_id} {scope}",
            key=key,
            request_fingerprint=request_fingerprint,
            unit=write,
            object_type=object_type,
        )

    def answer(self, request: Request[Any, Any, Any], stored: StoredResponse) -> Response[Any]:
        if self.object_type in _ACCESS_OBJECT_TYPES:
            forget_callers(request.app.state)
        headers = {REPLAYED_HEADER: "true"} if stored.replayed else {}
        return Response(
            content=stored.body,
            status_code=stored.status_code,
            media_type="application/json",
            headers=headers,
        )

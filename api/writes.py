"""Every change goes through one write path, `AuditedWriter` (the handler dependency
`writer`): one database transaction holding the Idempotency-Key claim, the change itself and
its audit event. A write handler reads

    return await writer.write("grant.disburse", work, data)

where `work(conn)` makes the change and returns the finished response value.

The response is encoded once and stored with the key; a retry with the same key and body
gets the same bytes back with `Idempotent-Replayed: true`, and records no second event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import Connection

from api.auth import forget_callers, guarded_principal
from api.requests import request_facts
from ledger.access.audit import record_event
from ledger.access.policy import Principal
from ledger.store import driver
from ledger.store.database import Database
from ledger.store.idempotency import StoredResponse, fingerprint, run_idempotent_async

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

ResultT = TypeVar("ResultT", bound=msgspec.Struct)
# Changes to these objects can change who a bearer token signs in or what book a path names.
_ACCESS_OBJECT_TYPES = frozenset({"user", "token", "book"})


@dataclass(frozen=True, slots=True)
class AuditedWriter:
    """The one write path of the controllers, injected per request as `writer`.

    It holds what every write needs from the request (the database, the caller, the
    Idempotency-Key), so a handler names only the action, the work and the request body.
    """

    db: Database
    request: Request[Any, Any, Any]
    principal: Principal

    async def write(
        self,
        action: str,
        work: Callable[[Connection], ResultT],
        data: msgspec.Struct | None = None,
        *,
        status_code: int = HTTP_201_CREATED,
        book: str | None = None,
        idempotent: bool = True,
        key: str | None = None,
        posts: bool = False,
    ) -> Response[ResultT]:
        """Run `work` once (per Idempotency-Key), audit it as `action`, and answer with what it
        returned, encoded once.

        The work runs on the database's writer thread (SQLite) or a worker thread
        (PostgreSQL), never on the event loop, which only awaits the outcome. `key` is the
        Idempotency-Key when a web page's form sends it as a field (a form cannot set a
        header); otherwise the request's header is read. `posts`: the work's last write is one
        journal post, and the transaction it posts is the audited object; on PostgreSQL,
        without an Idempotency-Key, the event and the COMMIT then go in the post's writing
        round trip (`driver.offer_early_commit`).
        """
        audited = _AuditedWrite.of(
            self.request,
            self.principal,
            data,
            status_code,
            action,
            work,
            book,
            idempotent,
            key,
            posts,
        )
        stored = await run_idempotent_async(
            self.db, audited.scope, audited.key, audited.request_fingerprint, audited.work
        )
        return audited.answer(self.request, stored)


def provide_writer(request: Request[Any, Any, Any]) -> AuditedWriter:
    """The `writer` dependency of every write handler, from the request alone: the database
    from the app, the caller the guard put on the request. Litestar validates each
    dependency's arguments through a signature model; built from `db` and `principal`, every
    write resolved three dependencies instead of one."""
    return AuditedWriter(request.app.state.db, request, guarded_principal(request))


def object_id_of(result: msgspec.Struct) -> str | None:
    """The id (or code) of what a write created or changed, for the audit trail."""
    for name in ("id", "code", "case_code"):
        value = getattr(result, name, None)
        if value is not None:
            return str(value)
    return None


@dataclass(frozen=True, slots=True)
class _AuditedWrite:
    """One audited write, ready to run: its idempotency scope, key and fingerprint, and the
    work that makes the change, records its event and encodes the answer."""

    scope: str
    key: str | None
    request_fingerprint: str
    work: Callable[[Connection], tuple[int, bytes]]
    object_type: str

    @classmethod
    def of(
        cls,
        request: Request[Any, Any, Any],
        principal: Principal,
        data: msgspec.Struct | None,
        status_code: int,
        action: str,
        work: Callable[[Connection], ResultT],
        book: str | None,
        idempotent: bool,
        form_key: str | None = None,
        posts: bool = False,
    ) -> _AuditedWrite:
        facts = request_facts(request)
        scope = f"{facts.method} {facts.path}"
        key = (form_key or request.headers.get(IDEMPOTENCY_HEADER)) if idempotent else None
        request_fingerprint = ""  # only a keyed request is ever compared with another
        if key is not None:
            body = msgspec.json.encode(data) if data is not None else b""
            request_fingerprint = fingerprint(scope.encode(), body)
        object_type = action.split(".", 1)[0]

        def record(conn: Connection, object_id: str | None, posted: bool = False) -> None:
            record_event(
                conn,
                principal,
                facts,
                action,
                book=book,
                object_type=object_type,
                object_id=object_id,
                object_is_new_transaction=posted,
            )

        def write(conn: Connection) -> tuple[int, bytes]:
            # A keyed response is stored at COMMIT: it must be known before the COMMIT.
            early = posts and key is None and driver.offer_early_commit(conn)
            if early:
                record(conn, None, posted=True)  # its object: the transaction the work posts
            try:
                result = work(conn)
            finally:
                driver.withdraw_early_commit(conn)
            if not early:
                record(conn, object_id_of(result))
            return status_code, msgspec.json.encode(result)

        return cls(
            # A key belongs to one user: another user's retry with the same key is their own.
            scope=f"{principal.user_id} {scope}",
            key=key,
            request_fingerprint=request_fingerprint,
            work=write,
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

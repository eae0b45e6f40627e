"""The audit trail: who changed what, when, from which token, on which request.

Recorded in the same database transaction as the change itself (a change without its audit
event cannot commit). Append-only: a database trigger refuses UPDATE and DELETE, and each
event's hash is chained to the previous event's (`ledger.store.chain`). Objects are named by
id or case code; no personal data is ever written here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, insert, select

from ledger.access.policy import Principal
from ledger.core import limits
from ledger.core.errors import LedgerRejected, invalid
from ledger.store import chain, driver
from ledger.store.books import utc_now
from ledger.store.tables import audit_events

DETAIL_LENGTH_MAX = 2_000
_EVENT_COLUMNS = (
    "at",
    "user_id",
    "username",
    "token",
    "request_id",
    "method",
    "path",
    "action",
    "outcome",
    "book",
    "object_type",
    "object_id",
    "detail",
    "chain_hash",
)
# Built once and run on the driver: every change writes one event, and through a SQLAlchemy
# `Connection` the insert's own overhead costs several times SQLite's work for it.
_INSERT_EVENT = insert(audit_events).values({c: bindparam(c) for c in _EVENT_COLUMNS})
# PostgreSQL: the event, its hash and the trail's head in one statement (`ledger.store.chain`).
_INSERT_CHAINED_EVENT = chain.audit_insert_statement(audit_events, _EVENT_COLUMNS)
# The same, its object the transaction the write posts, whose id the server fills in.
_INSERT_CHAINED_EVENT_OF_NEW_TRANSACTION = chain.audit_insert_statement(
    audit_events, _EVENT_COLUMNS, object_is_new_transaction=True
)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """Where a change came from: the HTTP request (or the command line)."""

    method: str
    path: str
    request_id: str | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime.datetime
    user_id: int | None
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


def record_event(
    conn: Connection,
    principal: Principal | None,
    request: RequestFacts,
    action: str,
    *,
    outcome: str = "ok",
    username: str | None = None,
    book: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: str = "",
    object_is_new_transaction: bool = False,
) -> None:
    """Record what `principal` did. On PostgreSQL the event is sent with the write's COMMIT
    (`driver.send_at_commit`). `object_is_new_transaction` (PostgreSQL, before the write's
    one post, for its early commit: `driver.offer_early_commit`): the object is the
    transaction the post inserts, its id filled in by the server."""
    assert not object_is_new_transaction or (
        object_id is None and conn.dialect.name == "postgresql"
    )
    statement = driver.compiled(conn.dialect, _INSERT_EVENT)
    at = utc_now()
    values: dict[str, object] = {
        "user_id": principal.user_id if principal else None,
        "username": principal.username if principal else username,
        "token": principal.token if principal else None,
        "request_id": request.request_id,
        "method": request.method[:10],
        "path": request.path[:300],
        "action": action,
        "outcome": outcome,
        "book": book,
        "object_type": object_type,
        "object_id": object_id,
        "detail": detail[:DETAIL_LENGTH_MAX],
    }
    if conn.dialect.name == "postgresql":
        # Sent with the COMMIT: the audit head's lock is held only while the server runs it.
        insert_event = (
            _INSERT_CHAINED_EVENT_OF_NEW_TRANSACTION
            if object_is_new_transaction
            else _INSERT_CHAINED_EVENT
        )
        chain.chained_audit_insert(
            conn, insert_event, at, values, object_is_new_transaction=object_is_new_transaction
        )
        return
    previous = chain.audit_head(conn)
    link = chain.link_hash(chain.audit_content(previous or chain.CHAIN_GENESIS, at, values))
    values["at"] = at
    values["chain_hash"] = link
    driver.execute(conn, statement.sql, statement.parameters(values))
    chain.move_audit_head(conn, previous, link)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    username: str | None = None
    action: str | None = None
    book: str | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None


def list_events(
    conn: Connection,
    where: AuditFilter,
    after_id: int | None = None,
    limit: int = limits.PAGE_SIZE_DEFAULT,
) -> list[AuditEvent]:
    """Events in the order they happened, filtered; page with the last id seen."""
    if not 1 <= limit <= limits.PAGE_SIZE_MAX:
        raise LedgerRejected(
            [invalid("limit_invalid", f"limit is between 1 and {limits.PAGE_SIZE_MAX}.", "limit")]
        )
    t = audit_events
    conditions = []
    if where.username is not None:
        conditions.append(t.c.username == where.username)
    if where.action is not None:
        conditions.append(t.c.action == where.action)
    if where.book is not None:
        conditions.append(t.c.book == where.book)
    if where.since is not None:
        conditions.append(t.c.at >= where.since)
    if where.until is not None:
        conditions.append(t.c.at < where.until)
    if after_id is not None:
        conditions.append(t.c.id > after_id)
    rows = conn.execute(select(t).where(and_(True, *conditions)).order_by(t.c.id).limit(limit))
    return [
        AuditEvent(
            id=r.id,
            at=r.at,
            user_id=r.user_id,
            username=r.username,
            token=r.token,
            request_id=r.request_id,
            method=r.method,
            path=r.path,
            action=r.action,
            outcome=r.outcome,
            book=r.book,
            object_type=r.object_type,
            object_id=r.object_id,
            detail=r.detail,
        )
        for r in rows
    ]

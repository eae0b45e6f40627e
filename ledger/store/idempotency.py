"""Idempotent writes: the same `Idempotency-Key` with the same request gets the first response.

The key is claimed in the same database transaction as the write it protects, so a write and
its stored response land together or not at all. Two racing requests with one key: on SQLite
writes are serialised, so the second sees the first's row; on PostgreSQL the second blocks on
the key's unique index until the first commits, fails, and is retried, and then sees the row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.core.errors import LedgerRejected, conflict, invalid
from ledger.store.books import utc_now
from ledger.store.database import Database
from ledger.store.tables import idempotency_keys

KEY_LENGTH_MAX = 200
# The scope is "METHOD path" and the path is the client's: bounded like the column that holds it.
SCOPE_LENGTH_MAX = 300
CLAIM_ATTEMPTS_MAX = 3


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    replayed: bool


def fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def run_idempotent(
    db: Database,
    scope: str,
    key: str | None,
    request_fingerprint: str,
    unit: Callable[[Connection], tuple[int, bytes]],
) -> StoredResponse:
    """Run `unit` (which returns status and body) once per (scope, key) in one write."""
    if key is None:
        status, body = db.write(unit)
        return StoredResponse(status, body, replayed=False)
    if not 1 <= len(key) <= KEY_LENGTH_MAX or not key.isprintable():
        raise LedgerRejected(
            [
                invalid(
                    "idempotency_key_invalid",
                    "Idempotency-Key has 1 to 200 printable characters.",
                    "Idempotency-Key",
                )
            ]
        )
    if not 1 <= len(scope) <= SCOPE_LENGTH_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "idempotency_scope_invalid",
                    f"A request made idempotent has a path of at most {SCOPE_LENGTH_MAX}"
                    " characters.",
                    "path",
                )
            ]
        )

    def claimed_unit(conn: Connection) -> StoredResponse:
        stored = conn.execute(
            select(idempotency_keys).where(
                and_(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            )
        ).first()
        if stored is not None:
            if stored.fingerprint != request_fingerprint:
                raise LedgerRejected(
                    [
                        conflict(
                            "idempotency_key_reused",
                            "This Idempotency-Key was used with a different request.",
                            "Idempotency-Key",
                        )
                    ]
                )
            return StoredResponse(stored.status_code, bytes(stored.response_body), replayed=True)
        conn.execute(
            insert(idempotency_keys).values(
                scope=scope,
                key=key,
                fingerprint=request_fingerprint,
                status_code=0,
                response_body=b"",
                created_at=utc_now(),
            )
        )
        status, body = unit(conn)
        conn.execute(
            update(idempotency_keys)
            .where(and_(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key))
            .values(status_code=status, response_body=body)
        )
        return StoredResponse(status, body, replayed=False)

    for attempt in range(1, CLAIM_ATTEMPTS_MAX + 1):
        try:
            return db.write(claimed_unit)
        except IntegrityError:
            # Another request claimed the key between our read and our insert; it has
            # committed now (its row lock released us), so the next attempt replays it.
            if attempt == CLAIM_ATTEMPTS_MAX:
                raise
    raise AssertionError("unreachable")

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

from sqlalchemy import Connection, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.core.errors import LedgerRejected, conflict, invalid
from ledger.store.books import utc_now
from ledger.store.database import Database, run_blocking
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
    work: Callable[[Connection], tuple[int, bytes]],
) -> StoredResponse:
    """Run `work` (which returns status and body) once per (scope, key) in one write."""
    claimed = claiming_work(scope, key, request_fingerprint, work)
    attempts_max = 1 if key is None else CLAIM_ATTEMPTS_MAX
    for attempt in range(1, attempts_max + 1):
        try:
            return db.write(claimed)
        except IntegrityError:
            # Another request claimed the key between our read and our insert; it has
            # committed now (its row lock released us), so the next attempt replays it.
            if attempt == attempts_max:
                raise
    raise AssertionError("unreachable")


async def run_idempotent_async(
    db: Database,
    scope: str,
    key: str | None,
    request_fingerprint: str,
    work: Callable[[Connection], tuple[int, bytes]],
) -> StoredResponse:
    """`run_idempotent` for a coroutine. With group commit one write transaction is open at a
    time (`Database.group_commit`), so no other request can claim the key between our read
    and our insert: one attempt, run in the event loop's batch (`Database.write_async`).
    Otherwise `run_idempotent` runs on the default executor."""
    if db.group_commit:
        return await db.write_async(claiming_work(scope, key, request_fingerprint, work))
    return await run_blocking(run_idempotent, db, scope, key, request_fingerprint, work)


def claiming_work(
    scope: str,
    key: str | None,
    request_fingerprint: str,
    work: Callable[[Connection], tuple[int, bytes]],
) -> Callable[[Connection], StoredResponse]:
    """The work that claims (scope, key), runs `work` and stores its response, or replays the
    response stored for it. Without a key: `work` alone."""
    if key is None:

        def unkeyed_work(conn: Connection) -> StoredResponse:
            status, body = work(conn)
            return StoredResponse(status, body, replayed=False)

        return unkeyed_work
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

    def claimed_work(conn: Connection) -> StoredResponse:
        stored = conn.execute(_STORED_RESPONSE, {"scope": scope, "key": key}).first()
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
            _CLAIM,
            {
                "scope": scope,
                "key": key,
                "fingerprint": request_fingerprint,
                "status_code": 0,
                "response_body": b"",
                "created_at": utc_now(),
            },
        )
        status, body = work(conn)
        conn.execute(
            _STORE_RESPONSE,
            {"b_scope": scope, "b_key": key, "status_code": status, "response_body": body},
        )
        return StoredResponse(status, body, replayed=False)

    return claimed_work


# Built once: a keyed write runs all three.
_STORED_RESPONSE = select(idempotency_keys).where(
    and_(
        idempotency_keys.c.scope == bindparam("scope"),
        idempotency_keys.c.key == bindparam("key"),
    )
)
_CLAIM = insert(idempotency_keys)
_STORE_RESPONSE = update(idempotency_keys).where(
    and_(
        idempotency_keys.c.scope == bindparam("b_scope"),
        idempotency_keys.c.key == bindparam("b_key"),
    )
)

"""Idempotent writes: the same `Idempotency-Key` with the same request gets the first response.

The key is claimed in the same database transaction as the write it protects, so a write and
its stored response land together or not at all. Two racing requests with one key: on SQLite
writes are serialised, so the second sees the first's row; on PostgreSQL the second blocks on
the key's unique index until the first commits, fails, and is retried, and then sees the row.

A key is kept for `KEY_RETENTION_DAYS` (35) days from its first use: a field phone that syncs
a week or a month late still gets the first response. After that the key is forgotten: a
request with it runs as a new one (the stored row is replaced), and `purge_expired_keys`
deletes such rows (`livelihood-ledger serve` runs it at start; `purge-idempotency-keys` on
demand).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.core.errors import LedgerRejected, conflict, invalid
from ledger.store import driver
from ledger.store.books import utc_now
from ledger.store.database import Database, run_blocking
from ledger.store.tables import idempotency_keys

KEY_LENGTH_MAX = 200
# The scope is "METHOD path" and the path is the client's: bounded like the column that holds it.
SCOPE_LENGTH_MAX = 300
CLAIM_ATTEMPTS_MAX = 3
# At least 30 days: phones sync late. A limit of its own (not in core.limits): it is how long
# the store keeps rows, not a bound on a request.
KEY_RETENTION_DAYS = 35


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
    clock: Callable[[], datetime.datetime] = utc_now,
) -> StoredResponse:
    """Run `work` (which returns status and body) once per (scope, key) in one write."""
    claimed = claiming_work(scope, key, request_fingerprint, work, clock)
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
    and our insert: one attempt, handed to the writer thread (`Database.write_async`).
    Otherwise `run_idempotent` runs on the default executor."""
    if db.group_commit:
        return await db.write_async(claiming_work(scope, key, request_fingerprint, work))
    return await run_blocking(run_idempotent, db, scope, key, request_fingerprint, work)


def _check_key(scope: str, key: str) -> None:
    """Refuse a key or a scope the store cannot hold."""
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


def claiming_work(
    scope: str,
    key: str | None,
    request_fingerprint: str,
    work: Callable[[Connection], tuple[int, bytes]],
    clock: Callable[[], datetime.datetime] = utc_now,
) -> Callable[[Connection], StoredResponse]:
    """The work that claims (scope, key), runs `work` and stores its response, or
    replays the response stored for it (while the key is kept: `KEY_RETENTION_DAYS`).
    Without a key: `work` alone."""
    if key is None:

        def unkeyed_work(conn: Connection) -> StoredResponse:
            status, body = work(conn)
            return StoredResponse(status, body, replayed=False)

        return unkeyed_work
    _check_key(scope, key)

    def claimed_work(conn: Connection) -> StoredResponse:
        now = clock()
        stored = conn.execute(_STORED_RESPONSE, {"scope": scope, "key": key}).first()
        if stored is not None and is_expired(stored.created_at, now):
            conn.execute(_FORGET, {"f_scope": scope, "f_key": key})  # a new request now
            stored = None
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
                "created_at": now,
            },
        )
        status, body = work(conn)
        statement = driver.compiled(conn.dialect, _STORE_RESPONSE)
        values = {"b_scope": scope, "b_key": key, "status_code": status, "response_body": body}
        # Nobody reads its result: on PostgreSQL it goes with the COMMIT.
        driver.send_at_commit(conn, statement.sql, statement.parameters(values))
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
_STORE_RESPONSE = (
    update(idempotency_keys)
    .where(
        and_(
            idempotency_keys.c.scope == bindparam("b_scope"),
            idempotency_keys.c.key == bindparam("b_key"),
        )
    )
    .values(status_code=bindparam("status_code"), response_body=bindparam("response_body"))
)
_FORGET = delete(idempotency_keys).where(
    and_(
        idempotency_keys.c.scope == bindparam("f_scope"),
        idempotency_keys.c.key == bindparam("f_key"),
    )
)


def is_expired(created_at: datetime.datetime, now: datetime.datetime) -> bool:
    """Whether a key first used at `created_at` is forgotten at `now`."""
    return created_at <= now - datetime.timedelta(days=KEY_RETENTION_DAYS)


def purge_expired_keys(conn: Connection, now: datetime.datetime) -> int:
    """Delete the keys kept longer than `KEY_RETENTION_DAYS`; how many were deleted."""
    cutoff = now - datetime.timedelta(days=KEY_RETENTION_DAYS)
    deleted = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at <= cutoff))
    return int(deleted.rowcount)

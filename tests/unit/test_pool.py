"""PostgreSQL's connection pool: a pooled connection that the server dropped while it sat
idle is replaced before a request gets it (`database._ping_idle_connections`), without a
round trip on every checkout of a busy server."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.store.database import Database
from tests.conftest import TEST_DATABASE

pytestmark = pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="PostgreSQL's pool")


def _one_connection(url: str, ping_idle_s: float) -> Database:
    return Database.connect(url, ping_idle_s=ping_idle_s, pool_size=1, max_overflow=0)


def _drop_pooled_connection(handle: Database, admin: Database) -> None:
    """Let the server end the backend of `handle`'s one pooled connection, as a restart or a
    firewall would while it sits idle."""
    with handle.read() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with admin.engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_connection_dropped_while_idle_is_replaced_before_use(db: Database) -> None:
    handle = _one_connection(str(db.engine.url.render_as_string(hide_password=False)), 0.0)
    try:
        _drop_pooled_connection(handle, db)
        assert handle.write(lambda c: c.execute(text("SELECT 41 + 1")).scalar_one()) == 42
        _drop_pooled_connection(handle, db)
        with handle.read() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        handle.dispose()


def test_a_connection_back_in_the_pool_a_moment_ago_is_used_without_a_check(
    db: Database,
) -> None:
    """The other side of the trade: within `ping_idle_s` the pool trusts the connection, so
    one dropped in that moment fails its request (as it would had it dropped mid-request)."""
    handle = _one_connection(str(db.engine.url.render_as_string(hide_password=False)), 3600.0)
    try:
        _drop_pooled_connection(handle, db)
        with pytest.raises(DBAPIError), handle.read() as conn:
            conn.execute(text("SELECT 1"))
        with handle.read() as conn:  # the dead connection was discarded with its error
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        handle.dispose()

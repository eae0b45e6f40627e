"""Counting the SQL statements that one HTTP request runs.

`counting_client(db, counter)` builds the API as `make_client` does and makes every database
connection its engine opens report the statements it runs to `counter`, from any thread: the
worker threads of sync handlers and of the guard, the group-commit writer thread, and the
event loop itself (the POST transactions route runs its work there). `counter.counting()`
collects what runs while it is open:

    with counter.counting() as statements:
        response = client.post(...)
    assert len(statements) == 12, statements

The count is taken on the driver's cursors, not with SQLAlchemy's `before_cursor_execute`
event: the hot paths run their statements straight on the driver (`ledger/store/driver.py`)
and the group writer its savepoints (`ledger/store/database.py`), which that event never
sees. Counted: each `execute` and `executemany` of a cursor (an `executemany` is one
statement, however many rows it carries) and each `execute` of the connection (SQLite's
savepoints). Not counted: COMMIT and ROLLBACK, which the driver sends for a method call
(`commit()`) and whose number depends on how many requests share a group commit, not on what
one request does; and psycopg's implicit BEGIN, which it sends for the first statement.

The guard remembers who a token signs in for an hour here (`caller_cache_seconds`), so a
request made right after another one with the same header and book counts only its
handler's statements, as on a busy server; see `warm`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import Engine, event

from ledger.store.database import Database
from tests.api.conftest import bearer, make_client

# Long enough that no scenario outlives it: counts must not depend on the machine's speed.
CALLER_CACHE_SECONDS = 3_600.0


class StatementCounter:
    """The statements run on one engine's connections while `counting` is open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # statements arrive from several threads at once
        self._statements: list[str] | None = None

    def record(self, sql: str) -> None:
        with self._lock:
            if self._statements is not None:
                self._statements.append(" ".join(sql.split()))

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """The list of the statements run from here to the end of the block, in order."""
        statements: list[str] = []
        with self._lock:
            assert self._statements is None, "one count at a time"
            self._statements = statements
        try:
            yield statements
        finally:
            with self._lock:
                self._statements = None


def count_statements(engine: Engine, counter: StatementCounter) -> None:
    """Make every connection `engine` opens from now on report its statements to `counter`.

    Call it before the engine's first connection: a connection opened earlier would run its
    statements unseen, so taking one out of the pool then fails instead.
    """
    if engine.dialect.name == "sqlite":
        connection_class = _sqlite_connection_class(counter)

        @event.listens_for(engine, "do_connect")
        def open_counted(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
            cparams["factory"] = connection_class

        def is_counted(dbapi_connection: Any) -> bool:
            return isinstance(dbapi_connection, connection_class)

    else:
        cursor_class, server_cursor_class = _psycopg_cursor_classes(counter)

        @event.listens_for(engine, "connect")
        def count_cursors(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.cursor_factory = cursor_class
            dbapi_connection.server_cursor_factory = server_cursor_class

        def is_counted(dbapi_connection: Any) -> bool:
            return dbapi_connection.cursor_factory is cursor_class

    @event.listens_for(engine, "checkout")
    def refuse_uncounted(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        assert is_counted(dbapi_connection), "a connection opened before counting began"


def _sqlite_connection_class(counter: StatementCounter) -> type[sqlite3.Connection]:
    class CountedCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> CountedCursor:
            counter.record(sql)
            super().execute(sql, parameters)
            return self

        def executemany(self, sql: str, parameters: Iterable[Any], /) -> CountedCursor:
            counter.record(sql)
            super().executemany(sql, parameters)
            return self

    class CountedConnection(sqlite3.Connection):
        def cursor(self, factory: Any = CountedCursor) -> Any:
            return super().cursor(factory)

        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            cursor: sqlite3.Cursor = self.cursor()
            return cursor.execute(sql, parameters)

    return CountedConnection


def _psycopg_cursor_classes(counter: StatementCounter) -> tuple[type[Any], type[Any]]:
    import psycopg

    class CountedCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **options: Any) -> CountedCursor:
            counter.record(str(query))
            super().execute(query, params, **options)
            return self

        def executemany(
            self,
            query: Any,
            params_seq: Iterable[Sequence[Any] | Mapping[str, Any]],
            **options: Any,
        ) -> None:
            counter.record(str(query))
            super().executemany(query, params_seq, **options)

    class CountedServerCursor(psycopg.ServerCursor[Any]):
        def execute(self, query: Any, params: Any = None, **options: Any) -> CountedServerCursor:
            counter.record(str(query))
            super().execute(query, params, **options)
            return self

    return CountedCursor, CountedServerCursor


@contextmanager
def counting_client(db: Database, counter: StatementCounter) -> Iterator[TestClient[Any]]:
    """The API on `db`, signed in as a finance officer like the `client` fixture, with every
    statement of its engine reported to `counter`."""
    test_client = make_client(db, caller_cache_seconds=CALLER_CACHE_SECONDS)
    app_db: Database = test_client.app.state.db
    count_statements(app_db.engine, counter)
    with test_client:
        test_client.headers.update(bearer(db, "sopheap.finance", "finance"))
        yield test_client


def warm(client: TestClient[Any], path: str) -> None:
    """A GET of `path`, so that the guard remembers this header with that path's book (or
    with no book) and the next request's count holds only its handler's statements."""
    response = client.get(path)
    assert response.status_code == 200, response.text

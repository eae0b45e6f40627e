"""The database handle: engine set-up per dialect, read and write units of work.

SQLite (the embedded default): WAL, `synchronous=FULL` (a commit is durable), foreign keys
on, a busy timeout, and `BEGIN IMMEDIATE` for writes, which are also serialised inside the
process so that writers queue on a lock instead of spinning on SQLITE_BUSY.
PostgreSQL: READ COMMITTED; balance rows are updated with atomic upserts in a fixed order,
and a unit of work is retried on serialization failure or deadlock.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

DEFAULT_SQLITE_PATH = Path("var") / "ledger.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_ATTEMPTS_MAX = 8
# PostgreSQL SQLSTATEs worth retrying: serialization_failure, deadlock_detected.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})

T = TypeVar("T")


class _NoRowsInLogs(logging.Filter):
    """Drop SQLAlchemy's DEBUG log of result rows: rows carry names, phones and addresses.

    Engines already hide statement parameters (`hide_parameters=True`); this covers what they
    read back, should anyone turn SQL logging up to DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRowsInLogs())


def database_url_from_env() -> str:
    """`DATABASE_URL`, or a SQLite file under ./var/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_url(url: str) -> str:
    """Accept the common `postgresql://` spelling and use psycopg 3 for it."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's implicit transactions get in the way).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("ledger_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """One engine and the rules for using it. Create with `Database.connect(url)`.

    Engines hide statement parameters from logs and error messages: parameters carry names,
    phone numbers and addresses (invariant 8 of the design).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = threading.Lock()

    @classmethod
    def connect(cls, url: str | None = None, **engine_options: Any) -> Database:
        url = normalise_url(url) if url else database_url_from_env()
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                hide_parameters=True,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                **engine_options,
            )
            _configure_sqlite(engine)
        else:
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("max_overflow", 20)
            engine_options.setdefault("pool_pre_ping", True)
            engine = create_engine(url, hide_parameters=True, **engine_options)
        return cls(engine=engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit of work that sees one consistent snapshot.

        SQLite gives it with BEGIN (WAL readers see the database as of their first read).
        PostgreSQL needs REPEATABLE READ: at READ COMMITTED an export or an as-of trial
        balance would mix several snapshots.
        """
        with self.engine.connect() as raw:
            connection = raw
            if not self.is_sqlite:
                connection = raw.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            with connection.begin():
                yield connection

    def write(self, unit: Callable[[Connection], T]) -> T:
        """Run `unit` in one write transaction; commit if it returns, roll back if it raises.

        Retried from the start on a transient conflict, so `unit` must not have effects outside
        the database. Domain rejections (`LedgerRejected`) are never retried.
        """
        for attempt in range(1, WRITE_ATTEMPTS_MAX + 1):
            try:
                return self._write_once(unit)
            except DBAPIError as error:
                if attempt == WRITE_ATTEMPTS_MAX or not self._is_transient(error):
                    raise
                time.sleep(min(0.002 * 2**attempt, 0.2))
        raise AssertionError("unreachable")

    def _write_once(self, unit: Callable[[Connection], T]) -> T:
        if self.is_sqlite:
            with self._write_lock, self._write_connection() as connection:
                return unit(connection)
        with self._write_connection() as connection:
            return unit(connection)

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        with self.engine.connect() as raw:
            connection = raw.execution_options(ledger_write=True)
            with connection.begin():
                yield connection

    def _is_transient(self, error: DBAPIError) -> bool:
        if self.is_sqlite:
            return isinstance(error, OperationalError) and "locked" in str(error.orig)
        sqlstate = getattr(error.orig, "sqlstate", None)
        return sqlstate in _RETRY_SQLSTATES

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.read() as connection:
            connection.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()

"""The database handle: engine set-up per dialect, and the transactions work runs in.

SQLite (the embedded default): WAL, `synchronous=FULL` (a commit is durable), foreign keys
on, a busy timeout, reads through a memory map, and `BEGIN IMMEDIATE` for writes, which are
also serialised inside the process so that writers queue instead of spinning on
SQLITE_BUSY. With `group_commit` (the API server), every write's work runs on one writer
thread, and the work of concurrent writes runs in one transaction, a savepoint each, and
commits together (`_GroupWriter`): the event loop never runs SQL or waits for the lock.
PostgreSQL: READ COMMITTED; balance rows are updated with atomic upserts in a fixed order,
and a write's work is retried on serialization failure or deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from ledger.store import driver

DEFAULT_SQLITE_PATH = Path("var") / "ledger.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The database file is read through a memory map of up to this size instead of a read() per
# page: ~8% less CPU per API write here (docs/PERFORMANCE.md, 4e). Reads only: in WAL mode
# SQLite writes through the WAL and its checkpoints, so durability is unchanged. SQLite's
# documented cost: an I/O error while reading the mapped file reaches the process as SIGBUS
# rather than as an error code; the file lives on a local disk (./var/ by default).
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
WRITE_ATTEMPTS_MAX = 8
# PostgreSQL: a pooled connection idle this long is checked before it is used again.
POOL_PING_IDLE_S = 5.0
# Writes committed together by the group writer, at most.
GROUP_COMMIT_WRITES_MAX = 64
# The PostgreSQL advisory lock held while a process migrates and creates the first admin
# (`Database.start_up_lock`): any fixed number; this one spells "ledger" in ASCII.
START_UP_LOCK_KEY = 0x6C6564676572
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
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("ledger_write")
        statement = "BEGIN IMMEDIATE" if write else "BEGIN"
        # Straight on the driver: through `exec_driver_sql` the BEGIN cost more CPU than a
        # small write's own statements (docs/PERFORMANCE.md, 8d). Its error is wrapped as
        # SQLAlchemy would (an `OperationalError` for a lock held past the busy timeout).
        driver = connection.connection.driver_connection
        assert driver is not None
        try:
            driver.execute(statement)
        except sqlite3.Error as error:
            raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


def _ping_idle_connections(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection with a round trip before it is used again, but only when it
    has been idle `idle_s` or longer: one that PostgreSQL (restarted, or a firewall) dropped
    meanwhile is replaced, not handed to a request. SQLAlchemy's `pool_pre_ping` does this on
    every checkout: a round trip and ~300-500 us of CPU per request on a busy server
    (docs/PERFORMANCE.md, 8g), where connections come back to the pool within milliseconds.
    A connection dropped while busy fails its request, with or without a ping."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since_s"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since_s = record.info.get("idle_since_s")
        if idle_since_s is None or time.monotonic() - idle_since_s < idle_s:
            return  # new, or back in the pool only a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError("a pooled connection was dropped while idle") from error


class Database:
    """One engine and the rules for using it. Create with `Database.connect(url)`.

    Engines hide statement parameters from logs and error messages: parameters carry names,
    phone numbers and addresses (invariant 8 of the design).
    """

    def __init__(self, engine: Engine, *, group_commit: bool = False) -> None:
        self.engine = engine
        self._write_lock = threading.Lock()
        self._writer = _GroupWriter(self) if group_commit and self.is_sqlite else None

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        group_commit: bool = False,
        ping_idle_s: float = POOL_PING_IDLE_S,
        **engine_options: Any,
    ) -> Database:
        """A handle on `url` (default: `DATABASE_URL`). On PostgreSQL, a pooled connection
        left idle `ping_idle_s` or longer is checked before use (`_ping_idle_connections`).

        `group_commit` (SQLite only; ignored for PostgreSQL) commits concurrent writes
        together, one transaction and one COMMIT for many (`_GroupWriter`): for a server with
        many clients.
        """
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
            engine = create_engine(url, hide_parameters=True, **engine_options)
            _ping_idle_connections(engine, ping_idle_s)
        return cls(engine=engine, group_commit=group_commit)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent snapshot.

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

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction; commit if it returns, roll back if it raises.

        Returns only once what `work` wrote is committed (durably, on SQLite). Retried from the
        start on a transient conflict, so `work` must not have effects outside the database.
        Domain rejections (`LedgerRejected`) are never retried. With group commit, `work`
        runs on the writer thread (in a copy of the caller's context variables), inside a
        savepoint: if it raises, its changes alone are undone and the caller gets the error.
        """
        if self._writer is not None:
            return self._writer.run(work)
        return self._write_retried(work)

    async def write_async(self, work: Callable[[Connection], T]) -> T:
        """`write` for a coroutine: the event loop only awaits the outcome. With group commit
        `work` goes to the writer thread (no thread of the executor waits for it), which
        settles the awaited future once its batch is committed; otherwise `write` runs on the
        event loop's default executor."""
        if self._writer is not None:
            return await self._writer.submit_async(work)
        return await run_blocking(self.write, work)

    @property
    def group_commit(self) -> bool:
        """Whether concurrent writes are committed together (SQLite). One write transaction is
        open at a time, on the writer thread, so no two writes of this process overlap."""
        return self._writer is not None

    @property
    def queued_writes(self) -> int:
        """Writes waiting for the group writer (always 0 without group commit)."""
        return 0 if self._writer is None else self._writer.queued

    def _write_retried(self, work: Callable[[Connection], T]) -> T:
        careful = False
        for attempt in range(1, WRITE_ATTEMPTS_MAX + 1):
            try:
                return self._write_once(work, careful)
            except DBAPIError as error:
                if not careful and _sqlstate(error) == driver.CHECK_FAILED:
                    # A check the server made inside a post that would have committed in
                    # its writing round trip: undone; run the unit again, checked in Python.
                    careful = True
                    continue
                if attempt == WRITE_ATTEMPTS_MAX or not self._is_transient(error):
                    raise
                time.sleep(min(0.002 * 2**attempt, 0.2))
        raise AssertionError("unreachable")

    def _write_once(self, work: Callable[[Connection], T], careful: bool = False) -> T:
        if self.is_sqlite:
            with self._write_lock, self._write_connection() as connection:
                return work(connection)
        with (
            self._write_connection() as connection,
            driver.commit_queue(connection),
            driver.careful(connection, careful),
        ):
            result = work(connection)
            # What the work queued (its audit event, its stored response) and the COMMIT
            # go in one round trip (`driver.send_at_commit`).
            driver.commit_with_queued(connection)
            return result

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        with self.engine.connect() as raw:
            connection = raw.execution_options(ledger_write=True)
            with connection.begin():
                yield connection

    def _is_transient(self, error: DBAPIError) -> bool:
        if self.is_sqlite:
            # SQLite has already waited the busy timeout for the lock: waiting that long again
            # would keep a client for minutes. The caller gets `database_busy` (503) instead.
            return False
        return _sqlstate(error) in _RETRY_SQLSTATES

    @contextmanager
    def start_up_lock(self) -> Iterator[None]:
        """Held by a process while it migrates and creates the first admin: when several
        workers start at once, one does that work and the others then find it done.

        PostgreSQL: a session advisory lock (released with its connection, should the
        process die). SQLite: an exclusive `flock` on a file next to the database (never on
        the database file itself: closing another descriptor of it would drop SQLite's own
        locks). An in-memory database has one process: nothing to lock.
        """
        if not self.is_sqlite:
            with self.engine.connect() as connection:
                connection.exec_driver_sql(f"SELECT pg_advisory_lock({START_UP_LOCK_KEY})")
                connection.commit()
                try:
                    yield
                finally:
                    connection.exec_driver_sql(f"SELECT pg_advisory_unlock({START_UP_LOCK_KEY})")
                    connection.commit()
            return
        path = self.engine.url.database
        if not path or path == ":memory:":
            yield
            return
        with open(f"{path}.start-lock", "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.read() as connection:
            connection.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        if self._writer is not None:
            self._writer.stop()
        self.engine.dispose()


def _sqlstate(error: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of `error` (None from SQLite)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


def is_database_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite's write lock still held by another connection (another
    process) after the busy timeout: the write may succeed if tried again later."""
    return isinstance(error, OperationalError) and (
        "locked" in str(error.orig) or "busy" in str(error.orig)
    )


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on the event loop's default executor, in a copy of this context."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(context.run, function, *args))


class _Queued(Generic[T]):
    """One write's work waiting for the writer thread, then its outcome, then its caller's
    future settled with it.

    A thread waits on a `concurrent.futures.Future`; a coroutine awaits an `asyncio.Future` of
    its own event loop, which the writer settles from that loop (`_settle`): one wake-up of the
    loop per batch, not one per write, and the loop never waits for SQLite.
    """

    __slots__ = ("committed", "context", "error", "future", "loop", "result", "work")

    def __init__(
        self, work: Callable[[Connection], T], loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.work = work
        self.context = contextvars.copy_context()
        self.loop = loop
        self.future: Future[T] | asyncio.Future[T] = (
            Future() if loop is None else loop.create_future()
        )
        self.result: T | None = None
        self.committed = False  # `result` is the caller's: the work returned and committed
        self.error: BaseException | None = None

    def claim(self) -> bool:
        """Whether the work should still run: False if its caller went away (cancelled)."""
        if isinstance(self.future, Future):
            return self.future.set_running_or_notify_cancel()
        return not self.future.cancelled()  # the loop may cancel it later: `settle` checks

    def run(self, connection: Connection) -> None:
        self.result = self.context.run(self.work, connection)

    def succeed(self) -> None:
        """The work returned and its transaction committed; `settle` hands over `result`."""
        self.committed, self.error = True, None

    def fail(self, error: BaseException) -> None:
        self.committed, self.error = False, error

    @property
    def decided(self) -> bool:
        return self.committed or self.error is not None

    def settle(self) -> None:
        """Hand the caller its outcome (on the caller's loop, for a coroutine)."""
        if self.future.done():  # cancelled meanwhile: nobody is waiting
            return
        if self.committed:
            # `result` is set: the work returned (T may itself allow None).
            self.future.set_result(cast(T, self.result))
        else:
            self.future.set_exception(self.error or RuntimeError("the write was not run"))


def _settle(batch: list[_Queued[Any]]) -> None:
    """Settle a batch's futures: threads' at once, each event loop's in one call on it."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Queued[Any]]] = {}
    for queued in batch:
        if queued.loop is None:
            queued.settle()
        else:
            by_loop.setdefault(queued.loop, []).append(queued)
    for loop, settled_there in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(_settle_all, settled_there)


def _settle_all(batch: list[_Queued[Any]]) -> None:
    for queued in batch:
        queued.settle()


class _BatchBrokenError(Exception):
    """The batch's transaction cannot go on (a database error): run its writes one by one."""


class _GroupWriter:
    """Group commit for SQLite: one writer thread, one connection, one COMMIT for many writes.

    Every write's work, from a thread (`run`) or a coroutine (`submit_async`), goes into one
    queue. The writer thread takes the first work and
    whatever else has queued behind it (up to `GROUP_COMMIT_WRITES_MAX`), opens one
    `BEGIN IMMEDIATE` transaction, runs each work in a savepoint, commits once (one `fsync`)
    and only then hands each caller its outcome. Work that raises (a `LedgerRejected`, a bug)
    is rolled back to its savepoint alone; the others still commit. A database error (a
    failed COMMIT, the lock held by another process past the busy timeout) rolls the batch
    back, and its writes then run again, one transaction each, with the usual retries, so each
    caller gets its own outcome as if it had run alone.

    All SQL and every wait for the write lock happen on the writer thread: while another
    process holds the lock, only writes wait; the event loop goes on serving reads.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[_Queued[Any] | None] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on the writer thread; block until it is committed (or has failed)."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Connection], T]) -> Future[T]:
        """Queue `work` for the writer thread; the future settles once it is committed."""
        queued = self._put(_Queued(work))
        assert isinstance(queued.future, Future)
        return queued.future

    def submit_async(self, work: Callable[[Connection], T]) -> asyncio.Future[T]:
        """Queue `work` from a coroutine: the future, of the running loop, settles on that
        loop once the work is committed."""
        queued = self._put(_Queued(work, asyncio.get_running_loop()))
        assert isinstance(queued.future, asyncio.Future)
        return queued.future

    def _put(self, queued: _Queued[T]) -> _Queued[T]:
        if self._thread is not None and threading.get_ident() == self._thread.ident:
            # It would wait for the transaction that its own caller holds.
            raise RuntimeError("a write's work cannot start another write")
        self._ensure_started()
        self._queue.put(queued)
        return queued

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def stop(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)  # after what is queued: that still runs
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)
                thread.start()
                self._thread = thread

    def _loop(self) -> None:
        try:
            while True:
                batch, stopping = self._next_batch()
                if batch:
                    self._run_batch_safely(batch)
                if stopping:
                    return
        finally:
            self._close_connection()

    def _next_batch(self) -> tuple[list[_Queued[Any]], bool]:
        """The next work to run and whatever queued behind it; whether to stop after it."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < GROUP_COMMIT_WRITES_MAX:
            try:
                queued = self._queue.get_nowait()
            except queue.Empty:
                break
            if queued is None:
                return batch, True
            batch.append(queued)
        return batch, False

    def _run_batch_safely(self, batch: list[_Queued[Any]]) -> None:
        # A caller that went away before its work started (a cancelled request): skip it.
        batch = [q for q in batch if q.claim()]
        try:
            self._run_batch(batch)
        except BaseException as error:
            # Something no work should raise (SystemExit...): whatever has no outcome yet
            # fails with it, and the writer carries on with a new connection.
            self._close_connection()
            for queued in batch:
                if not queued.decided:
                    queued.fail(error)
        # Only now, with the batch committed (or failed), does any caller hear of it.
        _settle(batch)

    def _run_batch(self, batch: list[_Queued[Any]]) -> None:
        if len(batch) == 1:
            self._run_alone(batch[0])
            return
        errors: dict[int, Exception] = {}
        try:
            connection = self._open_connection()
            with connection.begin():
                self._run_in_savepoints(connection, batch, errors)
        except (DBAPIError, _BatchBrokenError):
            # Nothing of the batch committed: each write runs again, alone.
            self._close_connection()
            for queued in batch:
                self._run_alone(queued)
            return
        for index, queued in enumerate(batch):
            if index in errors:
                queued.fail(errors[index])
            else:
                queued.succeed()

    def _run_in_savepoints(
        self, connection: Connection, batch: list[_Queued[Any]], errors: dict[int, Exception]
    ) -> None:
        """Each write's work in a savepoint of the open transaction; work that raises is rolled
        back alone (its error kept in `errors`). `_BatchBrokenError` when the transaction
        cannot go on."""
        # Savepoints straight on the driver: SQLAlchemy's nested transactions cost more than
        # the statements of a small write.
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        for index, queued in enumerate(batch):
            try:
                dbapi.execute("SAVEPOINT ledger_work")
                queued.run(connection)
            except (DBAPIError, sqlite3.Error) as error:
                raise _BatchBrokenError from error
            except Exception as error:  # the caller gets it back
                errors[index] = error
                if not dbapi.in_transaction:  # some errors end the transaction
                    raise _BatchBrokenError from error
                try:
                    dbapi.execute("ROLLBACK TO ledger_work")
                except sqlite3.Error as broken:
                    raise _BatchBrokenError from broken
            try:
                dbapi.execute("RELEASE ledger_work")
            except sqlite3.Error as error:
                raise _BatchBrokenError from error

    def _run_alone(self, queued: _Queued[Any]) -> None:
        """One write's work in its own transaction, retried like `Database.write`."""
        for attempt in range(1, WRITE_ATTEMPTS_MAX + 1):
            connection = self._open_connection()
            try:
                with connection.begin():
                    queued.run(connection)
            except DBAPIError as error:
                self._close_connection()
                if attempt == WRITE_ATTEMPTS_MAX or not self._db._is_transient(error):
                    queued.fail(error)
                    return
                time.sleep(min(0.002 * 2**attempt, 0.2))
            except Exception as error:  # the caller gets it back
                queued.fail(error)
                return
            else:
                queued.succeed()
                return

    def _open_connection(self) -> Connection:
        # One connection for the writer's life: checking one out of the pool per write costs
        # more than its work's own statements.
        if self._connection is None:
            self._connection = self._db.engine.connect().execution_options(ledger_write=True)
        return self._connection

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

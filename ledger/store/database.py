"""The database handle: engine set-up per dialect, and the transactions work runs in.

SQLite (the embedded default): WAL, `synchronous=FULL` (a commit is durable), foreign keys
on, a busy timeout, reads through a memory map, and `BEGIN IMMEDIATE` for writes, which are
also serialised inside the process so that writers queue instead of spinning on
SQLITE_BUSY. With `group_commit` (the API server), the work of concurrent writes runs in one
transaction, a savepoint each, and commits together (`_GroupWriter`).
PostgreSQL: READ COMMITTED; balance rows are updated with atomic upserts in a fixed order,
and a write's work is retried on serialization failure or deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Connection, Engine, RootTransaction, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

DEFAULT_SQLITE_PATH = Path("var") / "ledger.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The database file is read through a memory map of up to this size instead of a read() per
# page: ~8% less CPU per API write here (docs/PERFORMANCE.md, 4e). Reads only: in WAL mode
# SQLite writes through the WAL and its checkpoints, so durability is unchanged. SQLite's
# documented cost: an I/O error while reading the mapped file reaches the process as SIGBUS
# rather than as an error code; the file lives on a local disk (./var/ by default).
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
WRITE_ATTEMPTS_MAX = 8
# Writes committed together by the group writer, at most.
GROUP_COMMIT_WRITES_MAX = 64
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
        if connection.get_execution_options().get("ledger_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


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
        cls, url: str | None = None, *, group_commit: bool = False, **engine_options: Any
    ) -> Database:
        """A handle on `url` (default: `DATABASE_URL`).

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
            engine_options.setdefault("pool_pre_ping", True)
            engine = create_engine(url, hide_parameters=True, **engine_options)
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
        """`write` for a coroutine. With group commit `work` joins the event loop's batch: the
        loop runs it (in a savepoint, in a copy of the caller's context variables) and hands
        only the COMMIT to the committer thread, so `work` must be short and must not start
        another write. Otherwise `write` runs on the event loop's default executor."""
        if self._writer is not None:
            return await self._writer.run_async(work, asyncio.get_running_loop())
        return await run_blocking(self.write, work)

    @property
    def group_commit(self) -> bool:
        """Whether concurrent writes are committed together (SQLite). One write transaction is
        open at a time, held by the writer thread or the event loop, so no two writes overlap."""
        return self._writer is not None

    @property
    def queued_writes(self) -> int:
        """Writes waiting for the group writer (always 0 without group commit)."""
        return 0 if self._writer is None else self._writer.queued

    def _write_retried(self, work: Callable[[Connection], T]) -> T:
        for attempt in range(1, WRITE_ATTEMPTS_MAX + 1):
            try:
                return self._write_once(work)
            except DBAPIError as error:
                if attempt == WRITE_ATTEMPTS_MAX or not self._is_transient(error):
                    raise
                time.sleep(min(0.002 * 2**attempt, 0.2))
        raise AssertionError("unreachable")

    def _write_once(self, work: Callable[[Connection], T]) -> T:
        if self.is_sqlite:
            with self._write_lock, self._write_connection() as connection:
                return work(connection)
        with self._write_connection() as connection:
            return work(connection)

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
        if self._writer is not None:
            self._writer.stop()
        self.engine.dispose()


async def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` on the event loop's default executor, in a copy of this context."""
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(context.run, function, *args))


class _Queued(Generic[T]):
    """One write's work waiting for its batch (the writer thread's or the event loop's), and
    then its outcome.

    The caller waits on `done` (a thread) or on `future` (a coroutine on `loop`).
    """

    __slots__ = ("alone", "context", "done", "error", "final", "future", "loop", "result", "work")

    def __init__(
        self, work: Callable[[Connection], T], loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.work = work
        self.context = contextvars.copy_context()
        self.loop = loop
        self.done: threading.Lock | None = None
        self.future: asyncio.Future[None] | None = None
        if loop is None:
            self.done = threading.Lock()
            self.done.acquire()  # released by the writer once the outcome is final
        else:
            self.future = loop.create_future()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.final = False  # committed, or failed for good
        self.alone = False  # its batch broke: it runs again in a transaction of its own

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        # `result` is set when `error` is not (T may itself allow None).
        return cast(T, self.result)

    def settle(self) -> None:
        """On the caller's loop: wake the coroutine awaiting this write."""
        if self.future is not None and not self.future.done():
            self.future.set_result(None)

    def run(self, connection: Connection) -> None:
        self.result = self.context.run(self.work, connection)
        self.error = None

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.final = True


def _hand_back(batch: Sequence[_Queued[Any]]) -> None:
    """Wake the callers of `batch` once their outcomes are final: threads directly, coroutines
    with one call per event loop (each call from another thread wakes the loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Queued[Any]]] = {}
    for queued in batch:
        if queued.done is not None:
            queued.done.release()
        elif queued.loop is not None:
            by_loop.setdefault(queued.loop, []).append(queued)
    for loop, waiting in by_loop.items():
        # A closed loop (the server stopped) has nobody waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle_all, waiting)


def _settle_all(batch: list[_Queued[Any]]) -> None:
    for queued in batch:
        queued.settle()


class _BatchBrokenError(Exception):
    """The batch's transaction cannot go on (a database error): run its writes one by one."""


class _GroupWriter:
    """Group commit for SQLite: one transaction and one COMMIT (one `fsync`) for many writes.

    The work of a write arrives two ways, and one transaction is open at a time, held by
    whoever runs it:

    - from a thread (`run`: sync handlers, worker threads, the command line): the writer
      thread takes the work and whatever else has queued behind it (up to
      `GROUP_COMMIT_WRITES_MAX`), opens one `BEGIN IMMEDIATE` transaction, runs each work in a
      savepoint, commits once and only then hands each caller its outcome;
    - from a coroutine (`run_async`: the busiest route): the work joins the event loop's
      batch, and the loop runs the batch's work itself, each in a savepoint, then hands only
      the COMMIT to the committer thread and goes on serving requests while the disk works.
      Running the work on the loop is what makes this fast: on the writer thread, its Python
      code waited for the GIL that the loop held, once per statement, and those hand-overs
      cost as much as the work. The loop's next batch starts when the commit is done, with
      every write that arrived meanwhile.

    The writer thread goes first when both wait, so a busy loop cannot starve it. No request
    is answered before its data is durable. Work that raises (a `LedgerRejected`, a bug) is
    rolled back to its savepoint alone; the others still commit. A database error (the lock
    held by another process, a failed COMMIT) rolls the batch back, and its writes then run
    again, one transaction each, with the usual retries, so each caller gets its own outcome
    as if it had run alone. A loop batch's BEGIN waits for another process's write lock like
    any write (at most the busy timeout), and the loop waits with it.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[_Queued[Any] | None] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._connection: Connection | None = None
        self._committer: ThreadPoolExecutor | None = None
        # Who holds the open transaction, and who waits for it.
        self._state = threading.Condition()
        self._held = False
        self._thread_waiting = False
        self._waiting_loop: asyncio.AbstractEventLoop | None = None
        # The event loop's next batch (touched on the loop's thread only).
        self._loop_writes: list[_Queued[Any]] = []
        self._flush_scheduled = False
        self._loop_work_thread: int | None = None  # the loop's thread, while it runs work

    def run(self, work: Callable[[Connection], T]) -> T:
        here = threading.get_ident()
        if (self._thread is not None and here == self._thread.ident) or (
            here == self._loop_work_thread
        ):
            # It would wait for the transaction that its own caller holds. (The message is
            # older than the word `work`; tests and logs match it.)
            raise RuntimeError("a write unit cannot start another write")
        queued = _Queued(work)
        assert queued.done is not None
        self._ensure_started()
        self._queue.put(queued)
        queued.done.acquire()
        return queued.outcome()

    async def run_async(
        self, work: Callable[[Connection], T], loop: asyncio.AbstractEventLoop
    ) -> T:
        queued = _Queued(work, loop)
        assert queued.future is not None
        self._ensure_started()  # it runs again, alone, what a broken batch leaves
        self._loop_writes.append(queued)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # Two turns of the loop later: requests that arrived with this one reach this
            # point meanwhile and join the batch (bigger batches, fewer COMMITs).
            loop.call_soon(loop.call_soon, self._run_loop_batch, loop)
        # Shielded: once queued, the work runs and commits even if this request is cancelled.
        await asyncio.shield(queued.future)
        return queued.outcome()

    @property
    def queued(self) -> int:
        return self._queue.qsize() + len(self._loop_writes)

    def stop(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
            committer, self._committer = self._committer, None
        if committer is not None:
            committer.shutdown(wait=True)  # a commit in flight finishes
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._committer = ThreadPoolExecutor(1, thread_name_prefix="ledger-commit")
                thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)
                thread.start()
                self._thread = thread

    # -- holding the transaction ------------------------------------------------------------

    def _take_for_thread(self) -> None:
        with self._state:
            self._thread_waiting = True
            while self._held:
                self._state.wait()
            self._thread_waiting = False
            self._held = True

    def _take_for_loop(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Hold the transaction for the loop, or ask to be woken when it is let go."""
        with self._state:
            if self._held or self._thread_waiting:
                self._waiting_loop = loop
                return False
            self._held = True
            return True

    def _let_go(self) -> None:
        with self._state:
            self._held = False
            loop, self._waiting_loop = self._waiting_loop, None
            self._state.notify_all()
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop has nobody waiting
                loop.call_soon_threadsafe(self._run_loop_batch, loop)

    # -- the event loop's batches -----------------------------------------------------------

    def _run_loop_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: run the waiting writes' work in one transaction, then hand it to the
        committer. Runs again when the transaction is let go, if writes are still waiting."""
        self._flush_scheduled = False
        if not self._loop_writes or not self._take_for_loop(loop):
            return
        batch = self._loop_writes[:GROUP_COMMIT_WRITES_MAX]
        del self._loop_writes[:GROUP_COMMIT_WRITES_MAX]
        if self._loop_writes:  # more than one batch waits: the next runs once this one is done
            with self._state:
                self._waiting_loop = loop
        try:
            connection = self._open_connection()
            transaction = connection.begin()
            self._loop_work_thread = threading.get_ident()
            try:
                self._run_in_savepoints(connection, batch)
            finally:
                self._loop_work_thread = None
            committer = self._committer
            if committer is None:
                raise RuntimeError("the database's writer has stopped")
            committer.submit(self._commit_loop_batch, transaction, batch)
        except (DBAPIError, _BatchBrokenError, RuntimeError) as error:
            # Nothing of the batch committed: each write runs again, alone, on the writer
            # thread (which may retry and wait); RuntimeError: the committer has stopped.
            self._close_connection()
            self._let_go()
            for queued in batch:
                queued.error = None
                if isinstance(error, RuntimeError):
                    queued.fail(error)
                else:
                    queued.alone = True
                    self._queue.put(queued)
            if isinstance(error, RuntimeError):
                _hand_back(batch)
        except BaseException as error:
            self._close_connection()
            self._let_go()
            for queued in batch:
                queued.fail(error)
            _hand_back(batch)

    def _commit_loop_batch(self, transaction: RootTransaction, batch: list[_Queued[Any]]) -> None:
        """On the committer thread: COMMIT a loop batch, let go, answer its callers."""
        try:
            transaction.commit()
        except DBAPIError:
            # A failed COMMIT leaves SQLite's transaction open (as `with begin()` would).
            with contextlib.suppress(DBAPIError):
                transaction.rollback()
            self._close_connection()
            self._let_go()
            for queued in batch:
                queued.error = None
                queued.alone = True
                self._queue.put(queued)
            return
        except BaseException as error:
            with contextlib.suppress(Exception):
                transaction.rollback()
            self._close_connection()
            self._let_go()
            for queued in batch:
                queued.fail(error)
            _hand_back(batch)
            return
        for queued in batch:
            queued.final = True
        self._let_go()
        _hand_back(batch)

    # -- the writer thread's batches --------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stopping = False
                while len(batch) < GROUP_COMMIT_WRITES_MAX:
                    try:
                        queued = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if queued is None:
                        stopping = True
                        break
                    batch.append(queued)
                self._take_for_thread()
                try:
                    self._run_batch(batch)
                except BaseException as error:
                    # Something no work should raise (SystemExit...): whatever has not
                    # committed fails with it, and the writer carries on with a new connection.
                    self._close_connection()
                    for queued in batch:
                        if not queued.final:
                            queued.fail(error)
                finally:
                    self._let_go()
                    _hand_back(batch)
                if stopping:
                    return
        finally:
            self._take_for_thread()
            self._close_connection()
            self._let_go()

    def _run_batch(self, batch: list[_Queued[Any]]) -> None:
        for queued in batch:
            if queued.alone:
                self._run_alone(queued)
        batch = [queued for queued in batch if not queued.alone]
        if len(batch) <= 1:
            for queued in batch:
                self._run_alone(queued)
            return
        try:
            connection = self._open_connection()
            with connection.begin():
                self._run_in_savepoints(connection, batch)
            for queued in batch:
                queued.final = True
        except (DBAPIError, _BatchBrokenError):
            # Nothing of the batch committed: each write runs again, alone.
            self._close_connection()
            for queued in batch:
                queued.error = None
                self._run_alone(queued)

    def _run_in_savepoints(self, connection: Connection, batch: list[_Queued[Any]]) -> None:
        """Each write's work in a savepoint of the open transaction; work that raises is rolled back
        alone (the caller gets the error). `_BatchBrokenError` when the transaction cannot go on.
        """
        # Savepoints straight on the driver: SQLAlchemy's nested transactions cost more than
        # the statements of a small write.
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        for queued in batch:
            try:
                dbapi.execute("SAVEPOINT ledger_work")
                queued.run(connection)
            except (DBAPIError, sqlite3.Error) as error:
                raise _BatchBrokenError from error
            except Exception as error:  # the caller gets it back
                queued.error = error
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
                queued.final = True
                return
            except DBAPIError as error:
                self._close_connection()
                if attempt == WRITE_ATTEMPTS_MAX or not self._db._is_transient(error):
                    queued.fail(error)
                    return
                time.sleep(min(0.002 * 2**attempt, 0.2))
            except Exception as error:  # the caller gets it back
                queued.fail(error)
                return

    def _open_connection(self) -> Connection:
        # One connection, used by whoever holds the transaction: checking one out of the pool
        # per write costs more than its work's own statements.
        if self._connection is None:
            self._connection = self._db.engine.connect().execution_options(ledger_write=True)
        return self._connection

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

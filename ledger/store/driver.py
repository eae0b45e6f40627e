"""Core statements run straight on the database driver, for the paths where SQLAlchemy's
per-statement and per-row work costs more than the database's own: every post (the API's
busiest request runs seven statements, each ~25 us through a SQLAlchemy `Connection` and
~4 us on the driver's cursor), the journal's bulk inserts and the export.

A `DriverStatement` is a Core statement compiled once for one dialect: its SQL text and how
to lay out its parameters for the driver (a tuple in order for SQLite's `?`, a dict for
psycopg's `%(name)s`). `fetch_all` runs a statement built once (compiled on first use per
dialect) and returns the driver's row tuples; `execute` and `execute_many` run SQL text
compiled by the caller. `stream_rows` yields a long result a few thousand rows at a time: a
server-side cursor on PostgreSQL, SQLite's stepping cursor otherwise, so memory stays flat
however many rows the query returns.

Values go in and come back as the driver takes and makes them: no SQLAlchemy type
processing happens (SQLite gives dates as their ISO text; `driver_value` converts a value
for a column as SQLAlchemy would). Driver errors are raised as SQLAlchemy's `DBAPIError`
subclasses, as `Connection.execute` raises them, so retries and integrity checks work alike.
Every helper runs in `conn`'s transaction, beginning one if none has begun (as SQLAlchemy's
autobegin would).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg.pq import TransactionStatus
from psycopg.types.numeric import Int8 as _Int8
from sqlalchemy import BindParameter, Column, Connection, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

# Rows fetched per round trip by `stream_rows`.
STREAM_ROWS = 2_000
# Statements `fetch_all` compiles and keeps: only statements built once (module constants)
# belong there, so the count stays small; more means a statement is built per call.
COMPILED_STATEMENTS_MAX = 512
# An IN list of plain binds is built once for each of these sizes, and its values padded up
# to the next size by repeating the last one (which changes no answer): a few statements serve
# every count, where SQLAlchemy's expanding IN re-renders its statement on every call.
IN_LIST_SIZES = (1, 2, 4, 8, 16, 32, 64)
# Server-side cursors need a name unique within their session.
_cursor_numbers = itertools.count(1)
# (dialect name, id of the statement) -> (the statement, kept alive so its id is not reused,
# and its compiled form).
_compiled: dict[tuple[str, int], tuple[ClauseElement, DriverStatement]] = {}


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A Core statement compiled for one dialect, ready for the driver's cursor."""

    sql: str
    names: tuple[str, ...] | None  # parameter order of a positional dialect; None: named
    constants: Mapping[str, Any]  # values of the binds the statement itself carries
    # The dialect's converters for the binds that have one (dates and timestamps on SQLite).
    processors: Mapping[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, dialect: Dialect, statement: ClauseElement) -> DriverStatement:
        compiled: Any = statement.compile(dialect=dialect)
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        constants = {
            name: processors.get(name, _unchanged)(bind.effective_value)
            for name, bind in compiled.binds.items()
            if not bind.required
        }
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(str(compiled), names, constants, processors)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for these values of the statement's required binds,
        converted as SQLAlchemy would convert them."""
        if self.processors:
            values = {
                name: self.processors[name](value) if name in self.processors else value
                for name, value in values.items()
            }
        if self.names is None:
            return {**self.constants, **values}
        return tuple(values[n] if n in values else self.constants[n] for n in self.names)


def in_list_binds(prefix: str, size: int) -> list[BindParameter[Any]]:
    """The binds `<prefix>_0` .. `<prefix>_<size - 1>`, for `column.in_(...)`."""
    assert size in IN_LIST_SIZES
    return [bindparam(f"{prefix}_{i}") for i in range(size)]


def in_list_values(prefix: str, values: Sequence[Any]) -> tuple[int, dict[str, Any]]:
    """The size of the IN list for `values` (1 to 64 of them), and the values of its binds."""
    assert 1 <= len(values) <= IN_LIST_SIZES[-1]
    size = next(n for n in IN_LIST_SIZES if n >= len(values))
    last = len(values) - 1
    return size, {f"{prefix}_{i}": values[min(i, last)] for i in range(size)}


def compiled(dialect: Dialect, statement: ClauseElement) -> DriverStatement:
    """`statement` compiled for `dialect`, once per process. For statements built once."""
    key = (dialect.name, id(statement))
    entry = _compiled.get(key)
    if entry is None:
        assert len(_compiled) < COMPILED_STATEMENTS_MAX, "a statement is built per call"
        entry = _compiled[key] = (statement, DriverStatement.compile(dialect, statement))
    assert entry[0] is statement
    return entry[1]


def fetch_all(
    conn: Connection, statement: ClauseElement, values: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of a statement built once, as the driver's tuples."""
    driver_statement = compiled(conn.dialect, statement)
    return execute(conn, driver_statement.sql, driver_statement.parameters(values or {}))


def execute(
    conn: Connection, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Run `sql` (in the dialect's parameter style) once; its rows, if it returns any."""
    cursor = _dbapi_connection(conn).cursor()
    try:
        cursor.execute(sql, parameters)
        return cursor.fetchall() if cursor.description is not None else []
    except conn.dialect.loaded_dbapi.Error as error:
        raise _wrapped(conn, sql, parameters, error, many=False) from error
    finally:
        cursor.close()


def execute_pipelined(
    conn: Connection,
    statements: Sequence[tuple[str, Sequence[Any] | Mapping[str, Any]]],
    *,
    commit: bool = False,
) -> list[list[tuple[Any, ...]]]:
    """Run several statements in order; the rows of each (empty for those returning none).

    On PostgreSQL they go in one psycopg pipeline: sent together, answered together, one
    round trip for all of them (each still runs as its own statement, with its own snapshot
    at READ COMMITTED, so one may wait for a lock and the next see what the lock's holder
    committed). If one fails, the ones after it do not run and its error is raised. Other
    dialects run them one by one. With `commit` (PostgreSQL only), the transaction's COMMIT
    goes in the same pipeline, after them: `commit_with_queued`.
    """
    assert not commit or conn.dialect.name == "postgresql"
    if conn.dialect.name != "postgresql":
        return [execute(conn, sql, parameters) for sql, parameters in statements]
    dbapi_connection = _dbapi_connection(conn)
    cursors = []
    sql: str = ""
    parameters: Sequence[Any] | Mapping[str, Any] = ()
    try:
        try:
            with dbapi_connection.pipeline():
                for sql, parameters in statements:
                    cursor = dbapi_connection.cursor()
                    cursors.append(cursor)
                    cursor.execute(sql, _stable_types(parameters))
                if commit:
                    # As a statement: `commit()` would sync the pipeline, and its end sync
                    # again, one more round trip. psycopg reads the transaction's state from
                    # the server, so it knows the transaction ended.
                    sql, parameters = "COMMIT", ()
                    cursors.append(cursor := dbapi_connection.cursor())
                    cursor.execute(sql)
            if commit:
                conn.info[_COMMITTED] = True
            return [c.fetchall() if c.description is not None else [] for c in cursors]
        except conn.dialect.loaded_dbapi.Error as error:
            raise _wrapped(conn, sql, parameters, error, many=False) from error
    finally:
        for cursor in cursors:
            cursor.close()


# -- statements sent with the COMMIT (PostgreSQL) -----------------------------------------------
#
# A write's last statements often only record what it did (its audit event, the response kept
# for its Idempotency-Key) and nobody reads their result. `Database.write` opens a queue for
# them; they go with the COMMIT, in one round trip, so what they lock (the audit trail's head,
# one row for the whole database) is held only while the server runs them, and the round trip
# they would each cost under the book's lock is saved.

_AT_COMMIT = "ledger_at_commit"


def send_at_commit(
    conn: Connection, sql: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> None:
    """Run a statement whose result nobody reads: queued to go with the COMMIT when the
    transaction has a queue (`commit_queue`), otherwise now. A failure then fails the
    COMMIT, and the whole write with it."""
    queued: list[tuple[str, Any]] | None = conn.info.get(_AT_COMMIT)
    if queued is None:
        execute(conn, sql, parameters)
    else:
        queued.append((sql, parameters))


@contextmanager
def commit_queue(conn: Connection) -> Iterator[None]:
    """Open the queue of `send_at_commit` on a PostgreSQL write transaction (the `info` of the
    pooled connection outlives it: the queue is removed however the block ends)."""
    assert conn.dialect.name == "postgresql"
    assert _AT_COMMIT not in conn.info
    conn.info[_AT_COMMIT] = []
    try:
        yield
    finally:
        for name in (_AT_COMMIT, _EARLY_COMMIT, _COMMITTED):
            conn.info.pop(name, None)


def commit_with_queued(conn: Connection) -> None:
    """Send the queued statements and COMMIT in one pipeline (one round trip). The
    transaction is then committed on the driver; SQLAlchemy's own COMMIT that follows finds
    nothing to do and sends nothing."""
    if conn.info.get(_COMMITTED):
        # A post sent them and COMMIT in its writing round trip (`take_early_commit`); a
        # statement since would have begun a transaction of its own: refused, rolled back.
        dbapi_connection: Any = conn.connection.dbapi_connection
        status = dbapi_connection.pgconn.transaction_status
        assert status == _IDLE, "nothing is written after a post that committed"
        return
    queued: list[tuple[str, Any]] = conn.info.get(_AT_COMMIT) or []
    conn.info[_AT_COMMIT] = None  # what is sent from here on runs at once
    execute_pipelined(conn, queued, commit=True)


# -- a write that commits in its last round trip (PostgreSQL) -----------------------------------
#
# A post holds its book's row lock from the statement that takes it to COMMIT. When the post is
# the unit's last write, its round trip can carry the queued statements and the COMMIT too,
# and the lock is then held only while the server runs them: not across the client's next
# round trip and the wait for the GIL before it. The unit offers it (`offer_early_commit`,
# before its work, having queued its audit event), the post takes it
# (`take_early_commit`) when every check it would make after its writes can be made by the
# server. A check that fails there (`CHECK_FAILED`) undoes the round trip; `Database.write`
# then runs the unit again without the offer (`careful`), and the same checks run in Python.

_EARLY_COMMIT = "ledger_early_commit"
_IDLE = TransactionStatus.IDLE
_COMMITTED = "ledger_committed"
_CAREFUL = "ledger_careful"
# The SQLSTATE of `ledger_check` (migration 0018): a check the server made inside a post.
CHECK_FAILED = "LL001"


def offer_early_commit(conn: Connection) -> bool:
    """Let the unit's next post commit in its writing round trip, with what is queued: True
    when it may (PostgreSQL, a queue open, not a careful run). The caller must then write
    nothing after that post, and withdraw the offer when its work is done."""
    if conn.info.get(_AT_COMMIT) is None or conn.info.get(_CAREFUL):
        return False
    conn.info[_EARLY_COMMIT] = True
    return True


def take_early_commit(conn: Connection) -> list[tuple[str, Any]] | None:
    """The queued statements, for the caller to send with its writes and a COMMIT
    (`execute_pipelined(..., commit=True)`), when the unit offered it (once); None
    otherwise. Once that has committed, `commit_with_queued` sends nothing."""
    if not conn.info.pop(_EARLY_COMMIT, False):
        return None
    queued: list[tuple[str, Any]] = conn.info[_AT_COMMIT]
    conn.info[_AT_COMMIT] = None
    return queued


def withdraw_early_commit(conn: Connection) -> None:
    """End the offer (taken or not) once the unit's work is done: nothing after may take it."""
    conn.info.pop(_EARLY_COMMIT, None)


@contextmanager
def careful(conn: Connection, on: bool) -> Iterator[None]:
    """Mark a unit's run as careful (`on`): no early commit is offered in it."""
    if on:
        conn.info[_CAREFUL] = True
    try:
        yield
    finally:
        conn.info.pop(_CAREFUL, None)


def _stable_types(parameters: Sequence[Any] | Mapping[str, Any]) -> Any:
    """psycopg's parameters with every integer sent as a bigint.

    psycopg types an integer by its size (smallint, integer, bigint), and prepares a
    statement on the server (after 5 runs: no parse and no plan from then on) per text and
    parameter types: an amount of 100 and one of 100,000 would make two statements, neither
    of them run often enough to be prepared. Bigints always: one statement per text.
    """
    if isinstance(parameters, Mapping):
        return {k: _Int8(v) if type(v) is int else v for k, v in parameters.items()}
    return [_Int8(v) if type(v) is int else v for v in parameters]


def execute_many(
    conn: Connection, sql: str, rows: Sequence[Sequence[Any] | Mapping[str, Any]]
) -> None:
    """Run `sql` once per row (the driver's `executemany`); returns nothing."""
    cursor = _dbapi_connection(conn).cursor()
    try:
        cursor.executemany(sql, rows)
    except conn.dialect.loaded_dbapi.Error as error:
        raise _wrapped(conn, sql, rows, error, many=True) from error
    finally:
        cursor.close()


def driver_value(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any]:
    """How SQLAlchemy turns a Python value for `column` into what it gives the driver."""
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else _unchanged


def _unchanged(value: Any) -> Any:
    return value


def _dbapi_connection(conn: Connection) -> Any:
    if not conn.in_transaction():
        conn.begin()  # what SQLAlchemy's autobegin does before a statement
    return conn.connection.dbapi_connection


def _wrapped(conn: Connection, sql: str, parameters: Any, error: Exception, *, many: bool) -> Any:
    return DBAPIError.instance(
        sql,
        parameters,
        error,
        conn.dialect.loaded_dbapi.Error,
        hide_parameters=True,  # parameters carry names and phone numbers (see `Database`)
        dialect=conn.dialect,
        ismulti=many,
    )


def stream_rows(
    conn: Connection, statement: DriverStatement, values: Mapping[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """The rows of `statement` as the driver's tuples, `STREAM_ROWS` per fetch.

    Runs in `conn`'s current transaction. The cursor is closed when the rows run out or the
    iterator is closed.
    """
    dbapi_connection = _dbapi_connection(conn)
    if conn.dialect.name == "postgresql":
        cursor = dbapi_connection.cursor(name=f"ledger_stream_{next(_cursor_numbers)}")
    else:
        cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement.sql, statement.parameters(values))
        while rows := cursor.fetchmany(STREAM_ROWS):
            yield from rows
    finally:
        cursor.close()

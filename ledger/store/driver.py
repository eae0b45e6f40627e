"""Core statements run straight on the database driver, for the few paths where SQLAlchemy's
per-row work costs more than the database's own: the journal's bulk inserts and the export.

A `DriverStatement` is a Core statement compiled once for one dialect: its SQL text and how
to lay out its parameters for the driver (a tuple in order for SQLite's `?`, a dict for
psycopg's `%(name)s`). `stream_rows` runs one and yields the driver's own row tuples, a few
thousand at a time: a server-side cursor on PostgreSQL, SQLite's stepping cursor otherwise,
so memory stays flat however many rows the query returns. Values come back as the driver
makes them (SQLite gives dates as their ISO text; no SQLAlchemy type processing happens).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

# Rows fetched per round trip by `stream_rows`.
STREAM_ROWS = 2_000
# Server-side cursors need a name unique within their session.
_cursor_numbers = itertools.count(1)


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A Core statement compiled for one dialect, ready for the driver's cursor."""

    sql: str
    names: tuple[str, ...] | None  # parameter order of a positional dialect; None: named
    constants: Mapping[str, Any]  # values of the binds the statement itself carries

    @classmethod
    def compile(cls, dialect: Dialect, statement: ClauseElement) -> DriverStatement:
        compiled: Any = statement.compile(dialect=dialect)
        constants = {n: b.effective_value for n, b in compiled.binds.items() if not b.required}
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(str(compiled), names, constants)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for these values of the statement's required binds."""
        if self.names is None:
            return {**self.constants, **values}
        return tuple(values[n] if n in values else self.constants[n] for n in self.names)


def stream_rows(
    conn: Connection, statement: DriverStatement, values: Mapping[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """The rows of `statement` as the driver's tuples, `STREAM_ROWS` per fetch.

    Runs in `conn`'s current transaction. The cursor is closed when the rows run out or the
    iterator is closed.
    """
    dbapi_connection: Any = conn.connection.dbapi_connection
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

"""PostgreSQL: one post in two round trips, one of them under its book's lock.

A post into a book holds the book's row lock (`journal.lock_rows`) from the statement that
takes it to COMMIT, so whatever happens in between is time no other post into that book can
use. Here nothing of the post's own work does:

1. `read` reads the book and its accounts (and the precisions of a draft's commodities)
   without a lock, in one psycopg pipeline (`driver.execute_pipelined`). The post is checked
   against them and written out in Python: its rows, and its chain text (`chain`).
2. `write` sends, in a second pipeline, the lock, the same read again under it, and every
   write: the transaction, chained on the server to the book's head (which moves in the same
   statement), its labels, its postings in one multi-row INSERT, the balances upsert, the
   checkpoint upsert and the stored-balance read-back. Each statement runs on its own, in
   order, with its own snapshot (READ COMMITTED), so the read under the lock sees what the
   lock's last holder committed. The caller compares that read with the first: if the book
   or an account changed in between (rare: a lock date, a close, a balance assertion), it
   checks the post again against the locked read and refuses it, writes undone, if it no
   longer holds.
3. The audit event goes with the COMMIT (`driver.send_at_commit`).

Rows that need the new transaction's id take it on the server, from the sequence's value in
this session (`currval`): the client does not wait for the INSERT's RETURNING to send them.

Only a single transaction naming at most `driver.IN_LIST_SIZES[-1]` accounts takes this path
(every API post does); `journal` posts anything else one statement at a time, and SQLite
always (its statements cost no round trip). Statements are built once and compiled once per
process (`driver.compiled`).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, select
from sqlalchemy.sql import ClauseElement

from ledger.core import limits
from ledger.core.transaction import Transaction
from ledger.store import chain, checkpoints, driver
from ledger.store.books import commodity_precisions_query
from ledger.store.journal_sql import (
    POSTING_COLUMNS,
    AccountForPosting,
    balance_upsert_statement,
    book_and_accounts_query,
    posting_rows,
)
from ledger.store.tables import (
    accounts,
    books,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)

NAMES_MAX = driver.IN_LIST_SIZES[-1]
# Rows per multi-row INSERT: a post has at most `limits` postings and labels; more go the
# one-statement-at-a-time way.
ROWS_MAX = 64

# The id the transaction INSERT just took, in this session.
_NEW_TRANSACTION_ID = func.currval(func.pg_get_serial_sequence("transactions", "id"))
_TRANSACTION_COLUMNS = (
    "book_id",
    "date",
    "payee",
    "narration",
    "reverses_id",
    "created_at",
    "created_by",
    "chain_hash",
)
# The transaction, chained to its book's head on the server, which moves the head.
_INSERT_TRANSACTION = chain.transaction_insert_statement(transactions, _TRANSACTION_COLUMNS)
_UNBALANCED = (
    select(postings.c.transaction_id, postings.c.weight_commodity, func.sum(postings.c.weight))
    # As a subquery: run once (an index seek); `currval` itself is volatile, so compared
    # row by row it would scan every posting.
    .where(postings.c.transaction_id == select(_NEW_TRANSACTION_ID).scalar_subquery())
    .group_by(postings.c.transaction_id, postings.c.weight_commodity)
    .having(func.sum(postings.c.weight) != 0)
    .limit(1)
)


def _lock_statement(names_n: int) -> ClauseElement:
    """`journal_sql.LOCK_FOR_POSTING` with a fixed IN list (padded by repeating a name)."""
    return (
        select(books.c.id, accounts.c.id)
        .select_from(books.join(accounts, accounts.c.book_id == books.c.id))
        .where(
            and_(
                books.c.code == bindparam("code"),
                accounts.c.name.in_(driver.in_list_binds("name", names_n)),
            )
        )
        .order_by(accounts.c.id)
        .with_for_update(key_share=True)
    )


_LOCKS = {n: _lock_statement(n) for n in driver.IN_LIST_SIZES}
# Multi-row INSERTs of the new transaction's rows, per (table, rows): built on first use.
_inserts: dict[tuple[str, int], ClauseElement] = {}
_balance_upserts: dict[int, ClauseElement] = {}
_LABEL_COLUMNS = {
    "transaction_tags": ("book_id", "tag"),
    "transaction_links": ("book_id", "link"),
    "transaction_meta": ("book_id", "key", "value"),
    "postings": POSTING_COLUMNS,
}


def applies(conn: Connection, txns: Sequence[Transaction], names: Sequence[str]) -> bool:
    """Whether `post_many` of `txns` naming `names` takes this path."""
    return conn.dialect.name == "postgresql" and len(txns) == 1 and len(names) <= NAMES_MAX


def applies_to_draft(conn: Connection, names: Sequence[str], codes: Collection[str]) -> bool:
    """Whether a draft naming `names` and the commodities `codes` is read by `read` (so that
    its transaction then takes this path: `applies`)."""
    return (
        conn.dialect.name == "postgresql"
        and 1 <= len(names) <= NAMES_MAX
        and 1 <= len(codes) <= NAMES_MAX
    )


def read(
    conn: Connection, book_code: str, names: Sequence[str], codes: Collection[str] = ()
) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """The precisions of `codes` (at most `NAMES_MAX`; none read when empty), and the rows of
    the book and its accounts (`book_and_accounts_rows` makes them the book and its
    accounts), without a lock: one round trip. `write` locks them and reads them again."""
    statements = [commodity_precisions_query(conn, codes)] if codes else []
    statements.append(book_and_accounts_query(conn, book_code, names))
    results = driver.execute_pipelined(conn, statements)
    return (dict(results[0]) if codes else {}), results[-1]


def _lock(conn: Connection, book_code: str, names: Sequence[str]) -> tuple[str, Any]:
    """The statement that locks the book's and the accounts' rows (`journal.lock_rows`)."""
    size, values = driver.in_list_values("name", names)
    lock = driver.compiled(conn.dialect, _LOCKS[size])
    return lock.sql, lock.parameters({**values, "code": book_code})


@dataclass(frozen=True, slots=True)
class Written:
    """What the writes returned, for `journal` to check."""

    transaction_id: int
    changes: list[tuple[tuple[int, str], int]]  # (account id, commodity) -> delta, sorted
    new_units: dict[tuple[int, str], int]  # the balances after the post
    unbalanced: list[tuple[Any, ...]]  # the read-back: (transaction, commodity, off by)
    locked: list[tuple[Any, ...]]  # the book and its accounts, read again under their locks


@dataclass(frozen=True, slots=True)
class Head:
    """What a transaction's row holds beside the transaction: who posted it and when, what
    it reverses, and its JSON after the previous hash (`chain.texts_after_previous`)."""

    created_by: str | None
    reverses_id: int | None
    created_at: datetime.datetime
    text_after_previous: str


def write(
    conn: Connection,
    book_code: str,
    names: Sequence[str],
    book_id: int,
    txn: Transaction,
    head: Head,
    found: Mapping[str, AccountForPosting],
    precisions: Mapping[str, int],
) -> Written | None:
    """Lock the book's and the accounts' rows (`names`), read them again, and write the
    transaction, chained to the book's head on the server, its postings, balances and
    checkpoints, and check the stored weights, in one round trip (two for a back-dated post
    with later checkpoints). `found` and `book_id` are what `read` found before the lock:
    the caller compares `Written.locked` with it. None, having sent nothing, when the post is
    one for the one-at-a-time path (too many rows, or a change beyond the balance limit:
    that path reports it)."""
    shapes, deltas = posting_rows(conn, book_id, [0], [txn], found, precisions)
    changes = sorted(deltas.items())
    rows = [
        tuple(dict(zip(shape, row, strict=True)).get(c) for c in POSTING_COLUMNS)
        for shape, shape_rows in shapes.items()
        for row in shape_rows
    ]
    if (
        len(rows) > ROWS_MAX
        or len(changes) > ROWS_MAX
        or max(len(txn.tags), len(txn.links), len(txn.meta)) > ROWS_MAX
        or any(abs(delta) > limits.BALANCE_UNITS_ABS_MAX for _, delta in changes)
    ):
        return None
    values = {
        "book_id": book_id,
        "date": txn.date,
        "payee": txn.payee,
        "narration": txn.narration,
        "reverses_id": head.reverses_id,
        "created_at": head.created_at,
        "created_by": head.created_by,
        "before": chain.TRANSACTION_START,
        "after": head.text_after_previous,
    }
    statements = [_lock(conn, book_code, names), book_and_accounts_query(conn, book_code, names)]
    statements.append(_statement(conn, _INSERT_TRANSACTION, values))
    statements += _label_statements(conn, book_id, txn)
    statements.append(_rows_statement(conn, postings, rows))
    statements.append(_balances_statement(conn, book_id, changes))
    week = checkpoints.week_of(txn.date)
    statements.append(checkpoints.week_upsert(conn, book_id, week, changes))
    statements.append(_statement(conn, _UNBALANCED, {}))
    results = driver.execute_pipelined(conn, statements)
    checkpoints.carry_forward_later(conn, week, changes, results[-2])
    return Written(
        transaction_id=int(results[2][0][0]),
        changes=changes,
        new_units={(a, c): int(units) for a, c, units in results[-3]},
        unbalanced=results[-1],
        locked=results[1],
    )


def _statement(
    conn: Connection, statement: ClauseElement, values: Mapping[str, Any]
) -> tuple[str, Any]:
    compiled = driver.compiled(conn.dialect, statement)
    return compiled.sql, compiled.parameters(values)


def _label_statements(conn: Connection, book_id: int, txn: Transaction) -> list[tuple[str, Any]]:
    """The INSERTs of the transaction's tags, links and metadata that it has."""
    statements = []
    for table, rows in (
        (transaction_tags, [(book_id, tag) for tag in sorted(set(txn.tags))]),
        (transaction_links, [(book_id, link) for link in sorted(set(txn.links))]),
        (transaction_meta, [(book_id, k, v) for k, v in dict(txn.meta).items()]),
    ):
        if rows:
            statements.append(_rows_statement(conn, table, rows))
    return statements


def _rows_statement(
    conn: Connection, table: Table, rows: Sequence[Sequence[Any]]
) -> tuple[str, Any]:
    """One INSERT of `rows` (values of `_LABEL_COLUMNS[table]`) for the new transaction."""
    columns = _LABEL_COLUMNS[table.name]
    key = (table.name, len(rows))
    statement = _inserts.get(key)
    if statement is None:
        statement = _inserts[key] = insert(table).values(
            [
                {
                    "transaction_id": _NEW_TRANSACTION_ID,
                    **{c: bindparam(f"{c}_{i}", type_=table.c[c].type) for c in columns},
                }
                for i in range(len(rows))
            ]
        )
    values = {
        f"{c}_{i}": v for i, row in enumerate(rows) for c, v in zip(columns, row, strict=True)
    }
    return _statement(conn, statement, values)


def _balances_statement(
    conn: Connection, book_id: int, changes: Sequence[tuple[tuple[int, str], int]]
) -> tuple[str, Any]:
    statement = _balance_upserts.get(len(changes))
    if statement is None:
        statement = _balance_upserts[len(changes)] = balance_upsert_statement(
            conn.dialect.name, len(changes)
        )
    values: dict[str, Any] = {}
    for i, ((account_id, commodity), delta) in enumerate(changes):
        values[f"account_id_{i}"] = account_id
        values[f"commodity_{i}"] = commodity
        values[f"book_id_{i}"] = book_id
        values[f"units_{i}"] = delta
    return _statement(conn, statement, values)

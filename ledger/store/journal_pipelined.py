"""PostgreSQL: one post in two round trips, one of them under its book's lock.

A post into a book holds the book's row lock (`journal.lock_rows`) from the statement that
takes it to COMMIT, so whatever happens in between is time no other post into that book can
use. Here nothing of the post's own work does:

1. `read` reads the book and its accounts (and the precisions of a draft's commodities)
   without a lock, in one psycopg pipeline (`driver.execute_pipelined`), each row also as
   the text the server writes of it. The post is checked against them and written out in
   Python: its rows, and its chain text (`chain`).
2. `write` sends, in a second pipeline, the lock and every write: the transaction, chained
   on the server to the book's head (which moves in the same statement), its labels, its
   postings in one multi-row INSERT, the balances upsert and the checkpoints. Each statement
   runs on its own, in order, with its own snapshot (READ COMMITTED), so a read after the
   lock sees what the lock's last holder committed.

   - When the unit offered it (`driver.offer_early_commit`: the API's post, its audit event
     queued before it), the same pipeline carries that event and the COMMIT, and the server
     checks what the client would otherwise check between the round trips
     (`_committing_statements`): the rows read again under the lock have the texts of the
     first read, the balances stay within their rules, the stored weights balance. A check
     that fails (`ledger_check`, migration 0018) stops the pipeline before its COMMIT, and
     `Database.write` runs the unit again without the offer.
   - Otherwise the rows are read again under the lock and sent back with the balances and
     the stored-balance read-back; the caller compares that read with the first (if the
     book or an account changed in between: a lock date, a close, a balance assertion, it
     checks the post again and refuses it, writes undone, if it no longer holds), and the
     audit event goes with the COMMIT, one round trip more (`driver.send_at_commit`).

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

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    Table,
    Text,
    all_,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
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
    book_and_accounts_statement,
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
_NEW_TRANSACTION_ID = chain.NEW_TRANSACTION_ID
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


def _as_checked(names_n: int) -> tuple[ClauseElement, ClauseElement]:
    """`book_and_accounts_statement` with each row's text as the server writes it (the
    chain's head left out: every post moves it) as a last column, and the check, under the
    lock, that the rows read again have the same texts (bind `checked`: the first read's,
    joined by `_ROWS_APART` in account-id order)."""
    read = book_and_accounts_statement(names_n).subquery("read")
    text = cast(tuple_(*(c for c in read.c if c.name != "chain_head")), Text)
    rows = select(*read.c, text)
    apart: Any = literal_column(f"'{_ROWS_APART}'")
    texts = func.string_agg(text, aggregate_order_by(apart, read.c.id_1))
    unchanged = func.coalesce(texts, literal_column("''")) == bindparam("checked", type_=Text)
    check = select(func.ledger_check(unchanged, literal_column("'the read under the lock'")))
    return rows, check.select_from(read)


_ROWS_APART = "|"
_CHECKED = {n: _as_checked(n) for n in driver.IN_LIST_SIZES}


@dataclass(frozen=True, slots=True)
class Read:
    """What `read` found: the precisions, the rows of the book and its accounts
    (`book_and_accounts_rows` makes them the book and its accounts), and those rows as the
    server wrote them, for the check under the lock (`write`)."""

    precisions: dict[str, int]
    rows: list[tuple[Any, ...]]
    checked: str


def read(
    conn: Connection, book_code: str, names: Sequence[str], codes: Collection[str] = ()
) -> Read:
    """The precisions of `codes` (at most `NAMES_MAX`; none read when empty), and the book
    and its accounts, without a lock: one round trip. `write` locks them and reads them
    again."""
    statements = [commodity_precisions_query(conn, codes)] if codes else []
    statements.append(_checked_read(conn, book_code, names))
    results = driver.execute_pipelined(conn, statements)
    found = sorted(results[-1], key=lambda row: row[3] or 0)  # by account id
    return Read(
        precisions=dict(results[0]) if codes else {},
        rows=[row[:-1] for row in found],
        checked=_ROWS_APART.join(row[-1] for row in found if row[3] is not None),
    )


def _checked_read(
    conn: Connection, book_code: str, names: Sequence[str], checked: str | None = None
) -> tuple[str, Any]:
    """The read of the book and `names` with each row's text (`checked` None), or the check
    that the rows, read again, have the texts `checked` (`_as_checked`)."""
    size, values = driver.in_list_values("name", names)
    values["code"] = book_code
    rows, check = _CHECKED[size]
    if checked is None:
        return _statement(conn, rows, values)
    return _statement(conn, check, {**values, "checked": checked})


def _lock(conn: Connection, book_code: str, names: Sequence[str]) -> tuple[str, Any]:
    """The statement that locks the book's and the accounts' rows (`journal.lock_rows`)."""
    size, values = driver.in_list_values("name", names)
    lock = driver.compiled(conn.dialect, _LOCKS[size])
    return lock.sql, lock.parameters({**values, "code": book_code})


@dataclass(frozen=True, slots=True)
class Written:
    """What the writes returned, for `journal` to check; nothing to check when the post
    committed (`committed`: the server checked it)."""

    transaction_id: int
    committed: bool
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
    first: Read,
    found: Mapping[str, AccountForPosting],
    precisions: Mapping[str, int],
) -> Written | None:
    """Lock the book's and the accounts' rows (`names`), read them again, and write the
    transaction, chained to the book's head on the server, its postings, balances and
    checkpoints, and check the stored weights, in one round trip (two for a back-dated post
    with later checkpoints). `first` is what `read` found before the lock (`found` and
    `book_id`: its book and accounts): the caller compares `Written.locked` with it. None,
    having sent nothing, when the post is one for the one-at-a-time path (too many rows, or
    a change beyond the balance limit: that path reports it).

    When the unit offered it (`driver.take_early_commit`), the round trip also carries what
    the unit queued (its audit event) and the COMMIT, and the server makes the checks:
    `_committing_statements`.
    """
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
    week = checkpoints.week_of(txn.date)
    writes = _row_statements(conn, book_id, txn, head, rows)
    lock = _lock(conn, book_code, names)
    queued = driver.take_early_commit(conn)
    if queued is not None:
        non_negative = [a.id for a in found.values() if a.non_negative]
        statements = [lock, _checked_read(conn, book_code, names, first.checked)]
        statements += writes
        statements += _committing_statements(conn, book_id, week, changes, non_negative)
        results = driver.execute_pipelined(conn, [*statements, *queued], commit=True)
        return Written(int(results[2][0][0]), True, changes, {}, [], [])
    statements = [lock, book_and_accounts_query(conn, book_code, names), *writes]
    statements.append(_balances_statement(conn, book_id, changes))
    statements.append(checkpoints.week_upsert(conn, book_id, week, changes))
    statements.append(_statement(conn, _UNBALANCED, {}))
    results = driver.execute_pipelined(conn, statements)
    checkpoints.carry_forward_later(conn, week, changes, results[-2])
    return Written(
        transaction_id=int(results[2][0][0]),
        committed=False,
        changes=changes,
        new_units={(a, c): int(units) for a, c, units in results[-3]},
        unbalanced=results[-1],
        locked=results[1],
    )


def _row_statements(
    conn: Connection, book_id: int, txn: Transaction, head: Head, rows: Sequence[Sequence[Any]]
) -> list[tuple[str, Any]]:
    """The INSERTs of the transaction (chained on the server), its labels and its posting
    `rows`."""
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
    statements = [_statement(conn, _INSERT_TRANSACTION, values)]
    statements += _label_statements(conn, book_id, txn)
    statements.append(_rows_statement(conn, postings, rows))
    return statements


def _committing_statements(
    conn: Connection,
    book_id: int,
    week: datetime.date,
    changes: Sequence[tuple[tuple[int, str], int]],
    non_negative: Sequence[int],
) -> list[tuple[str, Any]]:
    """The rest of a post that commits in its writing round trip, after its rows: the
    balances, checked on the server as `journal._check_new_units` checks them in Python
    (no `non_negative` account below zero, none beyond the limit), the week's checkpoint and
    every later one (a back-dated post; none to update is an index seek), and the check that
    the stored weights balance (`_UNBALANCED`). A check that fails raises
    `driver.CHECK_FAILED` (migration 0018) before the COMMIT."""
    n = len(changes)
    checked = _checked_balances.get(n)
    if checked is None:
        checked = _checked_balances[n] = _checked_balances_statement(n)
    limit = {"non_negative": list(non_negative), "units_abs_max": limits.BALANCE_UNITS_ABS_MAX}
    return [
        _statement(conn, checked, {**_balance_values(book_id, changes), **limit}),
        checkpoints.week_upsert(conn, book_id, week, changes),
        checkpoints.carry_forward_statement(conn, week, changes),
        _statement(conn, _BALANCED, {}),
    ]


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
    return _statement(conn, statement, _balance_values(book_id, changes))


def _balance_values(book_id: int, changes: Sequence[tuple[tuple[int, str], int]]) -> dict[str, Any]:
    """The binds of `balance_upsert_statement` for `changes`."""
    values: dict[str, Any] = {}
    for i, ((account_id, commodity), delta) in enumerate(changes):
        values[f"account_id_{i}"] = account_id
        values[f"commodity_{i}"] = commodity
        values[f"book_id_{i}"] = book_id
        values[f"units_{i}"] = delta
    return values


def _checked_balances_statement(rows: int) -> ClauseElement:
    """The balances upsert of `rows` changes, checked on the server as
    `journal._check_new_units` checks in Python: no account of the bind `non_negative` below
    zero, no balance beyond `units_abs_max`."""
    new = balance_upsert_statement("postgresql", rows).cte("new")
    # A literal zero: a bind would take the name `units_1`, which the upsert's binds use.
    not_below_zero: Any = new.c.units >= literal_column("0")
    may_go_below: Any = new.c.account_id != all_(bindparam("non_negative", type_=_IDS))
    allowed = and_(
        or_(not_below_zero, may_go_below),
        func.abs(new.c.units) <= bindparam("units_abs_max", type_=BigInteger),
    )
    held = func.coalesce(func.bool_and(allowed), true())
    return select(func.ledger_check(held, literal_column("'the balances'"))).select_from(new)


_IDS = ARRAY(BigInteger)
_checked_balances: dict[int, ClauseElement] = {}
# The read-back, as a check that fails (`_UNBALANCED`).
_BALANCED = select(func.ledger_check(~_UNBALANCED.exists(), literal_column("'the weights'")))

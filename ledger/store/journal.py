"""The journal: the only code that writes transactions, postings and balances.

`post` checks the design's invariants 2-7 before and while it writes:

2. balanced: `validate_transaction` in pure code, then a read-back of the stored weights in
   the same database transaction (`check_stored_balanced`), which a test proves can fail;
3. exact money: integers in smallest units, precision checked by the core;
4. append-only: rows are only inserted (database triggers refuse UPDATE and DELETE), a
   reversal undoes a transaction once, and nothing is posted on or before the lock date;
5. idempotency is handled one level up, in `ledger.store.idempotency`, in the same
   database transaction;
6. balances are upserted in the same database transaction as the postings;
7. concurrency: balance rows are changed by atomic upserts in a fixed (account, commodity)
   order, and a non-negative account is checked on the value the upsert returns, so two
   writers can neither lose an update nor overdraw a cash box.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import ReturningInsert

from ledger.core import limits
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    invalid,
    not_found,
    reject_if,
)
from ledger.core.transaction import (
    Posting,
    Price,
    Transaction,
    TransactionDraft,
    build_transaction,
    draft_commodities,
    reversal_of,
    validate_transaction,
    weight,
)
from ledger.store import driver
from ledger.store.books import commodity_precisions, get_book, utc_now
from ledger.store.tables import (
    accounts,
    balance_assertions,
    balances,
    books,
    postings,
    transaction_links,
    transaction_meta,
    transaction_tags,
    transactions,
)


class StoredTransactionUnbalancedError(RuntimeError):
    """The read-back found stored postings that do not sum to zero: a bug, never user error."""


@dataclass(frozen=True, slots=True)
class _AccountForPosting:
    id: int
    open_date: datetime.date
    close_date: datetime.date | None
    currencies: tuple[str, ...]
    non_negative: bool
    asserted_until: datetime.date | None


@dataclass(frozen=True, slots=True)
class _BookForPosting:
    id: int
    lock_date: datetime.date | None


def post_draft(
    conn: Connection, book_code: str, draft: TransactionDraft, created_by: str | None = None
) -> int:
    """Parse and post a transaction as a client sent it. Returns the new transaction's id."""
    return post_draft_stored(conn, book_code, draft, created_by)[0].id


def post_draft_stored(
    conn: Connection, book_code: str, draft: TransactionDraft, created_by: str | None = None
) -> tuple[StoredTransaction, Mapping[str, int]]:
    """`post_draft`, returning the transaction exactly as `load_transaction` would read it
    back, and the commodity precisions it was checked with (to format its amounts), without
    reading anything back."""
    precisions = commodity_precisions(conn, draft_commodities(draft))
    built = build_transaction(draft, precisions)
    if isinstance(built, tuple):
        raise LedgerRejected(built)
    now = utc_now()
    book_id, ids = _post_many(conn, book_code, [built], created_by, precisions, None, now)
    stored = StoredTransaction(
        id=ids[0],
        book_id=book_id,
        txn=_in_stored_order(built),
        reverses_id=None,
        reversed_by=None,
        created_at=now,
        created_by=created_by,
    )
    return stored, precisions


def post(
    conn: Connection,
    book_code: str,
    txn: Transaction,
    *,
    created_by: str | None = None,
    precisions: Mapping[str, int] | None = None,
    reverses_id: int | None = None,
) -> int:
    """Check `txn` against the pure rules and the book's state, then write it.

    Returns the transaction id. Raises `LedgerRejected` and writes nothing when any check
    fails (the caller's transaction rolls back).
    """
    return post_many(
        conn,
        book_code,
        [txn],
        created_by=created_by,
        precisions=precisions,
        reverses_id=reverses_id,
    )[0]


def post_many(
    conn: Connection,
    book_code: str,
    txns: Sequence[Transaction],
    *,
    created_by: str | None = None,
    precisions: Mapping[str, int] | None = None,
    reverses_id: int | None = None,
) -> list[int]:
    """Post several transactions into one book in the caller's database transaction.

    All of them land or none does. This is the bulk-import path: accounts are looked up once,
    postings are inserted in one batch and balances are upserted once per (account, commodity).
    """
    assert reverses_id is None or len(txns) == 1
    if not txns:
        return []
    precisions = precisions if precisions is not None else commodity_precisions(conn)
    return _post_many(conn, book_code, txns, created_by, precisions, reverses_id, utc_now())[1]


def _post_many(
    conn: Connection,
    book_code: str,
    txns: Sequence[Transaction],
    created_by: str | None,
    precisions: Mapping[str, int],
    reverses_id: int | None,
    now: datetime.datetime,
) -> tuple[int, list[int]]:
    """`post_many` with everything given; returns the book's id and the new ids."""
    names = sorted({p.account for txn in txns for p in txn.postings})
    lock_rows(conn, book_code, names)
    book, found = _book_and_accounts(conn, book_code, names)
    reject_if(_first_errors(txns, book, found, precisions))

    ids = _insert_transactions(conn, book.id, txns, created_by, reverses_id, now)
    deltas = _insert_postings(conn, book.id, ids, txns, found, precisions)
    _apply_balance_deltas(conn, book.id, deltas, found)
    check_stored_balanced(conn, min(ids), max(ids))
    return book.id, ids


def reverse(
    conn: Connection,
    book_code: str,
    transaction_id: int,
    date: datetime.date,
    narration: str | None = None,
    created_by: str | None = None,
) -> int:
    """Post the reversal of a transaction (once), dated `date`. Returns the reversal's id."""
    # Two racing reversals of one transaction queue here; the second then sees the first.
    conn.execute(
        select(transactions.c.id).where(transactions.c.id == transaction_id).with_for_update()
    )
    original = load_transaction(conn, book_code, transaction_id)
    if original.reverses_id is not None:
        raise LedgerRejected(
            [conflict("reversal_not_reversible", "A reversal cannot itself be reversed.")]
        )
    if original.reversed_by is not None:
        raise LedgerRejected(
            [conflict("already_reversed", "This transaction has been reversed already.")]
        )
    if date < original.txn.date:
        raise LedgerRejected(
            [
                invalid(
                    "reversal_before_original",
                    "A reversal is dated on or after its original.",
                    "date",
                )
            ]
        )
    text = narration or f"Reversal of transaction {transaction_id}: {original.txn.narration}"
    reversal = reversal_of(original.txn, date, text[: limits.NARRATION_LENGTH_MAX])
    return post(conn, book_code, reversal, created_by=created_by, reverses_id=transaction_id)


def assert_balance(
    conn: Connection,
    book_code: str,
    account_name: str,
    commodity: str,
    date: datetime.date,
    units: int,
) -> int:
    """Record that `account_name` held `units` of `commodity` at the end of `date`.

    Refused when the ledger disagrees. Afterwards nothing more may be posted to the account
    on or before `date`, so the checked balance stays true (and Beancount agrees).
    """
    # Exclusive: postings to this account wait until the count is recorded, then see it.
    lock_rows(conn, book_code, [account_name], exclusive=True)
    book = _book_for_posting(conn, book_code)
    if commodity not in commodity_precisions(conn):
        raise LedgerRejected(
            [invalid("commodity_unknown", "This commodity is not defined.", "currency")]
        )
    if book.lock_date is not None and date <= book.lock_date:
        raise LedgerRejected(
            [conflict("period_locked", "The book is locked on or before this date.", "date")]
        )
    account = _account_for_posting(conn, book.id, account_name)
    if account is None:
        raise LedgerRejected(
            [invalid("account_unknown", "No such account in this book.", "account")]
        )
    if date < account.open_date:
        raise LedgerRejected(
            [invalid("account_not_open", "The account is not open on this date.", "date")]
        )
    if account.close_date is not None and date > account.close_date:
        raise LedgerRejected([conflict("account_closed", "The account is closed.", "date")])
    if account.currencies and commodity not in account.currencies:
        raise LedgerRejected(
            [
                invalid(
                    "currency_not_allowed", "The account does not hold this commodity.", "currency"
                )
            ]
        )
    ledger_units = _balance_at(conn, account.id, commodity, date)
    if ledger_units != units:
        raise LedgerRejected(
            [
                conflict(
                    "balance_assertion_failed",
                    f"The ledger holds {ledger_units} smallest units, not {units}.",
                    "amount",
                )
            ]
        )
    duplicate = conn.execute(
        select(balance_assertions.c.id).where(
            and_(
                balance_assertions.c.account_id == account.id,
                balance_assertions.c.commodity == commodity,
                balance_assertions.c.date == date,
            )
        )
    ).first()
    if duplicate:
        return int(duplicate.id)
    result = conn.execute(
        insert(balance_assertions)
        .values(
            book_id=book.id,
            account_id=account.id,
            commodity=commodity,
            date=date,
            units=units,
            created_at=utc_now(),
        )
        .returning(balance_assertions.c.id)
    )
    return int(result.scalar_one())


def check_stored_balanced(conn: Connection, first_id: int, last_id: int) -> None:
    """Read back the weights of transactions first_id..last_id; raise if any does not sum to 0."""
    parameters = {"first_id": first_id, "last_id": last_id}
    for off in driver.fetch_all(conn, _UNBALANCED_IN_RANGE, parameters):
        raise StoredTransactionUnbalancedError(
            f"transaction {off[0]} is stored unbalanced in {off[1]} by {off[2]}"
        )


_UNBALANCED_IN_RANGE = (
    select(postings.c.transaction_id, postings.c.weight_commodity, func.sum(postings.c.weight))
    .where(postings.c.transaction_id.between(bindparam("first_id"), bindparam("last_id")))
    .group_by(postings.c.transaction_id, postings.c.weight_commodity)
    .having(func.sum(postings.c.weight) != 0)
    .limit(1)
)


# -- reading one transaction back (reversals need it) ------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredTransaction:
    id: int
    book_id: int
    txn: Transaction
    reverses_id: int | None
    reversed_by: int | None
    created_at: datetime.datetime
    created_by: str | None


def load_transaction(conn: Connection, book_code: str, transaction_id: int) -> StoredTransaction:
    rows = conn.execute(
        _TRANSACTION_IN_BOOK, {"code": book_code, "transaction_id": transaction_id}
    ).all()
    if not rows:
        get_book(conn, book_code)  # book_not_found comes first, as the caller would expect
        raise LedgerRejected(
            [not_found("transaction_not_found", "No such transaction in this book.")]
        )
    return _assemble(conn, rows)[0]


def load_transactions(
    conn: Connection, book_id: int, ids: Sequence[int]
) -> list[StoredTransaction]:
    """The transactions with these ids in this book, in the order of `ids`."""
    if not ids:
        return []
    rows = conn.execute(_TRANSACTIONS_BY_ID, {"book_id": book_id, "ids": list(ids)}).all()
    if not rows:
        return []
    loaded = {stored.id: stored for stored in _assemble(conn, rows)}
    return [loaded[i] for i in ids if i in loaded]


# Reading back is three statements whatever the number of transactions: their rows (with the
# id of any reversal), their postings, and their tags, links and metadata in one UNION ALL.
# The statements are built once; SQLAlchemy caches their compiled form per dialect.
_REVERSAL = transactions.alias("reversal")
_TRANSACTION_ROWS = select(transactions, _REVERSAL.c.id.label("reversed_by")).outerjoin(
    _REVERSAL, _REVERSAL.c.reverses_id == transactions.c.id
)
_TRANSACTIONS_BY_ID = _TRANSACTION_ROWS.where(
    and_(
        transactions.c.book_id == bindparam("book_id"),
        transactions.c.id.in_(bindparam("ids", expanding=True)),
    )
)
_TRANSACTION_IN_BOOK = _TRANSACTION_ROWS.join(books, books.c.id == transactions.c.book_id).where(
    and_(books.c.code == bindparam("code"), transactions.c.id == bindparam("transaction_id"))
)
_POSTINGS_OF = (
    select(
        postings.c.transaction_id,
        accounts.c.name,
        postings.c.units,
        postings.c.commodity,
        postings.c.price_commodity,
        postings.c.price_per_unit,
        postings.c.price_total,
    )
    .join(accounts, accounts.c.id == postings.c.account_id)
    .where(postings.c.transaction_id.in_(bindparam("ids", expanding=True)))
    .order_by(postings.c.transaction_id, postings.c.position)
)
_LABELS_OF = union_all(
    select(
        literal_column("1").label("kind"),
        transaction_tags.c.transaction_id,
        transaction_tags.c.tag.label("label"),
        cast(null(), Text).label("value"),
    ).where(transaction_tags.c.transaction_id.in_(bindparam("ids", expanding=True))),
    select(
        literal_column("2"),
        transaction_links.c.transaction_id,
        transaction_links.c.link,
        cast(null(), Text),
    ).where(transaction_links.c.transaction_id.in_(bindparam("ids", expanding=True))),
    select(
        literal_column("3"),
        transaction_meta.c.transaction_id,
        transaction_meta.c.key,
        transaction_meta.c.value,
    ).where(transaction_meta.c.transaction_id.in_(bindparam("ids", expanding=True))),
).order_by("kind", "transaction_id", "label")
_TAG, _LINK, _META = 1, 2, 3


def _assemble(conn: Connection, rows: Sequence[Row[Any]]) -> list[StoredTransaction]:
    """StoredTransactions for these transaction rows, in their order."""
    present = [r.id for r in rows]
    by_txn: dict[int, list[Posting]] = defaultdict(list)
    for p in conn.execute(_POSTINGS_OF, {"ids": present}):
        by_txn[p.transaction_id].append(Posting(p.name, p.units, p.commodity, _price_from_row(p)))
    tags: dict[int, list[str]] = defaultdict(list)
    links: dict[int, list[str]] = defaultdict(list)
    meta: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for kind, txn_id, label, value in conn.execute(_LABELS_OF, {"ids": present}):
        if kind == _TAG:
            tags[txn_id].append(label)
        elif kind == _LINK:
            links[txn_id].append(label)
        else:
            meta[txn_id].append((label, value))
    return [
        StoredTransaction(
            id=r.id,
            book_id=r.book_id,
            txn=Transaction(
                date=r.date,
                narration=r.narration,
                payee=r.payee,
                tags=tuple(sorted(tags.get(r.id, ()))),
                links=tuple(sorted(links.get(r.id, ()))),
                meta=tuple(sorted(meta.get(r.id, ()))),
                postings=tuple(by_txn[r.id]),
            ),
            reverses_id=r.reverses_id,
            reversed_by=r.reversed_by,
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in rows
    ]


def _in_stored_order(txn: Transaction) -> Transaction:
    """`txn` as it reads back: tags and links once each, and they and the metadata (one value
    per key, the last given) sorted by code point, whatever the database's collation."""
    return replace(
        txn,
        tags=tuple(sorted(set(txn.tags))),
        links=tuple(sorted(set(txn.links))),
        meta=tuple(sorted(dict(txn.meta).items())),
    )


def _price_from_row(row: object) -> Price | None:
    commodity = row.price_commodity  # type: ignore[attr-defined]
    if commodity is None:
        return None
    per_unit = row.price_per_unit  # type: ignore[attr-defined]
    if per_unit is not None:
        return Price(commodity, per_unit=Decimal(per_unit))
    return Price(commodity, total=row.price_total)  # type: ignore[attr-defined]


# -- the steps of post_many --------------------------------------------------------------------
#
# The hot path keeps the statements per call few: one query for the book and its accounts, one
# INSERT for the transactions, one executemany for the postings, one upsert for the balances
# touched and the read-back. Statements are built once at import from the Core tables (they
# are dialect-free values) and run on the database driver (`ledger.store.driver`): through a
# SQLAlchemy `Connection`, each cost several times SQLite's own work for it. Values are
# converted by the dialect's own bind processors, so the stored text is exactly what Core
# would store. PostgreSQL inserts keep Core (its `insertmanyvalues` batching is efficient).
# Nothing read from the database is cached across calls: books, lock dates and accounts
# change, and another process may change them.

_ASSERTED_UNTIL = (
    select(func.max(balance_assertions.c.date))
    .where(balance_assertions.c.account_id == accounts.c.id)
    .scalar_subquery()
)
_ACCOUNT_COLUMNS = (
    accounts.c.id,
    accounts.c.name,
    accounts.c.open_date,
    accounts.c.close_date,
    accounts.c.currencies,
    accounts.c.non_negative,
    _ASSERTED_UNTIL.label("asserted_until"),
)
_ACCOUNT_BY_NAME = select(*_ACCOUNT_COLUMNS).where(
    and_(accounts.c.book_id == bindparam("book_id"), accounts.c.name == bindparam("name"))
)


def _book_and_accounts_statement(names_n: int) -> Select[Any]:
    """The book and `names_n` accounts named in one round trip: one row per account found, or
    one row with NULL account columns when none is (and no row when the book does not exist).
    Columns: book id, lock date, then `_ACCOUNT_COLUMNS` in their order."""
    return (
        select(books.c.id, books.c.lock_date, *_ACCOUNT_COLUMNS)
        .select_from(
            books.outerjoin(
                accounts,
                and_(
                    accounts.c.book_id == books.c.id,
                    accounts.c.name.in_(driver.in_list_binds("name", names_n)),
                ),
            )
        )
        .where(books.c.code == bindparam("code"))
    )


_BOOK_AND_ACCOUNTS = {n: _book_and_accounts_statement(n) for n in driver.IN_LIST_SIZES}
_NAMES_PER_QUERY_MAX = driver.IN_LIST_SIZES[-1]
_BOOK_BY_CODE = select(books.c.id, books.c.lock_date).where(books.c.code == bindparam("code"))
_LOCK_ROWS = (
    select(books.c.id, accounts.c.id)
    .select_from(books.join(accounts, accounts.c.book_id == books.c.id))
    .where(
        and_(
            books.c.code == bindparam("code"),
            accounts.c.name.in_(bindparam("names", expanding=True)),
        )
    )
    .order_by(accounts.c.id)
)
_LOCK_FOR_SHARE = _LOCK_ROWS.with_for_update(read=True)
_LOCK_FOR_UPDATE = _LOCK_ROWS.with_for_update()
_MAX_TRANSACTION_ID = select(func.coalesce(func.max(transactions.c.id), 0))


def lock_rows(
    conn: Connection, book_code: str, account_names: Sequence[str], *, exclusive: bool = False
) -> None:
    """Lock the book's row and the named accounts' rows before reading them (PostgreSQL).

    A post takes shared locks, so posts never wait for each other; a lock-date change, an
    account's close and a balance assertion change or check those rows under an exclusive
    lock, so they and the posts that depend on them run one after the other, and each reads
    what the other committed. Rows are locked in account-id order (no deadlock between
    writers). SQLite needs none of this: its writers are serialised by BEGIN IMMEDIATE.
    """
    if conn.dialect.name == "sqlite":
        return
    statement = _LOCK_FOR_UPDATE if exclusive else _LOCK_FOR_SHARE
    conn.execute(statement, {"code": book_code, "names": list(account_names)})


def _book_for_posting(conn: Connection, book_code: str) -> _BookForPosting:
    row = conn.execute(_BOOK_BY_CODE, {"code": book_code}).first()
    if row is None:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    return _BookForPosting(id=row.id, lock_date=row.lock_date)


def _account_from_columns(columns: Sequence[Any]) -> _AccountForPosting:
    """An account from the driver's values of `_ACCOUNT_COLUMNS` (name excepted)."""
    account_id, _name, open_date, close_date, currencies, non_negative, asserted_until = columns
    return _AccountForPosting(
        id=account_id,
        open_date=_date(open_date),
        close_date=_date_or_none(close_date),
        currencies=tuple(currencies.split()) if currencies else (),
        non_negative=bool(non_negative),
        asserted_until=_date_or_none(asserted_until),
    )


def _account_for_posting(conn: Connection, book_id: int, name: str) -> _AccountForPosting | None:
    rows = driver.fetch_all(conn, _ACCOUNT_BY_NAME, {"book_id": book_id, "name": name})
    return _account_from_columns(rows[0]) if rows else None


def _book_and_accounts(
    conn: Connection, book_code: str, names: Sequence[str]
) -> tuple[_BookForPosting, dict[str, _AccountForPosting]]:
    """The book and the named accounts it has, in one query per 64 names."""
    assert names, "a post names accounts"
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(names), _NAMES_PER_QUERY_MAX):
        size, values = driver.in_list_values("name", names[start : start + _NAMES_PER_QUERY_MAX])
        values["code"] = book_code
        rows += driver.fetch_all(conn, _BOOK_AND_ACCOUNTS[size], values)
    if not rows:
        raise LedgerRejected([not_found("book_not_found", "No book has this code.", "book")])
    book = _BookForPosting(id=rows[0][0], lock_date=_date_or_none(rows[0][1]))
    found: dict[str, _AccountForPosting] = {}
    for row in rows:
        if row[2] is not None:  # an account (NULLs: the book has none of these names)
            found[row[3]] = _account_from_columns(row[2:])
    return book, found


def _date(value: datetime.date | str) -> datetime.date:
    """A date column as the driver gives it: a date (PostgreSQL) or ISO text (SQLite)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _date_or_none(value: datetime.date | str | None) -> datetime.date | None:
    return None if value is None else _date(value)


def _first_errors(
    txns: Sequence[Transaction],
    book: _BookForPosting,
    found: Mapping[str, _AccountForPosting],
    precisions: Mapping[str, int],
) -> list[LedgerError]:
    """The errors of the first transaction that has any (pure rules, then the book's state)."""
    for txn in txns:
        errors = validate_transaction(txn, precisions)
        if errors or not _fits_book(txn, book, found):
            return [*errors, *_check_against_book(txn, book, found)]
    return []


def _fits_book(
    txn: Transaction, book: _BookForPosting, found: Mapping[str, _AccountForPosting]
) -> bool:
    """True when `_check_against_book` would find nothing (its fast, allocation-free twin)."""
    date = txn.date
    if book.lock_date is not None and date <= book.lock_date:
        return False
    for posting in txn.postings:
        account = found.get(posting.account)
        if (
            account is None
            or date < account.open_date
            or account.close_date is not None
            or (account.currencies and posting.commodity not in account.currencies)
            or (account.asserted_until is not None and date <= account.asserted_until)
        ):
            return False
    return True


def _check_against_book(
    txn: Transaction, book: _BookForPosting, found: Mapping[str, _AccountForPosting]
) -> list[LedgerError]:
    errors: list[LedgerError] = []
    if book.lock_date is not None and txn.date <= book.lock_date:
        errors.append(
            conflict(
                "period_locked",
                f"The book is locked up to and including {book.lock_date.isoformat()}.",
                "date",
            )
        )
    for index, posting in enumerate(txn.postings):
        field = f"postings[{index}].account"
        account = found.get(posting.account)
        if account is None:
            errors.append(invalid("account_unknown", "No such account in this book.", field))
            continue
        if txn.date < account.open_date:
            errors.append(invalid("account_not_open", "The account opens after this date.", field))
        if account.close_date is not None:
            errors.append(conflict("account_closed", "The account is closed.", field))
        if account.currencies and posting.commodity not in account.currencies:
            errors.append(
                invalid(
                    "currency_not_allowed",
                    "The account does not hold this commodity.",
                    f"postings[{index}].currency",
                )
            )
        if account.asserted_until is not None and txn.date <= account.asserted_until:
            errors.append(
                conflict(
                    "balance_asserted",
                    "The account's balance was checked on or after this date.",
                    field,
                )
            )
    return errors


# -- SQLite: plain tuples to the driver --------------------------------------------------------
#
# Rows go to the driver's executemany without a None in them: Python's sqlite3 module binds a
# None through its adapter registry (a tuple, a dict lookup and attribute lookups on the class,
# ~0.6 us each), which costs more than SQLite's own work for the column. Each insert is
# compiled once per shape, naming only the columns the rows have values for (in the table's
# order), the others take their default, NULL. The posting shapes serve PostgreSQL too.

_POSTING_KEYS = (
    "transaction_id",
    "book_id",
    "account_id",
    "date",
    "position",
    "commodity",
    "units",
)
_UNPRICED = (*_POSTING_KEYS, "weight_commodity", "weight")
_PER_UNIT_PRICED = (
    *_POSTING_KEYS,
    "price_commodity",
    "price_per_unit",
    "weight_commodity",
    "weight",
)
_TOTAL_PRICED = (*_POSTING_KEYS, "price_commodity", "price_total", "weight_commodity", "weight")


@dataclass(frozen=True, slots=True)
class _SqliteValues:
    """The SQLite dialect's converters for the journal's date and timestamp columns."""

    date_text: Callable[[Any], str]
    datetime_text: Callable[[Any], str]


_sqlite_values: _SqliteValues | None = None
# INSERT text per (table, columns named, RETURNING id), compiled on first use.
_sqlite_inserts: dict[tuple[str, tuple[str, ...], bool], str] = {}


def _compile_positional(conn: Connection, statement: object, columns: Sequence[str]) -> str:
    compiled = statement.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
    if tuple(compiled.positiontup or ()) != tuple(columns):
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup} for {columns}")
    return str(compiled)


def _sqlite(conn: Connection) -> _SqliteValues:
    """Made once per process: it depends only on the tables and the SQLite dialect."""
    global _sqlite_values
    if _sqlite_values is None:
        _sqlite_values = _SqliteValues(
            date_text=driver.driver_value(conn.dialect, transactions.c.date),
            datetime_text=driver.driver_value(conn.dialect, transactions.c.created_at),
        )
    return _sqlite_values


def _sqlite_insert(
    conn: Connection, table: Table, columns: tuple[str, ...], *, returning_id: bool = False
) -> str:
    """INSERT of `columns` (parameters in that order); the table's other columns are NULL."""
    key = (table.name, columns, returning_id)
    sql = _sqlite_inserts.get(key)
    if sql is None:
        statement: Any = insert(table).values({c: bindparam(c) for c in columns})
        if returning_id:
            statement = statement.returning(table.c.id)
        sql = _sqlite_inserts[key] = _compile_positional(conn, statement, columns)
    return sql


def _date_texts(
    conn: Connection, txns: Sequence[Transaction]
) -> Mapping[datetime.date, datetime.date | str]:
    """What the driver is given for each date: SQLite's text (converted once per day)."""
    days = {txn.date for txn in txns}
    if conn.dialect.name != "sqlite":
        return {d: d for d in days}
    date_text = _sqlite(conn).date_text
    return {d: date_text(d) for d in days}


def _insert_transactions(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    created_by: str | None,
    reverses_id: int | None,
    now: datetime.datetime,
) -> list[int]:
    if conn.dialect.name == "sqlite":
        ids = _insert_transaction_rows_sqlite(conn, book_id, txns, created_by, reverses_id, now)
    else:
        ids = _insert_transaction_rows_core(conn, book_id, txns, created_by, reverses_id, now)
    assert len(ids) == len(txns)
    _insert_labels(conn, book_id, ids, txns)
    return ids


def _insert_transaction_rows_sqlite(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    created_by: str | None,
    reverses_id: int | None,
    now: datetime.datetime,
) -> list[int]:
    created_at = _sqlite(conn).datetime_text(now)
    days = _date_texts(conn, txns)
    # Columns after the narration, in the table's order, naming only those with a value.
    tail = tuple(
        (name, value)
        for name, value in (
            ("reverses_id", reverses_id),
            ("created_at", created_at),
            ("created_by", created_by),
        )
        if value is not None
    )
    tail_columns = tuple(name for name, _ in tail)
    tail_values = tuple(value for _, value in tail)
    if len(txns) == 1:
        txn = txns[0]
        if txn.payee is None:
            columns = ("book_id", "date", "narration", *tail_columns)
            row = (book_id, days[txn.date], txn.narration, *tail_values)
        else:
            columns = ("book_id", "date", "payee", "narration", *tail_columns)
            row = (book_id, days[txn.date], txn.payee, txn.narration, *tail_values)
        sql = _sqlite_insert(conn, transactions, columns, returning_id=True)
        [(txn_id,)] = driver.execute(conn, sql, row)
        return [int(txn_id)]
    # The write transaction holds SQLite's single write lock from here to COMMIT (and a stale
    # snapshot cannot take it), so the ids after the current maximum are ours alone.
    [(max_id,)] = driver.fetch_all(conn, _MAX_TRANSACTION_ID)
    first_id = int(max_id) + 1
    without_payee: list[tuple[object, ...]] = []
    with_payee: list[tuple[object, ...]] = []
    for txn_id, txn in enumerate(txns, start=first_id):
        if txn.payee is None:
            without_payee.append((txn_id, book_id, days[txn.date], txn.narration, *tail_values))
        else:
            with_payee.append(
                (txn_id, book_id, days[txn.date], txn.payee, txn.narration, *tail_values)
            )
    for shape, rows in (
        (("id", "book_id", "date", "narration", *tail_columns), without_payee),
        (("id", "book_id", "date", "payee", "narration", *tail_columns), with_payee),
    ):
        if rows:
            driver.execute_many(conn, _sqlite_insert(conn, transactions, shape), rows)
    return list(range(first_id, first_id + len(txns)))


def _insert_transaction_rows_core(
    conn: Connection,
    book_id: int,
    txns: Sequence[Transaction],
    created_by: str | None,
    reverses_id: int | None,
    now: datetime.datetime,
) -> list[int]:
    rows = [
        {
            "book_id": book_id,
            "date": txn.date,
            "payee": txn.payee,
            "narration": txn.narration,
            "reverses_id": reverses_id,
            "created_at": now,
            "created_by": created_by,
        }
        for txn in txns
    ]
    if len(rows) == 1:
        result = conn.execute(insert(transactions).returning(transactions.c.id), rows[0])
        return [int(result.scalar_one())]
    result = conn.execute(
        insert(transactions).returning(transactions.c.id, sort_by_parameter_order=True), rows
    )
    return [int(i) for i in result.scalars()]


def _insert_labels(
    conn: Connection, book_id: int, ids: Sequence[int], txns: Sequence[Transaction]
) -> None:
    labels = [
        (
            transaction_tags,
            "tag",
            [(i, t) for i, txn in zip(ids, txns, strict=True) for t in set(txn.tags)],
        ),
        (
            transaction_links,
            "link",
            [(i, k) for i, txn in zip(ids, txns, strict=True) for k in set(txn.links)],
        ),
    ]
    for table, column, pairs in labels:
        if pairs:
            conn.execute(
                insert(table),
                [{"transaction_id": i, column: v, "book_id": book_id} for i, v in pairs],
            )
    meta_rows = [
        {"transaction_id": i, "key": k, "value": v, "book_id": book_id}
        for i, txn in zip(ids, txns, strict=True)
        for k, v in dict(txn.meta).items()
    ]
    if meta_rows:
        conn.execute(insert(transaction_meta), meta_rows)


def _insert_postings(
    conn: Connection,
    book_id: int,
    ids: Sequence[int],
    txns: Sequence[Transaction],
    found: Mapping[str, _AccountForPosting],
    precisions: Mapping[str, int],
) -> dict[tuple[int, str], int]:
    """Insert every posting; return the change in balance per (account id, commodity)."""
    days = _date_texts(conn, txns)
    account_ids = {name: account.id for name, account in found.items()}
    unpriced: list[tuple[object, ...]] = []
    per_unit_priced: list[tuple[object, ...]] = []
    total_priced: list[tuple[object, ...]] = []
    deltas: dict[tuple[int, str], int] = {}
    for txn_id, txn in zip(ids, txns, strict=True):
        day = days[txn.date]
        for position, posting in enumerate(txn.postings):
            account_id = account_ids[posting.account]
            commodity = posting.commodity
            units = posting.units
            price = posting.price
            if price is None:
                unpriced.append(
                    (txn_id, book_id, account_id, day, position, commodity, units, commodity, units)
                )
            else:
                weighed = weight(posting, precisions)
                assert weighed is not None
                keys = (txn_id, book_id, account_id, day, position, commodity, units)
                if price.per_unit is not None:
                    per_unit = format(price.per_unit, "f")
                    per_unit_priced.append((*keys, price.commodity, per_unit, *weighed))
                else:
                    total_priced.append((*keys, price.commodity, price.total, *weighed))
            key = (account_id, commodity)
            deltas[key] = deltas.get(key, 0) + units
    for shape, rows in (
        (_UNPRICED, unpriced),
        (_PER_UNIT_PRICED, per_unit_priced),
        (_TOTAL_PRICED, total_priced),
    ):
        if not rows:
            continue
        if conn.dialect.name == "sqlite":
            driver.execute_many(conn, _sqlite_insert(conn, postings, shape), rows)
        else:
            conn.execute(insert(postings), [dict(zip(shape, r, strict=True)) for r in rows])
    return deltas


def _balance_upsert(dialect_name: str, rows: int) -> ReturningInsert[Any]:
    """Upsert `rows` balance rows in one statement, returning each row's new units."""
    upsert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    statement = upsert(balances).values(
        [
            {
                "account_id": bindparam(f"account_id_{i}"),
                "commodity": bindparam(f"commodity_{i}"),
                "book_id": bindparam(f"book_id_{i}"),
                "units": bindparam(f"units_{i}"),
            }
            for i in range(rows)
        ]
    )
    return statement.on_conflict_do_update(
        index_elements=[balances.c.account_id, balances.c.commodity],
        set_={"units": balances.c.units + statement.excluded.units},
    ).returning(balances.c.account_id, balances.c.commodity, balances.c.units)


# Balance rows per upsert statement: far inside SQLite's 32,766 parameters.
_UPSERT_ROWS_MAX = 256
# Built (and on SQLite compiled) once per dialect and row count.
_balance_upserts: dict[tuple[str, int], ReturningInsert[Any]] = {}
_sqlite_balance_upserts: dict[int, str] = {}


def _upsert_balances(
    conn: Connection, book_id: int, changes: Sequence[tuple[tuple[int, str], int]]
) -> dict[tuple[int, str], int]:
    """Add each delta to its balance row (created if missing); the new units per key.

    One statement per `_UPSERT_ROWS_MAX` rows. Rows are written in the order given (sorted by
    the caller), so row locks on PostgreSQL are taken in that order.
    """
    dialect_name = conn.dialect.name
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(changes), _UPSERT_ROWS_MAX):
        part = changes[start : start + _UPSERT_ROWS_MAX]
        key = (dialect_name, len(part))
        statement = _balance_upserts.get(key)
        if statement is None:
            statement = _balance_upserts[key] = _balance_upsert(dialect_name, len(part))
        if dialect_name == "sqlite":
            sql = _sqlite_balance_upserts.get(len(part))
            if sql is None:
                names = [
                    f"{column}_{i}"
                    for i in range(len(part))
                    for column in ("account_id", "commodity", "book_id", "units")
                ]
                sql = _compile_positional(conn, statement, names)
                _sqlite_balance_upserts[len(part)] = sql
            flat = [v for (a, c), d in part for v in (a, c, book_id, d)]
            result: Any = driver.execute(conn, sql, tuple(flat))
        else:
            parameters: dict[str, Any] = {}
            for i, ((account_id, commodity), delta) in enumerate(part):
                parameters[f"account_id_{i}"] = account_id
                parameters[f"commodity_{i}"] = commodity
                parameters[f"book_id_{i}"] = book_id
                parameters[f"units_{i}"] = delta
            result = conn.execute(statement, parameters)
        for account_id, commodity, units in result:
            found[(account_id, commodity)] = int(units)
    return found


def _balance_too_large() -> LedgerRejected:
    return LedgerRejected(
        [conflict("balance_too_large", "The account's balance would exceed the limit.", "postings")]
    )


def _apply_balance_deltas(
    conn: Connection,
    book_id: int,
    deltas: Mapping[tuple[int, str], int],
    found: Mapping[str, _AccountForPosting],
) -> None:
    """Upsert balances in (account, commodity) order; check limits on the values returned.

    The fixed order means two writers touching the same accounts take their row locks in the
    same order on PostgreSQL and cannot deadlock each other. The rows go in as few statements
    as possible; the first error is the one a row-by-row upsert in that order would meet.
    """
    non_negative = {a.id for a in found.values() if a.non_negative}
    changes = [(key, delta) for key, delta in sorted(deltas.items()) if delta != 0]
    too_large_at = next(
        (i for i, (_, delta) in enumerate(changes) if abs(delta) > limits.BALANCE_UNITS_ABS_MAX),
        None,
    )
    before = changes if too_large_at is None else changes[:too_large_at]
    new_units = _upsert_balances(conn, book_id, before) if before else {}
    for key, _delta in before:
        units = new_units[key]
        if key[0] in non_negative and units < 0:
            raise LedgerRejected(
                [
                    conflict(
                        "account_overdrawn",
                        "This account may not go below zero (for example a cash box).",
                        "postings",
                    )
                ]
            )
        if abs(units) > limits.BALANCE_UNITS_ABS_MAX:
            raise _balance_too_large()
    if too_large_at is not None:
        raise _balance_too_large()


def _balance_at(conn: Connection, account_id: int, commodity: str, date: datetime.date) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(postings.c.units), 0)).where(
            and_(
                postings.c.account_id == account_id,
                postings.c.commodity == commodity,
                postings.c.date <= date,
            )
        )
    ).scalar_one()
    return int(total)

"""The journal: the only code that writes transactions, postings and balances.

`post` checks the design's invariants 2-7 before and while it writes:

2. balanced: `validate_transaction` in pure code, then a read-back of the stored weights in
   the same database transaction (`check_stored_balanced`), which a test proves can fail;
3. exact money: integers in smallest units, precision checked by the core;
4. append-only: rows are only inserted (database triggers refuse UPDATE and DELETE), a
   reversal undoes a transaction once, and nothing is posted on or before the lock date;
5. idempotency is handled one level up, in `ledger.store.idempotency`, in the same
   database transaction;
6. balances, and the week-end balance checkpoints that as-of reads start from
   (`ledger.store.checkpoints`), are upserted in the same database transaction as the postings;
7. concurrency: balance rows are changed by atomic upserts in a fixed (account, commodity)
   order, and a non-negative account is checked on the value the upsert returns, so two
   writers can neither lose an update nor overdraw a cash box;
8. tamper evidence: each transaction stores a hash chained to the previous one in its book
   and the book's row its last hash (`ledger.store.chain`), both written in the post's
   database transaction, after the book's row is locked (one writer per book at a time).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, select

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, reject_if
from ledger.core.transaction import (
    Transaction,
    TransactionDraft,
    build_transaction,
    draft_commodities,
    reversal_of,
    validate_transaction,
)
from ledger.store import chain, driver, journal_pipelined
from ledger.store.books import commodity_precisions, utc_now
from ledger.store.checkpoints import record_checkpoints
from ledger.store.journal_reads import StoredTransaction, balance_units_through, load_transaction
from ledger.store.journal_sql import (
    LOCK_FOR_POSTING,
    LOCK_FOR_UPDATE,
    UNBALANCED_IN_RANGE,
    AccountForPosting,
    BookForPosting,
    account_for_posting,
    book_and_accounts,
    book_and_accounts_rows,
    book_for_posting,
    insert_postings,
    insert_transactions,
    record_balance_assertion,
    upsert_balances,
)
from ledger.store.tables import transactions


class StoredTransactionUnbalancedError(RuntimeError):
    """The read-back found stored postings that do not sum to zero: a bug, never user error."""


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
    codes = draft_commodities(draft)
    names = sorted({p.account for p in draft.postings})
    read: journal_pipelined.Read | None = None
    if journal_pipelined.applies_to_draft(conn, names, codes):
        # PostgreSQL: the precisions and the book's read in one round trip.
        read = journal_pipelined.read(conn, book_code, names, codes)
        precisions = read.precisions
    else:
        precisions = commodity_precisions(conn, codes)
    built = build_transaction(draft, precisions)
    if isinstance(built, tuple):
        raise LedgerRejected(built)
    now = utc_now()
    book_id, ids = _post_many(conn, book_code, [built], created_by, precisions, None, now, read)
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
    read: journal_pipelined.Read | None = None,
) -> tuple[int, list[int]]:
    """`post_many` with everything given; returns the book's id and the new ids. `read`:
    what `journal_pipelined.read` returned, when the caller read it."""
    names = sorted({p.account for txn in txns for p in txn.postings})
    if journal_pipelined.applies(conn, txns, names):
        if read is None:
            read = journal_pipelined.read(conn, book_code, names)
        posted = _post_pipelined(
            conn, book_code, names, txns[0], read, created_by, precisions, reverses_id, now
        )
        if posted is not None:
            return posted
    else:
        assert read is None, "a post read by `journal_pipelined.read` is posted that way"
    lock_rows(conn, book_code, names)
    book, found = book_and_accounts(conn, book_code, names)
    reject_if(_first_errors(txns, book, found, precisions))
    texts = chain.texts_after_previous(book.id, txns, precisions, reverses_id, now, created_by)
    hashes = chain.chain_transactions(book.chain_head, texts)
    ids = insert_transactions(conn, book.id, txns, created_by, reverses_id, now, hashes)
    deltas = insert_postings(conn, book.id, ids, txns, found, precisions)
    _apply_balance_deltas(conn, book.id, deltas, found)
    record_checkpoints(conn, book.id, txns, found, deltas)
    check_stored_balanced(conn, min(ids), max(ids))
    chain.move_book_head(conn, book.id, hashes[-1])
    return book.id, ids


def _post_pipelined(
    conn: Connection,
    book_code: str,
    names: Sequence[str],
    txn: Transaction,
    read: journal_pipelined.Read,
    created_by: str | None,
    precisions: Mapping[str, int],
    reverses_id: int | None,
    now: datetime.datetime,
) -> tuple[int, list[int]] | None:
    """PostgreSQL: post `txn`, checked against the book as `read` found it before any lock,
    then locked, read again, written and chained in one round trip
    (`journal_pipelined.write`). Nothing of the post's own work runs between the lock and
    the writes, so posts into one book wait for each other only as long as the server takes.
    When the book or an account changed in between (a lock date, a close, a balance
    assertion: rare), the post is checked again against what the lock read; if it fails
    now, its writes roll back with the refusal. None, having written nothing, for a post the
    one-at-a-time path takes.

    When the unit offered it (`driver.offer_early_commit`), the same round trip commits, the
    server making the checks made here otherwise (`journal_pipelined.write`)."""
    book, found = book_and_accounts_rows(read.rows)
    reject_if(_first_errors([txn], book, found, precisions))
    [after] = chain.texts_after_previous(book.id, [txn], precisions, reverses_id, now, created_by)
    head = journal_pipelined.Head(created_by, reverses_id, now, after)
    written = journal_pipelined.write(
        conn, book_code, names, book.id, txn, head, read, found, precisions
    )
    if written is None:
        return None
    if written.committed:
        return book.id, [written.transaction_id]
    locked_book, locked_found = book_and_accounts_rows(written.locked)
    if (locked_book.lock_date, locked_found) != (book.lock_date, found):
        # Accounts are never renamed or removed: the rows written name the same ones.
        assert {n: a.id for n, a in locked_found.items()} == {n: a.id for n, a in found.items()}
        reject_if(_first_errors([txn], locked_book, locked_found, precisions))
    _check_new_units(written.changes, written.new_units, locked_found)
    _raise_if_unbalanced(written.unbalanced)
    return book.id, [written.transaction_id]


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
    on or before `date`, so the checked balance stays true (and Beancount agrees). Recording
    the same assertion again returns the first one's id.
    """
    # Exclusive: postings to this account wait until the count is recorded, then see it.
    lock_rows(conn, book_code, [account_name], exclusive=True)
    book, account = _assertable_account(conn, book_code, account_name, commodity, date)
    ledger_units = balance_units_through(conn, account.id, commodity, date)
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
    return record_balance_assertion(conn, book.id, account.id, commodity, date, units)


def _assertable_account(
    conn: Connection, book_code: str, account_name: str, commodity: str, date: datetime.date
) -> tuple[BookForPosting, AccountForPosting]:
    """The book and the account a balance of `commodity` on `date` may be asserted for."""
    book = book_for_posting(conn, book_code)
    if commodity not in commodity_precisions(conn):
        raise LedgerRejected(
            [invalid("commodity_unknown", "This commodity is not defined.", "currency")]
        )
    if book.lock_date is not None and date <= book.lock_date:
        raise LedgerRejected(
            [conflict("period_locked", "The book is locked on or before this date.", "date")]
        )
    account = account_for_posting(conn, book.id, account_name)
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
    return book, account


def check_stored_balanced(conn: Connection, first_id: int, last_id: int) -> None:
    """Read back the weights of transactions first_id..last_id; raise if any does not sum to 0."""
    parameters = {"first_id": first_id, "last_id": last_id}
    _raise_if_unbalanced(driver.fetch_all(conn, UNBALANCED_IN_RANGE, parameters))


def _raise_if_unbalanced(unbalanced: Sequence[Sequence[Any]]) -> None:
    """Raise for the first row of the read-back: (transaction id, commodity, off by)."""
    for off in unbalanced:
        raise StoredTransactionUnbalancedError(
            f"transaction {off[0]} is stored unbalanced in {off[1]} by {off[2]}"
        )


def lock_rows(
    conn: Connection, book_code: str, account_names: Sequence[str], *, exclusive: bool = False
) -> None:
    """Lock the book's row and the named accounts' rows before reading them (PostgreSQL).

    A post takes FOR NO KEY UPDATE locks, so posts into one book run one after the other
    (each reads the book's chain head the one before it left: `ledger.store.chain`), while
    rows that merely refer to the book or its accounts are not held up; a lock-date change,
    an account's close and a balance assertion change or check those rows under an exclusive
    lock, so they and the posts that depend on them run one after the other, and each reads
    what the other committed. Rows are locked in account-id order (no deadlock between
    writers). SQLite needs none of this: its writers are serialised by BEGIN IMMEDIATE.
    """
    if conn.dialect.name == "sqlite":
        return
    statement = LOCK_FOR_UPDATE if exclusive else LOCK_FOR_POSTING
    conn.execute(statement, {"code": book_code, "names": list(account_names)})


def _in_stored_order(txn: Transaction) -> Transaction:
    """`txn` as it reads back: tags and links once each, and they and the metadata (one value
    per key, the last given) sorted by code point, whatever the database's collation."""
    return replace(
        txn,
        tags=tuple(sorted(set(txn.tags))),
        links=tuple(sorted(set(txn.links))),
        meta=tuple(sorted(dict(txn.meta).items())),
    )


def _first_errors(
    txns: Sequence[Transaction],
    book: BookForPosting,
    found: Mapping[str, AccountForPosting],
    precisions: Mapping[str, int],
) -> list[LedgerError]:
    """The errors of the first transaction that has any (pure rules, then the book's state)."""
    for txn in txns:
        errors = validate_transaction(txn, precisions)
        if errors or not _fits_book(txn, book, found):
            return [*errors, *_check_against_book(txn, book, found)]
    return []


def _fits_book(
    txn: Transaction, book: BookForPosting, found: Mapping[str, AccountForPosting]
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
    txn: Transaction, book: BookForPosting, found: Mapping[str, AccountForPosting]
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


def _balance_too_large() -> LedgerRejected:
    return LedgerRejected(
        [conflict("balance_too_large", "The account's balance would exceed the limit.", "postings")]
    )


def _apply_balance_deltas(
    conn: Connection,
    book_id: int,
    deltas: Mapping[tuple[int, str], int],
    found: Mapping[str, AccountForPosting],
) -> None:
    """Upsert balances in (account, commodity) order; check limits on the values returned.

    The fixed order means two writers touching the same accounts take their row locks in the
    same order on PostgreSQL and cannot deadlock each other. The rows go in as few statements
    as possible; the first error is the one a row-by-row upsert in that order would meet.
    """
    # Every (account, commodity) touched is upserted, a zero change too: its row lock is what
    # serialises the writers of its balance checkpoints (`ledger.store.checkpoints`), and
    # the as-of reads find its checkpoints through its row.
    changes = sorted(deltas.items())
    too_large_at = next(
        (i for i, (_, delta) in enumerate(changes) if abs(delta) > limits.BALANCE_UNITS_ABS_MAX),
        None,
    )
    before = changes if too_large_at is None else changes[:too_large_at]
    new_units = upsert_balances(conn, book_id, before) if before else {}
    _check_new_units(before, new_units, found)
    if too_large_at is not None:
        raise _balance_too_large()


def _check_new_units(
    changes: Sequence[tuple[tuple[int, str], int]],
    new_units: Mapping[tuple[int, str], int],
    found: Mapping[str, AccountForPosting],
) -> None:
    """Refuse the post when a balance it changed went below zero in a non-negative account
    or beyond the limit (the first such in `changes`' order)."""
    non_negative = {a.id for a in found.values() if a.non_negative}
    for key, _delta in changes:
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

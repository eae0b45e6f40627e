"""Reconciliation against the stored books: statement imports, matches, closing a
reconciliation or a cash count into a balance assertion, and the period close.

Every function runs inside the caller's database transaction (`Database.write` or `read`).
Postings are written only through `ledger.store.journal` (an adjustment, a balance
assertion).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ledger.core import limits
from ledger.core.account import validate_account_name
from ledger.core.amount import format_units
from ledger.core.errors import LedgerRejected, conflict, invalid, not_found, reject_if
from ledger.core.text import validate_text
from ledger.reconcile import rules
from ledger.reconcile.rules import ColumnMapping, Proposal, Side
from ledger.store import books, checkpoints, journal, queries
from ledger.store.tables import (
    accounts,
    balance_assertions,
    matched_lines,
    matched_postings,
    postings,
    reconciliation_matches,
    reconciliations,
    rejected_pairs,
    statement_imports,
    statement_lines,
    transaction_links,
    transaction_meta,
    transactions,
)
from ledger.store.tables import books as books_table

# Accounts a period close checks, and the kinds of account each route accepts.
BANK_PREFIX = "Assets:Bank:"
CASH_PREFIX = "Assets:Cash:"
# Unmatched items read for a listing or for proposals: the oldest first.
UNMATCHED_MAX = 5_000
FILE_NAME_LENGTH_MAX = 200


@dataclass(frozen=True, slots=True)
class StatementImport:
    id: int
    account: str
    currency: str
    precision: int
    first_date: datetime.date
    last_date: datetime.date
    lines_read: int
    lines_added: int
    closing_balance: int | None


@dataclass(frozen=True, slots=True)
class LineItem:
    id: int
    date: datetime.date
    description: str
    reference: str
    units: int
    balance: int | None


@dataclass(frozen=True, slots=True)
class PostingItem:
    id: int
    transaction_id: int
    date: datetime.date
    narration: str
    payee: str | None
    units: int


@dataclass(frozen=True, slots=True)
class Unmatched:
    account: books.Account
    currency: str
    precision: int
    lines: tuple[LineItem, ...]
    postings: tuple[PostingItem, ...]


@dataclass(frozen=True, slots=True)
class Match:
    id: int
    how: str
    line_ids: tuple[int, ...]
    posting_ids: tuple[int, ...]
    units: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    id: int
    account: str
    kind: str
    date: datetime.date
    currency: str
    precision: int
    counted_units: int
    ledger_units: int
    adjustment_transaction_id: int | None
    lines_unmatched: int

    @property
    def difference(self) -> int:
        """What the adjustment posted: the count less the ledger before it."""
        return self.counted_units - self.ledger_units


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """One bank or cash account at a date, for the donor report and the period close."""

    account: str
    currency: str
    precision: int
    ledger_units: int
    reconciled_on: datetime.date | None  # the last reconciliation or count on or before
    counted_units: int | None
    kind: str | None
    lines_unmatched: int  # statement lines on or before the date not matched


# -- the account ----------------------------------------------------------------------------


def _account(
    conn: Connection, book_code: str, account_id: int, prefix: str
) -> tuple[books.Account, str, int]:
    """The account, its one currency and that currency's precision; refused unless it is a
    bank (or cash) account holding exactly one currency."""
    account = books.get_account(conn, book_code, account_id)
    if not account.name.startswith(prefix):
        code = "account_not_bank" if prefix == BANK_PREFIX else "account_not_cash"
        raise LedgerRejected(
            [invalid(code, f"This needs an account under {prefix.rstrip(':')}.", "account_id")]
        )
    if len(account.currencies) != 1:
        raise LedgerRejected(
            [
                invalid(
                    "account_currency_ambiguous",
                    "This account must be opened for exactly one currency.",
                    "account_id",
                )
            ]
        )
    currency = account.currencies[0]
    return account, currency, books.commodity_precisions(conn)[currency]


# -- statements ------------------------------------------------------------------------------


def import_statement(
    conn: Connection,
    book_code: str,
    account_id: int,
    text: str,
    mapping: ColumnMapping,
    file_name: str,
    created_by: str | None,
) -> StatementImport:
    """Read a bank's CSV export into the account's statement lines.

    All or nothing: a file with any bad row is refused whole. Lines stored already (the same
    file again, or an overlapping statement) are recognised by fingerprint and not added.
    """
    account, currency, precision = _account(conn, book_code, account_id, BANK_PREFIX)
    name_error = validate_text(file_name, FILE_NAME_LENGTH_MAX, "file_name")
    reject_if([name_error] if name_error else [])
    parsed = rules.parse_statement(text, mapping, currency, precision)
    if isinstance(parsed, list):
        raise LedgerRejected(parsed)
    journal.lock_rows(conn, book_code, [account.name], exclusive=True)
    import_id = _insert_import(conn, account, currency, parsed, file_name, created_by)
    added = _insert_new_lines(conn, account, currency, import_id, parsed)
    conn.execute(
        statement_imports.update()
        .where(statement_imports.c.id == import_id)
        .values(lines_added=added)
    )
    return StatementImport(
        import_id,
        account.name,
        currency,
        precision,
        parsed.first_date,
        parsed.last_date,
        len(parsed.lines),
        added,
        parsed.closing_balance,
    )


def _insert_import(
    conn: Connection,
    account: books.Account,
    currency: str,
    parsed: rules.ParsedStatement,
    file_name: str,
    created_by: str | None,
) -> int:
    import_id: int = conn.execute(
        insert(statement_imports)
        .values(
            book_id=account.book_id,
            account_id=account.id,
            currency=currency,
            file_name=file_name,
            first_date=parsed.first_date,
            last_date=parsed.last_date,
            lines_read=len(parsed.lines),
            lines_added=0,
            closing_balance=parsed.closing_balance,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(statement_imports.c.id)
    ).scalar_one()
    return import_id


def _insert_new_lines(
    conn: Connection,
    account: books.Account,
    currency: str,
    import_id: int,
    parsed: rules.ParsedStatement,
) -> int:
    """Store the lines no import stored before (by fingerprint); how many were added."""
    prints = rules.fingerprint_lines(parsed.lines, currency)
    rows = [
        {
            "book_id": account.book_id,
            "account_id": account.id,
            "import_id": import_id,
            "date": line.date,
            "description": line.description,
            "reference": line.reference,
            "currency": currency,
            "units": line.units,
            "balance": line.balance,
            "fingerprint": fingerprint,
        }
        for line, fingerprint in zip(parsed.lines, prints, strict=True)
    ]
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    added = 0
    for start in range(0, len(rows), 500):
        result = conn.execute(
            upsert(statement_lines)
            .on_conflict_do_nothing(index_elements=["account_id", "fingerprint"])
            .returning(statement_lines.c.id),
            rows[start : start + 500],
        )
        added += len(result.all())
    return added


def list_imports(
    conn: Connection,
    book_code: str,
    account_id: int,
    after: int | None = None,
    limit: int = limits.PAGE_SIZE_MAX,
) -> list[StatementImport]:
    """One page of the bank account's statement imports in id order (ids after `after`)."""
    account, currency, precision = _account(conn, book_code, account_id, BANK_PREFIX)
    statement = (
        select(statement_imports)
        .where(statement_imports.c.account_id == account.id)
        .order_by(statement_imports.c.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(statement_imports.c.id > after)
    rows = conn.execute(statement)
    return [
        StatementImport(
            r.id,
            account.name,
            currency,
            precision,
            r.first_date,
            r.last_date,
            r.lines_read,
            r.lines_added,
            r.closing_balance,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class FoundImport:
    """A statement import found by its id alone, with the book and account it belongs to."""

    book_code: str
    account_id: int
    statement: StatementImport


STATEMENT_NOT_FOUND = not_found("statement_not_found", "No statement import has this id.")


def get_import(conn: Connection, import_id: int) -> FoundImport:
    """One statement import by id (`statement_not_found` if there is none)."""
    if not 0 < import_id <= limits.ID_MAX:
        raise LedgerRejected([STATEMENT_NOT_FOUND])
    row = conn.execute(
        select(statement_imports, accounts.c.name, books_table.c.code)
        .join(accounts, accounts.c.id == statement_imports.c.account_id)
        .join(books_table, books_table.c.id == statement_imports.c.book_id)
        .where(statement_imports.c.id == import_id)
    ).first()
    if row is None:
        raise LedgerRejected([STATEMENT_NOT_FOUND])
    precision = books.commodity_precisions(conn)[row.currency]
    statement = StatementImport(
        row.id,
        row.name,
        row.currency,
        precision,
        row.first_date,
        row.last_date,
        row.lines_read,
        row.lines_added,
        row.closing_balance,
    )
    return FoundImport(row.code, row.account_id, statement)


# -- unmatched items and proposals ---------------------------------------------------------


def _unmatched_lines(
    conn: Connection, account_id: int, until: datetime.date | None = None
) -> list[LineItem]:
    where = [
        statement_lines.c.account_id == account_id,
        statement_lines.c.id.not_in(select(matched_lines.c.statement_line_id)),
    ]
    if until is not None:
        where.append(statement_lines.c.date <= until)
    rows = conn.execute(
        select(statement_lines)
        .where(and_(*where))
        .order_by(statement_lines.c.date, statement_lines.c.id)
        .limit(UNMATCHED_MAX)
    )
    return [LineItem(r.id, r.date, r.description, r.reference, r.units, r.balance) for r in rows]


def _unmatched_postings(conn: Connection, account_id: int, currency: str) -> list[PostingItem]:
    rows = conn.execute(
        select(
            postings.c.id,
            postings.c.transaction_id,
            postings.c.date,
            postings.c.units,
            transactions.c.narration,
            transactions.c.payee,
        )
        .join(transactions, transactions.c.id == postings.c.transaction_id)
        .where(
            and_(
                postings.c.account_id == account_id,
                postings.c.commodity == currency,
                postings.c.id.not_in(select(matched_postings.c.posting_id)),
            )
        )
        .order_by(postings.c.date, postings.c.id)
        .limit(UNMATCHED_MAX)
    )
    return [
        PostingItem(r.id, r.transaction_id, r.date, r.narration, r.payee, r.units) for r in rows
    ]


def unmatched(conn: Connection, book_code: str, account_id: int) -> Unmatched:
    """What is not matched yet on each side: statement lines and the account's postings."""
    account, currency, precision = _account(conn, book_code, account_id, BANK_PREFIX)
    return Unmatched(
        account,
        currency,
        precision,
        tuple(_unmatched_lines(conn, account.id)),
        tuple(_unmatched_postings(conn, account.id, currency)),
    )


def _posting_texts(conn: Connection, transaction_ids: Sequence[int]) -> dict[int, str]:
    """Links and metadata values of these transactions (references a bank may print)."""
    if not transaction_ids:
        return {}
    found: dict[int, list[str]] = {}
    ids = list(set(transaction_ids))
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        for txn_id, text in conn.execute(
            select(transaction_links.c.transaction_id, transaction_links.c.link).where(
                transaction_links.c.transaction_id.in_(part)
            )
        ):
            found.setdefault(txn_id, []).append(text)
        for txn_id, text in conn.execute(
            select(transaction_meta.c.transaction_id, transaction_meta.c.value).where(
                transaction_meta.c.transaction_id.in_(part)
            )
        ):
            found.setdefault(txn_id, []).append(text)
    return {txn_id: " ".join(texts) for txn_id, texts in found.items()}


def propose(
    conn: Connection,
    book_code: str,
    account_id: int,
    window_days: int = rules.DATE_WINDOW_DAYS_DEFAULT,
) -> tuple[Unmatched, list[Proposal]]:
    if not 0 <= window_days <= rules.DATE_WINDOW_DAYS_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "window_days_invalid",
                    f"The date window is 0 to {rules.DATE_WINDOW_DAYS_MAX} days.",
                    "window_days",
                )
            ]
        )
    found = unmatched(conn, book_code, account_id)
    extra = _posting_texts(conn, [p.transaction_id for p in found.postings])
    line_sides = [
        Side(line.id, line.date, line.units, f"{line.description} {line.reference}", line.reference)
        for line in found.lines
    ]
    posting_sides = [
        Side(
            p.id,
            p.date,
            p.units,
            " ".join(filter(None, (p.narration, p.payee, extra.get(p.transaction_id)))),
        )
        for p in found.postings
    ]
    rejected = frozenset(
        (r.statement_line_id, r.posting_id)
        for r in conn.execute(
            select(rejected_pairs.c.statement_line_id, rejected_pairs.c.posting_id)
            .join(statement_lines, statement_lines.c.id == rejected_pairs.c.statement_line_id)
            .where(statement_lines.c.account_id == found.account.id)
        )
    )
    return found, rules.propose_matches(line_sides, posting_sides, window_days, rejected)


# -- matching --------------------------------------------------------------------------------


def _sides(
    conn: Connection,
    account: books.Account,
    currency: str,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
) -> tuple[list[Side], list[Side]]:
    """The named lines and postings, refused unless all belong to the account and none is
    named twice."""
    if len(set(line_ids)) != len(line_ids) or len(set(posting_ids)) != len(posting_ids):
        raise LedgerRejected(
            [invalid("match_repeats_item", "A line or posting is named twice.", "line_ids")]
        )
    if len(line_ids) > rules.MATCH_SIDE_MAX or len(posting_ids) > rules.MATCH_SIDE_MAX:
        raise LedgerRejected(
            [
                invalid(
                    "match_too_large",
                    f"A match has at most {rules.MATCH_SIDE_MAX} on each side.",
                    "line_ids",
                )
            ]
        )
    lines = [
        Side(r.id, r.date, r.units, r.description, r.reference)
        for r in conn.execute(
            select(statement_lines).where(
                and_(
                    statement_lines.c.account_id == account.id,
                    statement_lines.c.id.in_(list(line_ids)),
                )
            )
        )
    ]
    found_postings = [
        Side(r.id, r.date, r.units, "")
        for r in conn.execute(
            select(postings.c.id, postings.c.date, postings.c.units).where(
                and_(
                    postings.c.account_id == account.id,
                    postings.c.commodity == currency,
                    postings.c.id.in_(list(posting_ids)),
                )
            )
        )
    ]
    if len(lines) != len(line_ids):
        raise LedgerRejected(
            [
                not_found(
                    "statement_line_not_found",
                    "No such statement line in this account.",
                    "line_ids",
                )
            ]
        )
    if len(found_postings) != len(posting_ids):
        raise LedgerRejected(
            [not_found("posting_not_found", "No such posting in this account.", "posting_ids")]
        )
    return lines, found_postings


def match(
    conn: Connection,
    book_code: str,
    account_id: int,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
    how: str,
    created_by: str | None,
) -> Match:
    """Record that these statement lines and postings are the same money (an accepted
    proposal, or a match by hand). A line or posting matched already is refused."""
    assert how in ("proposed", "manual", "adjustment")
    account, currency, _ = _account(conn, book_code, account_id, BANK_PREFIX)
    journal.lock_rows(conn, book_code, [account.name], exclusive=True)
    lines, found_postings = _sides(conn, account, currency, line_ids, posting_ids)
    _refuse_taken(conn, line_ids, posting_ids)
    error = rules.match_error(lines, found_postings)
    reject_if([error] if error else [])
    return _insert_match(conn, account, lines, found_postings, how, created_by)


def _refuse_taken(conn: Connection, line_ids: Sequence[int], posting_ids: Sequence[int]) -> None:
    """A line or posting belongs to one match at most."""
    taken_line = conn.execute(
        select(matched_lines.c.statement_line_id).where(
            matched_lines.c.statement_line_id.in_(list(line_ids))
        )
    ).first()
    taken_posting = conn.execute(
        select(matched_postings.c.posting_id).where(
            matched_postings.c.posting_id.in_(list(posting_ids))
        )
    ).first()
    if taken_line or taken_posting:
        raise LedgerRejected(
            [
                conflict(
                    "already_matched",
                    "A line or posting of this match is matched already.",
                    "line_ids" if taken_line else "posting_ids",
                )
            ]
        )


def _insert_match(
    conn: Connection,
    account: books.Account,
    lines: Sequence[Side],
    found_postings: Sequence[Side],
    how: str,
    created_by: str | None,
) -> Match:
    line_ids = [s.id for s in lines]
    posting_ids = [s.id for s in found_postings]
    match_id = conn.execute(
        insert(reconciliation_matches)
        .values(
            book_id=account.book_id,
            account_id=account.id,
            how=how,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(reconciliation_matches.c.id)
    ).scalar_one()
    conn.execute(
        insert(matched_lines),
        [{"statement_line_id": i, "match_id": match_id} for i in line_ids],
    )
    conn.execute(
        insert(matched_postings),
        [{"posting_id": i, "match_id": match_id} for i in posting_ids],
    )
    return Match(match_id, how, tuple(line_ids), tuple(posting_ids), sum(s.units for s in lines))


def reject(
    conn: Connection,
    book_code: str,
    account_id: int,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
    created_by: str | None,
) -> int:
    """Never propose these lines with these postings again. Returns the pairs recorded."""
    account, currency, _ = _account(conn, book_code, account_id, BANK_PREFIX)
    lines, found_postings = _sides(conn, account, currency, line_ids, posting_ids)
    if not lines or not found_postings:
        raise LedgerRejected(
            [invalid("match_incomplete", "Name at least one line and one posting.", "line_ids")]
        )
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    now = books.utc_now()
    rows = [
        {
            "statement_line_id": line.id,
            "posting_id": posting.id,
            "book_id": account.book_id,
            "created_at": now,
            "created_by": created_by,
        }
        for line in lines
        for posting in found_postings
    ]
    conn.execute(
        upsert(rejected_pairs).on_conflict_do_nothing(
            index_elements=["statement_line_id", "posting_id"]
        ),
        rows,
    )
    return len(rows)


# -- closing: statements and cash counts -----------------------------------------------------


def _unmatched_line_count(
    conn: Connection, account_id: int, currency: str, date: datetime.date
) -> int:
    """Statement lines of the account up to the end of `date` that no match explains."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(statement_lines)
            .where(
                and_(
                    statement_lines.c.account_id == account_id,
                    statement_lines.c.currency == currency,
                    statement_lines.c.date <= date,
                    statement_lines.c.id.not_in(select(matched_lines.c.statement_line_id)),
                )
            )
        ).scalar_one()
    )


def _statement_balance(conn: Connection, account_id: int, date: datetime.date) -> int | None:
    """The running balance of the last statement line on or before `date`, if the bank
    printed one."""
    row = conn.execute(
        select(statement_lines.c.balance)
        .where(and_(statement_lines.c.account_id == account_id, statement_lines.c.date <= date))
        .order_by(statement_lines.c.date.desc(), statement_lines.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else row.balance


@dataclass(frozen=True, slots=True)
class _Count:
    """A balance counted at the end of `date`: a statement's closing balance or the cash in a
    box, in smallest units of the account's one currency."""

    book_code: str
    account: books.Account
    currency: str
    precision: int
    date: datetime.date
    counted: int
    kind: str  # 'statement' or 'cash_count'

    @property
    def what(self) -> str:
        return "statement" if self.kind == "statement" else "cash count"


@dataclass(frozen=True, slots=True)
class _Adjustment:
    """What explains a difference found at a close: the account it is posted against (bank
    charges, interest, a cash shortage) and its narration (None: a standard one)."""

    account: str | None
    narration: str | None


@dataclass(frozen=True, slots=True)
class StatementCloseDraft:
    """A bank statement's close as a request gives it: the day, the closing balance as
    decimal text (None: the bank's running balance on the last line up to that day) and what
    explains a difference."""

    date: datetime.date
    closing_balance: str | None
    adjustment_account: str | None = None
    adjustment_narration: str | None = None


@dataclass(frozen=True, slots=True)
class CashCountDraft:
    """A cash count as a request gives it: the day, the cash counted as decimal text and
    what explains a difference."""

    date: datetime.date
    amount: str
    adjustment_account: str | None = None
    adjustment_narration: str | None = None


def close_statement(
    conn: Connection,
    book_code: str,
    account_id: int,
    draft: StatementCloseDraft,
    created_by: str | None,
) -> Reconciliation:
    """Close the account's reconciliation at the end of `draft.date` with the statement's
    closing balance (given, or the bank's running balance on the last line up to the date)."""
    account, currency, precision = _account(conn, book_code, account_id, BANK_PREFIX)
    if draft.closing_balance is not None:
        counted = books.parse_amount(conn, currency, draft.closing_balance, "closing_balance")
    else:
        found = _statement_balance(conn, account.id, draft.date)
        if found is None:
            raise LedgerRejected(
                [
                    invalid(
                        "closing_balance_required",
                        "No statement line up to this date has a running balance: give "
                        "closing_balance.",
                        "closing_balance",
                    )
                ]
            )
        counted = found
    count = _Count(book_code, account, currency, precision, draft.date, counted, "statement")
    adjustment = _Adjustment(draft.adjustment_account, draft.adjustment_narration)
    return _close(conn, count, adjustment, created_by)


def count_cash(
    conn: Connection,
    book_code: str,
    account_id: int,
    draft: CashCountDraft,
    created_by: str | None,
) -> Reconciliation:
    """A cash count of a petty-cash box at the end of `draft.date`: the same close, no file."""
    account, currency, precision = _account(conn, book_code, account_id, CASH_PREFIX)
    counted = books.parse_amount(conn, currency, draft.amount, "amount")
    if counted < 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "A cash count is zero or more.", "amount")]
        )
    count = _Count(book_code, account, currency, precision, draft.date, counted, "cash_count")
    adjustment = _Adjustment(draft.adjustment_account, draft.adjustment_narration)
    return _close(conn, count, adjustment, created_by)


def _close(
    conn: Connection, count: _Count, adjustment: _Adjustment, created_by: str | None
) -> Reconciliation:
    """Check the count against the ledger (posting the adjustment that explains a
    difference), turn it into a balance assertion and record the reconciliation."""
    account = count.account
    journal.lock_rows(conn, count.book_code, [account.name], exclusive=True)
    _refuse_closed(conn, count)
    ledger_units = queries.account_balance(conn, count.book_code, account.id, count.date).get(
        count.currency, 0
    )
    adjustment_id = _adjust(conn, count, count.counted - ledger_units, adjustment, created_by)
    assertion_id = journal.assert_balance(
        conn, count.book_code, account.name, count.currency, count.date, count.counted
    )
    lines_unmatched = _unmatched_line_count(conn, account.id, count.currency, count.date)
    reconciliation_id: int = conn.execute(
        insert(reconciliations)
        .values(
            book_id=account.book_id,
            account_id=account.id,
            kind=count.kind,
            date=count.date,
            currency=count.currency,
            counted_units=count.counted,
            ledger_units=ledger_units,
            adjustment_transaction_id=adjustment_id,
            balance_assertion_id=assertion_id,
            lines_unmatched=lines_unmatched,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(reconciliations.c.id)
    ).scalar_one()
    return Reconciliation(
        reconciliation_id, account.name, count.kind, count.date, count.currency,
        count.precision, count.counted, ledger_units, adjustment_id, lines_unmatched,
    )  # fmt: skip


def _refuse_closed(conn: Connection, count: _Count) -> None:
    """One reconciliation per account, currency and day, never inside a locked period."""
    exists = conn.execute(
        select(reconciliations.c.id).where(
            and_(
                reconciliations.c.account_id == count.account.id,
                reconciliations.c.currency == count.currency,
                reconciliations.c.date == count.date,
            )
        )
    ).first()
    if exists:
        raise LedgerRejected(
            [conflict("already_reconciled", "The account is reconciled on this date.", "date")]
        )
    book = books.get_book(conn, count.book_code)
    if book.lock_date is not None and count.date <= book.lock_date:
        raise LedgerRejected(
            [conflict("period_locked", "The book is locked on or before this date.", "date")]
        )


def _adjust(
    conn: Connection,
    count: _Count,
    difference: int,
    adjustment: _Adjustment,
    created_by: str | None,
) -> int | None:
    """The transaction that explains `difference` (None when there is none); refused when
    there is one and no account was named to explain it."""
    if difference == 0:
        return None
    if adjustment.account is None:
        raise LedgerRejected(
            [
                conflict(
                    "reconciliation_difference",
                    f"The {'statement' if count.kind == 'statement' else 'count'} differs from "
                    f"the ledger by {format_units(difference, count.precision)} "
                    f"{count.currency}: post what explains it, or name an adjustment_account.",
                    "adjustment_account",
                )
            ]
        )
    return _post_adjustment(
        conn, count, difference, adjustment.account, adjustment.narration, created_by
    )


def _post_adjustment(
    conn: Connection,
    count: _Count,
    difference: int,
    counterpart: str,
    narration: str | None,
    created_by: str | None,
) -> int:
    """Post the difference against `counterpart`; on a statement, the unmatched lines up to
    the date that add up to exactly the difference are matched to it (bank charges,
    interest)."""
    errors = [
        e
        for e in (
            validate_account_name(counterpart, "adjustment_account"),
            None
            if narration is None
            else validate_text(narration, limits.NARRATION_LENGTH_MAX, "adjustment_narration"),
        )
        if e is not None
    ]
    reject_if(errors)
    account = count.account
    if counterpart == account.name:
        raise LedgerRejected(
            [
                invalid(
                    "adjustment_account_invalid",
                    "The adjustment is against another account.",
                    "adjustment_account",
                )
            ]
        )
    text = narration or f"Difference found at the {count.what} of {account.name} on {count.date}"
    txn = rules.adjustment(
        count.date, account.name, counterpart, difference, count.currency, text, count.kind
    )
    transaction_id = journal.post(conn, count.book_code, txn, created_by=created_by)
    if count.kind == "statement":
        _match_adjusted_lines(conn, count, difference, transaction_id, created_by)
    return transaction_id


def _match_adjusted_lines(
    conn: Connection, count: _Count, difference: int, transaction_id: int, created_by: str | None
) -> None:
    """Match the adjustment to the unmatched lines up to the date when they add up to it."""
    account = count.account
    lines = _unmatched_lines(conn, account.id, count.date)
    if not lines or sum(line.units for line in lines) != difference:
        return
    posting_id = conn.execute(
        select(postings.c.id).where(
            and_(postings.c.transaction_id == transaction_id, postings.c.account_id == account.id)
        )
    ).scalar_one()
    sides = [Side(line.id, line.date, line.units, "") for line in lines]
    if len(sides) <= rules.MATCH_SIDE_MAX:
        posting = Side(posting_id, count.date, difference, "")
        _insert_match(conn, account, sides, [posting], "adjustment", created_by)


def _reconciliation_from_row(row: Row[Any], precisions: dict[str, int]) -> Reconciliation:
    return Reconciliation(
        id=row.id,
        account=row.name,
        kind=row.kind,
        date=row.date,
        currency=row.currency,
        precision=precisions[row.currency],
        counted_units=row.counted_units,
        ledger_units=row.ledger_units,
        adjustment_transaction_id=row.adjustment_transaction_id,
        lines_unmatched=row.lines_unmatched,
    )


def list_reconciliations(
    conn: Connection,
    book_code: str,
    account_id: int | None = None,
    after: tuple[datetime.date, int] | None = None,
    limit: int = limits.PAGE_SIZE_MAX,
) -> list[Reconciliation]:
    """One page of the book's (or account's) reconciliations and cash counts in date order,
    then id: those after `after` (a date and an id)."""
    book = books.get_book(conn, book_code)
    where = [reconciliations.c.book_id == book.id]
    if account_id is not None:
        where.append(
            reconciliations.c.account_id == books.get_account(conn, book_code, account_id).id
        )
    if after is not None:
        day, last_id = after
        where.append(
            or_(
                reconciliations.c.date > day,
                and_(reconciliations.c.date == day, reconciliations.c.id > last_id),
            )
        )
    rows = conn.execute(
        select(reconciliations, accounts.c.name)
        .join(accounts, accounts.c.id == reconciliations.c.account_id)
        .where(and_(*where))
        .order_by(reconciliations.c.date, reconciliations.c.id)
        .limit(limit)
    )
    precisions = books.commodity_precisions(conn)
    return [_reconciliation_from_row(r, precisions) for r in rows]


# -- the period close ------------------------------------------------------------------------


def _bank_and_cash_accounts(conn: Connection, book_code: str) -> list[books.Account]:
    return [
        a
        for a in books.list_accounts(conn, book_code)
        if a.name.startswith((BANK_PREFIX, CASH_PREFIX))
    ]


def reconciliation_summary(
    conn: Connection, book_code: str, as_of: datetime.date
) -> list[AccountSummary]:
    """Every bank and cash account with money in it at the end of `as_of` (per currency): the
    ledger's balance, and the last reconciliation or cash count on or before `as_of`."""
    precisions = books.commodity_precisions(conn)
    summary: list[AccountSummary] = []
    for account in _bank_and_cash_accounts(conn, book_code):
        held = queries.account_balance(conn, book_code, account.id, as_of).items()
        for commodity, units in held:
            last = conn.execute(
                select(reconciliations)
                .where(
                    and_(
                        reconciliations.c.account_id == account.id,
                        reconciliations.c.currency == commodity,
                        reconciliations.c.date <= as_of,
                    )
                )
                .order_by(reconciliations.c.date.desc())
                .limit(1)
            ).first()
            checked = _last_checked(conn, account.id, commodity, as_of, last)
            summary.append(
                AccountSummary(
                    account=account.name,
                    currency=commodity,
                    precision=precisions[commodity],
                    ledger_units=units,
                    reconciled_on=None if checked is None else checked[0],
                    counted_units=None if checked is None else checked[1],
                    kind=None if checked is None else checked[2],
                    lines_unmatched=_unmatched_line_count(conn, account.id, commodity, as_of),
                )
            )
    return summary


def _last_checked(
    conn: Connection,
    account_id: int,
    commodity: str,
    as_of: datetime.date,
    last: Row[Any] | None,
) -> tuple[datetime.date, int, str] | None:
    """The last check of an account's balance on or before `as_of`: its last reconciliation or
    count, or a later balance assertion recorded another way (a count entered as an
    assertion, as the demo's Bavet cash box): (date, units, kind)."""
    asserted = conn.execute(
        select(balance_assertions.c.date, balance_assertions.c.units)
        .where(
            and_(
                balance_assertions.c.account_id == account_id,
                balance_assertions.c.commodity == commodity,
                balance_assertions.c.date <= as_of,
            )
        )
        .order_by(balance_assertions.c.date.desc())
        .limit(1)
    ).first()
    if last is not None and (asserted is None or asserted.date <= last.date):
        return last.date, int(last.counted_units), str(last.kind)
    if asserted is None:
        return None
    return asserted.date, int(asserted.units), "balance_assertion"


def close_period(conn: Connection, book_code: str, date: datetime.date) -> books.Book:
    """Close the book up to the end of `date`: every bank and cash account that holds money
    up to then must have its balance checked on exactly that date (a closed reconciliation,
    a cash count or a balance assertion); then the lock date moves to `date`."""
    found = _bank_and_cash_accounts(conn, book_code)
    journal.lock_rows(conn, book_code, [a.name for a in found], exclusive=True)
    errors = []
    for account in found:
        for commodity in checkpoints.commodities_posted_through(conn, account.id, date):
            checked = conn.execute(
                select(balance_assertions.c.id).where(
                    and_(
                        balance_assertions.c.account_id == account.id,
                        balance_assertions.c.commodity == commodity,
                        balance_assertions.c.date == date,
                    )
                )
            ).first()
            if checked is None:
                errors.append(
                    conflict(
                        "account_not_reconciled",
                        f"{account.name} ({commodity}) is not reconciled on {date}.",
                        account.name,
                    )
                )
    reject_if(errors)
    return books.set_lock_date(conn, book_code, date)

"""The `verify` command's logic: are a book's balances what its postings and Beancount say,
and do its hash chain and the audit trail's hold?

Design invariants 6 and 9. For one book, `verify_book`

1. recomputes the book's hash chain (`ledger.store.chain`) and reports the first transaction
   whose stored hash is not that of its content and of the previous transaction's hash, or a
   recorded head that is not the last transaction's hash;
2. recomputes every balance from the postings (sum of units per account and commodity) and
   compares it with the `balances` table the journal maintains, and every week-end balance
   checkpoint (the week's change and the running total) with `balance_checkpoints`; and
   every week of the book's budget lines (`budget_line_weeks`) from its `budget_spends`;
3. exports the book, loads the text with Beancount, reports every error Beancount finds
   (a failed balance assertion among them), and compares the balance Beancount computes per
   account and currency with the ledger's trial balance.

`verify_audit_trail` recomputes the audit trail's chain the same way. Each report carries
the chain's head hash: kept somewhere the database's users cannot write (docs/SECURITY.md), it
shows later whether the chain was rewritten from some point on.

Differences are reported as text naming accounts, commodities and amounts in decimal: never
narrations, payees or metadata, which may hold personal data.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from beancount import loader
from beancount.core import data
from sqlalchemy import Connection, func, select

from ledger.core.amount import format_units, units_to_decimal
from ledger.export.beancount import export_book
from ledger.funds import line_weeks
from ledger.store import checkpoints, queries
from ledger.store.books import commodity_precisions, get_book, list_books
from ledger.store.chain_reads import (
    ChainBreak,
    audit_head,
    audit_links_of,
    book_head,
    first_break,
    transaction_links_of,
)
from ledger.store.database import Database
from ledger.store.tables import accounts, awards, balances, budget_lines, postings

# A Beancount error message is cut to this many characters (and to its first line).
ERROR_MESSAGE_LENGTH_MAX = 300
# The report's name for the audit trail (no book code has a space).
AUDIT_TRAIL = "audit trail"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `verify` found in one book (or the audit trail): nothing when `ok`. `head` is the
    chain's recorded head hash (None: nothing recorded yet)."""

    book: str
    differences: tuple[str, ...]
    head: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences


def _amount(units: int, commodity: str, precisions: Mapping[str, int]) -> str:
    precision = precisions.get(commodity)
    if precision is None:
        return f"{units} (smallest units)"
    return format_units(units, precision)


def stored_balance_differences(conn: Connection, book_code: str) -> list[str]:
    """Each (account, commodity) whose stored balance is not the sum of its postings."""
    book = get_book(conn, book_code)
    precisions = commodity_precisions(conn)
    names: dict[int, str] = {
        account_id: name
        for account_id, name in conn.execute(
            select(accounts.c.id, accounts.c.name).where(accounts.c.book_id == book.id)
        )
    }
    stored: dict[tuple[int, str], int] = defaultdict(int)
    for account_id, commodity, units in conn.execute(
        select(balances.c.account_id, balances.c.commodity, balances.c.units).where(
            balances.c.book_id == book.id
        )
    ):
        stored[(account_id, commodity)] += int(units)
    recomputed: dict[tuple[int, str], int] = defaultdict(int)
    for account_id, commodity, units in conn.execute(
        select(postings.c.account_id, postings.c.commodity, func.sum(postings.c.units))
        .where(postings.c.book_id == book.id)
        .group_by(postings.c.account_id, postings.c.commodity)
    ):
        recomputed[(account_id, commodity)] += int(units)
    differences = []
    keys = sorted(stored.keys() | recomputed.keys(), key=lambda k: (names.get(k[0], ""), k[1]))
    for account_id, commodity in keys:
        held, summed = stored[(account_id, commodity)], recomputed[(account_id, commodity)]
        if held != summed:
            account = names.get(account_id, f"account id {account_id} (not in this book)")
            differences.append(
                f"balance of {account} in {commodity}: stored"
                f" {_amount(held, commodity, precisions)}, recomputed from postings"
                f" {_amount(summed, commodity, precisions)}"
            )
    return differences


def describe_break(found: ChainBreak, row: str) -> str:
    """A chain break in words: which `row` ("transaction", "audit event") and where."""
    after = "as the first" if found.previous_id is None else f"after {row} {found.previous_id}"
    if found.at_head:
        last = "no row" if found.previous_id is None else f"{row} {found.previous_id}"
        return (
            f"hash chain: the recorded head is not the hash of the last {row} ({last}):"
            f" rows after it were removed, or the head was changed"
        )
    article = "an" if row[0] in "aeiou" else "a"
    return (
        f"hash chain broken at {row} {found.id} ({after}): it was changed, or {article} {row}"
        f" before it was removed, changed or added"
    )


def chain_differences(conn: Connection, book_id: int) -> list[str]:
    """The first break in the book's hash chain, if any, in words."""
    found = first_break(transaction_links_of(conn, book_id), book_head(conn, book_id))
    return [] if found is None else [describe_break(found, "transaction")]


def verify_audit_trail(db: Database) -> VerifyReport:
    """Recompute the audit trail's hash chain; report its first break."""
    with db.read() as conn:
        head = audit_head(conn)
        found = first_break(audit_links_of(conn), head)
    differences = () if found is None else (describe_break(found, "audit event"),)
    return VerifyReport(book=AUDIT_TRAIL, differences=differences, head=head)


def stored_checkpoint_differences(conn: Connection, book_code: str) -> list[str]:
    """Each week-end balance checkpoint of the book that is not what its postings say:
    missing, left over, or holding other units or another week's change."""
    book = get_book(conn, book_code)
    precisions = commodity_precisions(conn)
    names = dict(
        conn.execute(select(accounts.c.id, accounts.c.name).where(accounts.c.book_id == book.id))
        .tuples()
        .all()
    )
    stored = checkpoints.stored_checkpoints(conn, book.id)
    recomputed = checkpoints.recomputed_checkpoints(conn, book.id)
    differences = []
    keys = sorted(stored.keys() | recomputed.keys(), key=lambda k: (names.get(k[0], ""), k[1:]))
    for account_id, commodity, week in keys:
        held = stored.get((account_id, commodity, week))
        expected = recomputed.get((account_id, commodity, week))
        if held != expected:
            account = names.get(account_id, f"account id {account_id} (not in this book)")
            differences.append(
                f"checkpoint of {account} in {commodity} for the week of {week}: stored"
                f" {_checkpoint_text(held, commodity, precisions)}, recomputed from postings"
                f" {_checkpoint_text(expected, commodity, precisions)}"
            )
    return differences


def budget_week_differences(conn: Connection, book_code: str) -> list[str]:
    """Each week of a budget line of the book whose stored sum is not what the line's spends
    dated in it add up to (`ledger.funds.line_weeks`): missing, left over, or another sum."""
    book = get_book(conn, book_code)
    precisions = commodity_precisions(conn)
    lines = {
        line_id: (award, line, currency)
        for line_id, award, line, currency in conn.execute(
            select(budget_lines.c.id, awards.c.code, budget_lines.c.code, awards.c.currency)
            .join(awards, awards.c.id == budget_lines.c.award_id)
            .where(budget_lines.c.book_id == book.id)
        ).tuples()
    }
    differences = []
    for line_id, week, held, expected in line_weeks.week_differences(conn, book.id):
        award, line, currency = lines[line_id]
        stored = "nothing" if held is None else _amount(held, currency, precisions)
        summed = "nothing" if expected is None else _amount(expected, currency, precisions)
        differences.append(
            f"spends of budget line {line} of award {award} in the week of {week}: stored"
            f" {stored}, recomputed from budget spends {summed}"
        )
    return differences


def _checkpoint_text(
    checkpoint: tuple[int, int] | None, commodity: str, precisions: Mapping[str, int]
) -> str:
    if checkpoint is None:
        return "nothing"
    units, net_units = checkpoint
    return (
        f"{_amount(units, commodity, precisions)}"
        f" (week's change {_amount(net_units, commodity, precisions)})"
    )


def _describe_error(error: Any) -> str:
    source = getattr(error, "source", None) or {}
    lineno = source.get("lineno") if isinstance(source, dict) else None
    lines = str(getattr(error, "message", error)).strip().splitlines() or [""]
    message = lines[0][:ERROR_MESSAGE_LENGTH_MAX]
    where = f" line {lineno}" if lineno is not None else ""
    return f"beancount{where}: {message}"


def beancount_balances(entries: list[Any]) -> dict[tuple[str, str], Decimal]:
    """Sum of posting units per (account, currency) over every transaction, leaving out zeros."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                units = posting.units
                # The loader interpolates every amount it loads without an error.
                if units is None or not isinstance(units.number, Decimal):
                    continue
                totals[(posting.account, units.currency)] += units.number
    return {key: number for key, number in totals.items() if number != 0}


def beancount_differences(
    entries: list[Any],
    errors: list[Any],
    ledger: Mapping[tuple[str, str], int],
    precisions: Mapping[str, int],
) -> list[str]:
    """Every Beancount error, then each (account, currency) where Beancount and we disagree."""
    differences = [_describe_error(error) for error in errors]
    theirs = beancount_balances(entries)
    for account, commodity in sorted(theirs.keys() | ledger.keys()):
        ours = ledger.get((account, commodity), 0)
        number = theirs.get((account, commodity), Decimal(0))
        precision = precisions.get(commodity)
        if precision is not None and number == units_to_decimal(ours, precision):
            continue
        beancount_text = format(number, "f")
        differences.append(
            f"balance of {account} in {commodity}: ledger {_amount(ours, commodity, precisions)},"
            f" Beancount {beancount_text}"
        )
    return differences


def verify_book(db: Database, book_code: str) -> VerifyReport:
    """Recompute the book's balances from its postings and from its Beancount export.

    Raises `LedgerRejected` (book_not_found) for an unknown book.
    """
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as directory:
        path = Path(directory) / f"{book_code}.beancount"
        with db.read() as conn:
            book = get_book(conn, book_code)
            head = book_head(conn, book.id)
            differences = chain_differences(conn, book.id)
            differences += stored_balance_differences(conn, book_code)
            differences += stored_checkpoint_differences(conn, book_code)
            differences += budget_week_differences(conn, book_code)
            precisions = commodity_precisions(conn)
            ledger = {
                (row.account, row.commodity): row.units
                for row in queries.trial_balance(conn, book_code)
            }
            # newline="" keeps a carriage return in a narration as it is.
            with path.open("w", encoding="utf-8", newline="") as file:
                for chunk in export_book(conn, book_code):
                    file.write(chunk)
        # Beancount parses outside the database transaction: it may take a while.
        entries, errors, _options = loader.load_file(str(path))
    differences.extend(beancount_differences(entries, errors, ledger, precisions))
    return VerifyReport(book=book_code, differences=tuple(differences), head=head)


def verify_all(db: Database) -> list[VerifyReport]:
    """`verify_book` for every book, by book code, then `verify_audit_trail`."""
    with db.read() as conn:
        codes = [book.code for book in list_books(conn)]
    return [*(verify_book(db, code) for code in codes), verify_audit_trail(db)]

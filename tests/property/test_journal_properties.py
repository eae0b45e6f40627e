"""Properties of the journal, checked after random sequences of posts, reversals and mistakes.

Each example opens a fresh book (unique code, same database) with one account per commodity
(the riel cash box may not go below zero) and four accounts that take any commodity, then
runs a random sequence of:

- posts of 1-3 balanced pairs of postings in USD, KHR, THB or PIG, some at a total price
  (`@@`) and some at an exact unit price (`@`), with hostile narrations, payees and metadata;
- reversals of an earlier transaction (a second reversal, or reversing a reversal, is refused);
- invalid transactions: unbalanced by one smallest unit, or with one digit too many.

A model of the balances follows along. After every sequence:

1. the ledger's trial balance is the model's, and a refused write changed nothing;
2. every transaction's stored weights sum to zero in each weight commodity;
3. the balances table equals the balances recomputed from the postings;
4. the export loads in Beancount with zero errors, Beancount's balance of every account and
   currency is the ledger's, and every narration, payee and metadata value reads back exactly.
"""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from ledger.core.amount import format_units, units_to_decimal
from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.export.beancount import export_book
from ledger.store import books, journal, queries
from ledger.store.database import Database
from ledger.store.tables import books as books_table
from ledger.store.tables import postings, transactions
from ledger.verify import stored_balance_differences, verify_book

PRECISIONS = {"USD": 2, "KHR": 0, "THB": 2, "PIG": 0}
HOLDING = {
    "USD": "Assets:Bank:Operating-USD",
    "KHR": "Assets:Cash:Box-KHR",
    "THB": "Assets:Cash:Poipet-THB",
    "PIG": "Assets:Livestock:Pigs",
}
NON_NEGATIVE = frozenset({"Assets:Cash:Box-KHR"})
ANY_COMMODITY = (
    "Equity:Opening-Balances",
    "Income:Grants:CTIP-2018",
    "Expenses:Grants:InKind:CTIP-2018",
    "Expenses:Training:Livestock",
)
OPENED = datetime.date(2019, 1, 1)
FIRST_DAY = datetime.date(2020, 1, 1)
BOOK_NUMBERS = itertools.count(1)

Key = tuple[str, str]


# -- strategies ------------------------------------------------------------------------------

HOSTILE_PIECES = ('"', "\\", "\n", "\r", "\t", "\r\n", '\\"', "ក្រុមសន្សំប្រាក់", ";", "^x", "#t")
# The control characters the core refuses: C0 but tab, newline and carriage return; DEL; C1.
REFUSED_CONTROLS = "".join(
    chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n\r"
)
texts = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8", exclude_characters=REFUSED_CONTROLS), max_size=8),
        st.sampled_from(HOSTILE_PIECES),
    ),
    max_size=4,
).map("".join)
labels = st.lists(st.sampled_from(("ctip-2018", "in-kind", "sg/kt-01", "a.b_c", "X")), max_size=2)
meta_entries = st.dictionaries(
    st.sampled_from(("note", "receipt", "case-code", "visit_2")), texts, max_size=3
)


@dataclass(frozen=True)
class Leg:
    """Postings that balance each other: (account, units, commodity, unit price, total price)."""

    postings: tuple[tuple[str, int, str, PriceDraft | None, PriceDraft | None], ...]


@st.composite
def legs(draw: st.DrawFn) -> Leg:
    commodity = draw(st.sampled_from(sorted(PRECISIONS)))
    units = draw(st.integers(1, 10**6)) * draw(st.sampled_from((1, -1)))
    account = draw(st.sampled_from((HOLDING[commodity], *ANY_COMMODITY)))
    kind = draw(st.sampled_from(("plain", "total", "unit")))
    if kind == "plain":
        other = draw(st.sampled_from(ANY_COMMODITY))
        return Leg(
            ((account, units, commodity, None, None), (other, -units, commodity, None, None))
        )
    price_commodity = draw(st.sampled_from(sorted(set(PRECISIONS) - {commodity})))
    counter = draw(st.sampled_from((HOLDING[price_commodity], *ANY_COMMODITY)))
    sign = 1 if units > 0 else -1
    if kind == "total":
        total = draw(st.integers(1, 10**6))
        total_text = format_units(total, PRECISIONS[price_commodity])
        return Leg(
            (
                (account, units, commodity, None, PriceDraft(total_text, price_commodity)),
                (counter, -sign * total, price_commodity, None, None),
            )
        )
    # A unit price m * 10^(p(commodity) - p(price commodity)) lands exactly: the weight is
    # units * m smallest units of the price commodity.
    multiple = draw(st.integers(1, 10**4))
    price = Decimal(multiple).scaleb(PRECISIONS[commodity] - PRECISIONS[price_commodity])
    return Leg(
        (
            (account, units, commodity, PriceDraft(format(price, "f"), price_commodity), None),
            (counter, -units * multiple, price_commodity, None, None),
        )
    )


@dataclass(frozen=True)
class Post:
    date: datetime.date
    narration: str
    payee: str | None
    tags: tuple[str, ...]
    links: tuple[str, ...]
    meta: tuple[tuple[str, str], ...]
    legs: tuple[Leg, ...]
    mistake: str | None = None  # "unbalanced" or "excess_precision": must be refused

    def draft(self) -> TransactionDraft:
        drafts = []
        for account, units, commodity, price, total_price in (
            p for leg in self.legs for p in leg.postings
        ):
            amount = format_units(units, PRECISIONS[commodity])
            drafts.append(PostingDraft(account, amount, commodity, price, total_price))
        last = drafts[-1]
        if self.mistake == "unbalanced":
            # The last posting of a leg is never priced: one more smallest unit unbalances it.
            units = self.legs[-1].postings[-1][1]
            units += 1 if units > 0 else -1
            amount = format_units(units, PRECISIONS[last.currency])
            drafts[-1] = PostingDraft(last.account, amount, last.currency)
        elif self.mistake == "excess_precision":
            separator = "" if PRECISIONS[last.currency] else "."
            drafts[-1] = PostingDraft(last.account, f"{last.amount}{separator}1", last.currency)
        return TransactionDraft(
            date=self.date,
            narration=self.narration,
            postings=tuple(drafts),
            payee=self.payee,
            tags=self.tags,
            links=self.links,
            meta=self.meta,
        )

    def deltas(self) -> dict[Key, int]:
        found: dict[Key, int] = defaultdict(int)
        for leg in self.legs:
            for account, units, commodity, _price, _total in leg.postings:
                found[(account, commodity)] += units
        return found


@dataclass(frozen=True)
class Reverse:
    target: int  # index into the transactions posted so far (modulo their number)
    days_later: int


@st.composite
def posts(draw: st.DrawFn) -> Post:
    return Post(
        date=FIRST_DAY + datetime.timedelta(days=draw(st.integers(0, 30))),
        narration=draw(texts),
        payee=draw(st.none() | texts),
        tags=tuple(draw(labels)),
        links=tuple(draw(labels)),
        meta=tuple(draw(meta_entries).items()),
        legs=tuple(draw(st.lists(legs(), min_size=1, max_size=3))),
        mistake=draw(st.sampled_from((None, None, None, None, "unbalanced", "excess_precision"))),
    )


operations = st.lists(
    st.one_of(posts(), posts(), st.builds(Reverse, st.integers(0, 100), st.integers(0, 10))),
    min_size=1,
    max_size=10,
)


# -- the model ---------------------------------------------------------------------------------


@dataclass
class Posted:
    id: int
    date: datetime.date
    deltas: dict[Key, int]
    texts: tuple[str | None, str | None, dict[str, str]]  # narration (None: not ours), payee, meta
    is_reversal: bool
    reversed: bool = False


@dataclass
class Model:
    balances: dict[Key, int]
    posted: list[Posted]

    def overdraws(self, deltas: dict[Key, int]) -> bool:
        return any(
            account in NON_NEGATIVE and self.balances.get((account, commodity), 0) + delta < 0
            for (account, commodity), delta in deltas.items()
        )

    def apply(self, deltas: dict[Key, int]) -> None:
        for key, delta in deltas.items():
            self.balances[key] = self.balances.get(key, 0) + delta

    def trial_balance(self) -> dict[Key, int]:
        return {key: units for key, units in self.balances.items() if units != 0}


def open_book(db: Database) -> str:
    code = f"prop-{next(BOOK_NUMBERS)}"

    def create(conn: Connection) -> None:
        books.create_book(conn, code, f"Property book {code}", "organisation", "USD")
        for commodity, name in HOLDING.items():
            books.open_account(conn, code, name, OPENED, [commodity], name in NON_NEGATIVE)
        for name in ANY_COMMODITY:
            books.open_account(conn, code, name, OPENED)

    db.write(create)
    return code


def ledger_state(db: Database, book: str) -> tuple[dict[Key, int], int]:
    with db.read() as conn:
        balances = {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, book)}
        count = conn.execute(
            select(func.count())
            .select_from(transactions)
            .join(books_table, books_table.c.id == transactions.c.book_id)
            .where(books_table.c.code == book)
        ).scalar_one()
    return balances, int(count)


def expect_refused(db: Database, book: str, code: str, write: Callable[[Connection], int]) -> None:
    before = ledger_state(db, book)
    with pytest.raises(LedgerRejected) as rejected:
        db.write(write)
    assert rejected.value.first.code == code, rejected.value.errors
    assert ledger_state(db, book) == before, "a refused write changed the book"
    event(f"refused: {code}")


def posting_of(book: str, draft: TransactionDraft) -> Callable[[Connection], int]:
    return lambda conn: journal.post_draft(conn, book, draft)


def reversal_of(book: str, txn_id: int, date: datetime.date) -> Callable[[Connection], int]:
    return lambda conn: journal.reverse(conn, book, txn_id, date)


# The code each kind of mistake is refused with.
MISTAKE_CODES = {
    "unbalanced": "transaction_not_balanced",
    "excess_precision": "amount_precision_exceeded",
}


def run(db: Database, book: str, ops: list[Post | Reverse]) -> Model:
    """Apply `ops` to the book and to a model; check each refusal the model predicts."""
    model = Model(balances={}, posted=[])
    for op in ops:
        if isinstance(op, Post):
            write = posting_of(book, op.draft())
            deltas = op.deltas()
            if op.mistake is not None:
                expect_refused(db, book, MISTAKE_CODES[op.mistake], write)
            elif model.overdraws(deltas):
                expect_refused(db, book, "account_overdrawn", write)
            else:
                txn_id = db.write(write)
                model.apply(deltas)
                texts = (op.narration, op.payee, dict(op.meta))
                model.posted.append(Posted(txn_id, op.date, deltas, texts, is_reversal=False))
            continue
        if not model.posted:
            continue
        original = model.posted[op.target % len(model.posted)]
        date = original.date + datetime.timedelta(days=op.days_later)
        write = reversal_of(book, original.id, date)
        undo = {key: -units for key, units in original.deltas.items()}
        if original.is_reversal:
            expect_refused(db, book, "reversal_not_reversible", write)
        elif original.reversed:
            expect_refused(db, book, "already_reversed", write)
        elif model.overdraws(undo):
            expect_refused(db, book, "account_overdrawn", write)
        else:
            txn_id = db.write(write)
            event("reversed")
            model.apply(undo)
            original.reversed = True
            # The journal writes the reversal's narration; payee and metadata are copied.
            _narration, payee, meta = original.texts
            model.posted.append(Posted(txn_id, date, undo, (None, payee, meta), is_reversal=True))
    return model


def beancount_units(entries: list[Any]) -> dict[Key, Decimal]:
    totals: dict[Key, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                units: Any = posting.units
                totals[(posting.account, units.currency)] += units.number
    return {key: number for key, number in totals.items() if number != 0}


def check_book(db: Database, book: str, model: Model, path: Path) -> None:
    with db.read() as conn:
        ledger = {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, book)}
        book_id = books.get_book(conn, book).id
        unbalanced = conn.execute(
            select(postings.c.transaction_id, postings.c.weight_commodity)
            .where(postings.c.book_id == book_id)
            .group_by(postings.c.transaction_id, postings.c.weight_commodity)
            .having(func.sum(postings.c.weight) != 0)
        ).all()
        stored_differences = stored_balance_differences(conn, book)
        with path.open("w", encoding="utf-8", newline="") as file:
            for chunk in export_book(conn, book, batch_size=3):
                file.write(chunk)
    assert ledger == model.trial_balance()
    assert unbalanced == []
    assert stored_differences == []

    entries, errors, _ = loader.load_file(str(path))
    assert [e.message for e in errors] == []
    assert beancount_units(entries) == {
        key: units_to_decimal(units, PRECISIONS[key[1]]) for key, units in ledger.items()
    }
    read_back = {int(e.meta["id"]): e for e in entries if isinstance(e, data.Transaction)}
    assert sorted(read_back) == sorted(p.id for p in model.posted)
    for posted in model.posted:
        entry = read_back[posted.id]
        narration, payee, meta = posted.texts
        if narration is not None:
            assert entry.narration == narration
        assert entry.payee == payee
        assert {k: v for k, v in entry.meta.items() if k in meta} == meta


PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(ops=operations)
def test_random_sequences_keep_the_books_balanced_and_beancount_agrees(
    db: Database, tmp_path: Path, ops: list[Post | Reverse]
) -> None:
    book = open_book(db)
    model = run(db, book, ops)
    check_book(db, book, model, tmp_path / f"{book}.beancount")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_verify_finds_nothing_wrong_after_random_sequences(
    db: Database, ops: list[Post | Reverse]
) -> None:
    book = open_book(db)
    run(db, book, ops)
    report = verify_book(db, book)
    assert report.differences == ()

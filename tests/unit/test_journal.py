"""The journal on a real database (SQLite, or PostgreSQL with TEST_DATABASE=postgresql).

The organisation's book (fixture `org_book`): a dollar bank account, a riel cash box at the
Bavet office and a baht cash box at Poipet (both may never go below zero), grant income and
expenses, all open since 1 January 2018. A donor's grant arrives in the bank, dollars are
changed into riel at Bavet, and cash grants are paid out of the box.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.core.transaction import (
    Posting,
    PostingDraft,
    Price,
    PriceDraft,
    Transaction,
    TransactionDraft,
    build_transaction,
)
from ledger.store import books, journal, journal_reads, queries
from ledger.store.database import Database
from ledger.store.tables import balances, postings, transactions

D = datetime.date
BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"
POIPET = "Assets:Cash:Poipet-THB"
INCOME = "Income:Grants:CTIP-2018"
GRANTS = "Expenses:Grants:Cash:CTIP-2018"
TRAINING = "Expenses:Training:Livestock"
OPENING = "Equity:Opening-Balances"

Balances = dict[tuple[str, str], int]


# -- helpers: the scenario's events, and what a reader sees --------------------------------------


def txn(
    date: datetime.date, narration: str, *postings: PostingDraft, **fields: object
) -> TransactionDraft:
    return TransactionDraft(date=date, narration=narration, postings=postings, **fields)  # type: ignore[arg-type]


def grant_received(date: datetime.date, dollars: str = "10000.00") -> TransactionDraft:
    return txn(
        date,
        "CTIP grant instalment",
        PostingDraft(BANK, dollars, "USD"),
        PostingDraft(INCOME, f"-{dollars}", "USD"),
    )


def exchange_at_bavet(
    date: datetime.date, dollars: str = "100.00", riel: str = "410000"
) -> TransactionDraft:
    return txn(
        date,
        "Exchange for cash disbursements",
        PostingDraft(BANK, f"-{dollars}", "USD"),
        PostingDraft(BAVET, riel, "KHR", total_price=PriceDraft(dollars, "USD")),
    )


def cash_grant_paid(date: datetime.date, riel: str) -> TransactionDraft:
    return txn(
        date,
        "Cash grant for household DV-009",
        PostingDraft(GRANTS, riel, "KHR"),
        PostingDraft(BAVET, f"-{riel}", "KHR"),
    )


def post(db: Database, draft: TransactionDraft, book: str = "org") -> int:
    return db.write(lambda c: journal.post_draft(c, book, draft))


def refusal(db: Database, work: Callable[[Connection], object]) -> LedgerError:
    """The first error of a write that must be refused."""
    with pytest.raises(LedgerRejected) as rejected:
        db.write(work)
    return rejected.value.first


def refused(db: Database, draft: TransactionDraft, book: str = "org") -> list[LedgerError]:
    with pytest.raises(LedgerRejected) as rejected:
        post(db, draft, book)
    return list(rejected.value.errors)


def balances_of(db: Database, book: str = "org", as_of: datetime.date | None = None) -> Balances:
    with db.read() as conn:
        return {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, book, as_of)}


def transaction_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(transactions)).scalar_one())


def snapshot(db: Database) -> tuple[Balances, int]:
    return balances_of(db), transaction_count(db)


def assert_stored_balances_equal_postings(db: Database) -> None:
    """Invariant 6: the maintained balances are exactly the sums of the postings."""
    with db.read() as conn:
        stored = {
            (r.account_id, r.commodity): r.units
            for r in conn.execute(select(balances)).all()
            if r.units != 0
        }
        summed = {
            (account_id, commodity): int(units)
            for account_id, commodity, units in conn.execute(
                select(
                    postings.c.account_id, postings.c.commodity, func.sum(postings.c.units)
                ).group_by(postings.c.account_id, postings.c.commodity)
            )
            if units != 0
        }
    assert stored == summed


def funded(db: Database) -> None:
    """The grant arrives on 2 Nov 2018 and 100 dollars become 410,000 riel at Bavet on 4 Nov."""
    post(db, grant_received(D(2018, 11, 2)))
    post(db, exchange_at_bavet(D(2018, 11, 4)))


# -- posting and reading back ------------------------------------------------------------------


def test_a_grant_and_an_exchange_move_the_balances(db: Database, org_book: str) -> None:
    funded(db)
    assert balances_of(db) == {
        (BANK, "USD"): 990_000,
        (BAVET, "KHR"): 410_000,
        (INCOME, "USD"): -1_000_000,
    }
    assert_stored_balances_equal_postings(db)


def test_what_is_posted_is_what_is_read_back(db: Database, org_book: str) -> None:
    narration = 'ការផ្តល់ជ្រូក "pigs" for DV-009\nline two\ttabbed \\ backslash\r\nend'
    # Riel into the cash box, paid with 317.07 dollars at 4,100 riel (1,299,987 riel) and 13
    # riel from the opening balance; two pigs at a total cost of 1,300,000 riel.
    posted = Transaction(
        date=D(2018, 11, 6),
        narration=narration,
        payee="Kampong Trach market",
        tags=("CTIP-2018", "in-kind"),
        links=("DV-009",),
        meta=(("case", "DV-009"), ("receipt", "វិក្កយបត្រ R-17")),
        postings=(
            Posting(BAVET, 1_300_000, "KHR"),
            Posting(BANK, -31_707, "USD", Price("KHR", per_unit=Decimal(4100))),
            Posting(OPENING, -13, "KHR"),
            Posting(TRAINING, 2, "PIG", Price("KHR", total=1_300_000)),
            Posting(OPENING, -2, "PIG", Price("KHR", total=1_300_000)),
        ),
    )
    txn_id = db.write(lambda c: journal.post(c, org_book, posted, created_by="officer-kt"))
    with db.read() as conn:
        stored = journal_reads.load_transaction(conn, org_book, txn_id)
    assert stored.txn == posted
    assert stored.created_by == "officer-kt"
    assert (stored.reverses_id, stored.reversed_by) == (None, None)


def test_a_transaction_cannot_reach_into_another_book(db: Database, org_book: str) -> None:
    # Invariant 1: the savings group's money is the members', never the NGO's.
    def group_book(conn: Connection) -> None:
        books.create_book(conn, "sg-kt-001", "Kampong Trach savings group", "savings_group", "KHR")
        books.open_account(conn, "sg-kt-001", "Assets:Cash:Box", D(2018, 1, 1), ["KHR"], True)

    db.write(group_book)
    draft = txn(
        D(2018, 11, 5),
        "Take the group's cash",
        PostingDraft(BAVET, "10000", "KHR"),
        PostingDraft("Assets:Cash:Box", "-10000", "KHR"),
    )
    assert [(e.code, e.field) for e in refused(db, draft)] == [
        ("account_unknown", "postings[1].account")
    ]
    assert [(e.code, e.field) for e in refused(db, draft, "sg-kt-001")] == [
        ("account_unknown", "postings[0].account")
    ]
    assert transaction_count(db) == 0


def test_an_unknown_book_is_not_found(db: Database, org_book: str) -> None:
    errors = refused(db, grant_received(D(2018, 11, 2)), book="nowhere")
    assert [(e.code, e.kind) for e in errors] == [("book_not_found", "not_found")]


def test_a_nul_character_is_refused_before_it_reaches_the_database(
    db: Database, org_book: str
) -> None:
    # PostgreSQL text cannot hold NUL: the core must refuse it as data, not crash the insert.
    draft = txn(
        D(2018, 11, 2),
        "Grant\x00instalment",
        PostingDraft(BANK, "1.00", "USD"),
        PostingDraft(INCOME, "-1.00", "USD"),
        meta=(("note", "a\x00b"),),
    )
    assert [e.code for e in refused(db, draft)] == ["text_control_character"] * 2
    assert transaction_count(db) == 0


def test_post_many_lands_all_or_nothing(db: Database, org_book: str) -> None:
    good = [grant_received(D(2018, 11, 2)), exchange_at_bavet(D(2018, 11, 4))]
    precisions = {"USD": 2, "KHR": 0}

    def build(drafts: list[TransactionDraft]) -> list[Transaction]:
        built = [build_transaction(d, precisions) for d in drafts]
        assert all(isinstance(b, Transaction) for b in built)
        return built  # type: ignore[return-value]

    bad = [*good, cash_grant_paid(D(2018, 11, 5), "500000")]  # more than the box holds
    error = refusal(db, lambda c: journal.post_many(c, org_book, build(bad)))
    assert error.code == "account_overdrawn"
    assert snapshot(db) == ({}, 0)
    ids = db.write(lambda c: journal.post_many(c, org_book, build(good)))
    assert len(ids) == 2
    assert ids == sorted(ids)
    with db.read() as conn:
        narrations = [journal_reads.load_transaction(conn, org_book, i).txn.narration for i in ids]
    assert narrations == ["CTIP grant instalment", "Exchange for cash disbursements"]
    assert_stored_balances_equal_postings(db)


# -- reversals ---------------------------------------------------------------------------------


def test_a_reversal_undoes_the_original_once(db: Database, org_book: str) -> None:
    funded(db)
    exchange_id = post(db, exchange_at_bavet(D(2018, 11, 5), "50.00", "205000"))
    reversal_id = db.write(lambda c: journal.reverse(c, org_book, exchange_id, D(2018, 11, 6)))
    assert balances_of(db) == {
        (BANK, "USD"): 990_000,
        (BAVET, "KHR"): 410_000,
        (INCOME, "USD"): -1_000_000,
    }
    with db.read() as conn:
        original = journal_reads.load_transaction(conn, org_book, exchange_id)
        reversal = journal_reads.load_transaction(conn, org_book, reversal_id)
    assert original.reversed_by == reversal_id
    assert reversal.reverses_id == exchange_id
    assert reversal.txn.narration.startswith(f"Reversal of transaction {exchange_id}")

    again = refusal(db, lambda c: journal.reverse(c, org_book, exchange_id, D(2018, 11, 7)))
    assert (again.code, again.kind) == ("already_reversed", "conflict")
    assert_stored_balances_equal_postings(db)


def test_a_reversal_cannot_itself_be_reversed(db: Database, org_book: str) -> None:
    funded(db)
    first = post(db, grant_received(D(2018, 11, 8), "5.00"))
    reversal_id = db.write(lambda c: journal.reverse(c, org_book, first, D(2018, 11, 8), "Typo"))
    error = refusal(db, lambda c: journal.reverse(c, org_book, reversal_id, D(2018, 11, 9)))
    assert error.code == "reversal_not_reversible"


def test_a_reversal_is_dated_on_or_after_its_original(db: Database, org_book: str) -> None:
    funded(db)
    grant_id = post(db, grant_received(D(2018, 11, 10), "5.00"))
    before = snapshot(db)
    error = refusal(db, lambda c: journal.reverse(c, org_book, grant_id, D(2018, 11, 9)))
    assert (error.code, error.field) == ("reversal_before_original", "date")
    assert snapshot(db) == before
    db.write(lambda c: journal.reverse(c, org_book, grant_id, D(2018, 11, 10)))


def test_reversing_what_is_not_in_the_book_is_not_found(db: Database, org_book: str) -> None:
    funded(db)
    db.write(lambda c: books.create_book(c, "hh-dv-009", "Household DV-009", "household", "KHR"))
    error = refusal(db, lambda c: journal.reverse(c, org_book, 9_999, D(2018, 12, 1)))
    assert (error.code, error.kind) == ("transaction_not_found", "not_found")
    # A transaction of the organisation's book is not found from the household's book.
    with db.read() as conn:
        first_id = conn.execute(select(func.min(transactions.c.id))).scalar_one()
    error = refusal(db, lambda c: journal.reverse(c, "hh-dv-009", first_id, D(2018, 12, 1)))
    assert error.code == "transaction_not_found"


def test_a_deposit_already_spent_cannot_be_reversed(db: Database, org_book: str) -> None:
    funded(db)
    post(db, cash_grant_paid(D(2018, 11, 5), "400000"))
    with db.read() as conn:
        exchange_id = conn.execute(
            select(transactions.c.id).where(transactions.c.date == D(2018, 11, 4))
        ).scalar_one()
    before = snapshot(db)
    error = refusal(db, lambda c: journal.reverse(c, org_book, exchange_id, D(2018, 11, 6)))
    assert error.code == "account_overdrawn"
    assert snapshot(db) == before


# -- the lock date -----------------------------------------------------------------------------


def test_nothing_is_posted_on_or_before_the_lock_date(db: Database, org_book: str) -> None:
    funded(db)
    db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 11, 30)))
    before = snapshot(db)
    for day in (D(2018, 11, 30), D(2018, 11, 29), D(2018, 1, 1)):
        errors = refused(db, cash_grant_paid(day, "1000"))
        assert [(e.code, e.kind, e.field) for e in errors] == [
            ("period_locked", "conflict", "date")
        ]
    assert snapshot(db) == before
    post(db, cash_grant_paid(D(2018, 12, 1), "1000"))


def test_the_lock_date_never_moves_back(db: Database, org_book: str) -> None:
    db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 11, 30)))
    error = refusal(db, lambda c: books.set_lock_date(c, org_book, D(2018, 10, 31)))
    assert (error.code, error.field) == ("lock_date_backwards", "lock_date")
    same = db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 11, 30)))
    assert same.lock_date == D(2018, 11, 30)
    later = db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 12, 31)))
    assert later.lock_date == D(2018, 12, 31)


def test_a_mistake_in_a_locked_period_is_reversed_in_the_open_one(
    db: Database, org_book: str
) -> None:
    funded(db)
    wrong = post(db, cash_grant_paid(D(2018, 11, 20), "40000"))
    db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 11, 30)))
    error = refusal(db, lambda c: journal.reverse(c, org_book, wrong, D(2018, 11, 25)))
    assert error.code == "period_locked"
    db.write(lambda c: journal.reverse(c, org_book, wrong, D(2018, 12, 3)))
    assert balances_of(db)[(BAVET, "KHR")] == 410_000
    # November's figures, which the auditor has seen, are unchanged.
    assert balances_of(db, as_of=D(2018, 11, 30))[(BAVET, "KHR")] == 370_000


# -- accounts ----------------------------------------------------------------------------------


def test_postings_to_accounts_that_cannot_take_them_are_refused(
    db: Database, org_book: str
) -> None:
    funded(db)

    def late_account(conn: Connection) -> None:
        books.open_account(conn, org_book, "Assets:Cash:Kampot-KHR", D(2018, 12, 1), ["KHR"])

    db.write(late_account)
    before = snapshot(db)
    draft = txn(
        D(2018, 11, 20),
        "Everything wrong at once",
        PostingDraft("Assets:Cash:Nowhere-KHR", "1000", "KHR"),
        PostingDraft("Assets:Cash:Kampot-KHR", "1000", "KHR"),
        PostingDraft(BAVET, "1.00", "USD"),
        PostingDraft(BANK, "-1.00", "USD"),
        PostingDraft(GRANTS, "-2000", "KHR"),
    )
    assert [(e.code, e.field) for e in refused(db, draft)] == [
        ("account_unknown", "postings[0].account"),
        ("account_not_open", "postings[1].account"),
        ("currency_not_allowed", "postings[2].currency"),
    ]
    assert snapshot(db) == before
    # From its opening day the Kampot box takes riel.
    post(
        db,
        txn(
            D(2018, 12, 1),
            "Float for Kampot",
            PostingDraft("Assets:Cash:Kampot-KHR", "1000", "KHR"),
            PostingDraft(BAVET, "-1000", "KHR"),
        ),
    )


def test_a_closed_account_takes_no_more_postings(db: Database, org_book: str) -> None:
    funded(db)

    def open_and_close(conn: Connection) -> None:
        account = books.open_account(conn, org_book, "Assets:Cash:Kampot-KHR", D(2018, 1, 1))
        books.close_account(conn, org_book, account.id, D(2018, 10, 31))

    db.write(open_and_close)
    draft = txn(
        D(2018, 11, 20),
        "Float for Kampot",
        PostingDraft("Assets:Cash:Kampot-KHR", "1000", "KHR"),
        PostingDraft(BAVET, "-1000", "KHR"),
    )
    assert [(e.code, e.field) for e in refused(db, draft)] == [
        ("account_closed", "postings[0].account")
    ]


# -- the cash box never goes below zero ------------------------------------------------------


def test_the_cash_box_cannot_be_overdrawn_and_a_refusal_changes_nothing(
    db: Database, org_book: str
) -> None:
    funded(db)
    post(db, cash_grant_paid(D(2018, 11, 5), "400000"))
    before = snapshot(db)
    errors = refused(db, cash_grant_paid(D(2018, 11, 6), "10001"))
    assert [(e.code, e.kind) for e in errors] == [("account_overdrawn", "conflict")]
    assert snapshot(db) == before
    post(db, cash_grant_paid(D(2018, 11, 6), "10000"))
    assert (BAVET, "KHR") not in balances_of(db)  # exactly empty
    assert refused(db, cash_grant_paid(D(2018, 11, 7), "1"))[0].code == "account_overdrawn"
    assert_stored_balances_equal_postings(db)


def test_an_empty_cash_box_cannot_pay_at_all(db: Database, org_book: str) -> None:
    draft = txn(
        D(2018, 11, 6),
        "Baht for the Poipet border crossing",
        PostingDraft(TRAINING, "100.00", "THB"),
        PostingDraft(POIPET, "-100.00", "THB"),
    )
    assert refused(db, draft)[0].code == "account_overdrawn"
    assert snapshot(db) == ({}, 0)


def test_an_ordinary_account_may_go_below_zero(db: Database, org_book: str) -> None:
    post(db, exchange_at_bavet(D(2018, 11, 4)))  # before any grant arrived: an overdraft
    assert balances_of(db)[(BANK, "USD")] == -10_000


# -- balance assertions ------------------------------------------------------------------------


def assert_cash(db: Database, day: datetime.date, riel: int) -> int:
    return db.write(lambda c: journal.assert_balance(c, "org", BAVET, "KHR", day, riel))


def test_a_cash_count_that_agrees_is_recorded(db: Database, org_book: str) -> None:
    funded(db)
    post(db, cash_grant_paid(D(2018, 11, 10), "100000"))
    first = assert_cash(db, D(2018, 11, 4), 410_000)  # a count between the postings
    assert assert_cash(db, D(2018, 11, 30), 310_000) != first
    assert assert_cash(db, D(2018, 11, 30), 310_000) == assert_cash(db, D(2018, 11, 30), 310_000)
    assert db.write(lambda c: journal.assert_balance(c, "org", POIPET, "THB", D(2018, 11, 30), 0))


def test_a_cash_count_that_disagrees_is_refused(db: Database, org_book: str) -> None:
    funded(db)
    error = refusal(
        db, lambda c: journal.assert_balance(c, "org", BAVET, "KHR", D(2018, 11, 30), 400_000)
    )
    assert (error.code, error.kind, error.field) == (
        "balance_assertion_failed",
        "conflict",
        "amount",
    )
    assert "410000" in error.message
    # Nothing recorded: a later posting on that date is still allowed.
    post(db, cash_grant_paid(D(2018, 11, 30), "10000"))


def test_nothing_is_posted_on_or_before_a_checked_balance(db: Database, org_book: str) -> None:
    funded(db)
    assert_cash(db, D(2018, 11, 30), 410_000)
    before = snapshot(db)
    for day in (D(2018, 11, 30), D(2018, 11, 15)):
        errors = refused(db, cash_grant_paid(day, "1000"))
        assert [(e.code, e.field) for e in errors] == [("balance_asserted", "postings[1].account")]
    assert snapshot(db) == before
    post(db, cash_grant_paid(D(2018, 12, 1), "1000"))
    # The other accounts of the book are not held back by the count of the cash box.
    post(db, grant_received(D(2018, 11, 15), "1.00"))


def test_a_cash_count_on_a_wrong_account_or_date_is_refused(db: Database, org_book: str) -> None:
    funded(db)
    error = refusal(
        db,
        lambda c: journal.assert_balance(
            c, "org", "Assets:Cash:Nowhere", "KHR", D(2018, 11, 30), 0
        ),
    )
    assert error.code == "account_unknown"
    error = refusal(
        db, lambda c: journal.assert_balance(c, "org", BAVET, "KHR", D(2017, 12, 31), 0)
    )
    assert error.code == "account_not_open"
    db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 11, 30)))
    error = refusal(
        db, lambda c: journal.assert_balance(c, "org", BAVET, "KHR", D(2018, 11, 30), 410_000)
    )
    assert error.code == "period_locked"


def test_a_cash_count_in_an_unknown_commodity_is_refused_not_crashed(
    db: Database, org_book: str
) -> None:
    error = refusal(
        db, lambda c: journal.assert_balance(c, "org", BAVET, "XAU", D(2018, 11, 30), 0)
    )
    assert error.code == "commodity_unknown"


# -- the read-back check and append-only storage -----------------------------------------------


def test_the_read_back_check_passes_a_balanced_transaction(db: Database, org_book: str) -> None:
    grant_id = post(db, grant_received(D(2018, 11, 2)))
    db.write(lambda c: journal.check_stored_balanced(c, grant_id, grant_id))


def test_the_read_back_check_catches_postings_stored_unbalanced(
    db: Database, org_book: str
) -> None:
    # Rows written behind the journal's back, as a bug in it would write them.
    def write_unbalanced(conn: Connection) -> None:
        book_id = books.get_book(conn, org_book).id
        accounts = {a.name: a.id for a in books.list_accounts(conn, org_book)}
        txn_id = conn.execute(
            insert(transactions)
            .values(
                book_id=book_id,
                date=D(2018, 11, 2),
                narration="Half a grant",
                created_at=books.utc_now(),
            )
            .returning(transactions.c.id)
        ).scalar_one()
        rows = [(BANK, 1_000_000), (INCOME, -999_999)]
        for position, (name, units) in enumerate(rows):
            conn.execute(
                insert(postings).values(
                    transaction_id=txn_id,
                    book_id=book_id,
                    account_id=accounts[name],
                    date=D(2018, 11, 2),
                    position=position,
                    commodity="USD",
                    units=units,
                    weight_commodity="USD",
                    weight=units,
                )
            )
        journal.check_stored_balanced(conn, txn_id, txn_id)

    with pytest.raises(journal.StoredTransactionUnbalancedError, match="USD by 1"):
        db.write(write_unbalanced)
    assert transaction_count(db) == 0  # the write's work rolled back


APPEND_ONLY_CHANGES = [
    "UPDATE transactions SET narration = 'Edited afterwards'",
    "UPDATE transactions SET date = '2018-01-01'",
    "DELETE FROM transactions",
    "UPDATE postings SET units = units * 2",
    "DELETE FROM postings",
    "UPDATE transaction_tags SET tag = 'other'",
    "DELETE FROM transaction_tags",
    "UPDATE transaction_links SET link = 'other'",
    "DELETE FROM transaction_links",
    "UPDATE transaction_meta SET value = 'DV-010'",
    "DELETE FROM transaction_meta",
]


@pytest.mark.parametrize("statement", APPEND_ONLY_CHANGES)
def test_posted_rows_can_never_be_changed_or_deleted(
    db: Database, org_book: str, statement: str
) -> None:
    post(
        db,
        txn(
            D(2018, 11, 2),
            "CTIP grant instalment",
            PostingDraft(BANK, "10000.00", "USD"),
            PostingDraft(INCOME, "-10000.00", "USD"),
            tags=("CTIP-2018",),
            links=("AWARD-7",),
            meta=(("case", "DV-009"),),
        ),
    )
    before = snapshot(db)
    with pytest.raises(DBAPIError, match="append-only"):
        db.write(lambda c: c.execute(text(statement)))
    assert snapshot(db) == before


# -- limits: refused with a code, never a crash ----------------------------------------------


QUADRILLION = str(limits.POSTING_UNITS_ABS_MAX)


def huge_training(day: datetime.date) -> Transaction:
    """32 postings of 10^15 riel of training costs against the opening balance: 3.2 x 10^16."""
    half = limits.POSTINGS_PER_TRANSACTION_MAX // 2
    return Transaction(
        date=day,
        narration="Stress: a very large programme",
        postings=tuple(Posting(TRAINING, limits.POSTING_UNITS_ABS_MAX, "KHR") for _ in range(half))
        + tuple(Posting(OPENING, -limits.POSTING_UNITS_ABS_MAX, "KHR") for _ in range(half)),
    )


def test_a_balance_beyond_the_limit_is_refused_not_crashed(db: Database, org_book: str) -> None:
    day = D(2018, 11, 2)
    # 31 x 3.2e16 = 9.92e17 fits; the 32nd transaction would take it over 10^18.
    db.write(lambda c: journal.post_many(c, org_book, [huge_training(day)] * 31))
    before = snapshot(db)
    assert before[0][(TRAINING, "KHR")] == 31 * 32 * limits.POSTING_UNITS_ABS_MAX
    error = refusal(db, lambda c: journal.post(c, org_book, huge_training(day)))
    assert (error.code, error.kind) == ("balance_too_large", "conflict")
    assert snapshot(db) == before
    # In one batch, the sum of the batch is over the limit before it touches a balance.
    error = refusal(db, lambda c: journal.post_many(c, org_book, [huge_training(day)] * 32))
    assert error.code == "balance_too_large"
    assert snapshot(db) == before
    assert_stored_balances_equal_postings(db)


def test_a_swap_weighing_more_than_the_ledger_allows_is_refused_not_crashed(
    db: Database, org_book: str
) -> None:
    price = PriceDraft("100000000000", "KHR")
    draft = txn(
        D(2018, 11, 2),
        "Pigs for goats at an absurd price",
        PostingDraft(TRAINING, QUADRILLION, "PIG", price=price),
        PostingDraft(OPENING, f"-{QUADRILLION}", "GOAT", price=price),
    )
    assert [e.code for e in refused(db, draft)] == ["amount_too_large"] * 2
    assert transaction_count(db) == 0

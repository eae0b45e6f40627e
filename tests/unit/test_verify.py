"""`verify` recomputes balances from the postings and from Beancount, and reports differences.

The book: a grant received, riel bought with dollars, a cash count, and a savings group's
book beside it:

    2018-11-01 Bank  +5,000.00 USD  / Income  -5,000.00 USD
    2018-11-04 Bank    -100.00 USD  / Cash Bavet +410,000 KHR @@ 100.00 USD
    2018-11-04 cash count: Bavet holds 410,000 KHR at the end of the day
"""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import Connection, text

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.funds import service as funds
from ledger.store import books, journal
from ledger.store.database import Database
from ledger.verify import AUDIT_TRAIL, verify_all, verify_book

D = datetime.date


@pytest.fixture
def funded(db: Database, org_book: str) -> str:
    for txn in (
        TransactionDraft(
            date=D(2018, 11, 1),
            narration="CTIP grant, first tranche",
            postings=(
                PostingDraft("Assets:Bank:Operating-USD", "5000.00", "USD"),
                PostingDraft("Income:Grants:CTIP-2018", "-5000.00", "USD"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 11, 4),
            narration="Exchange for cash disbursements",
            payee='Money changer "Sok"',
            postings=(
                PostingDraft("Assets:Bank:Operating-USD", "-100.00", "USD"),
                PostingDraft(
                    "Assets:Cash:Bavet-KHR",
                    "410000",
                    "KHR",
                    total_price=PriceDraft("100.00", "USD"),
                ),
            ),
        ),
    ):
        post(db, org_book, txn)
    db.write(
        lambda c: journal.assert_balance(
            c, org_book, "Assets:Cash:Bavet-KHR", "KHR", D(2018, 11, 4), 410000
        )
    )
    return org_book


def post(db: Database, book: str, txn: TransactionDraft) -> int:
    return db.write(lambda c: journal.post_draft(c, book, txn))


def tamper(db: Database, sql: str, **params: object) -> None:
    """Change a row behind the journal's back, as a bug or a hand-edit of the database would."""

    def run(conn: Connection) -> None:
        conn.execute(text(sql), params)

    db.write(run)


def test_a_good_book_verifies(db: Database, funded: str) -> None:
    report = verify_book(db, funded)
    assert (report.book, report.differences, report.ok) == (funded, (), True)
    assert report.head is not None
    assert len(report.head) == 64


def test_a_tampered_balance_is_reported_exactly(db: Database, funded: str) -> None:
    tamper(
        db,
        "UPDATE balances SET units = units + 1 WHERE account_id ="
        " (SELECT id FROM accounts WHERE name = :name) AND commodity = 'USD'",
        name="Assets:Bank:Operating-USD",
    )
    report = verify_book(db, funded)
    assert not report.ok
    assert report.differences == (
        "balance of Assets:Bank:Operating-USD in USD: stored 4900.01,"
        " recomputed from postings 4900.00",
        # Beancount reads the postings, the trial balance reads the balances table.
        "balance of Assets:Bank:Operating-USD in USD: ledger 4900.01, Beancount 4900.00",
    )


def test_a_missing_balance_row_is_reported(db: Database, funded: str) -> None:
    tamper(db, "DELETE FROM balances WHERE commodity = 'KHR'")
    report = verify_book(db, funded)
    assert report.differences == (
        "balance of Assets:Cash:Bavet-KHR in KHR: stored 0, recomputed from postings 410000",
        "balance of Assets:Cash:Bavet-KHR in KHR: ledger 0, Beancount 410000",
    )


def test_a_tampered_assertion_fails_in_beancount(db: Database, funded: str) -> None:
    tamper(db, "UPDATE balance_assertions SET units = 400000")
    report = verify_book(db, funded)
    assert len(report.differences) == 1
    (difference,) = report.differences
    assert difference.startswith("beancount line ")
    assert "Balance failed for 'Assets:Cash:Bavet-KHR'" in difference


def test_differences_never_show_narrations_or_payees(db: Database, funded: str) -> None:
    tamper(db, "UPDATE balances SET units = 0")
    report = verify_book(db, funded)
    assert len(report.differences) == 6
    for difference in report.differences:
        assert "Sok" not in difference
        assert "tranche" not in difference


def test_verify_all_reports_every_book(db: Database, funded: str) -> None:
    db.write(lambda c: books.create_book(c, "sg-kt-001", "Kampong Thom 1", "savings_group", "KHR"))
    tamper(db, "UPDATE balances SET units = units - 1 WHERE commodity = 'KHR'")
    reports = verify_all(db)
    assert [(r.book, r.ok) for r in reports] == [
        (funded, False),
        ("sg-kt-001", True),
        (AUDIT_TRAIL, True),
    ]


def test_verify_of_an_unknown_book_is_rejected(db: Database) -> None:
    with pytest.raises(LedgerRejected) as rejected:
        verify_book(db, "no-such-book")
    assert rejected.value.first.code == "book_not_found"


def test_a_tampered_checkpoint_is_reported_exactly(db: Database, funded: str) -> None:
    tamper(
        db,
        "UPDATE balance_checkpoints SET units = units + 1 WHERE account_id ="
        " (SELECT id FROM accounts WHERE name = :name) AND commodity = 'USD'",
        name="Assets:Bank:Operating-USD",
    )
    report = verify_book(db, funded)
    assert report.differences == (
        "checkpoint of Assets:Bank:Operating-USD in USD for the week of 2018-10-29: stored"
        " 4900.01 (week's change 4900.00), recomputed from postings 4900.00 (week's change"
        " 4900.00)",
    )


def test_a_missing_or_extra_checkpoint_is_reported(db: Database, funded: str) -> None:
    tamper(db, "DELETE FROM balance_checkpoints WHERE commodity = 'KHR'")
    tamper(
        db,
        "INSERT INTO balance_checkpoints (account_id, commodity, week, book_id, units,"
        " net_units) SELECT account_id, commodity, :week, book_id, units, 0"
        " FROM balance_checkpoints WHERE commodity = 'USD'",
        week=D(2018, 11, 5),
    )
    report = verify_book(db, funded)
    assert report.differences == (
        "checkpoint of Assets:Bank:Operating-USD in USD for the week of 2018-11-05: stored"
        " 4900.00 (week's change 0.00), recomputed from postings nothing",
        "checkpoint of Assets:Cash:Bavet-KHR in KHR for the week of 2018-10-29: stored nothing,"
        " recomputed from postings 410000 (week's change 410000)",
        "checkpoint of Income:Grants:CTIP-2018 in USD for the week of 2018-11-05: stored"
        " -5000.00 (week's change 0.00), recomputed from postings nothing",
    )


def spend_on_an_award(db: Database, book: str) -> None:
    """An award of one line and two expenses on it, in the weeks of 2018-10-29 and
    2018-11-05 (its use per week: `ledger.funds.line_weeks`)."""

    def work(conn: Connection) -> None:
        line = funds.BudgetLineDraft("transport", "Transport", "1000.00", "Expenses:Transport")
        draft = funds.AwardDraft(
            book_code=book,
            code="CTIP-2018",
            donor="Donor",
            currency="USD",
            amount="1000.00",
            start_date=D(2018, 7, 1),
            end_date=D(2019, 6, 30),
            approval_threshold="250.00",
            income_account="Income:Grants:CTIP-2018",
            lines=(line,),
        )
        award = funds.create_award(conn, draft, "setup")
        for day, amount in ((D(2018, 11, 2), 1250), (D(2018, 11, 6), 700)):
            expense = funds.ExpenseDraft(
                day, "Assets:Bank:Operating-USD", amount, "USD", "Moto taxi", "expense"
            )
            funds.post_expense(conn, award, award.lines[0], expense, "finance")

    db.write(work)


def test_a_tampered_budget_line_week_is_reported_exactly(db: Database, funded: str) -> None:
    spend_on_an_award(db, funded)
    assert verify_book(db, funded).differences == ()
    tamper(
        db,
        "UPDATE budget_line_weeks SET award_units = award_units + 1 WHERE week = :week",
        week=D(2018, 10, 29),
    )
    tamper(db, "DELETE FROM budget_line_weeks WHERE week = :week", week=D(2018, 11, 5))
    report = verify_book(db, funded)
    assert report.differences == (
        "spends of budget line transport of award CTIP-2018 in the week of 2018-10-29: stored"
        " 12.51, recomputed from budget spends 12.50",
        "spends of budget line transport of award CTIP-2018 in the week of 2018-11-05: stored"
        " nothing, recomputed from budget spends 7.00",
    )

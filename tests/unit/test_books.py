"""Books, commodities and accounts: the frame the journal posts into.

The organisation keeps one book; each savings group keeps its own (the group's money is the
members'), and households have memorandum books. Accounts open, take postings and close.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from sqlalchemy import Connection

from ledger.core import limits
from ledger.core.amount import Commodity
from ledger.core.book import validate_book
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.store import books, journal
from ledger.store.database import Database

D = datetime.date
BAVET = "Assets:Cash:Bavet-KHR"
GRANTS = "Expenses:Grants:Cash:CTIP-2018"


def refusal(db: Database, work: Callable[[Connection], object]) -> list[tuple[str, str | None]]:
    with pytest.raises(LedgerRejected) as rejected:
        db.write(work)
    return [(e.code, e.field) for e in rejected.value.errors]


def first_refusal(db: Database, work: Callable[[Connection], object]) -> LedgerError:
    with pytest.raises(LedgerRejected) as rejected:
        db.write(work)
    return rejected.value.first


def move_riel(db: Database, day: datetime.date, riel: int, to: str, frm: str) -> int:
    draft = TransactionDraft(
        date=day,
        narration="Cash movement",
        postings=(PostingDraft(to, str(riel), "KHR"), PostingDraft(frm, str(-riel), "KHR")),
    )
    return db.write(lambda c: journal.post_draft(c, "org", draft))


# -- books (core validation) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("org", "CCPCR livelihood programme", "organisation"),
        ("sg-kt-001", "Kampong Trach savings group 1", "savings_group"),
        ("hh-dv-009", "Household DV-009", "household"),
        ("0", "ក្រុមសន្សំ", "savings_group"),
    ],
)
def test_valid_books(code: str, name: str, kind: str) -> None:
    assert validate_book(code, name, kind) == ()


@pytest.mark.parametrize("code", ["", "Org", "org book", "-org", "sg_kt", "o" * 41, "សន្សំ"])
def test_invalid_book_codes(code: str) -> None:
    assert [e.code for e in validate_book(code, "Book", "household")] == ["book_code_invalid"]


@pytest.mark.parametrize(
    "name",
    ["", "   ", "n" * (limits.BOOK_NAME_LENGTH_MAX + 1), "Group\x00one", "Group\none", "A\x1bB"],
)
def test_invalid_book_names(name: str) -> None:
    assert [e.code for e in validate_book("sg-kt-001", name, "savings_group")] == [
        "book_name_invalid"
    ]


def test_an_unknown_book_kind_is_refused() -> None:
    assert [e.code for e in validate_book("ngo", "NGO", "ngo")] == ["book_kind_invalid"]


# -- books (store) -----------------------------------------------------------------------------


def test_books_are_created_once_and_found_by_code(db: Database) -> None:
    created = db.write(
        lambda c: books.create_book(c, "sg-kt-001", "Kampong Trach group", "savings_group", "KHR")
    )
    assert (created.code, created.kind, created.operating_currency, created.lock_date) == (
        "sg-kt-001",
        "savings_group",
        "KHR",
        None,
    )
    error = first_refusal(
        db, lambda c: books.create_book(c, "sg-kt-001", "Again", "savings_group", "KHR")
    )
    assert (error.code, error.kind) == ("book_exists", "conflict")
    with db.read() as conn:
        assert [b.code for b in books.list_books(conn)] == ["sg-kt-001"]
        assert books.get_book(conn, "sg-kt-001") == created
    error = first_refusal(db, lambda c: books.get_book(c, "sg-kt-002"))
    assert (error.code, error.kind) == ("book_not_found", "not_found")


def test_every_problem_with_a_new_book_is_reported(db: Database) -> None:
    assert refusal(db, lambda c: books.create_book(c, "Org", "", "ngo", "EUR")) == [
        ("book_code_invalid", "code"),
        ("book_name_invalid", "name"),
        ("book_kind_invalid", "kind"),
        ("commodity_unknown", "operating_currency"),
    ]
    with db.read() as conn:
        assert books.list_books(conn) == []


# -- commodities -------------------------------------------------------------------------------


def test_the_seeded_commodities_and_a_new_one(db: Database) -> None:
    db.write(lambda c: books.create_commodity(c, Commodity("RICE-KG", 0, "Rice, kilograms")))
    with db.read() as conn:
        precisions = books.commodity_precisions(conn)
        listed = books.list_commodities(conn)
    assert precisions["RICE-KG"] == 0
    assert precisions["USD"] == 2
    assert [c.code for c in listed] == sorted(precisions)
    error = first_refusal(db, lambda c: books.create_commodity(c, Commodity("KHR", 2)))
    assert (error.code, error.kind) == ("commodity_exists", "conflict")
    assert refusal(db, lambda c: books.create_commodity(c, Commodity("rice", 9))) == [
        ("commodity_code_invalid", "code"),
        ("commodity_precision_invalid", "precision"),
    ]


# -- accounts ----------------------------------------------------------------------------------


def test_accounts_open_in_one_book_and_the_same_name_may_exist_in_another(
    db: Database, org_book: str
) -> None:
    def group_books(conn: Connection) -> None:
        for code in ("sg-kt-001", "sg-kt-002"):
            books.create_book(conn, code, f"Group {code}", "savings_group", "KHR")
            books.open_account(conn, code, "Assets:Cash:Box", D(2019, 1, 1), ["KHR"], True)

    db.write(group_books)
    with db.read() as conn:
        one = books.list_accounts(conn, "sg-kt-001")
        two = books.list_accounts(conn, "sg-kt-002")
        org = books.list_accounts(conn, org_book)
    assert [a.name for a in one] == [a.name for a in two] == ["Assets:Cash:Box"]
    assert one[0].id != two[0].id
    assert (one[0].currencies, one[0].non_negative, one[0].open_date) == (
        ("KHR",),
        True,
        D(2019, 1, 1),
    )
    assert [a.name for a in org] == sorted(a.name for a in org)
    error = first_refusal(
        db, lambda c: books.open_account(c, "sg-kt-001", "Assets:Cash:Box", D(2019, 2, 1))
    )
    assert (error.code, error.kind) == ("account_exists", "conflict")
    # An account is found only through its own book.
    error = first_refusal(db, lambda c: books.get_account(c, "sg-kt-002", one[0].id))
    assert (error.code, error.kind) == ("account_not_found", "not_found")


def test_every_problem_with_a_new_account_is_reported(db: Database, org_book: str) -> None:
    db.write(lambda c: books.set_lock_date(c, org_book, D(2018, 12, 31)))
    assert refusal(
        db,
        lambda c: books.open_account(
            c, org_book, "Assets:Cash:ប្រអប់", D(2018, 12, 31), ["KHR", "EUR", "KHR"]
        ),
    ) == [
        ("account_name_invalid", "name"),
        ("commodity_unknown", "currencies[1]"),
        ("currencies_repeated", "currencies"),
        ("period_locked", "open_date"),
    ]
    opened = db.write(
        lambda c: books.open_account(c, org_book, "Assets:Cash:Kampot-KHR", D(2019, 1, 1))
    )
    assert opened.currencies == ()  # any commodity


# -- closing accounts --------------------------------------------------------------------------


def open_kampot(db: Database) -> int:
    def create(conn: Connection) -> int:
        account = books.open_account(conn, "org", "Assets:Cash:Kampot-KHR", D(2018, 1, 1), ["KHR"])
        return account.id

    return db.write(create)


def close(db: Database, account_id: int, day: datetime.date) -> books.Account:
    return db.write(lambda c: books.close_account(c, "org", account_id, day))


def test_an_emptied_cash_box_is_closed(db: Database, org_book: str) -> None:
    kampot = open_kampot(db)
    move_riel(db, D(2018, 11, 1), 50_000, "Assets:Cash:Kampot-KHR", "Equity:Opening-Balances")
    move_riel(db, D(2018, 11, 20), 50_000, BAVET, "Assets:Cash:Kampot-KHR")
    closed = close(db, kampot, D(2018, 11, 30))
    assert closed.close_date == D(2018, 11, 30)
    with db.read() as conn:
        assert books.get_account(conn, "org", kampot).close_date == D(2018, 11, 30)


def test_an_account_holding_money_cannot_be_closed(db: Database, org_book: str) -> None:
    kampot = open_kampot(db)
    move_riel(db, D(2018, 11, 1), 50_000, "Assets:Cash:Kampot-KHR", "Equity:Opening-Balances")
    error = first_refusal(db, lambda c: books.close_account(c, "org", kampot, D(2018, 11, 30)))
    assert (error.code, error.kind) == ("account_not_empty", "conflict")


def test_an_account_with_postings_after_the_close_date_cannot_close_then(
    db: Database, org_book: str
) -> None:
    kampot = open_kampot(db)
    move_riel(db, D(2018, 12, 1), 50_000, "Assets:Cash:Kampot-KHR", "Equity:Opening-Balances")
    move_riel(db, D(2018, 12, 2), 50_000, BAVET, "Assets:Cash:Kampot-KHR")
    error = first_refusal(db, lambda c: books.close_account(c, "org", kampot, D(2018, 11, 30)))
    assert (error.code, error.field) == ("account_has_later_postings", "date")
    assert close(db, kampot, D(2018, 12, 2)).close_date == D(2018, 12, 2)


def test_close_dates_follow_the_calendar_and_the_lock(db: Database, org_book: str) -> None:
    kampot = open_kampot(db)
    error = first_refusal(db, lambda c: books.close_account(c, "org", kampot, D(2017, 12, 31)))
    assert (error.code, error.field) == ("close_before_open", "date")
    db.write(lambda c: books.set_lock_date(c, "org", D(2018, 6, 30)))
    error = first_refusal(db, lambda c: books.close_account(c, "org", kampot, D(2018, 6, 30)))
    assert error.code == "period_locked"
    close(db, kampot, D(2018, 7, 1))
    error = first_refusal(db, lambda c: books.close_account(c, "org", kampot, D(2018, 8, 1)))
    assert (error.code, error.kind) == ("account_closed", "conflict")
    error = first_refusal(db, lambda c: books.close_account(c, "org", 9_999, D(2018, 8, 1)))
    assert error.code == "account_not_found"

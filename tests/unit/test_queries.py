"""The read side: trial balances now and as of a date, one account's balance, and listings.

November 2018 in the organisation's book:

    2018-11-02  CTIP grant instalment           Bank +10,000.00 USD
    2018-11-04  Exchange at Bavet  #exchange    Bank -100.00 USD, Bavet +410,000 KHR
    2018-11-10  Cash grant DV-009  #CTIP-2018   Bavet -100,000 KHR   ^DV-009  case: DV-009
    2018-11-10  Cash grant DV-010  #CTIP-2018   Bavet -50,000 KHR    ^DV-010  case: DV-010
    2018-11-10  Livestock training #training    Bavet -20,000 KHR
    2018-11-15  Cash grant DV-009  #CTIP-2018   Bavet -30,000 KHR    ^DV-009  case: DV-009
    2018-12-01  CTIP grant instalment           Bank +5,000.00 USD
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.store import books, journal, queries
from ledger.store.database import Database
from ledger.store.queries import TransactionFilter

D = datetime.date
BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"
INCOME = "Income:Grants:CTIP-2018"
GRANTS = "Expenses:Grants:Cash:CTIP-2018"
TRAINING = "Expenses:Training:Livestock"

NOVEMBER = [
    "CTIP grant instalment",
    "Exchange at Bavet",
    "Cash grant DV-009",
    "Cash grant DV-010",
    "Livestock training",
    "Cash grant DV-009 (second)",
    "CTIP grant instalment (December)",
]


def post(db: Database, draft: TransactionDraft, book: str = "org") -> int:
    return db.write(lambda c: journal.post_draft(c, book, draft))


def grant(day: datetime.date, dollars: str, narration: str) -> TransactionDraft:
    return TransactionDraft(
        date=day,
        narration=narration,
        postings=(PostingDraft(BANK, dollars, "USD"), PostingDraft(INCOME, f"-{dollars}", "USD")),
    )


def paid(
    day: datetime.date, riel: str, narration: str, to: str = GRANTS, case: str | None = None
) -> TransactionDraft:
    return TransactionDraft(
        date=day,
        narration=narration,
        postings=(PostingDraft(to, riel, "KHR"), PostingDraft(BAVET, f"-{riel}", "KHR")),
        tags=("CTIP-2018",) if case else ("training",),
        links=(case,) if case else (),
        meta=(("case", case),) if case else (),
    )


@pytest.fixture
def november(db: Database, org_book: str) -> list[int]:
    """The ledger in the module docstring; the transaction ids in posting order."""
    drafts = [
        grant(D(2018, 11, 2), "10000.00", NOVEMBER[0]),
        TransactionDraft(
            date=D(2018, 11, 4),
            narration=NOVEMBER[1],
            postings=(
                PostingDraft(BANK, "-100.00", "USD"),
                PostingDraft(BAVET, "410000", "KHR", total_price=PriceDraft("100.00", "USD")),
            ),
            tags=("exchange",),
            meta=(("receipt", "R-1"),),
        ),
        paid(D(2018, 11, 10), "100000", NOVEMBER[2], case="DV-009"),
        paid(D(2018, 11, 10), "50000", NOVEMBER[3], case="DV-010"),
        paid(D(2018, 11, 10), "20000", NOVEMBER[4], to=TRAINING),
        paid(D(2018, 11, 15), "30000", NOVEMBER[5], case="DV-009"),
        grant(D(2018, 12, 1), "5000.00", NOVEMBER[6]),
    ]
    return [post(db, d) for d in drafts]


def account_id(db: Database, name: str, book: str = "org") -> int:
    with db.read() as conn:
        return next(a.id for a in books.list_accounts(conn, book) if a.name == name)


def trial(db: Database, as_of: datetime.date | None = None) -> dict[tuple[str, str], int]:
    with db.read() as conn:
        return {
            (r.account, r.commodity): r.units for r in queries.trial_balance(conn, "org", as_of)
        }


def listed(db: Database, where: TransactionFilter | None = None, limit: int = 100) -> list[str]:
    where = where or TransactionFilter()
    with db.read() as conn:
        page = queries.list_transactions(conn, "org", where, limit=limit)
    return [s.txn.narration for s in page.items]


def pages(db: Database, where: TransactionFilter, limit: int) -> Iterator[queries.Page]:
    cursor: str | None = None
    while True:
        with db.read() as conn:
            page = queries.list_transactions(conn, "org", where, cursor=cursor, limit=limit)
        yield page
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# -- trial balance and account balances --------------------------------------------------------


def test_the_trial_balance_now(db: Database, november: list[int]) -> None:
    assert trial(db) == {
        (BANK, "USD"): 1_490_000,
        (BAVET, "KHR"): 210_000,
        (GRANTS, "KHR"): 180_000,
        (TRAINING, "KHR"): 20_000,
        (INCOME, "USD"): -1_500_000,
    }
    with db.read() as conn:
        rows = queries.trial_balance(conn, "org")
    assert [(r.account, r.commodity) for r in rows] == sorted(
        (r.account, r.commodity) for r in rows
    )


def test_the_trial_balance_before_anything_was_posted_is_empty(
    db: Database, november: list[int]
) -> None:
    assert trial(db, D(2018, 11, 1)) == {}
    assert trial(db, D(2000, 1, 1)) == {}


def test_the_trial_balance_at_the_end_of_a_day_between_postings(
    db: Database, november: list[int]
) -> None:
    assert trial(db, D(2018, 11, 2)) == {(BANK, "USD"): 1_000_000, (INCOME, "USD"): -1_000_000}
    end_of_4th = {
        (BANK, "USD"): 990_000,
        (BAVET, "KHR"): 410_000,
        (INCOME, "USD"): -1_000_000,
    }
    assert trial(db, D(2018, 11, 4)) == end_of_4th
    assert trial(db, D(2018, 11, 9)) == end_of_4th
    assert trial(db, D(2018, 11, 10)) == {
        (BANK, "USD"): 990_000,
        (BAVET, "KHR"): 240_000,
        (GRANTS, "KHR"): 150_000,
        (TRAINING, "KHR"): 20_000,
        (INCOME, "USD"): -1_000_000,
    }
    assert trial(db, D(2018, 11, 30))[(BAVET, "KHR")] == 210_000
    assert trial(db, D(2018, 12, 1)) == trial(db) == trial(db, D(2030, 1, 1))


def test_the_balance_of_one_account(db: Database, november: list[int]) -> None:
    bavet = account_id(db, BAVET)
    bank = account_id(db, BANK)
    with db.read() as conn:
        assert queries.account_balance(conn, "org", bavet) == {"KHR": 210_000}
        assert queries.account_balance(conn, "org", bavet, D(2018, 11, 10)) == {"KHR": 240_000}
        assert queries.account_balance(conn, "org", bavet, D(2018, 11, 3)) == {}
        assert queries.account_balance(conn, "org", bank, D(2018, 11, 30)) == {"USD": 990_000}
        poipet = next(a.id for a in books.list_accounts(conn, "org") if "Poipet" in a.name)
        assert queries.account_balance(conn, "org", poipet) == {}


def test_an_account_of_another_book_shows_nothing_through_this_one(
    db: Database, november: list[int]
) -> None:
    db.write(lambda c: books.create_book(c, "sg-kt-001", "Group", "savings_group", "KHR"))
    bavet = account_id(db, BAVET)
    # Either answer is right (the account is not this book's); leaking the postings is not.
    with db.read() as conn:
        try:
            seen = queries.account_balance(conn, "sg-kt-001", bavet, D(2018, 11, 1))
        except LedgerRejected as rejected:
            seen = {rejected.first.code: 0}
    assert seen in ({}, {"account_not_found": 0})


def test_balances_of_an_unknown_book_are_not_found(db: Database) -> None:
    with db.read() as conn, pytest.raises(LedgerRejected) as rejected:
        queries.trial_balance(conn, "nowhere")
    assert rejected.value.first.code == "book_not_found"


# -- listing transactions ----------------------------------------------------------------------


def test_transactions_are_listed_by_date_then_posting_order(
    db: Database, november: list[int]
) -> None:
    assert listed(db) == NOVEMBER
    with db.read() as conn:
        page = queries.list_transactions(conn, "org", TransactionFilter())
    assert [s.id for s in page.items] == november
    assert page.next_cursor is None
    assert page.items[2].txn.links == ("DV-009",)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (TransactionFilter(date_from=D(2018, 11, 4), date_to=D(2018, 11, 10)), NOVEMBER[1:5]),
        (TransactionFilter(date_from=D(2018, 11, 11)), NOVEMBER[5:]),
        (TransactionFilter(date_to=D(2018, 11, 3)), NOVEMBER[:1]),
        (TransactionFilter(date_from=D(2018, 11, 5), date_to=D(2018, 11, 9)), []),
        (TransactionFilter(date_from=D(2018, 12, 2), date_to=D(2018, 11, 1)), []),
        (TransactionFilter(account=BAVET), NOVEMBER[1:6]),
        (TransactionFilter(account=TRAINING), [NOVEMBER[4]]),
        (TransactionFilter(account="Assets:Cash:Poipet-THB"), []),
        (TransactionFilter(account="Assets:No:Such"), []),
        (TransactionFilter(tag="CTIP-2018"), [NOVEMBER[2], NOVEMBER[3], NOVEMBER[5]]),
        (TransactionFilter(tag="exchange"), [NOVEMBER[1]]),
        (TransactionFilter(tag="ctip-2018"), []),
        (TransactionFilter(link="DV-009"), [NOVEMBER[2], NOVEMBER[5]]),
        (TransactionFilter(link="DV-010"), [NOVEMBER[3]]),
        (TransactionFilter(meta_key="case"), [NOVEMBER[2], NOVEMBER[3], NOVEMBER[5]]),
        (TransactionFilter(meta_key="case", meta_value="DV-010"), [NOVEMBER[3]]),
        (TransactionFilter(meta_key="case", meta_value="DV-404"), []),
        (TransactionFilter(meta_key="receipt"), [NOVEMBER[1]]),
        (
            TransactionFilter(account=GRANTS, date_to=D(2018, 11, 10), link="DV-009"),
            [NOVEMBER[2]],
        ),
    ],
)
def test_transactions_are_filtered(
    db: Database, november: list[int], where: TransactionFilter, expected: list[str]
) -> None:
    assert listed(db, where) == expected


def test_another_books_transactions_are_never_listed(db: Database, november: list[int]) -> None:
    def group(conn: Connection) -> None:
        books.create_book(conn, "sg-kt-001", "Group", "savings_group", "KHR")
        books.open_account(conn, "sg-kt-001", BAVET, D(2018, 1, 1))
        books.open_account(conn, "sg-kt-001", GRANTS, D(2018, 1, 1))

    db.write(group)
    post(db, paid(D(2018, 11, 10), "1000", "Group's own payment", case="DV-009"), "sg-kt-001")
    assert listed(db, TransactionFilter(link="DV-009")) == [NOVEMBER[2], NOVEMBER[5]]
    assert listed(db, TransactionFilter(account=BAVET)) == NOVEMBER[1:6]
    with db.read() as conn:
        group_page = queries.list_transactions(conn, "sg-kt-001", TransactionFilter())
    assert [s.txn.narration for s in group_page.items] == ["Group's own payment"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_walking_every_page_gives_each_transaction_once_in_order(
    db: Database, november: list[int], limit: int
) -> None:
    walked = [s.id for page in pages(db, TransactionFilter(), limit) for s in page.items]
    assert walked == november
    sizes = [len(page.items) for page in pages(db, TransactionFilter(), limit)]
    assert all(size == limit for size in sizes[:-1])
    assert 1 <= sizes[-1] <= limit  # never a trailing empty page


def test_pages_of_a_filtered_listing(db: Database, november: list[int]) -> None:
    where = TransactionFilter(account=BAVET)
    walked = [[s.txn.narration for s in page.items] for page in pages(db, where, 2)]
    assert walked == [NOVEMBER[1:3], NOVEMBER[3:5], NOVEMBER[5:6]]


def test_a_transaction_posted_while_paging_appears_once(db: Database, november: list[int]) -> None:
    with db.read() as conn:
        first = queries.list_transactions(conn, "org", TransactionFilter(), limit=3)
    # A back-dated entry lands before the cursor and a new one after it.
    post(db, paid(D(2018, 11, 3), "1", "Back-dated", to=TRAINING))
    late = post(db, paid(D(2018, 11, 20), "1", "Late", to=TRAINING))
    assert first.next_cursor is not None
    rest: list[int] = []
    cursor: str | None = first.next_cursor
    while cursor is not None:
        with db.read() as conn:
            page = queries.list_transactions(
                conn, "org", TransactionFilter(), cursor=cursor, limit=3
            )
        rest.extend(s.id for s in page.items)
        cursor = page.next_cursor
    assert [s.id for s in first.items] + rest == [*november[:6], late, november[6]]


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "!!!!",
        "ខ្មែរ",
        b64("2018-11-10"),
        b64("2018-13-01|5"),
        b64("2018-11-10|five"),
        b64("2018-11-10|5|6"),
        b64("|"),
        base64.urlsafe_b64encode(b"\xff\xfe|1").decode(),
    ],
)
def test_a_cursor_the_api_did_not_give_is_cursor_invalid(
    db: Database, november: list[int], cursor: str
) -> None:
    with db.read() as conn, pytest.raises(LedgerRejected) as rejected:
        queries.list_transactions(conn, "org", TransactionFilter(), cursor=cursor)
    assert (rejected.value.first.code, rejected.value.first.field) == ("cursor_invalid", "cursor")


def test_a_cursor_with_an_absurd_id_is_refused_not_crashed(
    db: Database, november: list[int]
) -> None:
    cursor = b64("2018-11-10|" + "9" * 30)
    with db.read() as conn, pytest.raises(LedgerRejected) as rejected:
        queries.list_transactions(conn, "org", TransactionFilter(), cursor=cursor)
    assert rejected.value.first.code == "cursor_invalid"


@pytest.mark.parametrize("limit", [0, -1, 1001, 10**9])
def test_a_page_size_outside_1_to_1000_is_limit_invalid(
    db: Database, november: list[int], limit: int
) -> None:
    with db.read() as conn, pytest.raises(LedgerRejected) as rejected:
        queries.list_transactions(conn, "org", TransactionFilter(), limit=limit)
    assert (rejected.value.first.code, rejected.value.first.field) == ("limit_invalid", "limit")


def test_the_largest_page_is_allowed(db: Database, november: list[int]) -> None:
    assert listed(db, limit=1000) == NOVEMBER

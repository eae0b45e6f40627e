"""The organisation's book: the CTIP award and its budget lines, funds received in USD,
exchanges into riel and baht, reintegration expenses on their budget lines, a correction by
reversal, a cash count and (once every area has posted) a lock date. The training's costs
are its cost items (`ledger/demo/training.py`)."""

from __future__ import annotations

import datetime
from dataclasses import replace

from sqlalchemy import Connection

from ledger.core.transaction import PostingDraft, TransactionDraft
from ledger.funds import revaluation
from ledger.funds import service as funds
from ledger.funds.service import (
    AwardDraft,
    BudgetExpenseDraft,
    BudgetLineDraft,
    ExchangeDraft,
    ExpenseDraft,
)
from ledger.store import books, journal

ORG_BOOK = "org"
AWARD = "CTIP-2018"
FINANCE = "sopheap.finance"
D = datetime.date
BANK = "Assets:Bank:Operating-USD"
CASH_PHNOM_PENH = "Assets:Cash:Phnom-Penh-KHR"
CASH_BAVET = "Assets:Cash:Bavet-KHR"
CASH_POIPET = "Assets:Cash:Poipet-THB"
LOCKED_UNTIL = D(2018, 10, 31)
# The year-end revaluation: the closing rates of 31 December 2018 (riel and baht per dollar).
REVALUED_ON = D(2018, 12, 31)
CLOSING_RATES = {"KHR": "4051", "THB": "32.40"}

ACCOUNTS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    (BANK, ("USD",), True),
    (CASH_PHNOM_PENH, ("KHR",), True),
    (CASH_BAVET, ("KHR",), True),
    (CASH_POIPET, ("THB",), True),
    ("Expenses:Bank-Charges", ("USD",), False),
)
BUDGET_LINES = (
    BudgetLineDraft(
        "livelihood-grants",
        "Small-business grants to returnee and at-risk households",
        "12000.00",
        "Expenses:Grants:Livelihood:CTIP-2018",
    ),
    BudgetLineDraft(
        "livestock-training",
        "Chicken and pig raising training",
        "3000.00",
        "Expenses:Training:Livestock:CTIP-2018",
    ),
    BudgetLineDraft(
        "transport",
        "Transport home and reintegration support for returnees",
        "2000.00",
        "Expenses:Reintegration:Transport:CTIP-2018",
    ),
    BudgetLineDraft(
        "drop-in-centre",
        "Poipet drop-in centre supplies",
        "1500.00",
        "Expenses:Reintegration:Drop-In-Centre:CTIP-2018",
    ),
)
# (date, from, to, USD given, rate: units received per dollar)
EXCHANGES = (
    (D(2018, 8, 20), BANK, CASH_PHNOM_PENH, "1500.00", "4080"),
    (D(2018, 11, 2), BANK, CASH_BAVET, "800.00", "4110"),
    (D(2018, 11, 5), BANK, CASH_POIPET, "300.00", "32.50"),
    (D(2018, 12, 3), BANK, CASH_BAVET, "3000.00", "4120"),
)
# (date, budget line, paid from, amount, narration, payee)
EXPENSES = (
    (
        D(2018, 11, 4),
        "transport",
        CASH_BAVET,
        "1485000",
        "Reception of 33 returnees from Long An at Bavet: food and transport home",
        None,
    ),
    (
        D(2018, 11, 6),
        "drop-in-centre",
        CASH_POIPET,
        "2480.00",
        'Drop-in centre supplies: rice, soap, "safe migration" leaflets',
        None,
    ),
)


def load_organisation(conn: Connection) -> list[str]:
    """Create the organisation's book, the award, and post its year. Returns what was done."""
    award = _open_book_and_award(conn)
    _receive_and_exchange(conn)
    _spend_on_lines(conn, award)
    journal.post_draft(
        conn,
        ORG_BOOK,
        TransactionDraft(
            date=D(2018, 11, 30),
            payee="Bank",
            narration="Bank charges, November",
            postings=(
                PostingDraft("Expenses:Bank-Charges", "5.00", "USD"),
                PostingDraft(BANK, "-5.00", "USD"),
            ),
        ),
    )
    # The Bavet cash box was counted at the close of 30 November: 3,288,000 - 1,485,000 riel.
    journal.assert_balance(conn, ORG_BOOK, CASH_BAVET, "KHR", D(2018, 11, 30), 1_803_000)
    return [
        f"demo: book {ORG_BOOK!r}, award {AWARD} with {len(BUDGET_LINES)} budget lines",
        f"demo: a fund receipt, {len(EXCHANGES)} exchanges, {len(EXPENSES) + 1} expenses on "
        "budget lines (one a mistake, reversed), bank charges",
        "demo: Bavet cash count 1,803,000 KHR at 2018-11-30",
    ]


def _open_book_and_award(conn: Connection) -> funds.Award:
    """The organisation's book, its money accounts, and the CTIP award with its lines."""
    books.create_book(
        conn,
        ORG_BOOK,
        "CCPCR - Countering Trafficking in Persons livelihood programme",
        "organisation",
        "USD",
    )
    for name, currencies, non_negative in ACCOUNTS:
        books.open_account(conn, ORG_BOOK, name, D(2018, 7, 1), currencies, non_negative)
    draft = AwardDraft(
        book_code=ORG_BOOK,
        code=AWARD,
        donor="USAID / Winrock International (CTIP)",
        currency="USD",
        amount="60000.00",
        start_date=D(2018, 7, 1),
        end_date=D(2019, 6, 30),
        approval_threshold="250.00",
        income_account="Income:Restricted:USAID-CTIP",
        lines=BUDGET_LINES,
    )
    return funds.create_award(conn, draft, FINANCE)


def _receive_and_exchange(conn: Connection) -> None:
    """The first tranche from the donor, then dollars exchanged into riel and baht."""
    funds.receive_funds(
        conn,
        AWARD,
        D(2018, 7, 2),
        BANK,
        "24500.00",
        "CTIP sub-award, first tranche received",
        "WI-CTIP-2018-07",
        FINANCE,
    )
    for date, source, target, given, rate in EXCHANGES:
        draft = ExchangeDraft(ORG_BOOK, date, source, target, given, None, rate, None)
        funds.record_exchange(conn, draft, FINANCE)


def _spend_on_lines(conn: Connection, award: funds.Award) -> None:
    """The reintegration expenses, and one entered twice by mistake, then corrected by a
    reversal (postings are never edited): the budget line stops counting it once reversed."""
    for date, line_code, paid_from, amount, narration, payee in EXPENSES:
        request = BudgetExpenseDraft(date, line_code, paid_from, amount, narration, payee)
        # The demo's expenses carry the programme's tag.
        expense = replace(funds.parse_expense(conn, award, request), tags=("ctip",))
        funds.post_expense(conn, award, award.line(line_code), expense, FINANCE)
    twice = ExpenseDraft(
        date=D(2018, 11, 6),
        paid_from=CASH_POIPET,
        units=248000,
        currency="THB",
        narration="Drop-in centre supplies (entered twice by mistake)",
        kind="expense",
        tags=("ctip",),
    )
    spent = funds.post_expense(conn, award, award.line("drop-in-centre"), twice, FINANCE)
    journal.reverse(
        conn, ORG_BOOK, spent.transaction_id, D(2018, 11, 7), "Reversal: supplies entered twice"
    )


def revalue_organisation(conn: Connection) -> list[str]:
    """The year-end revaluation of the riel and baht cash boxes, once every area has posted
    its 2018 spending: the realised and the unrealised exchange differences."""
    done = revaluation.revalue(conn, ORG_BOOK, REVALUED_ON, CLOSING_RATES, FINANCE)
    realised = sum(a.realised for a in done.accounts)
    unrealised = sum(a.unrealised for a in done.accounts)
    return [
        f"demo: FX revaluation at {REVALUED_ON.isoformat()}: realised "
        f"{realised / 100:.2f} USD, unrealised {unrealised / 100:.2f} USD"
    ]


def lock_organisation(conn: Connection) -> list[str]:
    """Close the organisation's book up to 31 October 2018, once every area has posted."""
    books.set_lock_date(conn, ORG_BOOK, LOCKED_UNTIL)
    return [f"demo: lock date {LOCKED_UNTIL.isoformat()} on book {ORG_BOOK!r}"]

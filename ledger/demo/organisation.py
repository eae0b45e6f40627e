"""The organisation's book: a donor fund received in USD, exchanges into riel and baht,
training and reintegration expenses, a correction by reversal and a cash count."""

from __future__ import annotations

import datetime

from sqlalchemy import Connection

from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.store import books, journal

ORG_BOOK = "org"
AWARD = "CTIP-2018"
D = datetime.date

ACCOUNTS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("Assets:Bank:Operating-USD", ("USD",), True),
    ("Assets:Cash:Phnom-Penh-KHR", ("KHR",), True),
    ("Assets:Cash:Bavet-KHR", ("KHR",), True),
    ("Assets:Cash:Poipet-THB", ("THB",), True),
    ("Income:Restricted:USAID-CTIP", ("USD",), False),
    ("Expenses:Training:Livestock:CTIP-2018", (), False),
    ("Expenses:Reintegration:Transport:CTIP-2018", (), False),
    ("Expenses:Reintegration:Drop-In-Centre:CTIP-2018", (), False),
    ("Expenses:Bank-Charges", ("USD",), False),
)


def _p(
    account: str, amount: str, currency: str, total: tuple[str, str] | None = None
) -> PostingDraft:
    return PostingDraft(
        account, amount, currency, total_price=PriceDraft(*total) if total else None
    )


def _transactions() -> list[TransactionDraft]:
    award = (("award", AWARD),)
    return [
        TransactionDraft(
            date=D(2018, 7, 2),
            payee="Winrock International",
            narration="CTIP sub-award, first tranche received",
            tags=("ctip",),
            meta=award,
            postings=(
                _p("Assets:Bank:Operating-USD", "24500.00", "USD"),
                _p("Income:Restricted:USAID-CTIP", "-24500.00", "USD"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 8, 20),
            narration="Exchange for the livestock training, 4,080 riel to the dollar",
            links=("fx-2018-08-20",),
            postings=(
                _p("Assets:Bank:Operating-USD", "-1500.00", "USD"),
                _p("Assets:Cash:Phnom-Penh-KHR", "6120000", "KHR", ("1500.00", "USD")),
            ),
        ),
        TransactionDraft(
            date=D(2018, 8, 28),
            narration="Chicken and pig raising training, 26-28 August, 33 trainees: venue and "
            "meals / វគ្គបណ្តុះបណ្តាលការចិញ្ចឹមមាន់ និងជ្រូក",
            tags=("ctip", "training"),
            meta=award,
            postings=(
                _p("Expenses:Training:Livestock:CTIP-2018", "2376000", "KHR"),
                _p("Assets:Cash:Phnom-Penh-KHR", "-2376000", "KHR"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 8, 28),
            narration="Chicken and pig raising training: trainees' transport from Svay Rieng, "
            "Kampong Speu, Prey Veng, Tboung Khmum and Mondulkiri",
            tags=("ctip", "training"),
            meta=award,
            postings=(
                _p("Expenses:Training:Livestock:CTIP-2018", "1155000", "KHR"),
                _p("Assets:Cash:Phnom-Penh-KHR", "-1155000", "KHR"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 8, 29),
            payee="Provincial Department of Agriculture",
            narration="Trainer fee, chicken and pig raising training",
            tags=("ctip", "training"),
            meta=award,
            postings=(
                _p("Expenses:Training:Livestock:CTIP-2018", "180.00", "USD"),
                _p("Assets:Bank:Operating-USD", "-180.00", "USD"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 11, 2),
            narration="Exchange for the Bavet transit centre, 4,110 riel to the dollar",
            links=("fx-2018-11-02",),
            postings=(
                _p("Assets:Bank:Operating-USD", "-800.00", "USD"),
                _p("Assets:Cash:Bavet-KHR", "3288000", "KHR", ("800.00", "USD")),
            ),
        ),
        TransactionDraft(
            date=D(2018, 11, 4),
            narration="Reception of 33 returnees from Long An at Bavet: food and transport home",
            tags=("ctip", "repatriation"),
            links=("repatriation-2018-11-04",),
            meta=award,
            postings=(
                _p("Expenses:Reintegration:Transport:CTIP-2018", "1485000", "KHR"),
                _p("Assets:Cash:Bavet-KHR", "-1485000", "KHR"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 11, 5),
            narration="Exchange for the Poipet drop-in centre, 32.50 baht to the dollar",
            links=("fx-2018-11-05",),
            postings=(
                _p("Assets:Bank:Operating-USD", "-300.00", "USD"),
                _p("Assets:Cash:Poipet-THB", "9750.00", "THB", ("300.00", "USD")),
            ),
        ),
        TransactionDraft(
            date=D(2018, 11, 6),
            narration='Drop-in centre supplies: rice, soap, "safe migration" leaflets',
            tags=("ctip",),
            meta=award,
            postings=(
                _p("Expenses:Reintegration:Drop-In-Centre:CTIP-2018", "2480.00", "THB"),
                _p("Assets:Cash:Poipet-THB", "-2480.00", "THB"),
            ),
        ),
        TransactionDraft(
            date=D(2018, 11, 30),
            payee="Bank",
            narration="Bank charges, November",
            postings=(
                _p("Expenses:Bank-Charges", "5.00", "USD"),
                _p("Assets:Bank:Operating-USD", "-5.00", "USD"),
            ),
        ),
    ]


# Entered twice by mistake, then corrected by a reversal (postings are never edited).
DUPLICATE = TransactionDraft(
    date=D(2018, 11, 6),
    narration="Drop-in centre supplies (entered twice by mistake)",
    tags=("ctip",),
    meta=(("award", AWARD),),
    postings=(
        _p("Expenses:Reintegration:Drop-In-Centre:CTIP-2018", "2480.00", "THB"),
        _p("Assets:Cash:Poipet-THB", "-2480.00", "THB"),
    ),
)


def load_organisation(conn: Connection) -> list[str]:
    """Create the organisation's book and post its transactions. Returns what was done."""
    books.create_book(
        conn,
        ORG_BOOK,
        "CCPCR - Countering Trafficking in Persons livelihood programme",
        "organisation",
        "USD",
    )
    for name, currencies, non_negative in ACCOUNTS:
        books.open_account(conn, ORG_BOOK, name, D(2018, 7, 1), currencies, non_negative)
    drafts = _transactions()
    for draft in drafts:
        journal.post_draft(conn, ORG_BOOK, draft)
    duplicate_id = journal.post_draft(conn, ORG_BOOK, DUPLICATE)
    journal.reverse(
        conn, ORG_BOOK, duplicate_id, D(2018, 11, 7), "Reversal: supplies entered twice"
    )
    # The Bavet cash box was counted at the close of 30 November: 3,288,000 - 1,485,000 riel.
    journal.assert_balance(
        conn, ORG_BOOK, "Assets:Cash:Bavet-KHR", "KHR", D(2018, 11, 30), 1_803_000
    )
    books.set_lock_date(conn, ORG_BOOK, D(2018, 10, 31))
    return [
        f"demo: book {ORG_BOOK!r} with {len(ACCOUNTS)} accounts",
        f"demo: {len(drafts) + 2} transactions (one mistake and its reversal)",
        "demo: Bavet cash count 1,803,000 KHR at 2018-11-30; lock date 2018-10-31",
    ]

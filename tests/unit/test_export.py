"""The Beancount export, checked by Beancount itself: bean-check and the loader.

The scenario is a month of the organisation's book:

    2018-11-01 grant received                 Bank +5,000.00 USD  / Income -5,000.00 USD
    2018-11-04 exchange (total price)         Bank -100.00 USD    / Cash Bavet +410,000 KHR
    2018-11-04 cash count: Bavet holds 410,000 KHR at the end of the day (balance assertion)
    2018-11-05 two pigs bought (unit price)   Pigs +2 PIG @ 75.50  / Bank -151.00 USD
    2018-11-06 training paid by mistake ...   reversed on 2018-11-07
    2018-11-08 petty cash in and out, and the petty cash box closed that same day
    2018-11-30 bank statement: 4,749.00 USD at the end of the day (balance assertion)
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from sqlalchemy import Connection

from ledger.core.errors import LedgerRejected
from ledger.core.transaction import PostingDraft, PriceDraft, TransactionDraft
from ledger.export.beancount import export_book
from ledger.export.beancount_printer import escape_string
from ledger.store import books, journal, queries
from ledger.store.database import Database

D = datetime.date
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
HOSTILE = 'He said "ok" \\ then\nleft;\r\n\ttab ក្រុមសន្សំប្រាក់ \\" end\\'


def draft(
    date: datetime.date,
    narration: str,
    *postings: PostingDraft,
    payee: str | None = None,
    tags: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
    meta: tuple[tuple[str, str], ...] = (),
) -> TransactionDraft:
    return TransactionDraft(
        date=date,
        narration=narration,
        postings=postings,
        payee=payee,
        tags=tags,
        links=links,
        meta=meta,
    )


def post(db: Database, book: str, txn: TransactionDraft, created_by: str | None = None) -> int:
    return db.write(lambda c: journal.post_draft(c, book, txn, created_by=created_by))


def export_text(db: Database, book: str, **options: Any) -> str:
    with db.read() as conn:
        return "".join(export_book(conn, book, **options))


def write_ledger(tmp_path: Path, text: str, name: str = "book.beancount") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False, timeout=60
    )


def load(path: Path) -> tuple[list[Any], list[Any], dict[str, Any]]:
    entries, errors, options = loader.load_file(str(path))
    return entries, errors, options


def transactions_by_id(entries: list[Any]) -> dict[str, Any]:
    return {e.meta["id"]: e for e in entries if isinstance(e, data.Transaction)}


@pytest.fixture
def november(db: Database, org_book: str) -> dict[str, int]:
    """The scenario of the module docstring; returns the ids of its transactions."""

    def frame(conn: Connection) -> None:
        books.open_account(conn, org_book, "Assets:Livestock:Pigs", D(2018, 1, 1), ["PIG"])
        petty = books.open_account(conn, org_book, "Assets:Cash:Petty-USD", D(2018, 1, 1))
        assert petty.close_date is None

    db.write(frame)
    bank, income = "Assets:Bank:Operating-USD", "Income:Grants:CTIP-2018"
    ids = {
        "grant": post(
            db,
            org_book,
            draft(
                D(2018, 11, 1),
                "CTIP grant, first tranche",
                PostingDraft(bank, "5000.00", "USD"),
                PostingDraft(income, "-5000.00", "USD"),
                payee="Winrock International",
                tags=("ctip-2018",),
                links=("award-ctip-2018",),
                meta=(("donor-ref", "AID-442-A-18"), ("note", "ក្រុមសន្សំប្រាក់")),
            ),
            created_by="finance.sokha",
        ),
        "exchange": post(
            db,
            org_book,
            draft(
                D(2018, 11, 4),
                "Exchange for cash disbursements",
                PostingDraft(bank, "-100.00", "USD"),
                PostingDraft(
                    "Assets:Cash:Bavet-KHR",
                    "410000",
                    "KHR",
                    total_price=PriceDraft("100.00", "USD"),
                ),
            ),
        ),
    }
    db.write(
        lambda c: journal.assert_balance(
            c, org_book, "Assets:Cash:Bavet-KHR", "KHR", D(2018, 11, 4), 410000
        )
    )
    ids["pigs"] = post(
        db,
        org_book,
        draft(
            D(2018, 11, 5),
            "Two pigs for household DV-009",
            PostingDraft("Assets:Livestock:Pigs", "2", "PIG", price=PriceDraft("75.50", "USD")),
            PostingDraft(bank, "-151.00", "USD"),
            tags=("in-kind",),
        ),
    )
    ids["mistake"] = post(
        db,
        org_book,
        draft(
            D(2018, 11, 6),
            "Livestock training (wrong amount)",
            PostingDraft("Expenses:Training:Livestock", "20.00", "USD"),
            PostingDraft(bank, "-20.00", "USD"),
            links=("training-kt-03",),
        ),
    )
    ids["reversal"] = db.write(
        lambda c: journal.reverse(c, org_book, ids["mistake"], D(2018, 11, 7))
    )
    petty = "Assets:Cash:Petty-USD"
    ids["petty-in"] = post(
        db,
        org_book,
        draft(
            D(2018, 11, 8),
            "Petty cash",
            PostingDraft(petty, "10.00", "USD"),
            PostingDraft(bank, "-10.00", "USD"),
        ),
    )
    ids["petty-out"] = post(
        db,
        org_book,
        draft(
            D(2018, 11, 8),
            "Petty cash returned; box retired",
            PostingDraft(petty, "-10.00", "USD"),
            PostingDraft(bank, "10.00", "USD"),
        ),
    )

    def close_petty(conn: Connection) -> None:
        account = next(a for a in books.list_accounts(conn, org_book) if a.name == petty)
        books.close_account(conn, org_book, account.id, D(2018, 11, 8))

    db.write(close_petty)
    db.write(lambda c: journal.assert_balance(c, org_book, bank, "USD", D(2018, 11, 30), 474900))
    return ids


def test_scenario_passes_bean_check_and_loads_without_errors(
    db: Database, org_book: str, november: dict[str, int], tmp_path: Path
) -> None:
    text = export_text(db, org_book)
    path = write_ledger(tmp_path, text)
    checked = bean_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    _entries, errors, options = load(path)
    assert errors == []
    assert options["title"] == "CCPCR livelihood programme"
    assert options["operating_currency"] == ["USD"]


def test_scenario_reads_back_as_posted(
    db: Database, org_book: str, november: dict[str, int], tmp_path: Path
) -> None:
    entries, errors, _ = load(write_ledger(tmp_path, export_text(db, org_book)))
    assert errors == []
    txns = transactions_by_id(entries)
    grant = txns[str(november["grant"])]
    assert grant.payee == "Winrock International"
    assert grant.tags == {"ctip-2018"}
    assert grant.links == {"award-ctip-2018"}
    assert grant.meta["created-by"] == "finance.sokha"
    assert grant.meta["donor-ref"] == "AID-442-A-18"
    assert grant.meta["note"] == "ក្រុមសន្សំប្រាក់"

    exchange = txns[str(november["exchange"])]
    assert exchange.payee is None
    khr = exchange.postings[1]
    assert (khr.units.number, khr.units.currency) == (Decimal(410000), "KHR")
    # `@@ 100.00 USD` is read back as a per-unit price; the weight is exact.
    assert khr.price.currency == "USD"
    assert khr.price.number * 410000 == Decimal("100.00")

    pigs = txns[str(november["pigs"])].postings[0]
    assert (pigs.units.number, pigs.units.currency) == (Decimal(2), "PIG")
    assert (pigs.price.number, pigs.price.currency) == (Decimal("75.50"), "USD")

    # The original and its reversal share one link; the reversal names its original.
    original, reversal = txns[str(november["mistake"])], txns[str(november["reversal"])]
    shared = f"reversal-{november['mistake']}"
    assert original.links == {"training-kt-03", shared}
    assert reversal.links == {"training-kt-03", shared}
    assert reversal.meta["reverses"] == str(november["mistake"])
    assert "reverses" not in original.meta

    prices = {
        (p.date, p.currency, p.amount.currency): p.amount.number
        for p in entries
        if isinstance(p, data.Price)
    }
    # In one direction only: 410000 KHR @@ 100.00 USD is the dollar at 4,100 riel, and the
    # inverse (KHR in USD) is not written beside it.
    assert prices[(D(2018, 11, 4), "USD", "KHR")] == Decimal("4100")
    assert (D(2018, 11, 4), "KHR", "USD") not in prices
    assert all((number or 0) >= 1 for number in prices.values())
    assert prices[(D(2018, 11, 5), "PIG", "USD")] == Decimal("75.5")

    closes = [e for e in entries if isinstance(e, data.Close)]
    assert [(c.date, c.account) for c in closes] == [(D(2018, 11, 8), "Assets:Cash:Petty-USD")]
    # Our assertion holds at the end of its day, Beancount's at the start: one day later.
    balances = {(b.date, b.account): b.amount for b in entries if isinstance(b, data.Balance)}
    assert str(balances[(D(2018, 11, 5), "Assets:Cash:Bavet-KHR")]) == "410000 KHR"
    assert str(balances[(D(2018, 12, 1), "Assets:Bank:Operating-USD")]) == "4749.00 USD"


def test_beancount_balances_equal_the_ledger(
    db: Database, org_book: str, november: dict[str, int], tmp_path: Path
) -> None:
    entries, errors, _ = load(write_ledger(tmp_path, export_text(db, org_book)))
    assert errors == []
    beancount_units: dict[tuple[str, str], Decimal] = {}
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                units: Any = p.units
                key = (p.account, units.currency)
                beancount_units[key] = beancount_units.get(key, Decimal(0)) + units.number
    assert {k: v for k, v in beancount_units.items() if v} == {
        ("Assets:Bank:Operating-USD", "USD"): Decimal("4749.00"),
        ("Assets:Cash:Bavet-KHR", "KHR"): Decimal(410000),
        ("Assets:Livestock:Pigs", "PIG"): Decimal(2),
        ("Income:Grants:CTIP-2018", "USD"): Decimal("-5000.00"),
    }
    with db.read() as conn:
        ledger = {(r.account, r.commodity): r.units for r in queries.trial_balance(conn, org_book)}
    assert ledger == {
        ("Assets:Bank:Operating-USD", "USD"): 474900,
        ("Assets:Cash:Bavet-KHR", "KHR"): 410000,
        ("Assets:Livestock:Pigs", "PIG"): 2,
        ("Income:Grants:CTIP-2018", "USD"): -500000,
    }


@pytest.mark.parametrize(
    ("exported", "tampered"),
    [
        # One cent: Beancount's default tolerance would let this pass; the export's is zero.
        (
            "balance Assets:Bank:Operating-USD  4749.00 ~ 0 USD",
            "balance Assets:Bank:Operating-USD  4749.01 ~ 0 USD",
        ),
        ("balance Assets:Cash:Bavet-KHR  410000 KHR", "balance Assets:Cash:Bavet-KHR  409999 KHR"),
    ],
)
def test_a_tampered_balance_makes_bean_check_fail(
    db: Database,
    org_book: str,
    november: dict[str, int],
    tmp_path: Path,
    exported: str,
    tampered: str,
) -> None:
    text = export_text(db, org_book)
    assert text.count(exported) == 1
    path = write_ledger(tmp_path, text.replace(exported, tampered))
    checked = bean_check(path)
    assert checked.returncode == 1
    assert "Balance failed" in checked.stdout + checked.stderr


def test_batches_do_not_change_the_text(
    db: Database, org_book: str, november: dict[str, int]
) -> None:
    with db.read() as conn:
        chunks = list(export_book(conn, org_book, batch_size=1))
    assert "".join(chunks) == export_text(db, org_book)
    # Every transaction, account and assertion came in a chunk of its own: streamed.
    assert len(chunks) > len(november) + 9


def test_hostile_strings_round_trip_exactly(db: Database, org_book: str, tmp_path: Path) -> None:
    txn_id = post(
        db,
        org_book,
        draft(
            D(2018, 11, 9),
            HOSTILE,
            PostingDraft("Expenses:Training:Livestock", "1.00", "USD"),
            PostingDraft("Assets:Bank:Operating-USD", "-1.00", "USD"),
            payee='Quote " and \\ in the "payee"\r\n',
            meta=(("receipt", HOSTILE), ("quoted", '"'), ("slash", "\\"), ("khmer", "ក្រុមសន្សំប្រាក់")),
        ),
        created_by='officer "vanna"',
    )
    path = write_ledger(tmp_path, export_text(db, org_book))
    assert bean_check(path).returncode == 0
    entries, errors, _ = load(path)
    assert errors == []
    txn = transactions_by_id(entries)[str(txn_id)]
    assert txn.narration == HOSTILE
    assert txn.payee == 'Quote " and \\ in the "payee"\r\n'
    assert txn.meta["receipt"] == HOSTILE
    assert txn.meta["quoted"] == '"'
    assert txn.meta["slash"] == "\\"
    assert txn.meta["khmer"] == "ក្រុមសន្សំប្រាក់"
    assert txn.meta["created-by"] == 'officer "vanna"'


def test_book_name_and_commodity_names_are_escaped(db: Database, tmp_path: Path) -> None:
    name = 'Savings group "Kampong Thom 3" \\ ក្រុមសន្សំប្រាក់'
    db.write(lambda c: books.create_book(c, "sg-kt-003", name, "savings_group", "KHR"))
    path = write_ledger(tmp_path, export_text(db, "sg-kt-003"))
    entries, errors, options = load(path)
    assert errors == []
    assert options["title"] == name
    pig = next(e for e in entries if isinstance(e, data.Commodity) and e.currency == "PIG")
    assert pig.meta["name"] == "Pigs, head"
    assert pig.meta["precision"] == 0


def test_escape_string_escapes_backslash_then_quote() -> None:
    assert escape_string('a\\"b') == 'a\\\\\\"b'
    assert escape_string("line\nnext\ttab\r") == "line\nnext\ttab\r"
    assert escape_string("ក្រុមសន្សំប្រាក់") == "ក្រុមសន្សំប្រាក់"


def test_assertion_on_a_parent_account_counts_like_beancount(
    db: Database, org_book: str, tmp_path: Path
) -> None:
    """Beancount checks a parent's balance with its sub-accounts; the ledger, the account alone."""
    db.write(lambda c: books.open_account(c, org_book, "Assets:Bank", D(2018, 1, 1), ["USD"]))
    post(
        db,
        org_book,
        draft(
            D(2018, 11, 1),
            "Interest",
            PostingDraft("Assets:Bank", "3.00", "USD"),
            PostingDraft("Assets:Bank:Operating-USD", "7.00", "USD"),
            PostingDraft("Income:Grants:CTIP-2018", "-10.00", "USD"),
        ),
    )
    db.write(
        lambda c: journal.assert_balance(c, org_book, "Assets:Bank", "USD", D(2018, 11, 1), 300)
    )
    path = write_ledger(tmp_path, export_text(db, org_book))
    assert bean_check(path).returncode == 0
    entries, errors, _ = load(path)
    assert errors == []
    (balance,) = [e for e in entries if isinstance(e, data.Balance)]
    assert (balance.account, str(balance.amount)) == ("Assets:Bank", "10.00 USD")


def test_assertion_on_the_closing_day_is_kept_as_a_comment(
    db: Database, org_book: str, tmp_path: Path
) -> None:
    """Beancount cannot check a balance after a close; the export stays loadable."""

    def close_training(conn: Connection) -> None:
        journal.assert_balance(
            conn, org_book, "Expenses:Training:Livestock", "USD", D(2018, 6, 30), 0
        )
        account = next(
            a
            for a in books.list_accounts(conn, org_book)
            if a.name == "Expenses:Training:Livestock"
        )
        books.close_account(conn, org_book, account.id, D(2018, 6, 30))

    db.write(close_training)
    text = export_text(db, org_book)
    assert (
        "; balance assertion Expenses:Training:Livestock 0.00 USD at the end of 2018-06-30" in text
    )
    path = write_ledger(tmp_path, text)
    assert bean_check(path).returncode == 0


def test_unknown_book_is_rejected(db: Database) -> None:
    with db.read() as conn, pytest.raises(LedgerRejected) as rejected:
        list(export_book(conn, "no-such-book"))
    assert rejected.value.first.code == "book_not_found"

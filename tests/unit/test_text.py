"""Text the ledger keeps exactly, and the few characters it refuses (with a code)."""

from __future__ import annotations

import datetime

import pytest

from ledger.core.amount import validate_commodity
from ledger.core.book import validate_book
from ledger.core.text import validate_text
from ledger.core.transaction import Posting, Transaction, validate_transaction

PRECISIONS = {"USD": 2}


def _txn(**changes: object) -> Transaction:
    base: dict[str, object] = {
        "date": datetime.date(2018, 11, 4),
        "narration": "Transport home",
        "postings": (
            Posting("Expenses:Reintegration:Transport", 500, "USD"),
            Posting("Assets:Bank:Operating-USD", -500, "USD"),
        ),
    }
    base.update(changes)
    return Transaction(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ['"quoted"', "back\\slash", "two\nlines", "crlf\r\n", "tab\there", "ក្រុមសន្សំប្រាក់"],
)
def test_kept_exactly(text: str) -> None:
    assert validate_text(text, 100, "narration") is None


@pytest.mark.parametrize(
    "text", ["nul\x00", "esc\x1b", "del\x7f", "c1\x85", "lone \ud800 surrogate"]
)
def test_refused_with_a_code(text: str) -> None:
    error = validate_text(text, 100, "narration")
    assert error is not None
    assert error.code == "text_control_character"


def test_a_lone_surrogate_in_a_book_name_or_commodity_name_is_refused() -> None:
    assert [e.code for e in validate_book("org", "CCPCR \udc80", "organisation")] == [
        "book_name_invalid"
    ]
    assert [e.code for e in validate_commodity("FEED-KG", 1, "Feed \ud800")] == [
        "text_control_character"
    ]


@pytest.mark.parametrize("code", ["TRUE", "FALSE", "NULL"])
def test_beancount_keywords_are_not_commodity_codes(code: str) -> None:
    assert [e.code for e in validate_commodity(code, 0)] == ["commodity_code_invalid"]


def test_metadata_keys_have_two_characters_as_beancount_reads_them() -> None:
    assert [e.code for e in validate_transaction(_txn(meta=(("r", "R-1"),)), PRECISIONS)] == [
        "meta_key_invalid"
    ]
    assert validate_transaction(_txn(meta=(("rc", "R-1"),)), PRECISIONS) == ()

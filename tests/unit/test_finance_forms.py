"""Reading the finance team's forms (api/pages/finance_forms.py): pure, no database."""

from __future__ import annotations

from decimal import Decimal

from api.pages import finance_forms as forms


def test_empty_rows_are_skipped_and_errors_find_their_row_again() -> None:
    values = {
        "rows": "4",
        "postings[1].account": "Expenses:Bank-Charges",
        "postings[1].amount": "2.00",
        "postings[1].currency": "USD",
        "postings[3].account": "Assets:Bank:Operating-USD",
        "postings[3].amount": "-1.50",
        "postings[3].currency": "USD",
    }
    rows = forms.posting_rows(values)
    assert (rows.count, rows.used) == (4, (1, 3))
    assert rows.sums == (("USD", Decimal("0.50")),)
    assert rows.row_field("postings[1].amount") == "postings[3].amount"
    assert rows.row_field("postings[7].amount") == "postings[7].amount"
    assert rows.row_field("date") == "date"
    assert forms.posting_rows(values, add=True).count == 5
    assert forms.posting_rows({"rows": "100000"}).count == forms.POSTING_ROWS_MAX


def test_an_unbalanced_entry_is_left_to_the_journal_but_a_missing_amount_is_not() -> None:
    state = forms.typed(
        {
            "idempotency_key": "0f8c2c1e-5a55-4c55-9d55-0123456789ab",
            "date": "2018-12-20",
            "narration": "Fee",
            "rows": "2",
            "postings[0].account": "Expenses:Bank-Charges",
            "postings[0].amount": "2.00",
            "postings[0].currency": "USD",
            "postings[1].account": "Assets:Bank:Operating-USD",
            "postings[1].currency": "USD",
        }
    )
    assert state.key == "0f8c2c1e-5a55-4c55-9d55-0123456789ab"
    rows = forms.posting_rows(state.values)
    refused, data = forms.read_transaction(state, rows)
    assert data is None
    assert refused.errors["postings[1].amount"].code == "amount_missing"
    assert refused.values["postings[0].amount"] == "2.00"
    typed = forms.typed({**state.values, "postings[1].amount": "-1.00"})
    _, data = forms.read_transaction(typed, forms.posting_rows(typed.values))
    assert data is not None
    assert [p.amount for p in data.postings] == ["2.00", "-1.00"]


def test_a_malformed_key_is_replaced_and_ids_are_read_strictly() -> None:
    assert forms.typed({"idempotency_key": "<script>"}).key != "<script>"
    assert forms.read_ids("12,13") == [12, 13]
    for bad in ("", "12,,13", "-1", "1e3", "9" * 12):
        assert forms.read_ids(bad) is None

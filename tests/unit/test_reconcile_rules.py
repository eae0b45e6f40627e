"""Reading bank statements and proposing matches: the pure rules, on the sample exports."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from ledger.core.errors import LedgerError
from ledger.demo.statements import ABA_LIKE as ABA
from ledger.demo.statements import ACLEDA_LIKE as ACLEDA
from ledger.reconcile.rules import (
    ColumnMapping,
    ParsedStatement,
    Side,
    fingerprint_lines,
    match_error,
    parse_amount_text,
    parse_statement,
    propose_matches,
    similarity,
)

DATA = Path(__file__).resolve().parents[1] / "data"
D = datetime.date


def parsed(text: str, mapping: ColumnMapping) -> ParsedStatement:
    result = parse_statement(text, mapping, "USD", 2)
    assert isinstance(result, ParsedStatement), result
    return result


def codes(text: str, mapping: ColumnMapping, currency: str = "USD") -> list[str]:
    result = parse_statement(text, mapping, currency, 2)
    assert isinstance(result, list), "expected the statement to be refused"
    return [e.code for e in result]


def test_the_acleda_sample_reads_with_debit_and_credit_columns() -> None:
    statement = parsed((DATA / "statement-acleda-usd.csv").read_text("utf-8"), ACLEDA)
    assert [(line.date, line.units, line.reference) for line in statement.lines] == [
        (D(2018, 7, 2), 500000, "TT180702-0041"),
        (D(2018, 11, 2), -80000, "CHQ-000101"),
        (D(2018, 11, 5), -20000, "CHQ-000102"),
        (D(2018, 11, 30), -200, "FEE-201811"),
    ]
    assert statement.closing_balance == 399800
    assert (statement.first_date, statement.last_date) == (D(2018, 7, 2), D(2018, 11, 30))


def test_the_aba_sample_reads_with_a_signed_amount_and_dollar_signs() -> None:
    statement = parsed((DATA / "statement-aba-usd.csv").read_text("utf-8"), ABA)
    assert [line.units for line in statement.lines] == [150000, -35000, -12000, -3000, 42]
    assert statement.lines[0].date == D(2018, 12, 3)
    assert statement.closing_balance == 100042


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("1234.50", 123450),
        ("1,234.50", 123450),
        ("12,345,678.00", 1234567800),
        ("$1,234.50", 123450),
        ("-$12.00", -1200),
        ("$-12.00", -1200),
        ("(12.00)", -1200),
        ("USD 7.25", 725),
        ("0.42", 42),
    ],
)
def test_amounts_a_bank_prints(text: str, units: int) -> None:
    assert parse_amount_text(text, "USD", 2, "amount") == units


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1,23.00", "statement_amount_invalid"),  # a comma inside a group
        ("1234,50", "statement_amount_invalid"),  # a decimal comma
        ("12,3456.00", "statement_amount_invalid"),
        ("1234.50$", "statement_amount_invalid"),  # a symbol after the number
        ("12$34.00", "statement_amount_invalid"),
        ("USD", "statement_amount_invalid"),
        ("1e3", "statement_amount_invalid"),
        ("៛5000", "statement_currency_mismatch"),  # riel on a dollar account
        ("KHR 5000", "statement_currency_mismatch"),
        ("12.345", "amount_precision_exceeded"),  # never rounded
    ],
)
def test_amounts_refused(text: str, code: str) -> None:
    found = parse_amount_text(text, "USD", 2, "amount")
    assert isinstance(found, LedgerError)
    assert found.code == code


def test_bad_files_are_refused_with_every_row_named() -> None:
    head = "Date,Description,Amount\n"
    mapping = ColumnMapping(date="Date", description="Description", amount="Amount")
    assert codes("", mapping) == ["statement_empty"]
    assert codes(head, mapping) == ["statement_empty"]
    assert codes("Date,Description\n2018-01-01,x\n", mapping) == ["statement_column_missing"]
    bad = head + '2018-02-31,rent,-10.00\n2018-03-01,fee,"1,0.00"\n2018-03-02,ok,5.00\n'
    assert codes(bad, mapping) == ["statement_date_invalid", "statement_amount_invalid"]
    assert codes(head + "2018-03-01,fee,1,0.00\n", mapping) == ["statement_row_width"]
    assert codes(head + "2018-03-01,fee,\n", mapping) == ["statement_amount_missing"]
    assert codes(head + "2018-03-01," + "x" * 2_100 + ",1.00\n", mapping) == [
        "statement_line_too_long"
    ]
    assert codes(head + "2018-03-01,nul\x00,1.00\n", mapping) == ["statement_control_character"]
    many = head + "2018-03-01,fee,1.00\n" * 20_001
    assert codes(many, mapping) == ["statement_too_many_lines"]


def test_a_running_balance_that_does_not_follow_is_refused() -> None:
    mapping = ColumnMapping(
        date="Date", description="Description", amount="Amount", balance="Balance"
    )
    text = "Date,Description,Amount,Balance\n2018-03-01,a,10.00,10.00\n2018-03-02,b,-5.00,15.00\n"
    assert codes(text, mapping) == ["statement_balance_inconsistent"]


def test_a_mapping_needs_amount_or_debit_and_credit() -> None:
    text = "Date,Description,Debit\n2018-03-01,a,1.00\n"
    half = ColumnMapping(date="Date", description="Description", debit="Debit")
    assert codes(text, half) == ["mapping_amount_columns"]
    odd = ColumnMapping(date="Date", description="Description", amount="Debit", date_format="x")
    assert codes(text, odd) == ["date_format_unknown"]


def test_fingerprints_survive_a_re_import_and_tell_twin_lines_apart() -> None:
    text = "Date,Description,Amount\n2018-03-01,ATM,-20.00\n2018-03-01,ATM,-20.00\n"
    mapping = ColumnMapping(date="Date", description="Description", amount="Amount")
    first = fingerprint_lines(parsed(text, mapping).lines, "USD")
    again = fingerprint_lines(parsed(text, mapping).lines, "USD")
    assert first == again
    assert len(set(first)) == 2  # two withdrawals of 20.00 on one day are two lines


def side(id_: int, day: int, units: int, text: str = "", reference: str = "") -> Side:
    return Side(id_, D(2018, 12, day), units, text, reference)


def test_one_to_one_prefers_the_same_reference_then_the_nearer_date() -> None:
    lines = [side(1, 10, -5000, "Payment FT1", "FT1"), side(2, 11, -5000, "Payment FT2", "FT2")]
    postings = [
        side(11, 11, -5000, "Feed, bank ref FT2"),
        side(12, 10, -5000, "Feed, bank ref FT1"),
    ]
    proposals = propose_matches(lines, postings)
    assert {(p.line_ids, p.posting_ids) for p in proposals} == {((1,), (12,)), ((2,), (11,))}
    assert all(p.kind == "one_to_one" for p in proposals)
    assert similarity(lines[0], postings[1]) == 1.0


def test_outside_the_window_or_another_amount_is_not_proposed() -> None:
    lines = [side(1, 1, -5000)]
    assert propose_matches(lines, [side(11, 9, -5000)], window_days=5) == []
    assert propose_matches(lines, [side(11, 1, -5001)]) == []


def test_one_line_to_many_postings_and_many_lines_to_one() -> None:
    lines = [side(1, 10, -35000, "Feed supplier"), side(2, 14, -12000), side(3, 14, -3000)]
    postings = [side(11, 10, -20000), side(12, 10, -15000), side(13, 14, -15000)]
    proposals = propose_matches(lines, postings)
    assert [(p.kind, p.line_ids, p.posting_ids) for p in proposals] == [
        ("one_line_to_many", (1,), (11, 12)),
        ("many_lines_to_one", (2, 3), (13,)),
    ]


def test_a_rejected_pair_is_not_proposed_again() -> None:
    lines = [side(1, 10, -5000)]
    postings = [side(11, 10, -5000), side(12, 12, -5000)]
    assert propose_matches(lines, postings)[0].posting_ids == (11,)
    again = propose_matches(lines, postings, rejected=frozenset({(1, 11)}))
    assert [p.posting_ids for p in again] == [(12,)]


def test_a_match_adds_up_and_is_never_many_to_many() -> None:
    one, two = side(1, 1, -100), side(2, 1, -200)
    assert match_error([one], [side(11, 1, -100)]) is None
    assert match_error([one, two], [side(11, 1, -300)]) is None
    assert match_error([one], [side(11, 1, -101)]).code == "match_amounts_differ"  # type: ignore[union-attr]
    many = match_error([one, two], [side(11, 1, -100), side(12, 1, -200)])
    assert many is not None
    assert many.code == "match_many_to_many"
    assert match_error([], [side(11, 1, -100)]).code == "match_incomplete"  # type: ignore[union-attr]

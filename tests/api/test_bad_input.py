"""Every bad input of the issue: a specific 4xx with a stable code, and nothing changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api.conftest import balances, exchange, transaction_ids


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the value at a dotted path (list indexes as digits) replaced."""
    changed = copy.deepcopy(body)
    target: Any = changed
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def _posting(account: str, amount: Any, currency: str = "USD") -> dict[str, Any]:
    return {"account": account, "amount": amount, "currency": currency}


BANK = "Assets:Bank:Operating-USD"
INCOME = "Income:Restricted:USAID-CTIP"


def _simple(amount: Any = "5.00", account: str = BANK, currency: str = "USD") -> dict[str, Any]:
    negated = f"-{amount}" if isinstance(amount, str) and not amount.startswith("-") else amount
    return {
        "date": "2018-11-04",
        "narration": "Bad input probe",
        "postings": [_posting(account, amount, currency), _posting(INCOME, negated, currency)],
    }


BAD_TRANSACTIONS: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "unbalanced",
        {
            "date": "2018-11-04",
            "narration": "x",
            "postings": [_posting(BANK, "5.00"), _posting(INCOME, "-4.99")],
        },
        422,
        "transaction_not_balanced",
    ),
    (
        "one posting",
        {"date": "2018-11-04", "narration": "x", "postings": [_posting(BANK, "5.00")]},
        422,
        "too_few_postings",
    ),
    ("too many digits for USD", _simple("5.001"), 422, "amount_precision_exceeded"),
    (
        "fraction of a riel",
        _with(exchange(), "postings.1.amount", "410000.5"),
        422,
        "amount_precision_exceeded",
    ),
    ("unknown commodity", _simple("5.00", currency="EUR"), 422, "commodity_unknown"),
    ("unknown account", _simple("5.00", account="Assets:Bank:Nowhere"), 422, "account_unknown"),
    ("non-numeric amount", _simple("five dollars"), 422, "amount_invalid"),
    ("float amount", _with(_simple(), "postings.0.amount", 5.0), 422, "request_invalid"),
    ("integer amount", _with(_simple(), "postings.0.amount", 5), 422, "request_invalid"),
    ("30-digit amount", _simple("1" * 30 + ".00"), 422, "amount_too_large"),
    ("10,000-digit amount", _simple("9" * 10_000), 422, "request_invalid"),
    ("15-digit amount", _simple("9" * 15 + ".00"), 422, "amount_too_large"),
    ("exponent", _simple("1e3"), 422, "amount_invalid"),
    ("thousands separator", _simple("1,000.00"), 422, "amount_invalid"),
    ("February 30th", _with(_simple(), "date", "2018-02-30"), 422, "request_invalid"),
    ("not a date", _with(_simple(), "date", "yesterday"), 422, "request_invalid"),
    ("lowercase root", _simple(account="assets:Bank:Operating-USD"), 422, "account_name_invalid"),
    ("space in name", _simple(account="Assets:Bank:Operating USD"), 422, "account_name_invalid"),
    ("Khmer in name", _simple(account="Assets:Cash:បាវិត"), 422, "account_name_invalid"),
    (
        "65 postings",
        {
            "date": "2018-11-04",
            "narration": "x",
            "postings": [_posting(BANK, "0.01")] * 64 + [_posting(INCOME, "-0.64")],
        },
        422,
        "too_many_postings",
    ),
    (
        "NUL in narration",
        _with(_simple(), "narration", "cash\x00box"),
        422,
        "text_control_character",
    ),
    ("unknown field", _with(_simple(), "amount_usd", "5"), 422, "request_invalid"),
    (
        "both prices",
        _with(exchange(), "postings.1.price", {"amount": "0.0002", "currency": "USD"}),
        422,
        "price_conflict",
    ),
    ("reserved meta key", _with(_simple(), "meta", {"id": "7"}), 422, "meta_key_invalid"),
    ("bad tag", _with(_simple(), "tags", ["has space"]), 422, "tag_invalid"),
    ("zero amount", _simple("0.00"), 422, "amount_zero"),
    (
        "account not open yet",
        _with(_simple(account="Expenses:Training:Livestock"), "date", "2018-05-31"),
        422,
        "account_not_open",
    ),
    (
        "currency not allowed",
        _with(exchange(), "postings.1.account", "Assets:Cash:Poipet-THB"),
        422,
        "currency_not_allowed",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [case[1:] for case in BAD_TRANSACTIONS],
    ids=[case[0] for case in BAD_TRANSACTIONS],
)
def test_bad_transaction_is_refused_and_changes_nothing(
    client: TestClient[Any], org: str, body: dict[str, Any], status: int, code: str
) -> None:
    before = (balances(client, org), transaction_ids(client, org))
    response = client.post(f"/api/books/{org}/transactions", json=body)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"].endswith(code)
    assert (balances(client, org), transaction_ids(client, org)) == before


def test_malformed_json_is_422(client: TestClient[Any], org: str) -> None:
    response = client.post(
        f"/api/books/{org}/transactions",
        content=b'{"date": "2018-11-04", "postings": [',
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.json()["code"] in ("request_invalid", "bad_request")


def test_posting_on_or_before_the_lock_date(client: TestClient[Any], org: str) -> None:
    assert (
        client.put(f"/api/books/{org}/lock-date", json={"lock_date": "2018-11-04"}).status_code
        == 200
    )
    before = balances(client, org)
    on = client.post(f"/api/books/{org}/transactions", json=_simple())
    assert on.status_code == 409
    assert on.json()["code"] == "period_locked"
    earlier = client.post(
        f"/api/books/{org}/transactions", json=_with(_simple(), "date", "2018-01-02")
    )
    assert earlier.json()["code"] == "period_locked"
    assert balances(client, org) == before


def test_closed_account_refuses_postings(client: TestClient[Any], org: str) -> None:
    accounts = {
        a["name"]: a["id"] for a in client.get(f"/api/books/{org}/accounts").json()["items"]
    }
    closing = client.post(
        f"/api/books/{org}/accounts/{accounts['Expenses:Training:Livestock']}/close",
        json={"date": "2018-10-31"},
    )
    assert closing.status_code == 200
    response = client.post(
        f"/api/books/{org}/transactions", json=_simple(account="Expenses:Training:Livestock")
    )
    assert response.status_code == 409
    assert response.json()["code"] == "account_closed"


def test_closing_an_account_with_money_in_it(client: TestClient[Any], org: str) -> None:
    accounts = {
        a["name"]: a["id"] for a in client.get(f"/api/books/{org}/accounts").json()["items"]
    }
    response = client.post(
        f"/api/books/{org}/accounts/{accounts[BANK]}/close", json={"date": "2018-12-31"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "account_not_empty"


def test_reversing_twice_and_reversing_a_reversal(client: TestClient[Any], org: str) -> None:
    original = client.post(f"/api/books/{org}/transactions", json=_simple()).json()["id"]
    reversal = client.post(
        f"/api/books/{org}/transactions/{original}/reverse", json={"date": "2018-11-05"}
    )
    assert reversal.status_code == 201
    before = balances(client, org)
    again = client.post(
        f"/api/books/{org}/transactions/{original}/reverse", json={"date": "2018-11-05"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_reversed")
    of_reversal = client.post(
        f"/api/books/{org}/transactions/{reversal.json()['id']}/reverse",
        json={"date": "2018-11-05"},
    )
    assert (of_reversal.status_code, of_reversal.json()["code"]) == (409, "reversal_not_reversible")
    assert balances(client, org) == before


def test_cash_box_cannot_go_below_zero(client: TestClient[Any], org: str) -> None:
    assert client.post(f"/api/books/{org}/transactions", json=exchange()).status_code == 201
    before = (balances(client, org), transaction_ids(client, org))
    overdraw = {
        "date": "2018-11-05",
        "narration": "Transport home for returnees",
        "postings": [
            _posting("Expenses:Reintegration:Transport", "410001", "KHR"),
            _posting("Assets:Cash:Bavet-KHR", "-410001", "KHR"),
        ],
    }
    response = client.post(f"/api/books/{org}/transactions", json=overdraw)
    assert response.status_code == 409
    assert response.json()["code"] == "account_overdrawn"
    assert (balances(client, org), transaction_ids(client, org)) == before


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/books/nowhere", "book_not_found"),
        ("/api/books/nowhere/balances", "book_not_found"),
        ("/api/books/nowhere/transactions", "book_not_found"),
        ("/api/books/org/transactions/999999", "transaction_not_found"),
        ("/api/books/nowhere/export.beancount", "book_not_found"),
        ("/api/no-such-route", "not_found"),
    ],
)
def test_not_found_is_404_problem(client: TestClient[Any], org: str, path: str, code: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == code


def test_bad_book_and_account_requests(
    client: TestClient[Any], org: str, admin_headers: dict[str, str]
) -> None:
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (
            "/api/books",
            {"code": "Org Book", "name": "x", "kind": "organisation", "operating_currency": "USD"},
            422,
            "book_code_invalid",
        ),
        (
            "/api/books",
            {"code": "org", "name": "again", "kind": "organisation", "operating_currency": "USD"},
            409,
            "book_exists",
        ),
        (
            "/api/books",
            {"code": "x1", "name": "x", "kind": "company", "operating_currency": "USD"},
            422,
            "book_kind_invalid",
        ),
        (
            "/api/books",
            {"code": "x2", "name": "x", "kind": "household", "operating_currency": "EUR"},
            422,
            "commodity_unknown",
        ),
        (
            "/api/books/org/accounts",
            {"name": "Assets:Bank:Operating-USD", "open_date": "2018-01-01"},
            409,
            "account_exists",
        ),
        (
            "/api/books/org/accounts",
            {"name": "Cash:Box", "open_date": "2018-01-01"},
            422,
            "account_name_invalid",
        ),
        (
            "/api/books/org/accounts",
            {"name": "Assets:Cash:New", "open_date": "2018-01-01", "currencies": ["XYZ"]},
            422,
            "commodity_unknown",
        ),
        ("/api/commodities", {"code": "usd", "precision": 2}, 422, "commodity_code_invalid"),
        ("/api/commodities", {"code": "USD", "precision": 2}, 409, "commodity_exists"),
        ("/api/commodities", {"code": "EUR", "precision": 9}, 422, "request_invalid"),
    ]
    for path, body, status, code in cases:
        headers = admin_headers if path == "/api/books" else None
        response = client.post(path, json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (status, code), (
            path,
            body,
            response.text,
        )


def test_bad_query_parameters(client: TestClient[Any], org: str) -> None:
    bad_date = client.get(f"/api/books/{org}/balances", params={"as_of": "2018-02-30"})
    assert (bad_date.status_code, bad_date.json()["code"]) == (422, "request_invalid")
    bad_cursor = client.get(f"/api/books/{org}/transactions", params={"cursor": "not-a-cursor"})
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (422, "cursor_invalid")
    too_many = client.get(f"/api/books/{org}/transactions", params={"limit": 100000})
    assert (too_many.status_code, too_many.json()["code"]) == (422, "request_invalid")


def test_oversized_body_is_413(client: TestClient[Any], org: str) -> None:
    body = _simple()
    body["narration"] = "x" * (2 * 1024 * 1024)
    response = client.post(f"/api/books/{org}/transactions", json=body)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


HOSTILE_TEXT = 'He said "ok" \\ then\nleft; ក្រុមសន្សំប្រាក់ ភូមិ\tតាកែវ\r\nend'


def test_hostile_text_is_kept_exactly(client: TestClient[Any], org: str) -> None:
    body = _simple()
    body["narration"] = HOSTILE_TEXT
    body["payee"] = 'Mr "Quote" \\ Backslash'
    body["meta"] = {"note": HOSTILE_TEXT, "case": "DV-009"}
    created = client.post(f"/api/books/{org}/transactions", json=body)
    assert created.status_code == 201, created.text
    stored = client.get(f"/api/books/{org}/transactions/{created.json()['id']}").json()
    assert stored["narration"] == HOSTILE_TEXT
    assert stored["payee"] == 'Mr "Quote" \\ Backslash'
    assert stored["meta"]["note"] == HOSTILE_TEXT

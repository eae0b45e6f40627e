"""The main flow over HTTP: post, read back, list with filters, reverse, balances."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import balances, exchange, transaction_ids


def test_post_the_issue_example_and_read_it_back(client: TestClient[Any], org: str) -> None:
    response = client.post(f"/api/books/{org}/transactions", json=exchange())
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created["id"], int)
    assert created["postings"][1] == {
        "account": "Assets:Cash:Bavet-KHR",
        "amount": "410000",
        "currency": "KHR",
        "total_price": {"amount": "100.00", "currency": "USD"},
    }
    assert created["meta"] == {"case": "DV-009"}
    again = client.get(f"/api/books/{org}/transactions/{created['id']}")
    assert again.status_code == 200
    assert again.json() == created
    assert balances(client, org) == {
        ("Assets:Bank:Operating-USD", "USD"): "900.00",
        ("Assets:Cash:Bavet-KHR", "KHR"): "410000",
        ("Income:Restricted:USAID-CTIP", "USD"): "-1000.00",
        # The exchange balances by weight; the trial balance shows the conversion.
        ("Equity:Conversions:Current", "KHR"): "-410000",
        ("Equity:Conversions:Current", "USD"): "100.00",
    }


def test_the_answer_to_a_post_is_what_reading_it_back_gives(
    client: TestClient[Any], org: str
) -> None:
    """The POST answers from what it posted (no read-back): tags and links once each and
    sorted, metadata sorted by key, prices and amounts as the commodities print them."""
    body = {
        "date": "2018-11-06",
        "payee": "Bavet market",
        "narration": 'Feed for "Sow 3"\nand piglets',
        "tags": ["ctip", "Z-last", "a-first", "ctip"],
        "links": ["fx-2018-11-06", "case-DV-009", "fx-2018-11-06"],
        "meta": {"visit": "3", "case": "DV-009", "batch": "B-2018.11"},
        "postings": [
            {
                "account": "Assets:Cash:Bavet-KHR",
                "amount": "4000",
                "currency": "KHR",
                "price": {"amount": "0.000250", "currency": "USD"},
            },
            {
                "account": "Assets:Cash:Poipet-THB",
                "amount": "35.00",
                "currency": "THB",
                "total_price": {"amount": "1.00", "currency": "USD"},
            },
            {"account": "Assets:Bank:Operating-USD", "amount": "-2", "currency": "USD"},
        ],
    }
    posted = client.post(f"/api/books/{org}/transactions", json=body)
    assert posted.status_code == 201, posted.text
    created = posted.json()
    assert created["tags"] == ["Z-last", "a-first", "ctip"]
    assert created["links"] == ["case-DV-009", "fx-2018-11-06"]
    assert list(created["meta"]) == ["batch", "case", "visit"]
    assert created["postings"][0]["price"] == {"amount": "0.000250", "currency": "USD"}
    assert created["postings"][2]["amount"] == "-2.00"
    read_back = client.get(f"/api/books/{org}/transactions/{created['id']}")
    assert read_back.status_code == 200
    assert read_back.content == posted.content


def test_trial_balance_sums_to_zero_per_currency(client: TestClient[Any], org: str) -> None:
    client.post(f"/api/books/{org}/transactions", json=exchange())
    totals: dict[str, int] = {}
    for (_account, currency), amount in balances(client, org).items():
        cents = int(amount.replace(".", ""))
        totals[currency] = totals.get(currency, 0) + cents
    assert set(totals.values()) == {0}


def test_as_of_balance_excludes_later_postings(client: TestClient[Any], org: str) -> None:
    client.post(f"/api/books/{org}/transactions", json=exchange())
    before = balances(client, org, as_of="2018-11-03")
    assert before[("Assets:Bank:Operating-USD", "USD")] == "1000.00"
    assert ("Assets:Cash:Bavet-KHR", "KHR") not in before
    assert balances(client, org, as_of="2018-11-04")[("Assets:Cash:Bavet-KHR", "KHR")] == "410000"


def test_reverse_once_links_to_the_original(client: TestClient[Any], org: str) -> None:
    original = client.post(f"/api/books/{org}/transactions", json=exchange()).json()
    reversed_ = client.post(
        f"/api/books/{org}/transactions/{original['id']}/reverse", json={"date": "2018-11-05"}
    )
    assert reversed_.status_code == 201, reversed_.text
    reversal = reversed_.json()
    assert reversal["reverses"] == original["id"]
    assert reversal["postings"][0]["amount"] == "100.00"
    assert (
        client.get(f"/api/books/{org}/transactions/{original['id']}").json()["reversed_by"]
        == (reversal["id"])
    )
    assert ("Assets:Cash:Bavet-KHR", "KHR") not in balances(client, org)
    twice = client.post(
        f"/api/books/{org}/transactions/{original['id']}/reverse", json={"date": "2018-11-06"}
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_reversed"


def test_list_filters_and_keyset_pages(client: TestClient[Any], org: str) -> None:
    for day in range(1, 6):
        body = exchange("-10.00", "41000")
        body["date"] = f"2018-12-0{day}"
        body["tags"] = ["ctip", f"day-{day}"]
        body["meta"] = {"case": f"DV-00{day}"}
        assert client.post(f"/api/books/{org}/transactions", json=body).status_code == 201
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "account": "Assets:Cash:Bavet-KHR"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/api/books/{org}/transactions", params=params).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert seen == sorted(seen)
    by_tag = client.get(f"/api/books/{org}/transactions", params={"tag": "day-3"}).json()["items"]
    assert [t["date"] for t in by_tag] == ["2018-12-03"]
    by_meta = client.get(
        f"/api/books/{org}/transactions", params={"meta_key": "case", "meta_value": "DV-004"}
    ).json()["items"]
    assert [t["meta"]["case"] for t in by_meta] == ["DV-004"]
    window = client.get(
        f"/api/books/{org}/transactions",
        params={"date_from": "2018-12-02", "date_to": "2018-12-03"},
    ).json()["items"]
    assert len(window) == 2
    by_link = client.get(f"/api/books/{org}/transactions", params={"link": "fx-2018-11-04"}).json()[
        "items"
    ]
    assert len(by_link) == 5
    assert len(transaction_ids(client, org)) == 6


def test_books_accounts_and_commodities(client: TestClient[Any], org: str) -> None:
    assert client.get("/api/books").json()["items"][0]["code"] == org
    book = client.get(f"/api/books/{org}").json()
    assert book["kind"] == "organisation"
    assert book["operating_currency"] == "USD"
    codes = {c["code"]: c["precision"] for c in client.get("/api/commodities").json()["items"]}
    assert codes["KHR"] == 0
    assert codes["USD"] == 2
    assert codes["PIG"] == 0
    created = client.post(
        "/api/commodities", json={"code": "FEED-KG", "precision": 1, "name": "Feed, kg"}
    )
    assert created.status_code == 201
    accounts = {a["name"]: a for a in client.get(f"/api/books/{org}/accounts").json()["items"]}
    assert accounts["Assets:Cash:Bavet-KHR"]["non_negative"] is True
    assert accounts["Assets:Cash:Bavet-KHR"]["currencies"] == ["KHR"]
    empty = accounts["Expenses:Training:Livestock"]
    closed = client.post(
        f"/api/books/{org}/accounts/{empty['id']}/close", json={"date": "2018-12-31"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["close_date"] == "2018-12-31"


def test_lock_date_moves_forward_only(client: TestClient[Any], org: str) -> None:
    moved = client.put(f"/api/books/{org}/lock-date", json={"lock_date": "2018-10-31"})
    assert moved.status_code == 200
    assert moved.json()["lock_date"] == "2018-10-31"
    back = client.put(f"/api/books/{org}/lock-date", json={"lock_date": "2018-09-30"})
    assert back.status_code == 409
    assert back.json()["code"] == "lock_date_backwards"


def test_balance_assertion_is_checked(client: TestClient[Any], org: str) -> None:
    client.post(f"/api/books/{org}/transactions", json=exchange())
    wrong = client.post(
        f"/api/books/{org}/balance-assertions",
        json={
            "account": "Assets:Cash:Bavet-KHR",
            "currency": "KHR",
            "amount": "400000",
            "date": "2018-11-30",
        },
    )
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "balance_assertion_failed"
    right = client.post(
        f"/api/books/{org}/balance-assertions",
        json={
            "account": "Assets:Cash:Bavet-KHR",
            "currency": "KHR",
            "amount": "410000",
            "date": "2018-11-30",
        },
    )
    assert right.status_code == 201, right.text
    late = exchange()
    late["date"] = "2018-11-20"
    refused = client.post(f"/api/books/{org}/transactions", json=late)
    assert refused.status_code == 409
    assert refused.json()["code"] == "balance_asserted"


def test_health(client: TestClient[Any]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"

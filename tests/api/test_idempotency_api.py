"""Field officers retry on bad connections: the same Idempotency-Key never posts twice."""

from __future__ import annotations

import threading
from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import balances, exchange, transaction_ids


def test_same_key_same_body_returns_the_first_response(client: TestClient[Any], org: str) -> None:
    headers = {"Idempotency-Key": "phone-7f3a-0001"}
    first = client.post(f"/api/books/{org}/transactions", json=exchange(), headers=headers)
    second = client.post(f"/api/books/{org}/transactions", json=exchange(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers.get("idempotent-replayed") == "true"
    assert len(transaction_ids(client, org)) == 2  # the funding and one exchange


def test_same_key_different_body_is_409(client: TestClient[Any], org: str) -> None:
    headers = {"Idempotency-Key": "phone-7f3a-0002"}
    assert (
        client.post(f"/api/books/{org}/transactions", json=exchange(), headers=headers).status_code
        == 201
    )
    before = (balances(client, org), transaction_ids(client, org))
    other = client.post(
        f"/api/books/{org}/transactions", json=exchange("-200.00", "820000"), headers=headers
    )
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert (balances(client, org), transaction_ids(client, org)) == before


def test_a_refused_request_does_not_burn_its_key(client: TestClient[Any], org: str) -> None:
    headers = {"Idempotency-Key": "phone-7f3a-0003"}
    refused = client.post(
        f"/api/books/{org}/transactions", json=exchange("-100.00", "410000.5"), headers=headers
    )
    assert refused.status_code == 422
    fixed = client.post(f"/api/books/{org}/transactions", json=exchange(), headers=headers)
    assert fixed.status_code == 201


def test_keys_are_scoped_to_the_endpoint(client: TestClient[Any], org: str) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    body = {"code": "EUR", "precision": 2, "name": "Euro"}
    assert client.post("/api/commodities", json=body, headers=headers).status_code == 201
    assert (
        client.post(f"/api/books/{org}/transactions", json=exchange(), headers=headers).status_code
        == 201
    )


def test_racing_retries_create_exactly_one_transaction(client: TestClient[Any], org: str) -> None:
    headers = {"Idempotency-Key": "phone-race-0001"}
    responses: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def send() -> None:
        response = client.post(f"/api/books/{org}/transactions", json=exchange(), headers=headers)
        with lock:
            responses.append((response.status_code, response.content))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in responses} == {201}
    assert len({body for _, body in responses}) == 1
    assert len(transaction_ids(client, org)) == 2

"""Many writers on one riel cash box over HTTP: no lost update, never below zero."""

from __future__ import annotations

import threading
from typing import Any

from litestar.testing import TestClient

from tests.api.conftest import balances, exchange


def test_many_writers_never_overdraw_the_cash_box(client: TestClient[Any], org: str) -> None:
    assert (
        client.post(f"/api/books/{org}/transactions", json=exchange("-10.00", "41000")).status_code
        == 201
    )
    statuses: list[int] = []
    lock = threading.Lock()

    def spend(worker: int) -> None:
        for attempt in range(10):
            response = client.post(
                f"/api/books/{org}/transactions",
                json={
                    "date": "2018-11-05",
                    "narration": f"Moto-taxi for a returnee, worker {worker} trip {attempt}",
                    "postings": [
                        {
                            "account": "Expenses:Reintegration:Transport",
                            "amount": "1000",
                            "currency": "KHR",
                        },
                        {"account": "Assets:Cash:Bavet-KHR", "amount": "-1000", "currency": "KHR"},
                    ],
                },
            )
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) == 41
    assert statuses.count(409) == 60 - 41
    final = balances(client, org)
    assert ("Assets:Cash:Bavet-KHR", "KHR") not in final  # exactly zero
    assert final[("Expenses:Reintegration:Transport", "KHR")] == "41000"

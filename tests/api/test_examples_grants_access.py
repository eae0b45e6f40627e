"""Every example request of the grants, donor funds, trainings, sign-in and user operations,
as /schema shows it, is accepted when sent in the order a newcomer would send them."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import bearer, make_client
from tests.api.grants_world import household, ok

ORG = {"code": "org", "name": "CCPCR", "kind": "organisation", "operating_currency": "USD"}
ACCOUNTS = (("Assets:Bank:Operating-USD", "USD"), ("Assets:Cash:Bavet-KHR", "KHR"))
FINANCE = {"username": "sopheap.finance", "password": "a long finance password", "role": "finance"}
PAID_IN_FULL = {
    "date": "2019-01-20",
    "method": "cash",
    "paid_from": "Assets:Bank:Operating-USD",
    "amount": "300.00",
}


class Examples:
    """The example bodies of /schema/openapi.json, by method and path."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.paths: dict[str, Any] = client.get("/schema/openapi.json").json()["paths"]

    def __call__(self, method: str, path: str) -> list[dict[str, Any]]:
        body = self.paths[path][method]["requestBody"]["content"]["application/json"]
        found: list[dict[str, Any]] = body["schema"]["examples"]
        assert found, f"{method} {path}"
        return found

    def one(self, method: str, path: str) -> dict[str, Any]:
        (only,) = self(method, path)
        return only


def sign_in(client: TestClient[Any], body: dict[str, Any]) -> dict[str, str]:
    token = ok(client.post("/api/auth/login", json=body), 200)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_example_is_accepted(db: Database) -> None:
    with make_client(db) as client:
        example = Examples(client)
        admin = bearer(db, "admin", "admin")
        ok(client.post("/api/books", json=ORG, headers=admin))
        ok(client.post("/api/users", json=FINANCE, headers=admin))
        officer_user = ok(
            client.post("/api/users", json=example.one("post", "/api/users"), headers=admin)
        )
        client.headers.update(sign_in(client, example.one("post", "/api/auth/login")))
        for name, currency in ACCOUNTS:
            account = {"name": name, "open_date": "2018-01-01", "currencies": [currency]}
            ok(client.post("/api/books/org/accounts", json=account))
        officer = sign_in(
            client, {"username": officer_user["username"], "password": "a long officer password"}
        )
        ok(client.post("/api/awards", json=example.one("post", "/api/awards")))
        award = "/api/awards/{award}"
        ok(
            client.post(
                "/api/awards/CTIP-2018/budget-lines",
                json=example.one("post", award + "/budget-lines"),
            )
        )
        ok(
            client.post(
                "/api/awards/CTIP-2018/receipts", json=example.one("post", award + "/receipts")
            )
        )
        ok(client.post("/api/exchanges", json=example.one("post", "/api/exchanges")))
        ok(
            client.post(
                "/api/awards/CTIP-2018/expenses", json=example.one("post", award + "/expenses")
            )
        )
        ok(client.post("/api/households", json=household(), headers=officer))
        grant_examples(client, example, officer)
        training_examples(client, example, officer)
        user_examples(client, example, admin, officer_user["id"])


def grant_examples(client: TestClient[Any], example: Examples, officer: dict[str, str]) -> None:
    grant = "/api/grants/{grant_id}"
    first, second = (
        ok(client.post("/api/grants", json=example.one("post", "/api/grants"), headers=officer))[
            "id"
        ]
        for _ in range(2)
    )
    for grant_id in (first, second):
        ok(
            client.post(
                f"/api/grants/{grant_id}/approve", json=example.one("post", grant + "/approve")
            ),
            200,
        )
    paid = [
        ok(client.post(f"/api/grants/{first}/disbursements", json=body))["id"]
        for body in example("post", grant + "/disbursements")
    ]
    reverse = grant + "/disbursements/{disbursement_id}/reverse"
    ok(
        client.post(
            f"/api/grants/{first}/disbursements/{paid[0]}/reverse",
            json=example.one("post", reverse),
        ),
        200,
    )
    cancelled = client.post(
        f"/api/grants/{first}/cancel", json=example.one("post", grant + "/cancel")
    )
    assert ok(cancelled, 200)["status"] == "cancelled"
    ok(client.post(f"/api/grants/{second}/disbursements", json=PAID_IN_FULL))
    closed = client.post(f"/api/grants/{second}/close", json=example.one("post", grant + "/close"))
    assert ok(closed, 200)["status"] == "closed"


def training_examples(client: TestClient[Any], example: Examples, officer: dict[str, str]) -> None:
    training = "/api/trainings/{training_id}"
    made = ok(
        client.post("/api/trainings", json=example.one("post", "/api/trainings"), headers=officer)
    )
    path = f"/api/trainings/{made['id']}"
    for part in ("participants", "attendance", "costs"):
        ok(
            client.post(
                f"{path}/{part}", json=example.one("post", f"{training}/{part}"), headers=officer
            )
        )


def user_examples(
    client: TestClient[Any], example: Examples, admin: dict[str, str], user_id: int
) -> None:
    user = "/api/users/{user_id}"
    reset = example.one("post", user + "/password")
    ok(client.post(f"/api/users/{user_id}/password", json=reset, headers=admin), 200)
    scopes = example.one("put", user + "/scopes")
    assert ok(client.put(f"/api/users/{user_id}/scopes", json=scopes, headers=admin), 200)["scopes"]
    ok(client.post("/api/auth/tokens", json=example.one("post", "/api/auth/tokens")))
    change = example.one("post", "/api/auth/password")
    ok(client.post("/api/auth/password", json=change), 200)
    sign_in(client, {"username": "sopheap.finance", "password": change["new_password"]})

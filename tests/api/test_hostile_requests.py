"""Hostile requests the security probe sent, answered with a 4xx and a stable code.

- JSON nested ~1,000 deep made msgspec raise RecursionError: a 500 and ~30 log lines per
  request, on the public sign-in route too. Now 400 `json_too_deep`, one short log line.
- `after=9223372036854775808` (and on PostgreSQL anything from 2^31) on the list routes was a
  500 from the driver. Every integer query parameter of every route (ids, cursors, counts) is
  bounded in one place (`api.requests`): 422 `request_invalid`.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, get_args, get_type_hints

import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import func, select

from ledger.store.database import Database
from ledger.store.tables import audit_events, transactions
from tests.api.conftest import PASSWORD, bearer, exchange, make_client

DEEP = 1_000
OUT_OF_RANGE = ("2147483648", "9223372036854775808", "-9223372036854775809", "9" * 5_000)


def _deep(depth: int) -> bytes:
    return b'{"username": ' + b"[" * depth + b"]" * depth + b', "password": "x"}'


def _counts(db: Database) -> tuple[int, int]:
    with db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(transactions)).scalar_one(),
            conn.execute(select(func.count()).select_from(audit_events)).scalar_one(),
        )


def test_json_nested_a_thousand_deep_is_400_with_one_log_line_at_most(
    db: Database, client: TestClient[Any], org: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = _counts(db)
    caplog.set_level(logging.DEBUG, logger="api")
    for method, path, headers in (
        ("POST", "/api/auth/login", {"authorization": ""}),  # public
        ("POST", f"/api/books/{org}/transactions", {}),
        ("PUT", "/api/contacts/DV-009", bearer(db, "root.admin", "admin")),
    ):
        for body in (_deep(DEEP), b"[" * 100_000 + b"]" * 100_000):
            caplog.clear()
            response = client.request(
                method,
                path,
                content=body,
                headers={**headers, "content-type": "application/json"},
            )
            assert response.status_code == 400, (path, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "json_too_deep"
            api_lines = [r for r in caplog.records if r.name.startswith("api")]
            assert len(api_lines) <= 1, [r.getMessage() for r in api_lines]
            assert all(r.exc_info is None and "\n" not in r.getMessage() for r in api_lines)
    assert _counts(db) == before
    # Nesting the decoder can follow is an ordinary 422 (a list is not a username).
    shallow = client.post(
        "/api/auth/login", content=_deep(50), headers={"content-type": "application/json"}
    )
    assert (shallow.status_code, shallow.json()["code"]) == (422, "request_invalid")
    assert client.post(f"/api/books/{org}/transactions", json=exchange()).status_code == 201


def _integer_query_routes(client: TestClient[Any]) -> list[tuple[str, str]]:
    """(path, parameter) for every GET route with an integer query parameter."""
    found = []
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "GET" not in handler.http_methods:
                continue
            for name, field in handler.parsed_fn_signature.parameters.items():
                if name in route.path_parameters:
                    continue
                if int in (field.annotation, *get_args(field.annotation)):
                    found.append((route.path, name))
            found.extend((route.path, name) for name in _integer_dependency_parameters(handler))
    return found


def _integer_dependency_parameters(handler: HTTPRouteHandler) -> list[str]:
    """The integer query parameters a handler takes through the dependencies it asks for by
    name (the `page` of a list: `cursor` and `limit`)."""
    wanted = handler.parsed_fn_signature.parameters
    found: list[str] = []
    for name, provider in handler.resolve_dependencies().items():
        if name not in wanted:
            continue
        hints = get_type_hints(provider.dependency, include_extras=True)
        found.extend(
            parameter
            for parameter, hint in hints.items()
            if parameter != "return" and int in (hint, *get_args(hint))
        )
    return found


# Query parameters a route cannot do without, so that the bound is what is refused.
REQUIRED_QUERY = {"/api/exchanges": {"book": "org"}}


def _fill(path: str) -> str:
    for name, value in (
        ("{book:str}", "org"),
        ("{number:str}", "1"),
        ("{case:str}", "DV-009"),
        ("{award:str}", "CTIP-2018"),
    ):
        path = path.replace(name, value)
    return path.replace("{", "").replace(":int}", "").replace("training_id", "1")


def test_every_integer_query_parameter_of_every_route_is_bounded(
    db: Database, client: TestClient[Any], org: str
) -> None:
    admin = bearer(db, "root.admin", "admin")
    routes = _integer_query_routes(client)
    names = {(path, name) for path, name in routes}
    # The probe's three routes (their `after` ids are opaque `cursor`s now), and the others.
    assert {("/api/trainings", "limit"), ("/api/audit", "limit"), ("/api/grants", "limit")} <= names
    assert len(routes) >= 8, routes
    for path, name in routes:
        filled = _fill(path)
        filled = "/".join(part if not part.endswith("_id") else "1" for part in filled.split("/"))
        for value in OUT_OF_RANGE:
            for headers in (admin, {}):
                params = {name: value, **REQUIRED_QUERY.get(path, {})}
                response = client.get(filled, params=params, headers=headers)
                if response.status_code == 403:
                    # The role may not read this route at all: refused before the page's
                    # parameters are read, with the same answer as for a value in range.
                    in_range = client.get(filled, params={**params, name: "1"}, headers=headers)
                    assert in_range.status_code == 403, (path, name)
                    continue
                assert response.status_code == 422, (path, name, value[:20], response.text[:200])
                if not path.startswith("/api/"):
                    continue  # a web page: the error page, in the reader's language
                assert response.json()["code"] == "request_invalid", (
                    path,
                    name,
                    response.text[:300],
                )
                assert response.json()["field"] == name
        # At the bound the parameter passes (whatever the route then says of it).
        edge = client.get(filled, params={name: str(2**31 - 1)}, headers=admin)
        assert edge.status_code < 500, (path, name, edge.text[:200])
        if edge.status_code == 422 and path.startswith("/api/"):  # e.g. a smaller page size
            assert "2^31" not in edge.json()["detail"], (path, name, edge.text[:200])


def test_a_cursor_naming_an_id_beyond_integer_is_refused(client: TestClient[Any], org: str) -> None:
    for transaction_id in (2**31, 2**63, -1):
        cursor = base64.urlsafe_b64encode(f"2018-01-01|{transaction_id}".encode()).decode()
        response = client.get(f"/api/books/{org}/transactions", params={"cursor": cursor})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "cursor_invalid"


def test_the_sign_in_route_still_signs_in(db: Database) -> None:
    bearer(db, "sopheap.finance", "finance")
    with make_client(db) as client:
        response = client.post(
            "/api/auth/login", json={"username": "sopheap.finance", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text

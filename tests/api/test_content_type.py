"""A JSON route reads JSON only (the probe posted text/plain, form-encoded and header-less
bodies and got 201): anything else is 415 `unsupported_media_type` and writes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.content_type import reads_json
from ledger.store.database import Database
from ledger.store.tables import metadata
from tests.api.conftest import PASSWORD, bearer, exchange

NOT_JSON = (
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonp",
    "text/json",
    None,  # no Content-Type at all
)


def _rows(db: Database) -> dict[str, int]:
    with db.read() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def _post(client: TestClient[Any], path: str, body: bytes, content_type: str | None) -> Any:
    headers = {} if content_type is None else {"content-type": content_type}
    request = client.build_request("POST", path, content=body, headers=headers)
    if content_type is None:
        request.headers.pop("content-type", None)  # httpx adds none for bytes; be sure
    return client.send(request)


def _assert_415(response: Any) -> None:
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unsupported_media_type"


def test_a_transaction_posted_as_anything_but_json_is_415_and_not_written(
    db: Database, client: TestClient[Any], org: str
) -> None:
    body = json.dumps(exchange()).encode()
    before = _rows(db)
    for content_type in NOT_JSON:
        _assert_415(_post(client, f"/api/books/{org}/transactions", body, content_type))
    assert _rows(db) == before
    for content_type in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        posted = _post(client, f"/api/books/{org}/transactions", body, content_type)
        assert posted.status_code == 201, posted.text


def test_the_public_sign_in_reads_json_only(db: Database, client: TestClient[Any]) -> None:
    bearer(db, "dara.finance", "finance")
    body = json.dumps({"username": "dara.finance", "password": PASSWORD}).encode()
    for content_type in NOT_JSON:
        _assert_415(_post(client, "/api/auth/login", body, content_type))
    form = b"username=dara.finance&password=" + PASSWORD.replace(" ", "+").encode()
    _assert_415(_post(client, "/api/auth/login", form, "application/x-www-form-urlencoded"))
    assert _post(client, "/api/auth/login", body, "application/json").status_code == 200


def test_every_route_that_reads_json_refuses_other_bodies(
    db: Database, client: TestClient[Any], org: str
) -> None:
    """Every POST, PUT and PATCH route with a JSON body, as an admin (who reaches most): 415
    for a text/plain and a header-less body, and nothing written."""
    admin = bearer(db, "root.admin", "admin")
    routes = []
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods & {"POST", "PUT", "PATCH"}:
                if reads_json(handler):
                    routes.append((method, re.sub(r"\{(\w+):(\w+)\}", _fill, route.path)))
    assert len(routes) >= 30, routes
    before = _rows(db)
    for method, path in routes:
        for content_type in ("text/plain", None):
            headers = {**admin, **({} if content_type is None else {"content-type": content_type})}
            request = client.build_request(method, path, content=b"{}", headers=headers)
            if content_type is None:
                request.headers.pop("content-type", None)
            response = client.send(request)
            assert response.status_code == 415, (method, path, response.text[:200])
            assert response.json()["code"] == "unsupported_media_type"
    assert _rows(db) == before


def _fill(match: re.Match[str]) -> str:
    name, kind = match.group(1), match.group(2)
    return {"book": "org", "case_code": "DV-009", "case": "DV-009", "award": "CTIP-2018"}.get(
        name, "1" if kind == "int" else "x"
    )

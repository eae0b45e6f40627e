"""A required query parameter left out is a clear 422 that names it (issue 17: `GET
/api/exchanges` without `?book` used to answer "request body not valid JSON")."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def test_exchanges_without_a_book(client: TestClient[Any], org: str) -> None:
    response = client.get("/api/exchanges")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["code"], problem["field"]) == ("parameter_missing", "book")
    assert "'book'" in problem["detail"]
    assert "JSON" not in problem["detail"]
    khmer = client.get("/api/exchanges", headers={"Accept-Language": "km"}).json()
    assert khmer["code"] == "parameter_missing"
    assert "ប៉ារ៉ាម៉ែត្រ" in khmer["detail"]
    assert client.get("/api/exchanges", params={"book": org}).status_code == 200


def test_a_body_that_is_not_json_still_says_so(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/exchanges", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] in ("request_invalid", "bad_request")

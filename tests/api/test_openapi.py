"""OpenAPI at /schema documents every route, with examples a newcomer can send."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def test_schema_lists_the_spine_routes_with_examples(client: TestClient[Any]) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/health",
        "/api/books",
        "/api/books/{book}",
        "/api/commodities",
        "/api/books/{book}/accounts",
        "/api/books/{book}/accounts/{account_id}/close",
        "/api/books/{book}/transactions",
        "/api/books/{book}/transactions/{transaction_id}",
        "/api/books/{book}/transactions/{transaction_id}/reverse",
        "/api/books/{book}/balances",
        "/api/books/{book}/lock-date",
        "/api/books/{book}/export.beancount",
    ):
        assert path in paths, path
    body = paths["/api/books/{book}/transactions"]["post"]["requestBody"]
    text = str(body) + str(schema.get("components", {}))
    assert "Assets:Cash:Bavet-KHR" in text
    assert "410000" in text


def test_schema_page_renders(client: TestClient[Any]) -> None:
    response = client.get("/schema")
    assert response.status_code == 200
    assert "html" in response.headers["content-type"]

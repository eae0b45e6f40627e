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


PUBLIC_OPERATIONS = {
    ("get", "/health"),
    ("post", "/api/auth/login"),
    ("get", "/schema"),
    ("get", "/schema/openapi.json"),
}


def test_every_operation_documents_its_errors_security_and_caller(
    client: TestClient[Any],
) -> None:
    document = client.get("/schema/openapi.json").json()
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["required"])
    assert {"field", "errors"} <= set(problem["properties"])
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 100
    for method, path, operation in operations:
        where = (method, path)
        assert operation["summary"], where
        assert operation["description"], where
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        for response in errors.values():
            content = response["content"]["application/problem+json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, where
        if where in PUBLIC_OPERATIONS:
            assert operation["security"] == [], where
            continue
        assert "security" not in operation, where  # the document's default: a bearer token
        assert {"401", "403"} <= set(errors), where
        assert "Who may:" in operation["description"], where
        if "requestBody" in operation:
            assert {"400", "404", "409", "413", "415", "422"} <= set(errors), where


def test_the_schema_states_the_limits_the_server_enforces(client: TestClient[Any]) -> None:
    document = client.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    create = schemas["TransactionCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["postings"]["minItems"] == 2
    assert create["properties"]["narration"]["maxLength"] == 1_000
    assert schemas["AccountCreate"]["properties"]["name"]["pattern"].startswith("^(Assets|")
    for path in ("/api/grants", "/api/trainings", "/api/audit", "/api/households"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["schema"]["maximum"] == 1_000
        assert parameters["cursor"]["schema"]["maxLength"] == 100
        page = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        name = page["schema"]["$ref"].rsplit("/", 1)[1]
        assert set(schemas[name]["properties"]) == {"items", "next_cursor"}
    login = document["paths"]["/api/auth/login"]["post"]["responses"]
    assert {"401", "422", "429"} <= set(login)

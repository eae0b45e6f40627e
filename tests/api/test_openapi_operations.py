"""Every operation in /schema says, in its own words, what it does; every body has an example
a newcomer can send; every list answers one page shape.

Each test lists every gap it finds, so that a missing docstring names its operation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from litestar.testing import TestClient

_REF_PREFIX = "#/components/schemas/"
# Lists that are not JSON pages: files and the documents themselves.
NOT_PAGES = frozenset({"/schema/openapi.json"})


@pytest.fixture(name="document")
def fixture_document(client: TestClient[Any]) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/schema/openapi.json").json()
    return answer


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if path.startswith("/schema"):
            continue
        for method, operation in item.items():
            yield method, path, operation


def _schemas_in(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Iterator[Any]:
    """`schema` and every schema it refers to through $ref, allOf, oneOf and anyOf."""
    yield schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        yield from _schemas_in(components[ref.removeprefix(_REF_PREFIX)], components)
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            yield from _schemas_in(part, components)


def _has_example(media: Mapping[str, Any], components: Mapping[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    return any("example" in s or "examples" in s for s in _schemas_in(schema, components))


def test_every_operation_has_its_own_description(document: dict[str, Any]) -> None:
    """More than its summary: a docstring (or `description=`) says what it does and refuses."""
    missing = []
    for method, path, operation in _operations(document):
        own = operation["description"].split("\n\nWho may:")[0].split("\n\nPublic:")[0]
        if own.strip() in ("", f"{operation['summary']}."):
            missing.append(f"{method.upper()} {path}")
    assert missing == [], f"{len(missing)} operations without their own description"


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    missing = []
    for method, path, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        media = next(iter(body["content"].values()))
        if "format" in media.get("schema", {}):  # a file's bytes: no JSON example to give
            continue
        if not _has_example(media, components):
            missing.append(f"{method.upper()} {path}")
    assert missing == [], f"{len(missing)} request bodies without an example"


def test_every_list_is_one_page_shape(document: dict[str, Any]) -> None:
    """A JSON list answers `{items, next_cursor}` and takes `cursor` and a bounded `limit`."""
    components = document["components"]["schemas"]
    bare = []
    for method, path, operation in _operations(document):
        ok = operation["responses"].get("200") or operation["responses"].get("201") or {}
        media = ok.get("content", {}).get("application/json")
        if media is None or path in NOT_PAGES:
            continue
        schema = media["schema"]
        if schema.get("type") == "array":
            bare.append(f"{method.upper()} {path}")
            continue
        ref = schema.get("$ref", "")
        properties = components.get(ref.removeprefix(_REF_PREFIX), {}).get("properties", {})
        if set(properties) == {"items", "next_cursor"}:
            names = {p["name"]: p for p in operation.get("parameters", [])}
            assert {"cursor", "limit"} <= set(names), f"{method.upper()} {path}"
            assert names["limit"]["schema"]["maximum"] <= 1_000, f"{method.upper()} {path}"
    assert bare == [], f"{len(bare)} lists answer a bare array"

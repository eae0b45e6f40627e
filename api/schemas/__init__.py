"""msgspec schemas: `X` is what the API returns, `XCreate` what it accepts (and turns into the
service's draft with `to_draft`). Amounts are strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from litestar.openapi.spec import Example
from litestar.params import Body, BodyKwarg

from api.cursors import id_cursor


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


def next_id_cursor(found: Sequence[_Identified], limit: int) -> str | None:
    """The `next_cursor` that asks for the page following `found` (after its last id) when
    the page is full; None when it was the last page."""
    return id_cursor(found[-1].id) if len(found) == limit else None


def example(summary: str, value: Any) -> BodyKwarg:
    """A JSON request body with one example in /schema:
    `Annotated[GrantCreate, example("Pig raising", EXAMPLE_GRANT)]`. The value must be one the
    API accepts (a test sends it)."""
    return examples((summary, value))


def examples(*named: tuple[str, Any]) -> BodyKwarg:
    """A JSON request body with several examples, as (summary, value) pairs."""
    body: BodyKwarg = Body(examples=[Example(summary=s, value=v) for s, v in named])
    return body

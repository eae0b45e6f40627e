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


def example_body(*examples: tuple[str, Any]) -> BodyKwarg:
    """A JSON request body's examples in /schema, as (summary, value) pairs:
    `Annotated[GrantCreate, example_body(("Pig raising", EXAMPLE_GRANT))]`. Each value is
    one a test sends and sees accepted."""
    body: BodyKwarg = Body(examples=[Example(summary=s, value=v) for s, v in examples])
    return body

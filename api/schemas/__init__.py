"""msgspec schemas: `X` is what the API returns, `XCreate` what it accepts (and turns into the
service's draft with `to_draft`). Amounts are strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from api.cursors import id_cursor


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


def next_id_cursor(found: Sequence[_Identified], limit: int) -> str | None:
    """The `next_cursor` that asks for the page following `found` (after its last id) when
    the page is full; None when it was the last page."""
    return id_cursor(found[-1].id) if len(found) == limit else None

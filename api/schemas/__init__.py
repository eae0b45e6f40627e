"""msgspec schemas: `X` is what the API returns, `XCreate` what it accepts (and turns into the
service's draft with `to_draft`). Amounts are strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


def next_after(found: Sequence[_Identified], limit: int) -> int | None:
    """The `after` that asks for the page following `found`: its last id when the page is
    full, None when it was the last page."""
    return found[-1].id if len(found) == limit else None

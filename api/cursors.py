"""One page shape for every list: `{items, next_cursor}`; `cursor` in, `next_cursor` out.

A cursor is opaque to clients: the key of the last item of the previous page (an id or a
case code), base64-encoded with its kind, so no client builds one by hand and the key can
change without changing the API.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass
from typing import Annotated

from litestar.params import QueryParameter

from ledger.core import limits
from ledger.core.errors import LedgerRejected, invalid
from ledger.core.text import has_forbidden_character

CURSOR_INVALID = invalid("cursor_invalid", "The cursor is not one this API returned.", "cursor")
_ID_KIND = "id"
_TEXT_KIND = "key"
_DATED_KIND = "dated"

Cursor = Annotated[
    str | None,
    QueryParameter(
        description="`next_cursor` of the previous page; leave it out for the first page.",
        max_length=limits.CURSOR_LENGTH_MAX,
    ),
]
PageSize = Annotated[
    int,
    QueryParameter(description="Items on one page.", ge=1, le=limits.PAGE_SIZE_MAX),
]


def _encode(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}|{key}".encode()).decode("ascii")


def _decode(kind: str, cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError, binascii.Error) as error:
        raise LedgerRejected([CURSOR_INVALID]) from error
    found_kind, separator, key = text.partition("|")
    if found_kind != kind or not separator or not key or has_forbidden_character(key):
        raise LedgerRejected([CURSOR_INVALID])
    return key


def id_cursor(last_id: int) -> str:
    """The cursor after the item with id `last_id`."""
    return _encode(_ID_KIND, str(last_id))


def id_after(cursor: str | None) -> int | None:
    """The id a cursor from `id_cursor` names (None for the first page); 422 otherwise."""
    if cursor is None:
        return None
    key = _decode(_ID_KIND, cursor)
    if not key.isdigit() or int(key) > limits.ID_MAX:
        raise LedgerRejected([CURSOR_INVALID])
    return int(key)


def text_cursor(last_key: str) -> str:
    """The cursor after the item whose key (a case code) is `last_key`."""
    return _encode(_TEXT_KIND, last_key)


def text_after(cursor: str | None) -> str | None:
    """The key a cursor from `text_cursor` names (None for the first page); 422 otherwise."""
    return None if cursor is None else _decode(_TEXT_KIND, cursor)


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The `cursor` and `limit` a list was asked for: the `page` dependency (`PAGE`), so a
    list handler takes one parameter for both."""

    cursor: str | None
    limit: int


def page_query(cursor: Cursor = None, limit: PageSize = limits.PAGE_SIZE_DEFAULT) -> PageQuery:
    return PageQuery(cursor, limit)


def dated_cursor(on: datetime.date, last_id: int) -> str:
    """The cursor after the item dated `on` with id `last_id` (a list in (date, id) order)."""
    return _encode(_DATED_KIND, f"{on.isoformat()} {last_id}")


def dated_after(cursor: str | None) -> tuple[datetime.date, int] | None:
    """The (date, id) a cursor from `dated_cursor` names (None for the first page); 422
    otherwise."""
    if cursor is None:
        return None
    day, _, last_id = _decode(_DATED_KIND, cursor).partition(" ")
    try:
        on = datetime.date.fromisoformat(day)
    except ValueError as error:
        raise LedgerRejected([CURSOR_INVALID]) from error
    if not last_id.isdigit() or int(last_id) > limits.ID_MAX:
        raise LedgerRejected([CURSOR_INVALID])
    return on, int(last_id)

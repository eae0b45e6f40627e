"""Books: the unit of ownership and of sharding. Every transaction belongs to exactly one."""

from __future__ import annotations

import re
from typing import Literal, get_args

from ledger.core import limits
from ledger.core.errors import LedgerError, invalid

BookKind = Literal["organisation", "savings_group", "household"]
BOOK_KINDS: tuple[str, ...] = get_args(BookKind)
BOOK_CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# A book's name is one line (a title on exports and printed statements): no control
# characters at all, not even newline or tab.
_NAME_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_book(code: str, name: str, kind: str) -> tuple[LedgerError, ...]:
    errors: list[LedgerError] = []
    if not BOOK_CODE_RE.fullmatch(code):
        errors.append(
            invalid(
                "book_code_invalid",
                "A book code has 1 to 40 lowercase letters, digits and hyphens (e.g. sg-kt-001).",
                "code",
            )
        )
    if not name.strip() or len(name) > limits.BOOK_NAME_LENGTH_MAX or _NAME_CONTROL_RE.search(name):
        errors.append(
            invalid(
                "book_name_invalid", "A book has a one-line name of 1 to 200 characters.", "name"
            )
        )
    if kind not in BOOK_KINDS:
        errors.append(
            invalid("book_kind_invalid", f"kind is one of {', '.join(BOOK_KINDS)}.", "kind")
        )
    return tuple(errors)

"""Books: the unit of ownership and of sharding. Every transaction belongs to exactly one."""

from __future__ import annotations

import re
from typing import Literal, get_args

from ledger.core import limits
from ledger.core.errors import LedgerError, invalid
from ledger.core.text import has_forbidden_character

BookKind = Literal["organisation", "savings_group", "household"]
BOOK_KINDS: tuple[str, ...] = get_args(BookKind)
BOOK_CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


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
    if (
        not name.strip()
        or len(name) > limits.BOOK_NAME_LENGTH_MAX
        or has_forbidden_character(name, one_line=True)
    ):
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

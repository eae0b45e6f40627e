"""Free text (narrations, payees, metadata values, names): what the ledger refuses in it.

Quotes, backslashes, Khmer, newlines, carriage returns and tabs are kept exactly (Beancount
reads them back unchanged). Refused: other C0 and C1 control characters and DEL (PostgreSQL
text cannot hold NUL; the rest are invisible on a printed receipt), and lone surrogates
(not Unicode at all: they cannot be stored as UTF-8).
"""

from __future__ import annotations

import re

from ledger.core.errors import LedgerError, invalid

_CONTROL_OR_SURROGATE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# One-line text (a book's title): no line breaks or tabs either.
_ONE_LINE_FORBIDDEN_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_forbidden_character(value: str, *, one_line: bool = False) -> bool:
    pattern = _ONE_LINE_FORBIDDEN_RE if one_line else _CONTROL_OR_SURROGATE_RE
    return pattern.search(value) is not None


def validate_text(value: str, length_max: int, field: str) -> LedgerError | None:
    """None when `value` may be stored as free text, else the reason it may not."""
    if len(value) > length_max:
        return invalid("text_too_long", f"At most {length_max} characters.", field)
    if has_forbidden_character(value):
        return invalid(
            "text_control_character",
            "Text may contain newlines, carriage returns and tabs but no other control"
            " characters (such as NUL) and no lone surrogates.",
            field,
        )
    return None

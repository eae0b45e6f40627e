"""Account names as Beancount writes them: `Assets:Cash:Poipet-KHR`.

Five roots; each further component starts with a capital letter or a digit and holds ASCII
letters, digits and hyphens. Khmer belongs in narrations and metadata, never in account names.
"""

from __future__ import annotations

import re

from ledger.core import limits
from ledger.core.errors import LedgerError, invalid

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
_COMPONENT_RE = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")


def validate_account_name(name: str, field: str = "account") -> LedgerError | None:
    """None when `name` is a valid account name, else the reason it is not."""
    message = (
        "An account name is Root:Component[:...] with root Assets, Liabilities, Equity, Income"
        " or Expenses; components start with a capital letter or digit and use ASCII letters,"
        " digits and hyphens."
    )
    if len(name) > limits.ACCOUNT_NAME_LENGTH_MAX:
        return invalid("account_name_invalid", message, field)
    components = name.split(":")
    if (
        len(components) < 2
        or len(components) > limits.ACCOUNT_COMPONENTS_MAX
        or components[0] not in ROOTS
        or not all(_COMPONENT_RE.fullmatch(c) for c in components[1:])
    ):
        return invalid("account_name_invalid", message, field)
    return None


def account_root(name: str) -> str:
    return name.split(":", 1)[0]

"""Account names as Beancount writes them: `Assets:Cash:Poipet-KHR`.

Five roots; each further component starts with a capital letter or a digit and holds ASCII
letters, digits and hyphens. Khmer belongs in narrations and metadata, never in account names.
"""

from __future__ import annotations

import functools
import re

from ledger.core import limits
from ledger.core.errors import LedgerError, invalid

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")
_COMPONENT = r"[A-Z0-9][A-Za-z0-9-]*"
_COMPONENT_RE = re.compile(_COMPONENT)
# The same rule as one regular expression, for the API's published schema.
ACCOUNT_NAME_PATTERN = (
    f"^({'|'.join(ROOTS)})(:{_COMPONENT}){{1,{limits.ACCOUNT_COMPONENTS_MAX - 1}}}$"
)
_MESSAGE = (
    "An account name is Root:Component[:...] with root Assets, Liabilities, Equity, Income"
    " or Expenses; components start with a capital letter or digit and use ASCII letters,"
    " digits and hyphens."
)
# A book has a few hundred accounts and a bulk import names them over and over: remember the
# verdict per name (bounded; an over-long name is refused before it reaches the cache).
NAMES_REMEMBERED_MAX = 4_096


@functools.lru_cache(maxsize=NAMES_REMEMBERED_MAX)
def is_account_name(name: str) -> bool:
    components = name.split(":")
    return (
        2 <= len(components) <= limits.ACCOUNT_COMPONENTS_MAX
        and components[0] in ROOTS
        and all(_COMPONENT_RE.fullmatch(c) for c in components[1:])
    )


def validate_account_name(name: str, field: str = "account") -> LedgerError | None:
    """None when `name` is a valid account name, else the reason it is not."""
    if len(name) > limits.ACCOUNT_NAME_LENGTH_MAX or not is_account_name(name):
        return invalid("account_name_invalid", _MESSAGE, field)
    return None


def account_root(name: str) -> str:
    return name.split(":", 1)[0]

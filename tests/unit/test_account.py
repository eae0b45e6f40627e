"""Account names as Beancount writes them; Khmer belongs in narrations, never in names."""

from __future__ import annotations

import pytest

from ledger.core import limits
from ledger.core.account import ROOTS, account_root, validate_account_name


@pytest.mark.parametrize(
    "name",
    [
        "Assets:Cash:Poipet-KHR",
        "Assets:Cash:Bavet-KHR",
        "Assets:Bank:ACLEDA:Operating-USD",
        "Expenses:Grants:InKind:CTIP-2018",
        "Expenses:Training:Livestock",
        "Liabilities:Savings-Groups:SG-KT-001",
        "Income:Grants:CTIP-2018",
        "Equity:Opening-Balances",
        "Assets:Households:DV-009:Pigs",
        "Assets:2018",  # a component may start with a digit
        "Assets:A",
    ],
)
def test_valid_account_names(name: str) -> None:
    assert validate_account_name(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "assets:Cash",  # lowercase root
        "Asset:Cash",  # not one of the five roots
        "Revenue:Grants",
        "Assets",  # a root alone is not an account
        "",
        ":Cash",
        "Assets:Cash:",  # trailing colon
        "Assets::Cash",
        "Assets:Cash Box",  # spaces
        "Assets: Cash",
        "Assets:cash",  # components start with a capital or a digit
        "Assets:-Cash",
        "Assets:Cash_Box",
        "Assets:Cash.Box",
        "Assets:Cash:ប្រអប់ប្រាក់",  # Khmer component
        "Assets:Café",  # non-ASCII letter
        "Assets:Cash\n",
        "Assets:Cash\x00",
    ],
)
def test_invalid_account_names(name: str) -> None:
    error = validate_account_name(name, "postings[0].account")
    assert error is not None
    assert error.code == "account_name_invalid"
    assert error.field == "postings[0].account"


def test_account_names_have_a_length_limit() -> None:
    longest = "Assets:" + "A" * (limits.ACCOUNT_NAME_LENGTH_MAX - len("Assets:"))
    assert validate_account_name(longest) is None
    too_long = longest + "A"
    error = validate_account_name(too_long)
    assert error is not None
    assert error.code == "account_name_invalid"


def test_account_names_have_a_component_limit() -> None:
    deepest = ":".join(["Assets"] + ["A"] * (limits.ACCOUNT_COMPONENTS_MAX - 1))
    assert validate_account_name(deepest) is None
    error = validate_account_name(deepest + ":A")
    assert error is not None
    assert error.code == "account_name_invalid"


def test_every_root_makes_an_account() -> None:
    for root in ROOTS:
        assert validate_account_name(f"{root}:Cambodia") is None
        assert account_root(f"{root}:Cambodia:Poipet") == root

"""Deny by default: every route names one `Action`; `decide` says allow, forbid or hide.

`hidden` answers an object outside the user's scope: the API says 404, exactly as for an
object that does not exist, so a treasurer of one group cannot learn that another group's
book exists. `forbidden` answers a role that may never do the action anywhere (403).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

Role = Literal["admin", "finance", "officer", "treasurer", "auditor"]
ROLES: tuple[str, ...] = get_args(Role)
ScopeKind = Literal["book", "province"]
SCOPE_RE = re.compile(r"(book|province):(.{1,100})")


class Action(StrEnum):
    BOOKS_CREATE = "books.create"
    BOOKS_READ = "books.read"
    COMMODITIES_CREATE = "commodities.create"
    COMMODITIES_READ = "commodities.read"
    ACCOUNTS_WRITE = "accounts.write"
    JOURNAL_READ = "journal.read"
    JOURNAL_WRITE = "journal.write"
    LOCK_DATE_WRITE = "lock_date.write"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    TOKENS_OWN = "tokens.own"
    CONTACTS_READ = "contacts.read"
    CONTACTS_WRITE = "contacts.write"
    FUNDS_READ = "funds.read"
    FUNDS_WRITE = "funds.write"
    HOUSEHOLDS_READ = "households.read"
    HOUSEHOLDS_WRITE = "households.write"
    GRANTS_READ = "grants.read"
    GRANTS_WRITE = "grants.write"
    GRANTS_APPROVE = "grants.approve"
    GRANTS_DISBURSE = "grants.disburse"
    SAVINGS_GROUPS_CREATE = "savings_groups.create"
    SAVINGS_READ = "savings.read"
    SAVINGS_WRITE = "savings.write"
    TRAININGS_READ = "trainings.read"
    TRAININGS_WRITE = "trainings.write"
    OUTCOMES_READ = "outcomes.read"
    OUTCOMES_WRITE = "outcomes.write"
    RECONCILE_READ = "reconcile.read"
    RECONCILE_WRITE = "reconcile.write"
    PERIOD_CLOSE = "period.close"
    DONOR_REPORTS_READ = "donor_reports.read"
    IMPORTS_WRITE = "imports.write"


# How far a role reaches for an action: every book, the books (or provinces) in its scope,
# or its own objects only (tokens). A role absent from an action's row may not do it.
Reach = Literal["all", "scope", "own"]

POLICY: dict[Action, dict[str, Reach]] = {
    # Spreadsheet imports (households, members, participants, opening balances of any book):
    # an organisation-wide intake, for the roles that reach every province.
    Action.IMPORTS_WRITE: {"admin": "all", "finance": "all"},
    Action.BOOKS_CREATE: {"admin": "all"},
    Action.BOOKS_READ: {
        "admin": "all",
        "finance": "all",
        "auditor": "all",
        "officer": "scope",
        "treasurer": "scope",
    },
    Action.COMMODITIES_CREATE: {"admin": "all", "finance": "all"},
    Action.COMMODITIES_READ: {r: "all" for r in ROLES},
    Action.ACCOUNTS_WRITE: {"admin": "all", "finance": "all", "treasurer": "scope"},
    Action.JOURNAL_READ: {
        "admin": "all",
        "finance": "all",
        "auditor": "all",
        "officer": "scope",
        "treasurer": "scope",
    },
    Action.JOURNAL_WRITE: {"finance": "all", "treasurer": "scope"},
    Action.LOCK_DATE_WRITE: {"finance": "all"},
    Action.AUDIT_READ: {"admin": "all", "auditor": "all"},
    Action.USERS_MANAGE: {"admin": "all"},
    Action.TOKENS_OWN: {r: "own" for r in ROLES},
    # Personal data: admin everywhere, officers in their provinces; never auditors.
    Action.CONTACTS_READ: {"admin": "all", "officer": "scope"},
    Action.CONTACTS_WRITE: {"admin": "all", "officer": "scope"},
    # Donor awards, budget lines, fund receipts, exchanges: finance keeps them; officers read
    # what is left on a budget line before they propose a grant.
    Action.FUNDS_READ: {"admin": "all", "finance": "all", "auditor": "all", "officer": "all"},
    Action.FUNDS_WRITE: {"finance": "all"},
    # Households and grants: officers in their provinces; finance for every province.
    Action.HOUSEHOLDS_READ: {
        "admin": "all",
        "finance": "all",
        "auditor": "all",
        "officer": "scope",
    },
    Action.HOUSEHOLDS_WRITE: {"admin": "all", "officer": "scope"},
    Action.GRANTS_READ: {"admin": "all", "finance": "all", "auditor": "all", "officer": "scope"},
    Action.GRANTS_WRITE: {"finance": "all", "officer": "scope"},
    Action.GRANTS_APPROVE: {"finance": "all", "officer": "scope"},
    Action.GRANTS_DISBURSE: {"finance": "all", "officer": "scope"},
    # Savings groups: a group is a book, so `book:` and `province:` scopes reach it. Its
    # treasurer records meetings, loans and the share-out; the officers of its province read.
    Action.SAVINGS_GROUPS_CREATE: {"admin": "all", "finance": "all"},
    Action.SAVINGS_READ: {
        "admin": "all",
        "finance": "all",
        "auditor": "all",
        "officer": "scope",
        "treasurer": "scope",
    },
    Action.SAVINGS_WRITE: {"finance": "all", "treasurer": "scope"},
    # Trainings (scoped by the province they are held in; a participant's household by its
    # own), their cost items on a budget line, attendance; follow-up visits and income
    # records (they post in household books, so never admin) and the outcome reports.
    Action.TRAININGS_READ: {
        "admin": "all",
        "finance": "all",
        "auditor": "all",
        "officer": "scope",
    },
    Action.TRAININGS_WRITE: {"finance": "all", "officer": "scope"},
    Action.OUTCOMES_READ: {
        "admin": "all",
        "finance": "all",
        "auditor": "all",
        "officer": "scope",
    },
    Action.OUTCOMES_WRITE: {"finance": "all", "officer": "scope"},
    # Bank statements, matches, reconciliations and cash counts: finance keeps them; auditors
    # and the administrator read them. Closing a period moves the lock date: finance only.
    Action.RECONCILE_READ: {"admin": "all", "finance": "all", "auditor": "all"},
    Action.RECONCILE_WRITE: {"finance": "all"},
    Action.PERIOD_CLOSE: {"finance": "all"},
    # Donor financial reports carry no personal data; officers use the budget report.
    Action.DONOR_REPORTS_READ: {"admin": "all", "finance": "all", "auditor": "all"},
}

Decision = Literal["allow", "forbidden", "hidden"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the ledger sees them on one request."""

    user_id: int
    username: str
    role: str
    books: frozenset[str] = frozenset()
    provinces: frozenset[str] = frozenset()
    token: str | None = None  # "api:<id>" or "jwt:<jti>", for the audit trail


@dataclass(frozen=True, slots=True)
class Target:
    """What an action is applied to: a book (by code and province) or a province."""

    book: str | None = None
    province: str | None = None


def decide(principal: Principal, action: Action, target: Target | None = None) -> Decision:
    """May `principal` do `action` on `target`? Pure; no database."""
    reach = POLICY[action].get(principal.role)
    if reach is None:
        return "forbidden"
    if reach in ("all", "own") or target is None:
        return "allow"
    if in_scope(principal, target):
        return "allow"
    return "hidden"


def in_scope(principal: Principal, target: Target) -> bool:
    """A book named in the user's scope, or a book or object in one of their provinces."""
    if target.book is not None and target.book in principal.books:
        return True
    return target.province is not None and target.province in principal.provinces


def visible_provinces(principal: Principal, action: Action) -> frozenset[str] | None:
    """The provinces whose objects a listing may show the principal: None means all."""
    reach = POLICY[action].get(principal.role)
    if reach in ("all", "own"):
        return None
    return principal.provinces if reach == "scope" else frozenset()


def parse_scope(text: str) -> tuple[str, str] | None:
    """`book:sg-kt-001` or `province:Svay Rieng` -> (kind, value); None if malformed."""
    match = SCOPE_RE.fullmatch(text)
    if match is None or match.group(2).strip() != match.group(2):
        return None
    return match.group(1), match.group(2)

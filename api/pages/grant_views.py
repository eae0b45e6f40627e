"""What the livelihood officer's grant and training pages show, read through the grants,
funds and training services in one read each. Plain frozen values: templates only show them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from api.scopes import grant_in_scope, household_in_scope
from ledger.access.policy import Action, Principal, Target, decide, visible_provinces
from ledger.core.amount import Commodity
from ledger.core.errors import LedgerRejected
from ledger.funds import service as funds
from ledger.grants import rules as grant_rules
from ledger.grants import service as grant_service
from ledger.reports.words import CURRENCY_WORDS
from ledger.store import books

GRANTS_PER_PAGE = 50
# Proposed grants read for the approval queue (the oldest first).
QUEUE_READ_MAX = 200


@dataclass(frozen=True, slots=True)
class LineChoice:
    """A budget line to propose a grant on, and what it has left (award's currency)."""

    award: str
    donor: str
    code: str
    name: str
    currency: str
    precision: int
    threshold: int
    remaining: int

    @property
    def value(self) -> str:
        return f"{self.award}/{self.code}"


@dataclass(frozen=True, slots=True)
class GrantList:
    grants: tuple[grant_service.Grant, ...]
    queue: tuple[grant_service.Grant, ...]  # proposed grants this user may approve
    next_after: int | None


def commitment_of(conn: Connection, award: funds.Award, grant: grant_service.Grant) -> int | None:
    """What the grant commits of the award's currency: as approved, or (still proposed) what
    approving it today would commit at the award's exchanges; None when no rate is known yet
    (the approver then gives one)."""
    if grant.committed is not None:
        return grant.committed
    try:
        conversion = funds.commitment_for(
            conn, award, grant.currency, grant.approved_amount, books.utc_today(), None
        )
    except LedgerRejected:
        return None
    return conversion.award_units


def needs_second_person(committed: int | None, award: funds.Award) -> bool:
    """Above the award's threshold (or not measurable yet), the proposer may not approve."""
    return committed is None or committed > award.approval_threshold


def may_approve(
    principal: Principal, grant: grant_service.Grant, committed: int | None, award: funds.Award
) -> bool:
    """The rule the service applies (maker-checker above the award's threshold, on what the
    grant commits in the award's currency), and the role's right to approve in the grant's
    province: no button the API would refuse."""
    if grant.status != "proposed":
        return False
    if decide(principal, Action.GRANTS_APPROVE, Target(province=grant.province)) != "allow":
        return False
    return not (needs_second_person(committed, award) and grant.proposed_by == principal.username)


def read_grant_list(
    conn: Connection, principal: Principal, status: str | None, after: int | None
) -> GrantList:
    """A page of the grants in the user's provinces (by status), and the approval queue."""
    scope = visible_provinces(principal, Action.GRANTS_READ)
    shown = grant_service.list_grants(
        conn, scope, grant_service.GrantFilter(status=status), after, GRANTS_PER_PAGE + 1
    )
    awards = {award.code: award for award in funds.list_awards(conn)}
    proposed = grant_service.list_grants(
        conn, scope, grant_service.GrantFilter(status="proposed"), None, QUEUE_READ_MAX
    )
    queue = tuple(
        g
        for g in proposed
        if may_approve(
            principal, g, commitment_of(conn, awards[g.award_code], g), awards[g.award_code]
        )
    )
    more = len(shown) > GRANTS_PER_PAGE
    page = tuple(shown[:GRANTS_PER_PAGE])
    return GrantList(page, queue, page[-1].id if more else None)


def line_choices(conn: Connection) -> tuple[LineChoice, ...]:
    """Every budget line of every award, with what it has left after spending and grants
    approved (what a proposal may still reserve)."""
    choices = []
    for award in funds.list_awards(conn):
        for line in award.lines:
            use = funds.line_use(conn, award, line)
            choices.append(
                LineChoice(
                    award.code,
                    award.donor,
                    line.code,
                    line.name,
                    award.currency,
                    award.precision,
                    award.approval_threshold,
                    use.remaining,
                )
            )
    return tuple(choices)


def proposal_household(conn: Connection, principal: Principal, case_code: str) -> None:
    """404 for a household outside the officer's provinces (or none with this code)."""
    household_in_scope(conn, principal, Action.GRANTS_WRITE, case_code)


@dataclass(frozen=True, slots=True)
class GrantPageView:
    grant: grant_service.Grant
    disbursements: tuple[grant_service.Disbursement, ...]
    line: LineChoice
    can_approve: bool
    can_disburse: bool
    can_end: bool
    # The proposer looking at their own grant above the threshold: told why there is no button.
    needs_second_person: bool
    # What it commits (or would, approved today) in the award's currency; None: no rate yet.
    committed: int | None


def _line_of(award: funds.Award, conn: Connection, grant: grant_service.Grant) -> LineChoice:
    line = award.line(grant.budget_line)
    use = funds.line_use(conn, award, line)
    return LineChoice(
        award.code,
        award.donor,
        line.code,
        line.name,
        award.currency,
        award.precision,
        award.approval_threshold,
        use.remaining,
    )


def read_grant_page(conn: Connection, principal: Principal, grant_id: int) -> GrantPageView:
    """The grant (404 outside the user's provinces), its disbursements and what the user may
    do with it now."""
    grant_in_scope(conn, principal, Action.GRANTS_READ, grant_id)
    grant = grant_service.get_grant(conn, grant_id)
    award = funds.get_award(conn, grant.award_code)
    line = _line_of(award, conn, grant)
    committed = commitment_of(conn, award, grant)
    target = Target(province=grant.province)

    def allowed(action: Action) -> bool:
        return decide(principal, action, target) == "allow"

    return GrantPageView(
        grant=grant,
        disbursements=tuple(grant_service.list_disbursements(conn, grant_id)),
        line=line,
        can_approve=may_approve(principal, grant, committed, award),
        can_disburse=allowed(Action.GRANTS_DISBURSE)
        and grant_rules.disbursable_error(grant.status) is None,
        can_end=allowed(Action.GRANTS_WRITE)
        and any(grant.status in before for before in grant_rules.ENDINGS.values()),
        needs_second_person=grant.status == "proposed"
        and grant.proposed_by == principal.username
        and needs_second_person(committed, award),
        committed=committed,
    )


@dataclass(frozen=True, slots=True)
class PayingAccount:
    name: str
    currency: str


def paying_accounts(conn: Connection, book_code: str) -> tuple[PayingAccount, ...]:
    """The open cash and bank accounts of a book that hold one currency a receipt can state."""
    return tuple(
        PayingAccount(a.name, a.currencies[0])
        for a in books.list_accounts(conn, book_code)
        if a.name.startswith("Assets:")
        and a.close_date is None
        and len(a.currencies) == 1
        and a.currencies[0] in CURRENCY_WORDS
    )


def goods(conn: Connection) -> tuple[Commodity, ...]:
    """What can be given in kind: the counted goods (every commodity that is not money)."""
    return tuple(c for c in books.list_commodities(conn) if c.code not in CURRENCY_WORDS)


@dataclass(frozen=True, slots=True)
class DisbursePageView:
    grant: grant_service.Grant
    accounts: tuple[PayingAccount, ...]
    goods: tuple[Commodity, ...]
    methods: tuple[str, ...]


def read_disburse_page(conn: Connection, principal: Principal, grant_id: int) -> DisbursePageView:
    grant_in_scope(conn, principal, Action.GRANTS_DISBURSE, grant_id)
    grant = grant_service.get_grant(conn, grant_id)
    accounts = paying_accounts(conn, grant.book_code)
    if grant.currency != grant.award_currency:
        # Such a grant is paid in its own currency (`rules.payment_currency_error`).
        accounts = tuple(a for a in accounts if a.currency == grant.currency)
    return DisbursePageView(grant, accounts, goods(conn), grant_rules.METHODS)

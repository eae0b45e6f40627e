"""Amendments of a donor award: budget revisions between lines (up or down), a new total, a
later end date (a no-cost extension), each with an effective date and a reason.

Append-only records with maker-checker approval: a proposal stores the figures before and
after; a second person approves it (never its proposer), and only then does the award take
the new figures, so every check of the award (its dates, its lines' remainders) follows the
approved amendments. The award's original figures are the `before` of its first approved
amendment that touched them. Every function runs in the caller's database transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, insert, select, update

from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    forbidden,
    invalid,
    not_found,
    reject_if,
)
from ledger.core.text import validate_text
from ledger.funds import rules
from ledger.funds import service as funds
from ledger.store import books
from ledger.store.book_accounts import positive_amount
from ledger.store.tables import (
    award_amendment_approvals,
    award_amendment_lines,
    award_amendments,
    awards,
    budget_lines,
)

REASON_LENGTH_MAX = 1_000
AMENDMENT_NOT_FOUND = not_found(
    "amendment_not_found", "The award has no amendment with this id.", "amendment"
)


@dataclass(frozen=True, slots=True)
class LineRevisionDraft:
    budget_line: str
    amount: str  # the line's amount after the amendment


@dataclass(frozen=True, slots=True)
class AmendmentDraft:
    """An amendment as a request gives it: what changes (any of lines, total, end date)."""

    effective_date: datetime.date
    reason: str
    lines: tuple[LineRevisionDraft, ...] = ()
    amount: str | None = None
    end_date: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class LineRevision:
    code: str
    name: str
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class Amendment:
    id: int
    award_code: str
    precision: int
    effective_date: datetime.date
    reason: str
    amount_before: int
    amount_after: int
    end_date_before: datetime.date
    end_date_after: datetime.date
    lines: tuple[LineRevision, ...]
    proposed_by: str
    proposed_at: datetime.datetime
    approved_by: str | None = None
    approved_at: datetime.datetime | None = None

    @property
    def status(self) -> str:
        return "proposed" if self.approved_by is None else "approved"


@dataclass(frozen=True, slots=True)
class Revision:
    """An award's original figures beside its amendments (the current figures are the
    award's own)."""

    original_amount: int
    original_end_date: datetime.date
    original_lines: dict[str, int]
    amendments: tuple[Amendment, ...]


def _reason_errors(reason: str) -> list[LedgerError]:
    error = validate_text(reason, REASON_LENGTH_MAX, "reason")
    if error is not None:
        return [error]
    if not reason.strip():
        return [invalid("reason_required", "Say why the award is amended.", "reason")]
    return []


def _revised_lines(
    conn: Connection, award: funds.Award, drafts: Sequence[LineRevisionDraft]
) -> tuple[tuple[funds.BudgetLine, int], ...]:
    """Each revised line with its new amount (positive, each line once)."""
    if len(drafts) > rules.BUDGET_LINES_PER_AWARD_MAX:
        raise LedgerRejected([invalid("too_many_budget_lines", "Too many budget lines.", "lines")])
    revised: list[tuple[funds.BudgetLine, int]] = []
    for index, draft in enumerate(drafts):
        field = f"lines[{index}]"
        line = next((x for x in award.lines if x.code == draft.budget_line), None)
        if line is None:
            raise LedgerRejected(
                [invalid("budget_line_not_found", "The award has no such line.", f"{field}.code")]
            )
        if any(done.id == line.id for done, _ in revised):
            raise LedgerRejected(
                [invalid("budget_line_repeated", "Each line once.", f"{field}.budget_line")]
            )
        amount = positive_amount(conn, award.currency, draft.amount, f"{field}.amount")
        revised.append((line, amount))
    return tuple(revised)


def _figure_errors(
    conn: Connection,
    award: funds.Award,
    revised: Sequence[tuple[funds.BudgetLine, int]],
    total: int,
) -> list[LedgerError]:
    """The amended budget must hold: lines within the total, none below what it has spent
    and committed."""
    after = {line.id: line.amount for line in award.lines} | {
        line.id: amount for line, amount in revised
    }
    errors: list[LedgerError] = []
    if sum(after.values()) > total:
        errors.append(
            invalid(
                "budget_exceeds_award", "The budget lines add up to more than the award.", "amount"
            )
        )
    for index, (line, amount) in enumerate(revised):
        use = funds.line_use(conn, award, line)
        if amount < use.actual + use.committed:
            errors.append(
                conflict(
                    "budget_line_below_use",
                    f"The line {line.code} has spent and committed more than that.",
                    f"lines[{index}].amount",
                )
            )
    return errors


def _date_errors(award: funds.Award, draft: AmendmentDraft) -> list[LedgerError]:
    errors: list[LedgerError] = []
    end = award.end_date if draft.end_date is None else draft.end_date
    if draft.end_date is not None and draft.end_date <= award.end_date:
        errors.append(
            invalid(
                "extension_not_later",
                f"An extension ends after the award's end date, {award.end_date}.",
                "end_date",
            )
        )
    if not award.start_date <= draft.effective_date <= end:
        errors.append(
            invalid(
                "award_not_active",
                f"The award runs from {award.start_date} to {end}.",
                "effective_date",
            )
        )
    return errors


def propose_amendment(
    conn: Connection, award_code: str, draft: AmendmentDraft, proposed_by: str
) -> Amendment:
    """Propose an amendment; it changes nothing until a second person approves it."""
    award = funds.get_award(conn, award_code, lock=True)
    reject_if(_reason_errors(draft.reason))
    if not draft.lines and draft.amount is None and draft.end_date is None:
        raise LedgerRejected(
            [invalid("amendment_empty", "Give new line amounts, a total or an end date.", None)]
        )
    revised = _revised_lines(conn, award, draft.lines)
    total = (
        award.amount
        if draft.amount is None
        else positive_amount(conn, award.currency, draft.amount, "amount")
    )
    reject_if(_date_errors(award, draft) + _figure_errors(conn, award, revised, total))
    now = books.utc_now()
    amendment = Amendment(
        id=0,
        award_code=award.code,
        precision=award.precision,
        effective_date=draft.effective_date,
        reason=draft.reason,
        amount_before=award.amount,
        amount_after=total,
        end_date_before=award.end_date,
        end_date_after=draft.end_date or award.end_date,
        lines=tuple(LineRevision(x.code, x.name, x.amount, after) for x, after in revised),
        proposed_by=proposed_by,
        proposed_at=now,
    )
    return replace(amendment, id=_store(conn, award, amendment, revised))


def _store(
    conn: Connection,
    award: funds.Award,
    amendment: Amendment,
    revised: Sequence[tuple[funds.BudgetLine, int]],
) -> int:
    amendment_id = int(
        conn.execute(
            insert(award_amendments)
            .values(
                award_id=award.id,
                book_id=award.book_id,
                effective_date=amendment.effective_date,
                reason=amendment.reason,
                amount_before=amendment.amount_before,
                amount_after=amendment.amount_after,
                end_date_before=amendment.end_date_before,
                end_date_after=amendment.end_date_after,
                proposed_by=amendment.proposed_by,
                proposed_at=amendment.proposed_at,
            )
            .returning(award_amendments.c.id)
        ).scalar_one()
    )
    if revised:
        conn.execute(
            insert(award_amendment_lines),
            [
                {"amendment_id": amendment_id, "budget_line_id": line.id}
                | {"amount_before": line.amount, "amount_after": after}
                for line, after in revised
            ],
        )
    return amendment_id


def approve_amendment(
    conn: Connection, award_code: str, amendment_id: int, approver: str
) -> Amendment:
    """Approve a proposed amendment (not by its proposer): the award takes its figures.

    Refused when the award has changed since the proposal (another amendment approved in
    between: `amendment_stale`), or when a line would fall below what it has used."""
    award = funds.get_award(conn, award_code, lock=True)
    found = next((a for a in list_amendments(conn, award) if a.id == amendment_id), None)
    if found is None:
        raise LedgerRejected([AMENDMENT_NOT_FOUND])
    if found.approved_by is not None:
        raise LedgerRejected(
            [conflict("amendment_not_proposed", "This amendment was approved already.")]
        )
    if found.proposed_by == approver:
        raise LedgerRejected(
            [
                forbidden(
                    "approval_needs_second_person",
                    "Someone other than the proposer approves an amendment.",
                )
            ]
        )
    current = {line.code: line for line in award.lines}
    stale = (found.amount_before, found.end_date_before) != (award.amount, award.end_date) or any(
        current[x.code].amount != x.before for x in found.lines
    )
    if stale:
        raise LedgerRejected(
            [
                conflict(
                    "amendment_stale", "The award changed since this was proposed: propose again."
                )
            ]
        )
    revised = [(current[x.code], x.after) for x in found.lines]
    reject_if(_figure_errors(conn, award, revised, found.amount_after))
    _apply(conn, award, found, revised)
    now = books.utc_now()
    conn.execute(
        insert(award_amendment_approvals).values(
            amendment_id=found.id, approved_by=approver, approved_at=now
        )
    )
    return replace(found, approved_by=approver, approved_at=now)


def _apply(
    conn: Connection,
    award: funds.Award,
    amendment: Amendment,
    revised: Sequence[tuple[funds.BudgetLine, int]],
) -> None:
    conn.execute(
        update(awards)
        .where(awards.c.id == award.id)
        .values(amount=amendment.amount_after, end_date=amendment.end_date_after)
    )
    for line, after in revised:
        conn.execute(update(budget_lines).where(budget_lines.c.id == line.id).values(amount=after))


def list_amendments(
    conn: Connection, award: funds.Award, after: int | None = None, limit: int | None = None
) -> list[Amendment]:
    """The award's amendments in the order proposed: all of them, or one page (ids after
    `after`); three queries."""
    statement = (
        select(award_amendments)
        .where(award_amendments.c.award_id == award.id)
        .order_by(award_amendments.c.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(award_amendments.c.id > after)
    rows = conn.execute(statement).all()
    ids = [row.id for row in rows]
    lines = books.rows_by_parent(
        conn, award_amendment_lines.c.amendment_id, ids, award_amendment_lines.c.budget_line_id
    )
    approvals = {
        row.amendment_id: row
        for row in conn.execute(
            select(award_amendment_approvals).where(
                award_amendment_approvals.c.amendment_id.in_(ids)
            )
        )
    }
    by_id = {line.id: line for line in award.lines}
    return [
        Amendment(
            id=row.id,
            award_code=award.code,
            precision=award.precision,
            effective_date=row.effective_date,
            reason=row.reason,
            amount_before=row.amount_before,
            amount_after=row.amount_after,
            end_date_before=row.end_date_before,
            end_date_after=row.end_date_after,
            lines=tuple(
                LineRevision(
                    by_id[x.budget_line_id].code,
                    by_id[x.budget_line_id].name,
                    x.amount_before,
                    x.amount_after,
                )
                for x in lines[row.id]
            ),
            proposed_by=row.proposed_by,
            proposed_at=row.proposed_at,
            approved_by=approvals[row.id].approved_by if row.id in approvals else None,
            approved_at=approvals[row.id].approved_at if row.id in approvals else None,
        )
        for row in rows
    ]


def revision(conn: Connection, award: funds.Award) -> Revision:
    """The award's original figures (before its first approved amendment) and its
    amendments, approved or not."""
    found = list_amendments(conn, award)
    approved = sorted(
        (a for a in found if a.approved_at is not None),
        key=lambda a: (a.approved_at or a.proposed_at, a.id),
    )
    original_lines = {line.code: line.amount for line in award.lines}
    for amendment in reversed(approved):
        for line in amendment.lines:
            original_lines[line.code] = line.before
    first = approved[0] if approved else None
    return Revision(
        original_amount=award.amount if first is None else first.amount_before,
        original_end_date=award.end_date if first is None else first.end_date_before,
        original_lines=original_lines,
        amendments=tuple(found),
    )

"""Donor funds against the stored books: awards, budget lines, fund receipts, exchanges,
spending on a budget line, and budget against actual.

Every function runs inside the caller's unit of work (`Database.write` or `read`) and posts
only through `ledger.store.journal`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, and_, exists, func, insert, select

from ledger.core import limits
from ledger.core.account import validate_account_name
from ledger.core.amount import parse_price, price_within_limits
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    invalid,
    not_found,
    reject_if,
)
from ledger.core.text import validate_text
from ledger.funds import rules
from ledger.funds.rules import Conversion
from ledger.store import books, journal
from ledger.store.prices import record_price
from ledger.store.tables import (
    accounts,
    awards,
    budget_lines,
    budget_spends,
    disbursements,
    exchanges,
    grants,
    postings,
    transaction_meta,
    transactions,
)
from ledger.store.tables import (
    books as book_table,
)

AWARD_NOT_FOUND = not_found("award_not_found", "No award has this code.", "award")
BUDGET_LINE_NOT_FOUND = not_found(
    "budget_line_not_found", "The award has no budget line with this code.", "budget_line"
)
# Statuses whose undisbursed remainder is reserved on the budget line.
RESERVING_STATUSES = ("approved", "disbursing")


@dataclass(frozen=True, slots=True)
class BudgetLineDraft:
    code: str
    name: str
    amount: str
    expense_account: str


@dataclass(frozen=True, slots=True)
class BudgetLine:
    id: int
    code: str
    name: str
    amount: int  # smallest units of the award's currency
    expense_account: str


@dataclass(frozen=True, slots=True)
class Award:
    id: int
    book_id: int
    book_code: str
    code: str
    donor: str
    currency: str
    precision: int
    amount: int
    start_date: datetime.date
    end_date: datetime.date
    approval_threshold: int
    income_account: str
    lines: tuple[BudgetLine, ...]

    def line(self, code: str) -> BudgetLine:
        for line in self.lines:
            if line.code == code:
                return line
        raise LedgerRejected([BUDGET_LINE_NOT_FOUND])

    def line_by_id(self, line_id: int) -> BudgetLine:
        return next(line for line in self.lines if line.id == line_id)


@dataclass(frozen=True, slots=True)
class Spent:
    """What `spend` posted: the transaction and its measure in the award's currency."""

    transaction_id: int
    units: int
    currency: str
    conversion: Conversion


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    id: int
    transaction_id: int
    date: datetime.date
    from_account: str
    from_currency: str
    from_units: int
    to_account: str
    to_currency: str
    to_units: int
    rate: Decimal  # units of `to_currency` for one unit of `from_currency`


@dataclass(frozen=True, slots=True)
class BudgetLineUse:
    line: BudgetLine
    actual: int  # spent, in the award's currency
    committed: int  # reserved by approved grants, not yet disbursed
    in_kind: int  # of `actual`, given in kind

    @property
    def remaining(self) -> int:
        return self.line.amount - self.actual - self.committed


@dataclass(frozen=True, slots=True)
class BudgetReport:
    award: Award
    as_of: datetime.date | None
    received: int  # fund receipts in the award's currency
    lines: tuple[BudgetLineUse, ...]

    @property
    def actual(self) -> int:
        return sum(use.actual for use in self.lines)

    @property
    def committed(self) -> int:
        return sum(use.committed for use in self.lines)

    @property
    def budget(self) -> int:
        return sum(use.line.amount for use in self.lines)


# -- awards and budget lines -------------------------------------------------------------


def positive_amount(conn: Connection, currency: str, text: str, field: str) -> int:
    units = books.parse_amount(conn, currency, text, field)
    if units <= 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "The amount must be positive.", field)]
        )
    return units


def _line_errors(draft: BudgetLineDraft, index: int) -> list[LedgerError]:
    field = f"budget_lines[{index}]"
    found = [
        rules.validate_budget_line_code(draft.code, f"{field}.code"),
        rules.validate_one_line(
            draft.name,
            rules.BUDGET_LINE_NAME_LENGTH_MAX,
            f"{field}.name",
            "budget_line_name_invalid",
        ),
        validate_account_name(draft.expense_account, f"{field}.expense_account"),
    ]
    errors = [error for error in found if error is not None]
    if not draft.expense_account.startswith("Expenses:"):
        errors.append(
            invalid(
                "budget_line_account_not_expense",
                "A budget line's account is an Expenses account.",
                f"{field}.expense_account",
            )
        )
    return errors


def create_award(
    conn: Connection,
    book_code: str,
    code: str,
    donor: str,
    currency: str,
    amount: str,
    start_date: datetime.date,
    end_date: datetime.date,
    approval_threshold: str,
    income_account: str,
    lines: Sequence[BudgetLineDraft],
    created_by: str | None,
) -> Award:
    """A donor award with its budget lines. Opens the income and expense accounts it names
    (on the start date) when the book has none of those names yet."""
    book = books.get_book(conn, book_code)
    errors: list[LedgerError] = []
    if book.kind != "organisation":
        errors.append(
            invalid("book_not_organisation", "Awards belong to an organisation's book.", "book")
        )
    for error in (
        rules.validate_award_code(code),
        rules.validate_one_line(donor, rules.DONOR_LENGTH_MAX, "donor", "donor_invalid"),
        validate_account_name(income_account, "income_account"),
    ):
        if error is not None:
            errors.append(error)
    if not income_account.startswith("Income:"):
        errors.append(
            invalid(
                "income_account_not_income",
                "The award's restricted income account is an Income account.",
                "income_account",
            )
        )
    if end_date < start_date:
        errors.append(
            invalid("award_dates_invalid", "The award ends on or after it starts.", "end_date")
        )
    if len(lines) > rules.BUDGET_LINES_PER_AWARD_MAX:
        errors.append(invalid("too_many_budget_lines", "Too many budget lines.", "budget_lines"))
    for index, line in enumerate(lines):
        errors.extend(_line_errors(line, index))
    if len({line.code for line in lines}) != len(lines):
        errors.append(
            invalid("budget_line_repeated", "Two budget lines have the same code.", "budget_lines")
        )
    reject_if(errors)
    units = positive_amount(conn, currency, amount, "amount")
    threshold = books.parse_amount(conn, currency, approval_threshold, "approval_threshold")
    if threshold < 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "The threshold is zero or more.", "approval_threshold")]
        )
    line_units = [
        positive_amount(conn, currency, line.amount, f"budget_lines[{index}].amount")
        for index, line in enumerate(lines)
    ]
    if sum(line_units) > units:
        raise LedgerRejected(
            [
                invalid(
                    "budget_exceeds_award",
                    "The budget lines add up to more than the award.",
                    "budget_lines",
                )
            ]
        )
    taken = LedgerRejected([conflict("award_exists", "An award with this code exists.", "code")])
    if conn.execute(select(awards.c.id).where(awards.c.code == code)).first():
        raise taken
    # Claim the code before opening accounts: of two requests racing with one code, the
    # second then waits here and is told the award exists.
    award_id = books.insert_new(
        conn,
        awards,
        ["code"],
        {
            "book_id": book.id,
            "code": code,
            "donor": donor,
            "currency": currency,
            "amount": units,
            "start_date": start_date,
            "end_date": end_date,
            "approval_threshold": threshold,
            "income_account": income_account,
            "created_at": books.utc_now(),
            "created_by": created_by,
        },
    )
    if not isinstance(award_id, int):
        raise taken
    books.ensure_account(conn, book_code, income_account, _open_date(book, start_date))
    for line, line_amount in zip(lines, line_units, strict=True):
        _insert_line(conn, book_code, book.id, award_id, line, line_amount, start_date)
    return get_award(conn, code)


def _open_date(book: books.Book, wanted: datetime.date) -> datetime.date:
    """An account the award needs opens on `wanted`, or after the book's lock date."""
    if book.lock_date is not None and wanted <= book.lock_date:
        return book.lock_date + datetime.timedelta(days=1)
    return wanted


def _insert_line(
    conn: Connection,
    book_code: str,
    book_id: int,
    award_id: int,
    line: BudgetLineDraft,
    amount: int,
    open_date: datetime.date,
) -> None:
    book = books.get_book(conn, book_code)
    books.ensure_account(conn, book_code, line.expense_account, _open_date(book, open_date))
    conn.execute(
        insert(budget_lines).values(
            award_id=award_id,
            book_id=book_id,
            code=line.code,
            name=line.name,
            amount=amount,
            expense_account=line.expense_account,
        )
    )


def add_budget_line(conn: Connection, award_code: str, draft: BudgetLineDraft) -> Award:
    award = get_award(conn, award_code, lock=True)
    reject_if(_line_errors(draft, 0))
    amount = positive_amount(conn, award.currency, draft.amount, "budget_lines[0].amount")
    if any(line.code == draft.code for line in award.lines):
        raise LedgerRejected(
            [conflict("budget_line_exists", "The award has this budget line already.", "code")]
        )
    if len(award.lines) >= rules.BUDGET_LINES_PER_AWARD_MAX:
        raise LedgerRejected([invalid("too_many_budget_lines", "Too many budget lines.", "code")])
    if sum(line.amount for line in award.lines) + amount > award.amount:
        raise LedgerRejected(
            [
                invalid(
                    "budget_exceeds_award",
                    "The budget lines add up to more than the award.",
                    "amount",
                )
            ]
        )
    _insert_line(conn, award.book_code, award.book_id, award.id, draft, amount, award.start_date)
    return get_award(conn, award_code)


def _award_from_row(conn: Connection, row: object) -> Award:
    award_id: int = row.id  # type: ignore[attr-defined]
    line_rows = conn.execute(
        select(budget_lines).where(budget_lines.c.award_id == award_id).order_by(budget_lines.c.id)
    )
    currency: str = row.currency  # type: ignore[attr-defined]
    return Award(
        id=award_id,
        book_id=row.book_id,  # type: ignore[attr-defined]
        book_code=row.book_code,  # type: ignore[attr-defined]
        code=row.code,  # type: ignore[attr-defined]
        donor=row.donor,  # type: ignore[attr-defined]
        currency=currency,
        precision=books.commodity_precisions(conn)[currency],
        amount=row.amount,  # type: ignore[attr-defined]
        start_date=row.start_date,  # type: ignore[attr-defined]
        end_date=row.end_date,  # type: ignore[attr-defined]
        approval_threshold=row.approval_threshold,  # type: ignore[attr-defined]
        income_account=row.income_account,  # type: ignore[attr-defined]
        lines=tuple(
            BudgetLine(r.id, r.code, r.name, r.amount, r.expense_account) for r in line_rows
        ),
    )


_AWARDS = select(awards, book_table.c.code.label("book_code")).join(
    book_table, book_table.c.id == awards.c.book_id
)


def get_award(conn: Connection, code: str, *, lock: bool = False) -> Award:
    """The award and its budget lines. With `lock`, the award's row is locked (PostgreSQL)
    until the unit of work ends, so checks against its budget cannot race."""
    statement = _AWARDS.where(awards.c.code == code)
    if lock:
        statement = statement.with_for_update(of=awards)
    row = conn.execute(statement).first()
    if row is None:
        raise LedgerRejected([AWARD_NOT_FOUND])
    return _award_from_row(conn, row)


def get_award_by_id(conn: Connection, award_id: int, *, lock: bool = False) -> Award:
    statement = _AWARDS.where(awards.c.id == award_id)
    if lock:
        statement = statement.with_for_update(of=awards)
    row = conn.execute(statement).first()
    assert row is not None, "a stored reference names an existing award"
    return _award_from_row(conn, row)


def list_awards(conn: Connection) -> list[Award]:
    rows = conn.execute(_AWARDS.order_by(awards.c.start_date, awards.c.code)).all()
    return [_award_from_row(conn, row) for row in rows]


def check_award_active(award: Award, date: datetime.date, field: str = "date") -> None:
    if not award.start_date <= date <= award.end_date:
        raise LedgerRejected(
            [
                invalid(
                    "award_not_active",
                    f"The award runs from {award.start_date} to {award.end_date}.",
                    field,
                )
            ]
        )


# -- money in: fund receipts and exchanges ---------------------------------------------------


def receive_funds(
    conn: Connection,
    award_code: str,
    date: datetime.date,
    bank_account: str,
    amount: str,
    narration: str | None,
    reference: str | None,
    created_by: str | None,
) -> int:
    """Post a fund receipt from the donor into `bank_account`. Returns the transaction id."""
    award = get_award(conn, award_code)
    account_named(conn, award.book_id, bank_account, "bank_account")
    units = positive_amount(conn, award.currency, amount, "amount")
    if reference is not None:
        reject_if(
            e for e in [validate_text(reference, limits.META_VALUE_LENGTH_MAX, "reference")] if e
        )
    text = narration or f"{award.code}: funds received from {award.donor}"
    txn = rules.fund_receipt(
        date,
        award.code,
        award.donor,
        bank_account,
        award.income_account,
        units,
        award.currency,
        text,
        reference,
    )
    return journal.post(conn, award.book_code, txn, created_by=created_by)


def record_exchange(
    conn: Connection,
    book_code: str,
    date: datetime.date,
    from_account: str,
    to_account: str,
    from_amount: str | None,
    to_amount: str | None,
    rate: str | None,
    narration: str | None,
    created_by: str | None,
) -> ExchangeRecord:
    """Exchange money between two accounts of one book in different currencies.

    Give both amounts, or one amount and the rate (units of the received currency for one
    unit of the currency given: 4100 riel to the dollar). The received side carries a total
    price, and the rate is kept as the day's price.
    """
    book = books.get_book(conn, book_code)
    source = account_currency(conn, book.id, from_account, "from_account")
    target = account_currency(conn, book.id, to_account, "to_account")
    if source == target:
        raise LedgerRejected(
            [
                invalid(
                    "exchange_same_currency", "An exchange is between two currencies.", "to_account"
                )
            ]
        )
    precisions = books.commodity_precisions(conn)
    given = 0 if from_amount is None else positive_amount(conn, source, from_amount, "from_amount")
    received = 0 if to_amount is None else positive_amount(conn, target, to_amount, "to_amount")
    if sum(x is not None for x in (from_amount, to_amount, rate)) != 2:
        raise LedgerRejected(
            [
                invalid(
                    "exchange_terms_invalid",
                    "Give from_amount and to_amount, or one of them and the rate.",
                    "rate",
                )
            ]
        )
    if rate is not None:
        parsed = parse_price(rate, "rate")
        if isinstance(parsed, LedgerError):
            raise LedgerRejected([parsed])
        if from_amount is not None:
            received = rules.convert_at_rate(
                given, precisions[source], precisions[target], 1 / parsed
            ).award_units
        else:
            given = rules.convert_at_rate(
                received, precisions[target], precisions[source], parsed
            ).award_units
        if given <= 0 or received <= 0:
            raise LedgerRejected(
                [invalid("amount_not_positive", "The exchange rounds to nothing.", "rate")]
            )
    exact_rate = rules.rate_between(received, precisions[target], given, precisions[source])
    if not price_within_limits(exact_rate):
        # It becomes the day's price: Beancount and the prices table take nothing larger.
        raise LedgerRejected(
            [
                invalid(
                    "price_invalid",
                    f"The exchange's rate is below {limits.PRICE_ABS_MAX} units received "
                    "for one unit given.",
                    "rate" if rate is not None else "to_amount",
                )
            ]
        )
    next_id = (
        conn.execute(
            select(func.count()).select_from(exchanges).where(exchanges.c.book_id == book.id)
        ).scalar_one()
        + 1
    )
    text = narration or (
        f"Exchange {from_amount or given} {source} into {to_amount or received} {target}"
    )
    txn = rules.exchange(
        date,
        from_account,
        given,
        source,
        to_account,
        received,
        target,
        text[: limits.NARRATION_LENGTH_MAX],
        f"fx-{date.isoformat()}-{next_id}",
    )
    transaction_id = journal.post(conn, book_code, txn, created_by=created_by)
    record_price(conn, book.id, date, source, target, exact_rate)
    exchange_id = conn.execute(
        insert(exchanges)
        .values(
            book_id=book.id,
            transaction_id=transaction_id,
            date=date,
            from_account_id=_account_id(conn, book.id, from_account),
            from_commodity=source,
            from_units=given,
            to_account_id=_account_id(conn, book.id, to_account),
            to_commodity=target,
            to_units=received,
        )
        .returning(exchanges.c.id)
    ).scalar_one()
    return ExchangeRecord(
        exchange_id,
        transaction_id,
        date,
        from_account,
        source,
        given,
        to_account,
        target,
        received,
        exact_rate,
    )


def list_exchanges(conn: Connection, book_code: str) -> list[ExchangeRecord]:
    book = books.get_book(conn, book_code)
    source = accounts.alias("source")
    target = accounts.alias("target")
    rows = conn.execute(
        select(exchanges, source.c.name.label("from_name"), target.c.name.label("to_name"))
        .join(source, source.c.id == exchanges.c.from_account_id)
        .join(target, target.c.id == exchanges.c.to_account_id)
        .where(exchanges.c.book_id == book.id)
        .order_by(exchanges.c.date, exchanges.c.id)
        .limit(limits.PAGE_SIZE_MAX)
    )
    precisions = books.commodity_precisions(conn)
    return [
        ExchangeRecord(
            r.id,
            r.transaction_id,
            r.date,
            r.from_name,
            r.from_commodity,
            r.from_units,
            r.to_name,
            r.to_commodity,
            r.to_units,
            rules.rate_between(
                r.to_units, precisions[r.to_commodity], r.from_units, precisions[r.from_commodity]
            ),
        )
        for r in rows
    ]


def account_named(conn: Connection, book_id: int, name: str, field: str) -> books.Account:
    """The open account that holds money here (a bank account, a cash box): an Assets one."""
    found = books.find_account(conn, book_id, name)
    if found is None:
        raise LedgerRejected([invalid("account_unknown", "No open account has this name.", field)])
    if not found.name.startswith("Assets:"):
        raise LedgerRejected(
            [
                invalid(
                    "account_not_asset",
                    "Money is received into, paid from and exchanged between Assets accounts.",
                    field,
                )
            ]
        )
    return found


def _account_id(conn: Connection, book_id: int, name: str) -> int:
    return account_named(conn, book_id, name, "account").id


def account_currency(conn: Connection, book_id: int, name: str, field: str) -> str:
    """The one currency an account holds (an exchange or payment names the account only)."""
    account = account_named(conn, book_id, name, field)
    if len(account.currencies) != 1:
        raise LedgerRejected(
            [
                invalid(
                    "account_currency_ambiguous",
                    "This account must be opened for exactly one currency.",
                    field,
                )
            ]
        )
    return account.currencies[0]


# -- money out: spending on a budget line ----------------------------------------------------


def convert_to_award(
    conn: Connection,
    award: Award,
    paid_from_id: int,
    currency: str,
    units: int,
    date: datetime.date,
    explicit_rate: Decimal | None,
) -> Conversion:
    """`units` of `currency` paid from an account, measured in the award's currency.

    The same currency is itself. Otherwise an explicit rate wins; failing that, the weighted
    average rate of the exchanges from the award's currency into the account, up to `date`.
    Refused when it comes to nothing in the award's currency: every payment consumes budget.
    """
    precision = books.commodity_precisions(conn)[currency]
    if currency == award.currency:
        conversion = rules.same_currency(units)
    elif explicit_rate is not None:
        conversion = rules.convert_at_rate(units, precision, award.precision, explicit_rate)
    else:
        local_total, award_total = _exchanged_into(
            conn, award.currency, paid_from_id, currency, date
        )
        if not local_total:
            raise LedgerRejected(
                [
                    invalid(
                        "exchange_rate_required",
                        f"No {award.currency} was exchanged into this account by this date: "
                        f"give exchange_rate ({currency} per {award.currency}).",
                        "exchange_rate",
                    )
                ]
            )
        conversion = rules.convert_at_average(
            units, precision, award.precision, local_total, award_total
        )
    if conversion.award_units <= 0:
        raise LedgerRejected(
            [
                invalid(
                    "amount_not_positive",
                    f"The amount rounds to nothing in {award.currency} at this rate.",
                    "amount",
                )
            ]
        )
    return conversion


def _exchanged_into(
    conn: Connection, award_currency: str, account_id: int, currency: str, date: datetime.date
) -> tuple[int, int]:
    """(units of `currency`, units of the award's currency) exchanged into the account by
    `date`: the weights of its average rate."""
    local_total, award_total = conn.execute(
        select(
            func.coalesce(func.sum(exchanges.c.to_units), 0),
            func.coalesce(func.sum(exchanges.c.from_units), 0),
        ).where(
            and_(
                exchanges.c.to_account_id == account_id,
                exchanges.c.to_commodity == currency,
                exchanges.c.from_commodity == award_currency,
                exchanges.c.date <= date,
            )
        )
    ).one()
    return int(local_total), int(award_total)


def parse_rate(text: str | None) -> Decimal | None:
    if text is None:
        return None
    parsed = parse_price(text, "exchange_rate")
    if isinstance(parsed, LedgerError):
        raise LedgerRejected([parsed])
    return parsed


def line_use(
    conn: Connection, award: Award, line: BudgetLine, as_of: datetime.date | None = None
) -> BudgetLineUse:
    """What a budget line has spent and has reserved for approved grants.

    A spend counts until its transaction is reversed (by whichever route), so the budget
    follows the journal without a second record of the reversal.
    """
    reversal = transactions.alias("reversal")
    reversed_where = [reversal.c.reverses_id == budget_spends.c.transaction_id]
    spent_where = [budget_spends.c.budget_line_id == line.id]
    if as_of is not None:
        spent_where.append(budget_spends.c.date <= as_of)
        reversed_where.append(reversal.c.date <= as_of)
    spent_where.append(~exists().where(and_(*reversed_where)))
    actual = conn.execute(
        select(func.coalesce(func.sum(budget_spends.c.award_units), 0)).where(and_(*spent_where))
    ).scalar_one()
    in_kind = conn.execute(
        select(func.coalesce(func.sum(disbursements.c.award_units), 0))
        .join(grants, grants.c.id == disbursements.c.grant_id)
        .where(
            and_(
                grants.c.budget_line_id == line.id,
                disbursements.c.method == "in_kind",
                disbursements.c.reversed_at.is_(None),
                *([disbursements.c.date <= as_of] if as_of is not None else []),
            )
        )
    ).scalar_one()
    committed = 0
    if as_of is None:
        approved = conn.execute(
            select(func.coalesce(func.sum(grants.c.approved_amount), 0)).where(
                and_(grants.c.budget_line_id == line.id, grants.c.status.in_(RESERVING_STATUSES))
            )
        ).scalar_one()
        given = conn.execute(
            select(func.coalesce(func.sum(disbursements.c.award_units), 0))
            .join(grants, grants.c.id == disbursements.c.grant_id)
            .where(
                and_(
                    grants.c.budget_line_id == line.id,
                    grants.c.status.in_(RESERVING_STATUSES),
                    disbursements.c.reversed_at.is_(None),
                )
            )
        ).scalar_one()
        committed = int(approved) - int(given)
    return BudgetLineUse(line, int(actual), committed, int(in_kind))


def check_line_room(
    conn: Connection,
    award: Award,
    line: BudgetLine,
    award_units: int,
    field: str,
    *,
    reserved: int = 0,
) -> None:
    """Refuse `award_units` more on `line` when it has not that much left.

    `reserved` is what the spender itself has reserved on the line (an approved grant paying
    out of its own reservation does not compete with itself).
    """
    use = line_use(conn, award, line)
    if award_units > use.remaining + reserved:
        raise LedgerRejected(
            [
                conflict(
                    "budget_line_exceeded",
                    f"The budget line {line.code} has not that much left.",
                    field,
                )
            ]
        )


def spend(
    conn: Connection,
    award: Award,
    line: BudgetLine,
    date: datetime.date,
    paid_from: str,
    units: int,
    currency: str,
    narration: str,
    payee: str | None,
    kind: str,
    explicit_rate: Decimal | None,
    created_by: str | None,
    *,
    extra_meta: tuple[tuple[str, str], ...] = (),
    tags: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
    reserved: int = 0,
    conversion: Conversion | None = None,
) -> Spent:
    """Post an expense on `line` paid from `paid_from`, measured in the award's currency,
    within the award's dates and the line's remainder. The one home of budget consumption."""
    check_award_active(award, date)
    account = account_named(conn, award.book_id, paid_from, "paid_from")
    if conversion is None:
        conversion = convert_to_award(conn, award, account.id, currency, units, date, explicit_rate)
    check_line_room(conn, award, line, conversion.award_units, "amount", reserved=reserved)
    txn = rules.budget_expense(
        date,
        line.expense_account,
        paid_from,
        units,
        currency,
        narration,
        payee,
        award.code,
        line.code,
        extra_meta=extra_meta,
        tags=tags,
        links=links,
    )
    transaction_id = journal.post(conn, award.book_code, txn, created_by=created_by)
    record_spend(conn, award, line, transaction_id, date, kind, currency, units, conversion)
    return Spent(transaction_id, units, currency, conversion)


def record_spend(
    conn: Connection,
    award: Award,
    line: BudgetLine,
    transaction_id: int,
    date: datetime.date,
    kind: str,
    currency: str,
    units: int,
    conversion: Conversion,
) -> None:
    """Write the budget-spend row of a posted transaction (negative for a reversal)."""
    conn.execute(
        insert(budget_spends).values(
            book_id=award.book_id,
            award_id=award.id,
            budget_line_id=line.id,
            transaction_id=transaction_id,
            date=date,
            kind=kind,
            currency=currency,
            units=units,
            award_units=conversion.award_units,
            rate=None if conversion.rate is None else str(conversion.rate),
            rate_method=conversion.method,
        )
    )


def budget_report(
    conn: Connection, award_code: str, as_of: datetime.date | None = None
) -> BudgetReport:
    award = get_award(conn, award_code)
    return BudgetReport(
        award=award,
        as_of=as_of,
        received=_received(conn, award, as_of),
        lines=tuple(line_use(conn, award, line, as_of) for line in award.lines),
    )


def _received(conn: Connection, award: Award, as_of: datetime.date | None) -> int:
    """Fund receipts of the award (less their reversals): credits to its income account in
    transactions that carry its `award` metadata."""
    income = books.find_account(conn, award.book_id, award.income_account)
    if income is None:
        return 0
    where = [
        postings.c.account_id == income.id,
        postings.c.commodity == award.currency,
        transaction_meta.c.key == "award",
        transaction_meta.c.value == award.code,
    ]
    if as_of is not None:
        where.append(postings.c.date <= as_of)
    total = conn.execute(
        select(func.coalesce(func.sum(postings.c.units), 0))
        .select_from(postings)
        .join(transaction_meta, transaction_meta.c.transaction_id == postings.c.transaction_id)
        .where(and_(*where))
    ).scalar_one()
    return -int(total)

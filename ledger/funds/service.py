"""Donor funds against the stored books: awards, budget lines, fund receipts, exchanges,
spending on a budget line, and budget against actual.

Every function runs inside the caller's database transaction (`Database.write` or `read`)
and posts only through `ledger.store.journal`. Every write returns what it did, built from what it
wrote: nothing is read back. The shared book helpers (`positive_amount`, `account_named`,
`account_currency`) live in `ledger.store.book_accounts`, where every area calls them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, case, func, insert, select

from ledger.core import limits
from ledger.core.account import validate_account_name
from ledger.core.amount import format_units, parse_price, price_within_limits
from ledger.core.errors import (
    LedgerError,
    LedgerRejected,
    conflict,
    invalid,
    not_found,
    reject_if,
)
from ledger.core.text import validate_text
from ledger.core.transaction import Transaction
from ledger.funds import line_weeks, rules
from ledger.funds.rules import Conversion
from ledger.store import books, journal
from ledger.store.book_accounts import (
    account_currency,
    account_named,
    only_currency,
    positive_amount,
)
from ledger.store.prices import record_price
from ledger.store.tables import (
    accounts,
    awards,
    budget_lines,
    commodities,
    disbursements,
    exchanges,
    grants,
    postings,
    transaction_meta,
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
class AwardDraft:
    """A donor award as a request gives it (amounts as decimal text)."""

    book_code: str
    code: str
    donor: str
    currency: str
    amount: str
    start_date: datetime.date
    end_date: datetime.date
    approval_threshold: str
    income_account: str
    lines: tuple[BudgetLineDraft, ...]


@dataclass(frozen=True, slots=True)
class ExpenseDraft:
    """An expense on a budget line, parsed: `units` of `currency` paid from `paid_from`.

    `kind` says what spent it (`expense`, `grant`, `training`); `reserved` is what the spender
    itself has reserved on the line (see `check_line_room`); a `conversion` measured already
    (a grant measures it before it numbers the receipt) is used as it is.
    """

    date: datetime.date
    paid_from: str
    units: int
    currency: str
    narration: str
    kind: str
    payee: str | None = None
    explicit_rate: Decimal | None = None
    extra_meta: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    reserved: int = 0
    conversion: Conversion | None = None


@dataclass(frozen=True, slots=True)
class BudgetExpenseDraft:
    """An expense on a budget line as a request gives it (amount and rate as text)."""

    date: datetime.date
    budget_line: str
    paid_from: str
    amount: str
    narration: str
    payee: str | None = None
    exchange_rate: str | None = None


@dataclass(frozen=True, slots=True)
class Spent:
    """What an expense posted: the transaction and its measure in the award's currency."""

    transaction_id: int
    units: int
    currency: str
    conversion: Conversion
    book_code: str
    award_precision: int  # to show `conversion.award_units`


@dataclass(frozen=True, slots=True)
class FundsReceived:
    """What a fund receipt posted: the transaction, in the award's book."""

    book_code: str
    transaction_id: int


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
    from_precision: int
    to_precision: int


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


def _award_errors(book: books.Book, draft: AwardDraft) -> list[LedgerError]:
    """What is wrong with an award request, before any amount is parsed."""
    errors: list[LedgerError] = []
    if book.kind != "organisation":
        errors.append(
            invalid("book_not_organisation", "Awards belong to an organisation's book.", "book")
        )
    for error in (
        rules.validate_award_code(draft.code),
        rules.validate_one_line(draft.donor, rules.DONOR_LENGTH_MAX, "donor", "donor_invalid"),
        validate_account_name(draft.income_account, "income_account"),
    ):
        if error is not None:
            errors.append(error)
    if not draft.income_account.startswith("Income:"):
        errors.append(
            invalid(
                "income_account_not_income",
                "The award's restricted income account is an Income account.",
                "income_account",
            )
        )
    if draft.end_date < draft.start_date:
        errors.append(
            invalid("award_dates_invalid", "The award ends on or after it starts.", "end_date")
        )
    if len(draft.lines) > rules.BUDGET_LINES_PER_AWARD_MAX:
        errors.append(invalid("too_many_budget_lines", "Too many budget lines.", "budget_lines"))
    for index, line in enumerate(draft.lines):
        errors.extend(_line_errors(line, index))
    if len({line.code for line in draft.lines}) != len(draft.lines):
        errors.append(
            invalid("budget_line_repeated", "Two budget lines have the same code.", "budget_lines")
        )
    return errors


@dataclass(frozen=True, slots=True)
class _AwardAmounts:
    units: int
    threshold: int
    line_units: tuple[int, ...]


def _award_amounts(conn: Connection, draft: AwardDraft) -> _AwardAmounts:
    """The award's amount, threshold and budget lines in smallest units, checked."""
    currency = draft.currency
    units = positive_amount(conn, currency, draft.amount, "amount")
    threshold = books.parse_amount(conn, currency, draft.approval_threshold, "approval_threshold")
    if threshold < 0:
        raise LedgerRejected(
            [invalid("amount_not_positive", "The threshold is zero or more.", "approval_threshold")]
        )
    line_units = tuple(
        positive_amount(conn, currency, line.amount, f"budget_lines[{index}].amount")
        for index, line in enumerate(draft.lines)
    )
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
    return _AwardAmounts(units, threshold, line_units)


def create_award(conn: Connection, draft: AwardDraft, created_by: str | None) -> Award:
    """A donor award with its budget lines. Opens the income and expense accounts it names
    (on the start date) when the book has none of those names yet. Returns the award as
    stored, built from what was written."""
    book = books.get_book(conn, draft.book_code)
    reject_if(_award_errors(book, draft))
    amounts = _award_amounts(conn, draft)
    taken = LedgerRejected([conflict("award_exists", "An award with this code exists.", "code")])
    if conn.execute(select(awards.c.id).where(awards.c.code == draft.code)).first():
        raise taken
    # Claim the code before opening accounts: of two requests racing with one code, the
    # second then waits here and is told the award exists.
    award_id = books.insert_new(
        conn,
        awards,
        ["code"],
        {
            "book_id": book.id,
            "code": draft.code,
            "donor": draft.donor,
            "currency": draft.currency,
            "amount": amounts.units,
            "start_date": draft.start_date,
            "end_date": draft.end_date,
            "approval_threshold": amounts.threshold,
            "income_account": draft.income_account,
            "created_at": books.utc_now(),
            "created_by": created_by,
        },
    )
    if not isinstance(award_id, int):
        raise taken
    books.ensure_account(conn, book.code, draft.income_account, _open_date(book, draft.start_date))
    award = Award(
        id=award_id,
        book_id=book.id,
        book_code=book.code,
        code=draft.code,
        donor=draft.donor,
        currency=draft.currency,
        precision=books.commodity_precisions(conn, (draft.currency,))[draft.currency],
        amount=amounts.units,
        start_date=draft.start_date,
        end_date=draft.end_date,
        approval_threshold=amounts.threshold,
        income_account=draft.income_account,
        lines=(),
    )
    for line, line_amount in zip(draft.lines, amounts.line_units, strict=True):
        award = _with_line(conn, book, award, line, line_amount)
    return award


def _open_date(book: books.Book, wanted: datetime.date) -> datetime.date:
    """An account the award needs opens on `wanted`, or after the book's lock date."""
    if book.lock_date is not None and wanted <= book.lock_date:
        return book.lock_date + datetime.timedelta(days=1)
    return wanted


def _with_line(
    conn: Connection, book: books.Book, award: Award, line: BudgetLineDraft, amount: int
) -> Award:
    """Store a budget line of `award` (opening its expense account when the book has none by
    that name) and return the award with it."""
    books.ensure_account(conn, book.code, line.expense_account, _open_date(book, award.start_date))
    line_id = conn.execute(
        insert(budget_lines)
        .values(
            award_id=award.id,
            book_id=book.id,
            code=line.code,
            name=line.name,
            amount=amount,
            expense_account=line.expense_account,
        )
        .returning(budget_lines.c.id)
    ).scalar_one()
    stored = BudgetLine(line_id, line.code, line.name, amount, line.expense_account)
    return replace(award, lines=(*award.lines, stored))


def add_budget_line(conn: Connection, award_code: str, draft: BudgetLineDraft) -> Award:
    """Add a budget line to an award; the award with it."""
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
    book = books.get_book(conn, award.book_code)
    return _with_line(conn, book, award, draft, amount)


_AWARDS = (
    select(awards, book_table.c.code.label("book_code"), commodities.c.precision)
    .join(book_table, book_table.c.id == awards.c.book_id)
    .join(commodities, commodities.c.code == awards.c.currency)
)


def _awards_from_rows(conn: Connection, rows: Sequence[Row[Any]]) -> list[Award]:
    """Awards with their budget lines: one query for the lines of all of them."""
    lines = books.rows_by_parent(
        conn, budget_lines.c.award_id, (row.id for row in rows), budget_lines.c.id
    )
    return [
        Award(
            id=row.id,
            book_id=row.book_id,
            book_code=row.book_code,
            code=row.code,
            donor=row.donor,
            currency=row.currency,
            precision=row.precision,
            amount=row.amount,
            start_date=row.start_date,
            end_date=row.end_date,
            approval_threshold=row.approval_threshold,
            income_account=row.income_account,
            lines=tuple(
                BudgetLine(r.id, r.code, r.name, r.amount, r.expense_account) for r in lines[row.id]
            ),
        )
        for row in rows
    ]


def get_award(conn: Connection, code: str, *, lock: bool = False) -> Award:
    """The award and its budget lines. With `lock`, the award's row is locked (PostgreSQL)
    until the database transaction ends, so checks against its budget cannot race."""
    statement = _AWARDS.where(awards.c.code == code)
    if lock:
        statement = statement.with_for_update(of=awards)
    row = conn.execute(statement).first()
    if row is None:
        raise LedgerRejected([AWARD_NOT_FOUND])
    return _awards_from_rows(conn, [row])[0]


def get_award_by_id(conn: Connection, award_id: int, *, lock: bool = False) -> Award:
    statement = _AWARDS.where(awards.c.id == award_id)
    if lock:
        statement = statement.with_for_update(of=awards)
    row = conn.execute(statement).first()
    assert row is not None, "a stored reference names an existing award"
    return _awards_from_rows(conn, [row])[0]


def list_awards(conn: Connection) -> list[Award]:
    """Every award in start-date order: two queries, however many awards."""
    rows = conn.execute(_AWARDS.order_by(awards.c.start_date, awards.c.code)).all()
    return _awards_from_rows(conn, rows)


def page_of_awards(conn: Connection, after_id: int | None, limit: int) -> list[Award]:
    """A page of awards in id order (the order they were recorded): `limit` of them after
    `after_id`. Two queries a page, however many it holds."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    statement = _AWARDS.order_by(awards.c.id).limit(limit)
    if after_id is not None:
        statement = statement.where(awards.c.id > after_id)
    return _awards_from_rows(conn, conn.execute(statement).all())


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
) -> FundsReceived:
    """Post a fund receipt from the donor into `bank_account`: the transaction it posted."""
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
    return FundsReceived(
        award.book_code, journal.post(conn, award.book_code, txn, created_by=created_by)
    )


@dataclass(frozen=True, slots=True)
class ExchangeDraft:
    """An exchange as a request gives it: both amounts, or one of them and the rate."""

    book_code: str
    date: datetime.date
    from_account: str
    to_account: str
    from_amount: str | None
    to_amount: str | None
    rate: str | None
    narration: str | None


@dataclass(frozen=True, slots=True)
class _ExchangeTerms:
    """An exchange worked out: what is given and received, and the exact rate between them."""

    source: books.Account
    target: books.Account
    given: int
    received: int
    rate: Decimal
    precisions: dict[str, int]

    @property
    def source_currency(self) -> str:
        return self.source.currencies[0]

    @property
    def target_currency(self) -> str:
        return self.target.currencies[0]


def record_exchange(
    conn: Connection, draft: ExchangeDraft, created_by: str | None
) -> ExchangeRecord:
    """Exchange money between two accounts of one book in different currencies.

    Give both amounts, or one amount and the rate (units of the received currency for one
    unit of the currency given: 4100 riel to the dollar). The received side carries a total
    price, and the rate is kept as the day's price. Returns the exchange as stored, built
    from what was written.
    """
    book = books.get_book(conn, draft.book_code)
    terms = _exchange_terms(conn, book, draft)
    source, target = terms.source_currency, terms.target_currency
    next_id = (
        conn.execute(
            select(func.count()).select_from(exchanges).where(exchanges.c.book_id == book.id)
        ).scalar_one()
        + 1
    )
    # Both amounts as they were worked out, each at its currency's precision (never in
    # smallest units: 325.00 THB, not 32500).
    text = draft.narration or (
        f"Exchange {format_units(terms.given, terms.precisions[source])} {source} "
        f"into {format_units(terms.received, terms.precisions[target])} {target}"
    )
    txn = rules.exchange(
        draft.date,
        draft.from_account,
        terms.given,
        source,
        draft.to_account,
        terms.received,
        target,
        text[: limits.NARRATION_LENGTH_MAX],
        f"fx-{draft.date.isoformat()}-{next_id}",
    )
    transaction_id = journal.post(conn, book.code, txn, created_by=created_by)
    record_price(conn, book.id, draft.date, source, target, terms.rate)
    return _store_exchange(conn, book.id, transaction_id, draft, terms)


def _exchange_terms(conn: Connection, book: books.Book, draft: ExchangeDraft) -> _ExchangeTerms:
    """What an exchange gives and receives, from its amounts or one amount and the rate."""
    source = account_named(conn, book.id, draft.from_account, "from_account")
    source_currency = only_currency(source, "from_account")
    target = account_named(conn, book.id, draft.to_account, "to_account")
    target_currency = only_currency(target, "to_account")
    if source_currency == target_currency:
        raise LedgerRejected(
            [
                invalid(
                    "exchange_same_currency", "An exchange is between two currencies.", "to_account"
                )
            ]
        )
    precisions = books.commodity_precisions(conn)
    given = _optional_amount(conn, source_currency, draft.from_amount, "from_amount")
    received = _optional_amount(conn, target_currency, draft.to_amount, "to_amount")
    if sum(x is not None for x in (draft.from_amount, draft.to_amount, draft.rate)) != 2:
        raise LedgerRejected(
            [
                invalid(
                    "exchange_terms_invalid",
                    "Give from_amount and to_amount, or one of them and the rate.",
                    "rate",
                )
            ]
        )
    source_precision, target_precision = precisions[source_currency], precisions[target_currency]
    if draft.rate is not None:
        parsed = parse_price(draft.rate, "rate")
        if isinstance(parsed, LedgerError):
            raise LedgerRejected([parsed])
        if draft.from_amount is not None:
            received = rules.convert_at_rate(
                given, source_precision, target_precision, 1 / parsed
            ).award_units
        else:
            given = rules.convert_at_rate(
                received, target_precision, source_precision, parsed
            ).award_units
        if given <= 0 or received <= 0:
            raise LedgerRejected(
                [invalid("amount_not_positive", "The exchange rounds to nothing.", "rate")]
            )
    exact_rate = rules.rate_between(received, target_precision, given, source_precision)
    if not price_within_limits(exact_rate):
        # It becomes the day's price: Beancount and the prices table take nothing larger.
        raise LedgerRejected(
            [
                invalid(
                    "price_invalid",
                    f"The exchange's rate is below {limits.PRICE_ABS_MAX} units received "
                    "for one unit given.",
                    "rate" if draft.rate is not None else "to_amount",
                )
            ]
        )
    return _ExchangeTerms(source, target, given, received, exact_rate, precisions)


def _optional_amount(conn: Connection, currency: str, text: str | None, field: str) -> int:
    return 0 if text is None else positive_amount(conn, currency, text, field)


def _store_exchange(
    conn: Connection,
    book_id: int,
    transaction_id: int,
    draft: ExchangeDraft,
    terms: _ExchangeTerms,
) -> ExchangeRecord:
    source, target = terms.source_currency, terms.target_currency
    exchange_id = conn.execute(
        insert(exchanges)
        .values(
            book_id=book_id,
            transaction_id=transaction_id,
            date=draft.date,
            from_account_id=terms.source.id,
            from_commodity=source,
            from_units=terms.given,
            to_account_id=terms.target.id,
            to_commodity=target,
            to_units=terms.received,
        )
        .returning(exchanges.c.id)
    ).scalar_one()
    return ExchangeRecord(
        id=exchange_id,
        transaction_id=transaction_id,
        date=draft.date,
        from_account=draft.from_account,
        from_currency=source,
        from_units=terms.given,
        to_account=draft.to_account,
        to_currency=target,
        to_units=terms.received,
        rate=terms.rate,
        from_precision=terms.precisions[source],
        to_precision=terms.precisions[target],
    )


_EXCHANGE_SOURCE = accounts.alias("source")
_EXCHANGE_TARGET = accounts.alias("target")
_EXCHANGES = (
    select(
        exchanges,
        _EXCHANGE_SOURCE.c.name.label("from_name"),
        _EXCHANGE_TARGET.c.name.label("to_name"),
    )
    .join(_EXCHANGE_SOURCE, _EXCHANGE_SOURCE.c.id == exchanges.c.from_account_id)
    .join(_EXCHANGE_TARGET, _EXCHANGE_TARGET.c.id == exchanges.c.to_account_id)
)


def _exchange_records(conn: Connection, rows: Sequence[Row[Any]]) -> list[ExchangeRecord]:
    precisions = books.commodity_precisions(conn)
    return [
        ExchangeRecord(
            id=r.id,
            transaction_id=r.transaction_id,
            date=r.date,
            from_account=r.from_name,
            from_currency=r.from_commodity,
            from_units=r.from_units,
            to_account=r.to_name,
            to_currency=r.to_commodity,
            to_units=r.to_units,
            rate=rules.rate_between(
                r.to_units, precisions[r.to_commodity], r.from_units, precisions[r.from_commodity]
            ),
            from_precision=precisions[r.from_commodity],
            to_precision=precisions[r.to_commodity],
        )
        for r in rows
    ]


def list_exchanges(conn: Connection, book_code: str) -> list[ExchangeRecord]:
    """A book's first `limits.PAGE_SIZE_MAX` exchanges in date order (the finance pages)."""
    book = books.get_book(conn, book_code)
    statement = (
        _EXCHANGES.where(exchanges.c.book_id == book.id)
        .order_by(exchanges.c.date, exchanges.c.id)
        .limit(limits.PAGE_SIZE_MAX)
    )
    return _exchange_records(conn, conn.execute(statement).all())


def page_of_exchanges(
    conn: Connection, book_code: str, after_id: int | None, limit: int
) -> list[ExchangeRecord]:
    """A page of a book's exchanges in id order (the order they were recorded): `limit` of
    them after `after_id`. Three queries a page, however many it holds."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    book = books.get_book(conn, book_code)
    statement = (
        _EXCHANGES.where(exchanges.c.book_id == book.id).order_by(exchanges.c.id).limit(limit)
    )
    if after_id is not None:
        statement = statement.where(exchanges.c.id > after_id)
    return _exchange_records(conn, conn.execute(statement).all())


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


def commitment_for(
    conn: Connection,
    award: Award,
    currency: str,
    units: int,
    date: datetime.date,
    explicit_rate: Decimal | None,
) -> Conversion:
    """What a grant of `units` of `currency` commits of the award's currency when approved on
    `date`: itself in the award's currency; else at the explicit rate when given; else at the
    weighted average rate of the award's book's exchanges from the award's currency into
    `currency` (into any account: the one it will be paid from is not known yet) up to `date`.
    """
    precision = books.commodity_precisions(conn)[currency]
    if currency == award.currency:
        return rules.same_currency(units)
    if explicit_rate is not None:
        conversion = rules.convert_at_rate(units, precision, award.precision, explicit_rate)
    else:
        local_total, award_total = conn.execute(
            select(
                func.coalesce(func.sum(exchanges.c.to_units), 0),
                func.coalesce(func.sum(exchanges.c.from_units), 0),
            ).where(
                and_(
                    exchanges.c.book_id == award.book_id,
                    exchanges.c.to_commodity == currency,
                    exchanges.c.from_commodity == award.currency,
                    exchanges.c.date <= date,
                )
            )
        ).one()
        if not local_total:
            raise LedgerRejected(
                [
                    invalid(
                        "exchange_rate_required",
                        f"No {award.currency} was exchanged into {currency} by this date: "
                        f"give exchange_rate ({currency} per {award.currency}).",
                        "exchange_rate",
                    )
                ]
            )
        conversion = rules.convert_at_average(
            units, precision, award.precision, int(local_total), int(award_total)
        )
    if conversion.award_units <= 0:
        raise LedgerRejected(
            [
                invalid(
                    "amount_not_positive",
                    f"The amount rounds to nothing in {award.currency} at this rate.",
                    "approved_amount",
                )
            ]
        )
    return conversion


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
    follows the journal without a second record of the reversal. The spends are read per
    week (`ledger.funds.line_weeks`): the cost does not grow with the line's spends.
    """
    actual = line_weeks.spent_through(conn, line.id, as_of)
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
    committed = 0 if as_of is not None else _committed_on(conn, line)
    return BudgetLineUse(line, int(actual), committed, int(in_kind))


def _committed_on(conn: Connection, line: BudgetLine) -> int:
    """What the line's approved and disbursing grants still reserve, in the award's currency:
    for each, what approval committed less what its payments consumed, never below nothing
    (`grants.rules.commitment_left`)."""
    given = (
        select(
            disbursements.c.grant_id,
            func.sum(disbursements.c.award_units).label("award_units"),
        )
        .join(grants, grants.c.id == disbursements.c.grant_id)
        .where(and_(grants.c.budget_line_id == line.id, disbursements.c.reversed_at.is_(None)))
        .group_by(disbursements.c.grant_id)
        .subquery()
    )
    left = grants.c.committed_amount - func.coalesce(given.c.award_units, 0)
    total = conn.execute(
        select(func.coalesce(func.sum(case((left > 0, left), else_=0)), 0))
        .select_from(grants.outerjoin(given, given.c.grant_id == grants.c.id))
        .where(
            and_(
                grants.c.budget_line_id == line.id,
                grants.c.status.in_(RESERVING_STATUSES),
                grants.c.committed_amount.is_not(None),
            )
        )
    ).scalar_one()
    return int(total)


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


def post_expense(
    conn: Connection, award: Award, line: BudgetLine, draft: ExpenseDraft, created_by: str | None
) -> Spent:
    """Post an expense on `line` paid from `draft.paid_from`, measured in the award's
    currency, within the award's dates and the line's remainder."""
    txn = rules.budget_expense(
        draft.date,
        line.expense_account,
        draft.paid_from,
        draft.units,
        draft.currency,
        draft.narration,
        draft.payee,
        award.code,
        line.code,
        extra_meta=draft.extra_meta,
        tags=draft.tags,
        links=draft.links,
    )
    return spend_transaction(conn, award, line, txn, draft, created_by)


def spend_transaction(
    conn: Connection,
    award: Award,
    line: BudgetLine,
    txn: Transaction,
    draft: ExpenseDraft,
    created_by: str | None,
) -> Spent:
    """Post `txn`, an expense on `line` built by a rule (`funds.rules.budget_expense`, or an
    area's rule that calls it) from `draft`, and record what it consumed of the line. The one
    home of budget consumption: refused outside the award's dates or beyond the line's
    remainder."""
    check_award_active(award, draft.date)
    conversion = draft.conversion
    if conversion is None:
        account = account_named(conn, award.book_id, draft.paid_from, "paid_from")
        conversion = convert_to_award(
            conn, award, account.id, draft.currency, draft.units, draft.date, draft.explicit_rate
        )
    check_line_room(conn, award, line, conversion.award_units, "amount", reserved=draft.reserved)
    transaction_id = journal.post(conn, award.book_code, txn, created_by=created_by)
    _record_spend(conn, award, line, transaction_id, draft, conversion)
    return Spent(
        transaction_id, draft.units, draft.currency, conversion, award.book_code, award.precision
    )


def record_expense(
    conn: Connection, award_code: str, request: BudgetExpenseDraft, created_by: str | None
) -> Spent:
    """An expense on one of the award's budget lines (transport, a venue...) as a request
    gives it: parsed, measured in the award's currency and posted."""
    award = get_award(conn, award_code, lock=True)
    line = award.line(request.budget_line)
    return post_expense(conn, award, line, parse_expense(conn, award, request), created_by)


def parse_expense(conn: Connection, award: Award, request: BudgetExpenseDraft) -> ExpenseDraft:
    """An expense of the award as a request gives it, parsed: the amount in smallest units of
    the paid-from account's currency, the rate (if given) as a decimal."""
    currency = account_currency(conn, award.book_id, request.paid_from, "paid_from")
    return ExpenseDraft(
        date=request.date,
        paid_from=request.paid_from,
        units=positive_amount(conn, currency, request.amount, "amount"),
        currency=currency,
        narration=request.narration,
        kind="expense",
        payee=request.payee,
        explicit_rate=parse_rate(request.exchange_rate),
    )


def _record_spend(
    conn: Connection,
    award: Award,
    line: BudgetLine,
    transaction_id: int,
    draft: ExpenseDraft,
    conversion: Conversion,
) -> None:
    """Write the budget-spend row of a posted expense (and add it to its line's week)."""
    line_weeks.record_spends(
        conn,
        [
            dict(
                book_id=award.book_id,
                award_id=award.id,
                budget_line_id=line.id,
                transaction_id=transaction_id,
                date=draft.date,
                kind=draft.kind,
                currency=draft.currency,
                units=draft.units,
                award_units=conversion.award_units,
                rate=None if conversion.rate is None else str(conversion.rate),
                rate_method=conversion.method,
            )
        ],
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

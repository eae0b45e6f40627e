"""Follow-up visits against the stored books: check what the officer counted against the
household's book, post the movements (and the difference, with its reason) through the
journal, and keep the visit's own record."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, insert, literal, select, tuple_

from ledger.core import limits
from ledger.core.amount import parse_units
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, reject_if
from ledger.core.text import has_forbidden_character, validate_text
from ledger.core.transaction import Transaction
from ledger.households import service as households
from ledger.households.records import check_record_date, lock_household, money_currency
from ledger.households.rules import holding_account, household_book_code
from ledger.households.service import Household
from ledger.livestock import rules
from ledger.livestock.rules import SpeciesCount
from ledger.store import books, journal, queries
from ledger.store.tables import households as household_table
from ledger.store.tables import livestock_deaths, livestock_visit_lines, livestock_visits


@dataclass(frozen=True, slots=True)
class SpeciesDraft:
    """One species as the client sent it: head counts may arrive fractional or negative."""

    species: str
    counted: int | float
    births: int | float = 0
    deaths: tuple[tuple[str, int | float], ...] = ()
    bought: int | float = 0
    bought_price: str | None = None
    sold: int | float = 0
    sold_price: str | None = None
    eaten: int | float = 0
    passed_on: int | float = 0
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VisitLine:
    count: SpeciesCount
    expected: int  # what the book held after the movements, before any adjustment
    transaction_id: int | None

    @property
    def adjustment(self) -> int:
        return self.count.counted - self.expected


@dataclass(frozen=True, slots=True)
class Visit:
    id: int
    case_code: str
    book_code: str
    date: datetime.date
    officer: str
    currency: str
    precision: int
    feed_cost: int
    vet_cost: int
    note: str
    lines: tuple[VisitLine, ...]


def _amount(text: str | None, precision: int, field: str) -> int | LedgerError:
    """A total in the visit's currency: zero or more, nothing given is zero."""
    if text is None:
        return 0
    units = parse_units(text, precision, field)
    if isinstance(units, LedgerError):
        return units
    if units < 0:
        return invalid("amount_negative", "An amount is zero or more.", field)
    return units


def _cost(text: str, precision: int, field: str) -> int:
    units = _amount(text, precision, field)
    if isinstance(units, LedgerError):
        raise LedgerRejected([units])
    return units


def _count_of(draft: SpeciesDraft, precision: int, field: str) -> SpeciesCount | list[LedgerError]:
    errors: list[LedgerError] = []
    heads: dict[str, int] = {}
    for name in ("counted", "births", "bought", "sold", "eaten", "passed_on"):
        parsed = rules.whole_head(getattr(draft, name), f"{field}.{name}")
        if isinstance(parsed, LedgerError):
            errors.append(parsed)
        else:
            heads[name] = parsed
    deaths: list[tuple[str, int]] = []
    for index, (cause, head) in enumerate(draft.deaths):
        parsed = rules.whole_head(head, f"{field}.deaths[{index}].head")
        if isinstance(parsed, LedgerError):
            errors.append(parsed)
        else:
            deaths.append((cause, parsed))
    prices: list[int] = []
    for name in ("bought_price", "sold_price"):
        price = _amount(getattr(draft, name), precision, f"{field}.{name}")
        if isinstance(price, LedgerError):
            # The first price that cannot be read is reported (the other is not read).
            return [*errors, price]
        prices.append(price)
    if errors:
        return errors
    bought_price, sold_price = prices
    count = SpeciesCount(
        species=draft.species,
        deaths=tuple(deaths),
        bought_price=bought_price,
        sold_price=sold_price,
        adjustment_reason=draft.reason,
        **heads,
    )
    found = rules.validate_count(count, field)
    return found or count


@dataclass(frozen=True, slots=True)
class VisitDraft:
    """A follow-up visit as the officer reported it; costs are decimal text in `currency`."""

    case_code: str
    date: datetime.date
    officer: str
    currency: str
    species: tuple[SpeciesDraft, ...]
    feed_cost: str = "0"
    vet_cost: str = "0"
    note: str = ""


@dataclass(frozen=True, slots=True)
class _CheckedVisit:
    """A visit whose counts passed every check against the household's book: each species
    with the head its book holds after the movements, and the costs in smallest units."""

    counts: tuple[SpeciesCount, ...]
    expected: tuple[int, ...]
    feed: int
    vet: int


def record_visit(
    conn: Connection,
    draft: VisitDraft,
    today: datetime.date,
    created_by: str | None,
    *,
    species_required: bool = True,
) -> Visit:
    """Record a visit and post its movements in the household's book, all or nothing.
    Returns the visit as it was stored. A follow-up that records the household's income
    may count no livestock (`species_required=False`)."""
    household = households.get_household(conn, draft.case_code)
    lock_household(conn, household)
    precision = money_currency(conn, draft.currency)
    check_record_date(household, draft.date, today, "date")
    counts, feed, vet = _parse_visit(draft, precision, species_required)
    _check_after_last_visit(conn, household, draft.date)
    expected = _expected_heads(conn, household, draft.date, counts)
    checked = _CheckedVisit(tuple(counts), tuple(expected), feed, vet)
    visit_id = _insert_visit(conn, household, draft, checked, created_by)
    transaction_ids = _post_visit(conn, household, draft, visit_id, checked, created_by)
    lines = tuple(
        VisitLine(_as_stored(count, after), after, transaction_id)
        for count, after, transaction_id in zip(counts, expected, transaction_ids, strict=True)
    )
    _insert_lines(conn, visit_id, lines)
    return Visit(
        id=visit_id,
        case_code=household.case_code,
        book_code=household.book_code,
        date=draft.date,
        officer=draft.officer,
        currency=draft.currency,
        precision=precision,
        feed_cost=feed,
        vet_cost=vet,
        note=draft.note,
        # In the order a visit is read back: by species.
        lines=tuple(sorted(lines, key=lambda line: line.count.species)),
    )


def _visit_errors(draft: VisitDraft, species_required: bool) -> list[LedgerError]:
    """Problems with the visit's own fields (not its counts)."""
    errors: list[LedgerError] = []
    officer = draft.officer
    if (
        not officer.strip()
        or len(officer) > rules.OFFICER_LENGTH_MAX
        or has_forbidden_character(officer, one_line=True)
    ):
        errors.append(
            invalid("officer_invalid", "officer is one line of 1 to 64 characters.", "officer")
        )
    note_error = validate_text(draft.note, rules.NOTE_LENGTH_MAX, "note")
    if note_error is not None:
        errors.append(note_error)
    species = draft.species
    if not int(species_required) <= len(species) <= rules.SPECIES_PER_VISIT_MAX:
        errors.append(
            invalid("species_invalid", "Count one or more species at a visit.", "species")
        )
    if len({s.species for s in species}) != len(species):
        errors.append(invalid("species_repeated", "A species is counted twice.", "species"))
    return errors


def _parse_visit(
    draft: VisitDraft, precision: int, species_required: bool
) -> tuple[list[SpeciesCount], int, int]:
    """The counts and the feed and vet costs, or every problem with them (refused)."""
    errors = _visit_errors(draft, species_required)
    counts: list[SpeciesCount] = []
    for index, species in enumerate(draft.species):
        parsed = _count_of(species, precision, f"species[{index}]")
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            counts.append(parsed)
    feed = _cost(draft.feed_cost, precision, "feed_cost")
    vet = _cost(draft.vet_cost, precision, "vet_cost")
    reject_if(errors)
    return counts, feed, vet


def _check_after_last_visit(conn: Connection, household: Household, date: datetime.date) -> None:
    last = conn.execute(
        select(func.max(livestock_visits.c.date)).where(
            livestock_visits.c.household_id == household.id
        )
    ).scalar_one()
    if last is not None and date <= last:
        raise LedgerRejected(
            [
                conflict(
                    "visit_not_after_last",
                    f"The household's last visit was on {last}: visits are recorded in order.",
                    "date",
                )
            ]
        )


def _expected_heads(
    conn: Connection, household: Household, date: datetime.date, counts: Sequence[SpeciesCount]
) -> list[int]:
    """Per species, what the book holds after the visit's movements; refused when more head
    left than it held, or when a count differs from it without a reason."""
    errors: list[LedgerError] = []
    expected: list[int] = []
    for index, count in enumerate(counts):
        field = f"species[{index}]"
        held = _held(conn, household, count.species, date)
        after = rules.expected_head(held, count, f"{field}.counted")
        if isinstance(after, LedgerError):
            errors.append(after)
            continue
        error = rules.adjustment_error(count, after, field)
        if error is not None:
            errors.append(error)
        expected.append(after)
    # Invalid input first: a 422 says what to fix before a 409 says what exists.
    errors.sort(key=lambda e: e.kind != "invalid")
    reject_if(errors)
    return expected


def _insert_visit(
    conn: Connection,
    household: Household,
    draft: VisitDraft,
    checked: _CheckedVisit,
    created_by: str | None,
) -> int:
    visit_id: int = conn.execute(
        insert(livestock_visits)
        .values(
            household_id=household.id,
            book_id=household.book_id,
            date=draft.date,
            officer=draft.officer,
            currency=draft.currency,
            feed_cost=checked.feed,
            vet_cost=checked.vet,
            note=draft.note,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(livestock_visits.c.id)
    ).scalar_one()
    return visit_id


def _post_visit(
    conn: Connection,
    household: Household,
    draft: VisitDraft,
    visit_id: int,
    checked: _CheckedVisit,
    created_by: str | None,
) -> list[int | None]:
    """Post the movements of each species and the costs in the household's book; the
    transaction of each species' movements (None when nothing moved), in count order."""
    case_code, date, currency = household.case_code, draft.date, draft.currency
    movements = [
        rules.species_movements(date, case_code, visit_id, count, after, currency)
        for count, after in zip(checked.counts, checked.expected, strict=True)
    ]
    costs = rules.visit_costs(date, case_code, visit_id, checked.feed, checked.vet, currency)
    to_post = [txn for txn in (*movements, costs) if txn is not None]
    _open_accounts(conn, household, to_post, date)
    ids = iter(journal.post_many(conn, household.book_code, to_post, created_by=created_by))
    return [None if txn is None else next(ids) for txn in movements]


def _as_stored(count: SpeciesCount, expected: int) -> SpeciesCount:
    """The count as a visit keeps it: deaths by cause, the reason only for a difference."""
    reason = (count.adjustment_reason or "").strip() or None if count.counted != expected else None
    return replace(
        count, deaths=tuple(sorted(count.deaths, key=lambda d: d[0])), adjustment_reason=reason
    )


def _insert_lines(conn: Connection, visit_id: int, lines: Sequence[VisitLine]) -> None:
    if not lines:  # a follow-up that counted no livestock
        return
    conn.execute(
        insert(livestock_visit_lines),
        [
            {
                "visit_id": visit_id,
                "species": line.count.species,
                "counted": line.count.counted,
                "births": line.count.births,
                "deaths": line.count.died,
                "bought": line.count.bought,
                "bought_price": line.count.bought_price,
                "sold": line.count.sold,
                "sold_price": line.count.sold_price,
                "eaten": line.count.eaten,
                "passed_on": line.count.passed_on,
                "expected": line.expected,
                "adjustment_reason": line.count.adjustment_reason,
                "transaction_id": line.transaction_id,
            }
            for line in lines
        ],
    )
    deaths = [
        {"visit_id": visit_id, "species": line.count.species, "cause": cause, "head": head}
        for line in lines
        for cause, head in line.count.deaths
    ]
    if deaths:
        conn.execute(insert(livestock_deaths), deaths)


def _held(conn: Connection, household: Household, species: str, date: datetime.date) -> int:
    """Head of `species` the household's book holds at the end of `date`."""
    account = books.find_account(conn, household.book_id, holding_account(species))
    if account is None:
        return 0
    return queries.account_balance(conn, household.book_code, account.id, date).get(species, 0)


def _open_accounts(
    conn: Connection, household: Household, txns: Sequence[Transaction], date: datetime.date
) -> None:
    for name in sorted({p.account for txn in txns for p in txn.postings}):
        books.ensure_account(conn, household.book_code, name, date)


def _visits(conn: Connection, where: ColumnElement[bool], limit: int) -> list[Visit]:
    rows = conn.execute(
        select(livestock_visits, household_table.c.case_code)
        .join(household_table, household_table.c.id == livestock_visits.c.household_id)
        .where(where)
        .order_by(livestock_visits.c.date, livestock_visits.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    lines = _visit_lines(conn, [r.id for r in rows])
    precisions = books.commodity_precisions(conn)
    return [_visit_from_row(r, precisions[r.currency], tuple(lines[r.id])) for r in rows]


def _visit_lines(conn: Connection, visit_ids: Sequence[int]) -> dict[int, list[VisitLine]]:
    """The lines of these visits (by species), with their deaths (by cause), by visit."""
    deaths: dict[tuple[int, str], list[tuple[str, int]]] = defaultdict(list)
    for d in conn.execute(
        select(livestock_deaths)
        .where(livestock_deaths.c.visit_id.in_(visit_ids))
        .order_by(livestock_deaths.c.cause)
    ):
        deaths[(d.visit_id, d.species)].append((d.cause, d.head))
    lines: dict[int, list[VisitLine]] = defaultdict(list)
    for line in conn.execute(
        select(livestock_visit_lines)
        .where(livestock_visit_lines.c.visit_id.in_(visit_ids))
        .order_by(livestock_visit_lines.c.species)
    ):
        count = SpeciesCount(
            species=line.species,
            counted=line.counted,
            births=line.births,
            deaths=tuple(deaths[(line.visit_id, line.species)]),
            bought=line.bought,
            bought_price=line.bought_price,
            sold=line.sold,
            sold_price=line.sold_price,
            eaten=line.eaten,
            passed_on=line.passed_on,
            adjustment_reason=line.adjustment_reason,
        )
        lines[line.visit_id].append(VisitLine(count, line.expected, line.transaction_id))
    return lines


def _visit_from_row(row: Row[Any], precision: int, lines: tuple[VisitLine, ...]) -> Visit:
    return Visit(
        id=row.id,
        case_code=row.case_code,
        book_code=household_book_code(row.case_code),
        date=row.date,
        officer=row.officer,
        currency=row.currency,
        precision=precision,
        feed_cost=row.feed_cost,
        vet_cost=row.vet_cost,
        note=row.note,
        lines=lines,
    )


def list_visits(
    conn: Connection,
    household_ids: Sequence[int],
    limit: int = limits.PAGE_SIZE_MAX,
    after: tuple[datetime.date, int] | None = None,
) -> list[Visit]:
    """The visits of these households in (date, id) order, after that (date, id): one page
    of `limit`. At most four queries."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    where: ColumnElement[bool] = livestock_visits.c.household_id.in_(list(household_ids))
    if after is not None:
        key = tuple_(livestock_visits.c.date, livestock_visits.c.id)
        where = and_(where, key > tuple_(*map(literal, after)))
    return _visits(conn, where, limit)

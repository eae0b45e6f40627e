"""Follow-up visits against the stored books: check what the officer counted against the
household's book, post the movements (and the difference, with its reason) through the
journal, and keep the visit's own record."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected, conflict, invalid, reject_if
from ledger.core.text import has_forbidden_character, validate_text
from ledger.core.transaction import Transaction
from ledger.households import service as households
from ledger.households.rules import MONEY, holding_account, household_book_code
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


def lock_household(conn: Connection, household: Household) -> None:
    """Writes about one household queue here (PostgreSQL), so checks against its book and its
    records (the last visit, a baseline) cannot race."""
    conn.execute(
        select(household_table.c.id).where(household_table.c.id == household.id).with_for_update()
    )


def money_currency(conn: Connection, currency: str, field: str = "currency") -> int:
    """The precision of a money currency; unknown or livestock commodities are refused."""
    precision = books.commodity_precisions(conn).get(currency)
    if precision is None:
        raise LedgerRejected(
            [invalid("commodity_unknown", "This commodity is not defined.", field)]
        )
    if currency not in MONEY:
        raise LedgerRejected(
            [invalid("currency_not_money", f"{field} is one of {', '.join(MONEY)}.", field)]
        )
    return precision


def check_record_date(
    household: Household, date: datetime.date, today: datetime.date, field: str
) -> None:
    """A household's record falls between its consent and today."""
    if date > today:
        raise LedgerRejected([invalid("date_in_future", "This date has not come yet.", field)])
    if date < household.consent_date:
        raise LedgerRejected(
            [
                invalid(
                    "date_before_consent",
                    "The household's records start on its consent date.",
                    field,
                )
            ]
        )


def _amount(conn: Connection, currency: str, text: str | None, field: str) -> int:
    if text is None:
        return 0
    units = books.parse_amount(conn, currency, text, field)
    if units < 0:
        raise LedgerRejected([invalid("amount_negative", "An amount is zero or more.", field)])
    return units


def _count_of(
    conn: Connection, draft: SpeciesDraft, currency: str, field: str
) -> SpeciesCount | list[LedgerError]:
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
    try:
        bought_price = _amount(conn, currency, draft.bought_price, f"{field}.bought_price")
        sold_price = _amount(conn, currency, draft.sold_price, f"{field}.sold_price")
    except LedgerRejected as rejected:
        return [*errors, *rejected.errors]
    if errors:
        return errors
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


def record_visit(
    conn: Connection,
    case_code: str,
    date: datetime.date,
    officer: str,
    currency: str,
    feed_cost: str,
    vet_cost: str,
    species: Sequence[SpeciesDraft],
    note: str,
    today: datetime.date,
    created_by: str | None,
) -> Visit:
    """Record a visit and post its movements in the household's book, all or nothing."""
    household = households.get_household(conn, case_code)
    lock_household(conn, household)
    money_currency(conn, currency)
    check_record_date(household, date, today, "date")
    errors: list[LedgerError] = []
    if (
        not officer.strip()
        or len(officer) > rules.OFFICER_LENGTH_MAX
        or has_forbidden_character(officer, one_line=True)
    ):
        errors.append(
            invalid("officer_invalid", "officer is one line of 1 to 64 characters.", "officer")
        )
    note_error = validate_text(note, rules.NOTE_LENGTH_MAX, "note")
    if note_error is not None:
        errors.append(note_error)
    if not 1 <= len(species) <= rules.SPECIES_PER_VISIT_MAX:
        errors.append(
            invalid("species_invalid", "Count one or more species at a visit.", "species")
        )
    if len({s.species for s in species}) != len(species):
        errors.append(invalid("species_repeated", "A species is counted twice.", "species"))
    counts: list[SpeciesCount] = []
    for index, draft in enumerate(species):
        parsed = _count_of(conn, draft, currency, f"species[{index}]")
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            counts.append(parsed)
    feed = _amount(conn, currency, feed_cost, "feed_cost")
    vet = _amount(conn, currency, vet_cost, "vet_cost")
    reject_if(errors)
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
    errors.sort(key=lambda e: e.kind != "invalid")
    reject_if(errors)

    visit_id = conn.execute(
        insert(livestock_visits)
        .values(
            household_id=household.id,
            book_id=household.book_id,
            date=date,
            officer=officer,
            currency=currency,
            feed_cost=feed,
            vet_cost=vet,
            note=note,
            created_at=books.utc_now(),
            created_by=created_by,
        )
        .returning(livestock_visits.c.id)
    ).scalar_one()
    movements = [
        rules.species_movements(date, case_code, visit_id, count, after, currency)
        for count, after in zip(counts, expected, strict=True)
    ]
    costs = rules.visit_costs(date, case_code, visit_id, feed, vet, currency)
    to_post = [txn for txn in (*movements, costs) if txn is not None]
    _open_accounts(conn, household, to_post, date)
    ids = iter(journal.post_many(conn, household.book_code, to_post, created_by=created_by))
    for count, after, txn in zip(counts, expected, movements, strict=True):
        transaction_id = next(ids) if txn is not None else None
        conn.execute(
            insert(livestock_visit_lines).values(
                visit_id=visit_id,
                species=count.species,
                counted=count.counted,
                births=count.births,
                deaths=count.died,
                bought=count.bought,
                bought_price=count.bought_price,
                sold=count.sold,
                sold_price=count.sold_price,
                eaten=count.eaten,
                passed_on=count.passed_on,
                expected=after,
                adjustment_reason=(
                    (count.adjustment_reason or "").strip() or None
                    if count.counted != after
                    else None
                ),
                transaction_id=transaction_id,
            )
        )
        if count.deaths:
            conn.execute(
                insert(livestock_deaths),
                [
                    {"visit_id": visit_id, "species": count.species, "cause": c, "head": h}
                    for c, h in count.deaths
                ],
            )
    return get_visit(conn, visit_id)


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


def _visits(conn: Connection, where: object, limit: int) -> list[Visit]:
    rows = conn.execute(
        select(livestock_visits, household_table.c.case_code)
        .join(household_table, household_table.c.id == livestock_visits.c.household_id)
        .where(where)  # type: ignore[arg-type]
        .order_by(livestock_visits.c.date, livestock_visits.c.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    deaths: dict[tuple[int, str], list[tuple[str, int]]] = defaultdict(list)
    for d in conn.execute(
        select(livestock_deaths)
        .where(livestock_deaths.c.visit_id.in_(ids))
        .order_by(livestock_deaths.c.cause)
    ):
        deaths[(d.visit_id, d.species)].append((d.cause, d.head))
    lines: dict[int, list[VisitLine]] = defaultdict(list)
    for line in conn.execute(
        select(livestock_visit_lines)
        .where(livestock_visit_lines.c.visit_id.in_(ids))
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
    precisions = books.commodity_precisions(conn)
    return [
        Visit(
            id=r.id,
            case_code=r.case_code,
            book_code=household_book_code(r.case_code),
            date=r.date,
            officer=r.officer,
            currency=r.currency,
            precision=precisions[r.currency],
            feed_cost=r.feed_cost,
            vet_cost=r.vet_cost,
            note=r.note,
            lines=tuple(lines[r.id]),
        )
        for r in rows
    ]


def get_visit(conn: Connection, visit_id: int) -> Visit:
    return _visits(conn, livestock_visits.c.id == visit_id, 1)[0]


def list_visits(
    conn: Connection, household_ids: Sequence[int], limit: int = limits.PAGE_SIZE_MAX
) -> list[Visit]:
    """The visits of these households in date order."""
    assert 1 <= limit <= limits.PAGE_SIZE_MAX
    return _visits(conn, livestock_visits.c.household_id.in_(list(household_ids)), limit)

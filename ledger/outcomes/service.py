"""Outcome reports read from the household books: herds, mortality, sales and income, per
household, per training and per programme (award, province), in one currency.

Every figure is computed from the journal's postings (a reversed visit or income record
stops counting), converted by `ledger.outcomes.rules.Rates` at the posting's date.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from ledger.core import limits
from ledger.core.errors import LedgerError, LedgerRejected
from ledger.funds import service as funds
from ledger.households.records import money_currency
from ledger.households.rules import LIVESTOCK, LIVESTOCK_ROOT, holding_account
from ledger.households.service import Household, find_households
from ledger.income.rules import BASELINE_TAG, SOURCES, income_account
from ledger.livestock import rules as livestock
from ledger.outcomes import rules
from ledger.outcomes.rules import (
    Exchanged,
    GroupOutcome,
    Herd,
    HouseholdOutcome,
    HouseholdReport,
    MonthIncome,
    ProgrammeOutcome,
    Rates,
    Report,
    TrainingOutcome,
)
from ledger.store.tables import (
    accounts,
    exchanges,
    grants,
    livestock_visit_lines,
    livestock_visits,
    postings,
    training_participants,
    trainings,
    transaction_tags,
    transactions,
)
from ledger.store.tables import households as household_table
from ledger.training.rules import Training

CONVERSION_METHOD = (
    "Amounts in another currency are converted at the weighted average rate of every currency "
    "exchange recorded up to the day of the posting (through a third currency when the two "
    "were never exchanged directly), rounded half to even."
)
# Which income account holds which source; livestock sold at visits is livestock income.
SOURCE_OF_ACCOUNT = {income_account(s): s for s in SOURCES} | {livestock.SALES_ACCOUNT: "livestock"}
HOUSEHOLDS_PER_REPORT_MAX = 10_000


@dataclass(frozen=True, slots=True)
class BookPosting:
    """A posting as the reports read it. A reversal is dated as the transaction it reverses,
    so the pair cancels in one month and one period whenever the mistake was found."""

    book_id: int
    date: datetime.date
    account: str
    commodity: str
    units: int
    baseline: bool
    reversal: bool = False


# -- reading the books ------------------------------------------------------------------------


def _book_postings(conn: Connection, book_ids: Collection[int]) -> dict[int, list[BookPosting]]:
    """Postings on herds, income and livestock expenses of these books, by book, in date order."""
    if not book_ids:
        return {}
    baseline = transaction_tags.alias("baseline")
    entry = transactions.alias("entry")
    original = transactions.alias("original")
    rows = conn.execute(
        select(
            postings.c.book_id,
            func.coalesce(original.c.date, postings.c.date).label("date"),
            accounts.c.name,
            postings.c.commodity,
            postings.c.units,
            baseline.c.tag,
            entry.c.reverses_id,
        )
        .join(accounts, accounts.c.id == postings.c.account_id)
        .join(entry, entry.c.id == postings.c.transaction_id)
        .outerjoin(original, original.c.id == entry.c.reverses_id)
        .outerjoin(
            baseline,
            and_(
                baseline.c.transaction_id == postings.c.transaction_id,
                baseline.c.tag == BASELINE_TAG,
            ),
        )
        .where(
            and_(
                postings.c.book_id.in_(sorted(book_ids)),
                or_(
                    accounts.c.name.like(f"{LIVESTOCK_ROOT}:%"),
                    accounts.c.name.like("Income:%"),
                    accounts.c.name.like("Expenses:Livestock:%"),
                ),
            )
        )
        .order_by(func.coalesce(original.c.date, postings.c.date), postings.c.id)
    )
    found: dict[int, list[BookPosting]] = defaultdict(list)
    for r in rows:
        found[r.book_id].append(
            BookPosting(
                r.book_id,
                r.date,
                r.name,
                r.commodity,
                r.units,
                r.tag is not None,
                r.reverses_id is not None,
            )
        )
    return found


def _rates(conn: Connection) -> Rates:
    rows = conn.execute(
        select(
            exchanges.c.date,
            exchanges.c.from_commodity,
            exchanges.c.from_units,
            exchanges.c.to_commodity,
            exchanges.c.to_units,
        )
    )
    return Rates(Exchanged(*row) for row in rows)


class _Converter:
    def __init__(self, conn: Connection, currency: str) -> None:
        self.report = Report(currency, money_currency(conn, currency), CONVERSION_METHOD)
        self.rates = _rates(conn)

    def __call__(self, units: int, currency: str, date: datetime.date) -> int:
        converted = rules.convert(units, currency, self.report.currency, date, self.rates)
        if isinstance(converted, LedgerError):
            raise LedgerRejected([converted])
        return converted


# -- the figures ------------------------------------------------------------------------------


def _herds(found: Sequence[BookPosting], start: datetime.date | None) -> dict[str, Herd]:
    """Per species, from `start` on (None: the whole book)."""
    opening: dict[str, int] = defaultdict(int)
    entered: dict[str, int] = defaultdict(int)
    closing: dict[str, int] = defaultdict(int)
    deaths: dict[str, int] = defaultdict(int)
    sold: dict[str, int] = defaultdict(int)
    species_of = {holding_account(s): s for s in LIVESTOCK}
    for p in found:
        before = start is not None and p.date < start
        species = species_of.get(p.account)
        if species is not None:
            closing[species] += p.units
            if before:
                opening[species] += p.units
            elif (p.units > 0) != p.reversal:
                # An increase, or the reversal of one (which takes it back out).
                entered[species] += p.units
        elif before:
            continue
        elif p.account.startswith(livestock.DEATHS_ROOT + ":"):
            deaths[p.commodity] += p.units
        elif p.account == livestock.SOLD_ACCOUNT:
            sold[p.commodity] += p.units
    return {
        s: Herd(s, opening[s], entered[s], deaths[s], sold[s], closing[s])
        for s in sorted(set(closing) | set(deaths) | set(sold))
    }


def _add_herds(herds: Sequence[Herd]) -> tuple[Herd, ...]:
    by_species: dict[str, list[Herd]] = defaultdict(list)
    for herd in herds:
        by_species[herd.species].append(herd)
    return tuple(
        Herd(
            species,
            sum(h.opening for h in group),
            sum(h.entered for h in group),
            sum(h.deaths for h in group),
            sum(h.sold for h in group),
            sum(h.closing for h in group),
        )
        for species, group in sorted(by_species.items())
    )


def _household_outcome(
    household: Household, found: Sequence[BookPosting], convert: _Converter
) -> HouseholdOutcome:
    baseline: dict[datetime.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    after: dict[datetime.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in found:
        source = SOURCE_OF_ACCOUNT.get(p.account)
        if source is None:
            continue
        into = baseline if p.baseline else after
        into[p.date.replace(day=1)][source] += convert(-p.units, p.commodity, p.date)
    # A month whose every record was reversed is no month with income (amounts are positive).
    months = sorted(
        [MonthIncome(m, True, dict(s)) for m, s in baseline.items() if any(s.values())]
        + [MonthIncome(m, False, dict(s)) for m, s in after.items() if any(s.values())],
        key=lambda m: (m.month, not m.baseline),
    )
    baseline_totals = [m.total for m in months if m.baseline]
    after_totals = [m.total for m in months if not m.baseline]
    return HouseholdOutcome(
        case_code=household.case_code,
        province=household.province,
        months=tuple(months),
        baseline_mean=round(rules.mean(baseline_totals)) if baseline_totals else None,
        follow_up_mean=round(rules.mean(after_totals)) if after_totals else None,
        change=rules.income_change(baseline_totals, after_totals),
        livestock_income=sum(m.by_source.get("livestock", 0) for m in months if not m.baseline),
        herds=tuple(_herds(found, None).values()),
    )


def _group(label: str, outcomes: Sequence[HouseholdOutcome], herds: Sequence[Herd]) -> GroupOutcome:
    compared = [o for o in outcomes if o.change is not None]
    changes = [o.change for o in compared if o.change is not None]
    return GroupOutcome(
        label=label,
        households=len(outcomes),
        compared=len(compared),
        rose=sum(1 for change in changes if change > 0),
        median_change=rules.median(changes),
        baseline_mean=(
            round(rules.mean([o.baseline_mean or 0 for o in compared])) if compared else None
        ),
        follow_up_mean=(
            round(rules.mean([o.follow_up_mean or 0 for o in compared])) if compared else None
        ),
        livestock_income=sum(o.livestock_income for o in outcomes),
        herds=_add_herds(herds),
    )


# -- the reports ------------------------------------------------------------------------------


def household_outcome(conn: Connection, household: Household, currency: str) -> HouseholdReport:
    convert = _Converter(conn, currency)
    found = _book_postings(conn, [household.book_id]).get(household.book_id, [])
    return HouseholdReport(convert.report, _household_outcome(household, found, convert))


def _households(conn: Connection, where: ColumnElement[bool]) -> list[Household]:
    return find_households(conn, where, HOUSEHOLDS_PER_REPORT_MAX)


def programme_outcome(
    conn: Connection,
    scope: Collection[str] | None,
    award: str | None,
    province: str | None,
    currency: str | None,
) -> ProgrammeOutcome:
    """Households of the programme (of `award`: granted or trained under it), in `province`
    and within `scope` (None: every province), in `currency` (default: the award's, or USD)."""
    where: list[ColumnElement[bool]] = [household_table.c.id.is_not(None)]
    if award is not None:
        found = funds.get_award(conn, award)
        currency = currency or found.currency
        granted = select(grants.c.household_id).where(grants.c.award_id == found.id)
        trained = (
            select(training_participants.c.household_id)
            .join(trainings, trainings.c.id == training_participants.c.training_id)
            .where(trainings.c.award_id == found.id)
        )
        where.append(or_(household_table.c.id.in_(granted), household_table.c.id.in_(trained)))
    if province is not None:
        where.append(household_table.c.province == province)
    if scope is not None:
        where.append(household_table.c.province.in_(sorted(scope)))
    convert = _Converter(conn, currency or "USD")
    members = _households(conn, and_(*where))
    found_postings = _book_postings(conn, [h.book_id for h in members])
    outcomes = [_household_outcome(h, found_postings.get(h.book_id, []), convert) for h in members]
    by_province: dict[str, list[HouseholdOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_province[outcome.province].append(outcome)
    return ProgrammeOutcome(
        report=convert.report,
        award=award,
        province=province,
        overall=_group("all", outcomes, [h for o in outcomes for h in o.herds]),
        provinces=tuple(
            _group(name, group, [h for o in group for h in o.herds])
            for name, group in sorted(by_province.items())
        ),
        households=tuple(outcomes),
    )


def training_outcome(conn: Connection, training: Training, currency: str | None) -> TrainingOutcome:
    """The participants' herds from the training's first day, their income against their
    baselines, and the herd at each month with a visit."""
    convert = _Converter(conn, currency or training.award_currency)
    cases = [p.case_code for p in training.participants]
    members = _households(conn, household_table.c.case_code.in_(cases))
    found_postings = _book_postings(conn, [h.book_id for h in members])
    outcomes = [_household_outcome(h, found_postings.get(h.book_id, []), convert) for h in members]
    herds = [
        herd
        for h in members
        for herd in _herds(found_postings.get(h.book_id, []), training.start_date).values()
    ]
    sales = sum(
        convert(-p.units, p.commodity, p.date)
        for h in members
        for p in found_postings.get(h.book_id, [])
        if p.account == livestock.SALES_ACCOUNT and p.date >= training.start_date
    )
    counts = conn.execute(
        select(
            household_table.c.case_code,
            livestock_visits.c.date,
            livestock_visit_lines.c.species,
            livestock_visit_lines.c.counted,
        )
        .join(livestock_visits, livestock_visits.c.id == livestock_visit_lines.c.visit_id)
        .join(household_table, household_table.c.id == livestock_visits.c.household_id)
        .where(
            and_(
                household_table.c.case_code.in_(cases),
                livestock_visits.c.date >= training.start_date,
            )
        )
        .limit(limits.PAGE_SIZE_MAX * 100)
    ).tuples()
    by_month = rules.herd_by_month(counts)
    return TrainingOutcome(
        report=convert.report,
        training=training,
        completion=(len(training.completers), len(training.participants)),
        herd_by_month=tuple(sorted(by_month.items())),
        group=_group(f"training {training.id}", outcomes, herds),
        sales=sales,
        households=tuple(outcomes),
    )

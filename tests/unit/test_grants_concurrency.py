"""Officers paying grants at once (invariant 7): never more than approved, never past the
budget line, and receipt numbers that stay unique and gapless.

Each thread is one officer's request with its own work (`db.write`), as the API runs
it. On SQLite the writes queue on the write lock; on PostgreSQL they run side by side and
the grant's and the award's row locks decide the order.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable

from sqlalchemy import Connection, select

from ledger.funds import service as funds
from ledger.funds.service import BudgetLineDraft, ExchangeDraft
from ledger.grants import service as grants
from ledger.grants.service import DisbursementDraft, GrantDraft
from ledger.households import service as households
from ledger.store.database import Database
from ledger.store.tables import disbursements
from ledger.verify import verify_book
from tests.api.grants_world import create_ctip, household_draft
from tests.unit.test_concurrency import assert_stored_balances_equal_postings, in_threads, outcome

D = datetime.date
AWARD = "CTIP-2018"
BANK = "Assets:Bank:Operating-USD"
BAVET = "Assets:Cash:Bavet-KHR"
LINE = "livelihood-grants"
THREADS = 8
PAY_DAY = D(2018, 11, 20)


def ctip(conn: Connection, line_amount: str = "2000.00") -> funds.Award:
    return create_ctip(
        conn, [BudgetLineDraft(LINE, "Grants", line_amount, "Expenses:Grants:Livelihood:CTIP")]
    )


def programme(db: Database, line_amount: str = "2000.00") -> None:
    """CTIP-2018 with a grants line, 5,000.00 USD received, 1,000.00 USD exchanged into riel
    at Bavet (4,100 to the dollar), and the household DV-009."""

    def build(conn: Connection) -> None:
        ctip(conn, line_amount)
        funds.receive_funds(conn, AWARD, D(2018, 7, 2), BANK, "5000.00", None, None, "finance")
        exchange = ExchangeDraft("org", D(2018, 11, 2), BANK, BAVET, "1000.00", None, "4100", None)
        funds.record_exchange(conn, exchange, "finance")
        households.register_household(conn, household_draft(), D(2026, 1, 1), "officer")

    db.write(build)


def proposal(amount: str, business_type: str, purpose: str) -> GrantDraft:
    """A proposed grant of `amount` to DV-009 on the grants line, without tranches."""
    return GrantDraft("DV-009", AWARD, LINE, business_type, amount, (), purpose)


def approved(db: Database, amount: str) -> int:
    def work(conn: Connection) -> int:
        grant = grants.propose_grant(conn, proposal(amount, "pig_raising", "Piglets"), "dara")
        grants.approve_grant(conn, grant.id, "sokha")
        return grant.id

    return db.write(work)


def paying(db: Database, grant_id: int, riel: int, day: D = PAY_DAY) -> Callable[[], int]:
    """One disbursement of `riel` in cash from Bavet, in its own `db.write`."""

    def work(conn: Connection) -> int:
        payment = DisbursementDraft(day, "cash", BAVET, str(riel), (), None, None)
        return grants.disburse(conn, grant_id, payment, "officer").id

    return lambda: db.write(work)


def receipt_numbers(db: Database) -> list[str]:
    with db.read() as conn:
        return list(
            conn.execute(
                select(disbursements.c.receipt_number).order_by(disbursements.c.receipt_number)
            ).scalars()
        )


def grant_state(db: Database, grant_id: int) -> tuple[str, int]:
    with db.read() as conn:
        grant = grants.get_grant(conn, grant_id)
    return grant.status, grant.disbursed


def test_two_disbursements_race_for_one_remainder(db: Database, org_book: str) -> None:
    """Each of 4 grants of 100.00 USD gets two payments of 60.00 USD (246,000 riel) at once:
    exactly one of each pair is paid."""
    programme(db)
    grant_ids = [approved(db, "100.00") for _ in range(4)]

    def officer(i: int) -> list[str]:
        return [outcome(paying(db, grant_ids[i // 2], 246_000))]

    outcomes = in_threads(THREADS, officer)
    assert outcomes == {"ok": 4, "grant_amount_exceeded": 4}
    for grant_id in grant_ids:
        assert grant_state(db, grant_id) == ("disbursing", 6000)
    assert receipt_numbers(db) == [f"ORG-2018-{n:04d}" for n in range(1, 5)]
    with db.read() as conn:
        report = funds.budget_report(conn, AWARD)
    (line,) = report.lines
    assert (line.actual, line.committed) == (4 * 6000, 4 * 4000)
    for book in ("org", "hh-dv-009"):
        assert verify_book(db, book).ok
    assert_stored_balances_equal_postings(db)


def test_two_approvals_race_for_one_budget_line(db: Database, org_book: str) -> None:
    """A 2,000.00 line and eight proposals of 1,500.00 approved at once: one fits."""
    programme(db)

    def propose(conn: Connection) -> list[int]:
        return [
            grants.propose_grant(conn, proposal("1500.00", "grocery", "Shop"), "dara").id
            for _ in range(THREADS)
        ]

    grant_ids = db.write(propose)

    def checker(i: int) -> list[str]:
        return [outcome(lambda: db.write(lambda c: grants.approve_grant(c, grant_ids[i], "sokha")))]

    outcomes = in_threads(THREADS, checker)
    assert outcomes == {"ok": 1, "budget_line_exceeded": THREADS - 1}
    statuses = Counter(grant_state(db, grant_id)[0] for grant_id in grant_ids)
    assert statuses == {"approved": 1, "proposed": THREADS - 1}
    with db.read() as conn:
        (line,) = funds.budget_report(conn, AWARD).lines
    assert (line.committed, line.remaining) == (150_000, 50_000)


def test_receipt_numbers_stay_unique_and_gapless(db: Database, org_book: str) -> None:
    """8 officers x 6 payments on 8 grants, a third of them refused (too much for the grant):
    every paid one has its own number, 0001 up without a gap. (A refusal after numbering, by
    the cash box, is the next test.)"""
    programme(db)
    grant_ids = [approved(db, "200.00") for _ in range(THREADS)]  # 820,000 riel each
    # Bavet holds 4,100,000 riel: 48 payments of 90,000 would need 4,320,000.

    def officer(i: int) -> list[str]:
        results = []
        for n in range(6):
            # Every third payment of each officer is too big for what the grant has left.
            riel = 900_000 if n % 3 == 2 else 90_000
            results.append(outcome(paying(db, grant_ids[(i + n) % THREADS], riel)))
        return results

    outcomes = in_threads(THREADS, officer)
    paid = outcomes["ok"]
    assert set(outcomes) <= {"ok", "grant_amount_exceeded", "account_overdrawn"}
    assert outcomes["grant_amount_exceeded"] == 16
    assert paid == 32  # 32 x 90,000 = 2,880,000 riel: within the box
    assert receipt_numbers(db) == [f"ORG-2018-{n:04d}" for n in range(1, paid + 1)]
    # The sequence continues from the last number, in a new year from 0001.
    later = paying(db, grant_ids[0], 1_000, D(2019, 1, 5))()
    with db.read() as conn:
        assert grants.get_disbursement(conn, grant_ids[0], later).receipt_number == "ORG-2019-0001"
    assert_stored_balances_equal_postings(db)
    for book in ("org", "hh-dv-009"):
        assert verify_book(db, book).ok


def test_payments_race_for_the_last_riel_in_the_box(db: Database, org_book: str) -> None:
    """Eight grants big enough, one box: 4,100,000 riel pays eight times 500,000 and no more.
    The box refuses after the receipt is numbered: the refusal rolls its number back too."""
    programme(db, "5000.00")
    grant_ids = [approved(db, "300.00") for _ in range(THREADS)]  # 1,230,000 riel each

    def officer(i: int) -> list[str]:
        return [outcome(paying(db, grant_ids[i], 500_000)) for _ in range(2)]

    outcomes = in_threads(THREADS, officer)
    assert outcomes == {"ok": 8, "account_overdrawn": 8}
    assert receipt_numbers(db) == [f"ORG-2018-{n:04d}" for n in range(1, 9)]
    with db.read() as conn:
        assert (
            funds.line_use(
                conn, funds.get_award(conn, AWARD), funds.get_award(conn, AWARD).line(LINE)
            ).actual
            == 8 * 12195
        )  # 500,000 / 4,100 = 121.951... -> 121.95 USD each


def test_the_same_award_and_household_recorded_at_once(db: Database, org_book: str) -> None:
    """Two officers entering the same paper form: one record, the others a 409 each."""

    outcomes = in_threads(THREADS, lambda i: [outcome(lambda: db.write(ctip))])
    assert outcomes == {"ok": 1, "award_exists": THREADS - 1}

    def rest(conn: Connection) -> None:
        funds.receive_funds(conn, AWARD, D(2018, 7, 2), BANK, "5000.00", None, None, "finance")
        households.register_household(conn, household_draft(), D(2026, 1, 1), "officer")

    db.write(rest)

    def household(conn: Connection) -> object:
        draft = household_draft("DV-010")
        return households.register_household(conn, draft, D(2026, 1, 1), "officer")

    outcomes = in_threads(THREADS, lambda i: [outcome(lambda: db.write(household))])
    assert outcomes == {"ok": 1, "case_code_exists": THREADS - 1}

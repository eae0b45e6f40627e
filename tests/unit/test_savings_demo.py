"""The demo's two savings groups load, pass `verify`, and show what the area can do."""

from __future__ import annotations

from ledger.demo import load_demo
from ledger.savings import queries
from ledger.store.database import Database
from ledger.verify import verify_book


def test_the_demo_groups_meet_lend_share_out_and_verify(db: Database) -> None:
    lines = load_demo(db)
    assert any("sg-kt-001" in line and "shared out" in line for line in lines)
    with db.read() as conn:
        groups = queries.list_groups(conn)
        assert [(g.code, g.province) for g in groups] == [
            ("sg-kt-001", "Kampong Thom"),
            ("sg-kt-002", "Kampong Thom"),
        ]
        for group in groups:
            meetings = queries.list_meetings(conn, group.code, 1)
            assert len(meetings) == 17
            loans = queries.list_loans(conn, group.code)
            assert len(loans) >= 5
            assert any(loan.payments for loan in loans)
        shared = queries.preview_share_out(conn, "sg-kt-001", 1)
        assert shared.executed
        assert shared.result.payouts + shared.social_fund + shared.result.carried_forward == (
            shared.cash_held
        )
        second = queries.indicators(conn, "sg-kt-002")
        assert second.members_active == 15
        assert second.loans_outstanding > 0
        assert second.meetings_with_cash_difference == 1
    for code in ("sg-kt-001", "sg-kt-002"):
        report = verify_book(db, code)
        assert report.ok, report.differences

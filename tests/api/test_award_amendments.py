"""Award amendments (issue 17, item 2): budget revisions between lines, a new total, a
no-cost extension, proposed by one person and approved by another; the budget report shows
original, revised and the history. Every bad request is refused with its code and changes
nothing.

The world (tests/api/grants_world.py): CTIP-2018, 10,000.00 USD from 2018-07-01 to
2019-06-30, lines livelihood-grants 2,000.00 and transport 500.00.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from ledger.store.database import Database
from tests.api.conftest import bearer
from tests.api.grants_world import AWARD, BAVET, GRANTS_LINE, TRANSPORT_LINE, World, build_world, ok
from tests.pdf import pdf_page_count, pdf_text

AMENDMENTS = f"/api/awards/{AWARD}/amendments"


@pytest.fixture
def world(client: TestClient[Any], db: Database) -> World:
    return build_world(client, db)


@pytest.fixture
def checker(db: Database) -> dict[str, str]:
    """A second person of finance: the one who approves."""
    return bearer(db, "vuthy.finance", "finance")


def revision(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "effective_date": "2019-06-01",
        "reason": "USAID modification 3: 200.00 moved from transport to grants; extension",
        "lines": [
            {"budget_line": GRANTS_LINE, "amount": "2200.00"},
            {"budget_line": TRANSPORT_LINE, "amount": "300.00"},
        ],
        "end_date": "2019-12-31",
    }
    return body | changes


def transport_expense(date: str) -> dict[str, Any]:
    return {
        "date": date,
        "budget_line": TRANSPORT_LINE,
        "paid_from": BAVET,
        "amount": "41000",
        "narration": "Follow-up visit transport",
        "exchange_rate": "4100",
    }


def state(client: TestClient[Any]) -> Any:
    return (
        ok(client.get(f"/api/awards/{AWARD}"), 200),
        ok(client.get(AMENDMENTS), 200),
        ok(client.get(f"/api/awards/{AWARD}/budget"), 200),
    )


def refused(
    client: TestClient[Any],
    path: str,
    body: Any,
    status: int,
    code: str,
    headers: dict[str, str] | None = None,
) -> None:
    before = state(client)
    response = client.post(path, json=body, headers=headers)
    assert (response.status_code, response.json().get("code")) == (status, code), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert state(client) == before


def test_a_revision_and_a_no_cost_extension(
    client: TestClient[Any], world: World, checker: dict[str, str]
) -> None:
    proposed = ok(client.post(AMENDMENTS, json=revision()))
    assert (proposed["status"], proposed["proposed_by"], proposed["approved_by"]) == (
        "proposed",
        "sopheap.finance",
        None,
    )
    assert proposed["lines"] == [
        {"budget_line": GRANTS_LINE, "name": "Small-business grants", "before": "2000.00"}
        | {"after": "2200.00"},
        {"budget_line": TRANSPORT_LINE, "name": "Transport home of returnees", "before": "500.00"}
        | {"after": "300.00"},
    ]
    # Proposed only: the award keeps its dates, a payment after them is refused.
    assert ok(client.get(f"/api/awards/{AWARD}"), 200)["end_date"] == "2019-06-30"
    late = client.post(f"/api/awards/{AWARD}/expenses", json=transport_expense("2019-08-01"))
    assert (late.status_code, late.json()["code"]) == (422, "award_not_active")
    # Maker-checker: the proposer may not approve.
    refused(
        client, f"{AMENDMENTS}/{proposed['id']}/approve", None, 403, "approval_needs_second_person"
    )
    approved = ok(client.post(f"{AMENDMENTS}/{proposed['id']}/approve", headers=checker), 200)
    assert (approved["status"], approved["approved_by"]) == ("approved", "vuthy.finance")
    refused(
        client,
        f"{AMENDMENTS}/{proposed['id']}/approve",
        None,
        409,
        "amendment_not_proposed",
        checker,
    )
    # After the original end date, within the extension: allowed.
    ok(client.post(f"/api/awards/{AWARD}/expenses", json=transport_expense("2019-08-01")))
    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    assert (budget["original_amount"], budget["amount"]) == ("10000.00", "10000.00")
    assert (budget["original_end_date"], budget["end_date"]) == ("2019-06-30", "2019-12-31")
    lines = {line["code"]: line for line in budget["lines"]}
    assert (lines[GRANTS_LINE]["original_budget"], lines[GRANTS_LINE]["budget"]) == (
        "2000.00",
        "2200.00",
    )
    assert (lines[TRANSPORT_LINE]["original_budget"], lines[TRANSPORT_LINE]["budget"]) == (
        "500.00",
        "300.00",
    )
    assert (lines[TRANSPORT_LINE]["actual"], lines[TRANSPORT_LINE]["remaining"]) == (
        "10.00",  # 41,000 / 4,100
        "290.00",
    )
    [history] = budget["amendments"]
    assert history["lines"] == {
        GRANTS_LINE: ["2000.00", "2200.00"],
        TRANSPORT_LINE: ["500.00", "300.00"],
    }
    assert (history["end_date_before"], history["end_date_after"]) == ("2019-06-30", "2019-12-31")
    assert history["approved_by"] == "vuthy.finance"
    # Past the extension: refused again.
    later = client.post(f"/api/awards/{AWARD}/expenses", json=transport_expense("2020-01-02"))
    assert (later.status_code, later.json()["code"]) == (422, "award_not_active")


def test_a_total_change_then_a_stale_proposal(
    client: TestClient[Any], world: World, checker: dict[str, str]
) -> None:
    up = ok(
        client.post(
            AMENDMENTS,
            json={"effective_date": "2019-01-01", "reason": "Mod 4"}
            | {"amount": "12000.00", "lines": [{"budget_line": GRANTS_LINE, "amount": "4000.00"}]},
        )
    )
    down = ok(
        client.post(
            AMENDMENTS,
            json={
                "effective_date": "2019-01-01",
                "reason": "Mod 4, other draft",
                "lines": [{"budget_line": GRANTS_LINE, "amount": "1500.00"}],
            },
        )
    )
    ok(client.post(f"{AMENDMENTS}/{up['id']}/approve", headers=checker), 200)
    budget = ok(client.get(f"/api/awards/{AWARD}/budget"), 200)
    assert (budget["original_amount"], budget["amount"]) == ("10000.00", "12000.00")
    # The other draft was made against 2,000.00: the award changed since.
    refused(client, f"{AMENDMENTS}/{down['id']}/approve", None, 409, "amendment_stale", checker)
    listed = ok(client.get(AMENDMENTS), 200)["items"]
    assert [(a["id"], a["status"]) for a in listed] == [
        (up["id"], "approved"),
        (down["id"], "proposed"),
    ]


def test_bad_amendments_change_nothing(
    client: TestClient[Any], world: World, checker: dict[str, str]
) -> None:
    # 100.00 spent on transport, so it cannot go below that.
    ok(
        client.post(
            f"/api/awards/{AWARD}/expenses",
            json=transport_expense("2018-11-10") | {"amount": "410000"},
        )
    )
    line = {"budget_line": GRANTS_LINE, "amount": "2100.00"}
    base = {"effective_date": "2019-01-01", "reason": "Modification"}
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("nothing changes", base, 422, "amendment_empty"),
        ("no reason", base | {"reason": "  ", "lines": [line]}, 422, "reason_required"),
        ("a NUL", base | {"reason": "Mod\u0000", "lines": [line]}, 422, "text_control_character"),
        (
            "too long a reason",
            base | {"reason": "x" * 1001, "lines": [line]},
            422,
            "request_invalid",
        ),
        (
            "unknown line",
            base | {"lines": [line | {"budget_line": "rent"}]},
            422,
            "budget_line_not_found",
        ),
        ("a line twice", base | {"lines": [line, line]}, 422, "budget_line_repeated"),
        ("zero", base | {"lines": [line | {"amount": "0"}]}, 422, "amount_not_positive"),
        ("negative", base | {"lines": [line | {"amount": "-5.00"}]}, 422, "amount_not_positive"),
        (
            "a tenth of a cent",
            base | {"lines": [line | {"amount": "1.001"}]},
            422,
            "amount_precision_exceeded",
        ),
        ("a number", base | {"lines": [line | {"amount": 2100}]}, 422, "request_invalid"),
        ("huge", base | {"amount": "9" * 40}, 422, "amount_too_large"),
        ("lines above the total", base | {"amount": "2400.00"}, 422, "budget_exceeds_award"),
        (
            "below what is spent",
            base | {"lines": [{"budget_line": TRANSPORT_LINE, "amount": "99.99"}]},
            409,
            "budget_line_below_use",
        ),
        ("an earlier end", base | {"end_date": "2019-06-30"}, 422, "extension_not_later"),
        (
            "effective before start",
            base | {"effective_date": "2018-06-30", "lines": [line]},
            422,
            "award_not_active",
        ),
        (
            "effective after end",
            base | {"effective_date": "2019-07-01", "lines": [line]},
            422,
            "award_not_active",
        ),
        ("an unknown field", base | {"lines": [line], "total": "1"}, 422, "request_invalid"),
        ("not a date", base | {"effective_date": "soon", "lines": [line]}, 422, "request_invalid"),
        ("a list", [], 422, "request_invalid"),  # type: ignore[list-item]
    ]
    wrong = []
    for name, body, status, code in cases:
        before = state(client)
        response = client.post(AMENDMENTS, json=body)
        got = (response.status_code, response.json().get("code"))
        if got != (status, code):
            wrong.append(f"{name}: {got}, expected {(status, code)}: {response.text[:200]}")
        elif state(client) != before:
            wrong.append(f"{name}: refused, but something changed")
    assert not wrong, "\n".join(wrong)
    refused(client, "/api/awards/NOPE/amendments", base | {"lines": [line]}, 404, "award_not_found")
    refused(client, f"{AMENDMENTS}/999/approve", None, 404, "amendment_not_found", checker)
    officer = world.officer
    refused(client, AMENDMENTS, base | {"lines": [line]}, 403, "forbidden", officer)


def test_the_donor_report_shows_original_revised_and_the_history(
    client: TestClient[Any], world: World, checker: dict[str, str]
) -> None:
    plain = ok(client.get(f"/api/awards/{AWARD}/donor-report"), 200)
    assert (plain["original_amount"], plain["amendments"]) == (None, [])
    proposed = ok(client.post(AMENDMENTS, json=revision(amount="10500.00")))
    ok(client.post(f"{AMENDMENTS}/{proposed['id']}/approve", headers=checker), 200)
    report = ok(client.get(f"/api/awards/{AWARD}/donor-report"), 200)
    assert (report["original_amount"], report["original_end_date"]) == ("10000.00", "2019-06-30")
    assert report["end"] == "2019-12-31"  # by default over the award's dates, as extended
    lines = {line["code"]: line for line in report["lines"]}
    assert (lines[GRANTS_LINE]["original_budget"], lines[GRANTS_LINE]["budget"]) == (
        "2000.00",
        "2200.00",
    )
    [amendment] = report["amendments"]
    assert (amendment["status"], amendment["amount_after"]) == ("approved", "10500.00")
    pdf = client.get(f"/api/awards/{AWARD}/donor-report.pdf")
    assert pdf.status_code == 200, pdf.text
    text = " ".join(pdf_text(pdf.content).split())
    for expected in (
        "(original 10,000.00)",
        "(extended from 30 June 2019)",
        "Original",
        "Revised",
        "Amendments approved",
        "livelihood-grants: 2,000.00 →",  # the cell wraps beside the reason
        "transport: 500.00 → 300.00",
        "Total: 10,000.00 → 10,500.00",
        "End date: 30 June 2019 → 31 December 2019",
        "vuthy.finance",
    ):
        assert expected in text, expected
    assert pdf_page_count(pdf.content) == 1

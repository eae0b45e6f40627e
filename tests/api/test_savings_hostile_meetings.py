"""Hostile meetings over HTTP: whatever a phone sends, the answer is a 201 or a clear 4xx
with a stable code, never a 500, and a refused meeting changes nothing in the group."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.api.savings_support import CODE, create_group, state

amounts = st.one_of(
    st.sampled_from(["0", "500", "1000", "-500", "500.5", "1e3", "", " 5", "99999999999999999"]),
    st.integers(0, 10**16).map(str),
    st.text(max_size=12),
    st.integers(0, 10),  # a number where a string belongs
)
entries = st.fixed_dictionaries(
    {
        "member": st.sampled_from(["M01", "M02", "M03", "M09", "", "M01\x00", "ម០១"]),
        "attendance": st.sampled_from(["present", "absent", "represented", "asleep"]),
    },
    optional={
        "shares": st.integers(-2, 30),
        "social_fund_paid": amounts,
        "fines_paid": amounts,
        "loan_repaid": amounts,
        "grant_received": amounts,
        "loan_taken": st.fixed_dictionaries(
            {"amount": amounts, "term_months": st.integers(-1, 40)}
        ),
    },
)
meetings = st.fixed_dictionaries(
    {
        "date": st.sampled_from(["2026-01-12", "2026-01-19", "2026-01-04", "2026-13-01", "x"]),
        "entries": st.lists(entries, max_size=4),
        "cash_counted": amounts,
    },
    optional={"cash_difference_reason": st.one_of(st.none(), st.text(max_size=20))},
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=meetings)
def test_no_meeting_body_gets_a_500_or_half_lands(client: TestClient[Any], body: Any) -> None:
    if client.get(f"/api/groups/{CODE}").status_code == 404:
        create_group(client, members=3)
    before = state(client)
    response = client.post(f"/api/groups/{CODE}/meetings", json=body)
    assert response.status_code in (201, 404, 409, 422), response.text
    if response.status_code != 201:
        assert response.json()["code"]
        assert state(client) == before

"""The finance team's pages through Litestar's test client: awards and budget against
actual, exchanges, the journal and its transaction form, reversal, statements and matching,
cash counts, the period close and the downloads. Every refused form keeps what was typed,
shows the error beside its field and writes nothing; a resent form records once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.ratelimit import SlidingWindowLimiter
from ledger.access import users
from ledger.store.database import Database
from tests.api.conftest import PASSWORD, make_client
from tests.api.grants_world import AWARD, BANK, BAVET
from tests.web.conftest import csrf_of, sign_in
from tests.web.finance_world import ABA, FINANCE, build_finance_world

DATA = Path(__file__).resolve().parents[1] / "data"
KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')


def key_of(html: str) -> str:
    found = KEY_RE.search(html)
    assert found is not None, "the form has no Idempotency-Key"
    return found.group(1)


@pytest.fixture
def accounts(db: Database) -> dict[str, int]:
    return build_finance_world(db)


@pytest.fixture
def finance(db: Database, accounts: dict[str, int]) -> Iterator[TestClient[Any]]:
    with make_client(db) as client:
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        signed_in = sign_in(client, FINANCE)
        assert signed_in.status_code == 303, signed_in.text
        assert signed_in.headers["location"] == "/finance"
        yield client


def transaction_count(client: TestClient[Any]) -> int:
    journal = client.get("/journal/")
    return len(re.findall(r'id="txn-\d+"', journal.text))


def test_the_finance_home_and_an_awards_budget_against_actual(finance: TestClient[Any]) -> None:
    home = finance.get("/finance")
    assert home.status_code == 200
    assert f'href="/awards/{AWARD}"' in home.text
    award = finance.get(f"/awards/{AWARD}")
    assert award.status_code == 200
    assert "<svg" in award.text
    assert "<rect" in award.text
    assert 'id="received">5,000.00 USD' in award.text
    assert 'id="line-livelihood-grants"' in award.text
    khmer = finance.get(f"/awards/{AWARD}", headers={"Accept-Language": "km"})
    assert "ថវិកា" in khmer.text
    assert finance.get("/awards/NO-SUCH").status_code == 404


def test_an_exchange_is_recorded_once_and_a_bad_one_keeps_what_was_typed(
    finance: TestClient[Any],
) -> None:
    page = finance.get("/exchanges/")
    assert page.status_code == 200
    assert page.text.count("<tr>") == 2 + 1  # two exchanges and the header row
    form = {
        "_csrf_token": csrf_of(page.text),
        "idempotency_key": key_of(page.text),
        "book": "org",
        "date": "2018-12-20",
        "from_account": BANK,
        "to_account": BAVET,
        "from_amount": "100.00",
        "rate": "4100.5.5",
    }
    refused = finance.post("/exchanges/", data=form)
    assert refused.status_code == 422
    assert 'data-field="rate"' in refused.text
    assert 'value="100.00"' in refused.text
    assert finance.get("/exchanges/").text.count("<tr>") == 3
    form["rate"] = "4100"
    saved = finance.post("/exchanges/", data=form, follow_redirects=False)
    assert saved.status_code == 303
    again = finance.post("/exchanges/", data=form, follow_redirects=False)
    assert again.status_code == 303  # the same key: the first answer, nothing new
    assert finance.get("/exchanges/").text.count("<tr>") == 4


def posting_form(page: str, date: str, amounts: tuple[str, str]) -> dict[str, str]:
    return {
        "_csrf_token": csrf_of(page),
        "idempotency_key": key_of(page),
        "book": "org",
        "rows": "4",
        "date": date,
        "narration": "Bank fee found late",
        "postings[0].account": CHARGES_ACCOUNT,
        "postings[0].amount": amounts[0],
        "postings[0].currency": "USD",
        "postings[1].account": BANK,
        "postings[1].amount": amounts[1],
        "postings[1].currency": "USD",
        "postings[2].currency": "USD",
        "postings[3].currency": "USD",
        "step": "save",
    }


CHARGES_ACCOUNT = "Expenses:Bank-Charges"


def test_the_transaction_form_refuses_an_unbalanced_entry_and_posts_a_balanced_one_once(
    finance: TestClient[Any],
) -> None:
    before = transaction_count(finance)
    page = finance.get("/journal/new")
    assert page.status_code == 200
    form = posting_form(page.text, "2018-12-20", ("2.00", "-1.50"))
    refused = finance.post("/journal/", data=form)
    assert refused.status_code == 422
    assert 'id="err-postings"' in refused.text
    assert 'data-code="transaction_not_balanced"' in refused.text
    assert 'value="-1.50"' in refused.text
    assert 'value="Bank fee found late"' in refused.text
    assert transaction_count(finance) == before
    form["postings[1].amount"] = "-2.00"
    saved = finance.post("/journal/", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    shown = finance.get(saved.headers["location"])
    assert "Bank fee found late" in shown.text
    assert 'id="saved"' in shown.text
    assert finance.post("/journal/", data=form, follow_redirects=False).status_code == 303
    assert transaction_count(finance) == before + 1
    added = finance.post("/journal/", data={**form, "step": "add_row"})
    assert 'name="postings[4].account"' in added.text


def test_a_posting_error_lands_beside_its_row(finance: TestClient[Any]) -> None:
    page = finance.get("/journal/new")
    form = posting_form(page.text, "2018-12-20", ("2.001", "-2.001"))
    # The first row left empty: the amounts' rows keep their own numbers.
    form |= {"postings[0].account": "", "postings[0].amount": ""}
    form |= {"postings[2].account": CHARGES_ACCOUNT, "postings[2].amount": "2.001"}
    refused = finance.post("/journal/", data=form)
    assert refused.status_code == 422
    assert 'id="err-postings[2].amount"' in refused.text, refused.text


def test_a_reversal_asks_for_confirmation(finance: TestClient[Any]) -> None:
    journal = finance.get("/journal/", params={"text": "second half"})
    ids = re.findall(r'id="txn-(\d+)"', journal.text)
    assert len(ids) == 1
    shown = finance.get(f"/journal/{ids[0]}")
    assert 'id="reverse"' in shown.text
    confirm = finance.get(f"/journal/{ids[0]}/reverse")
    form = {
        "_csrf_token": csrf_of(confirm.text),
        "idempotency_key": key_of(confirm.text),
        "book": "org",
        "date": "2018-12-21",
    }
    unconfirmed = finance.post(f"/journal/{ids[0]}/reverse", data=form)
    assert unconfirmed.status_code == 422
    assert 'data-field="confirm"' in unconfirmed.text
    assert 'id="reversed"' not in finance.get(f"/journal/{ids[0]}").text
    done = finance.post(
        f"/journal/{ids[0]}/reverse", data={**form, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert 'id="reversed"' in finance.get(f"/journal/{ids[0]}").text


def test_the_journal_filters(finance: TestClient[Any]) -> None:
    everything = transaction_count(finance)
    assert everything >= 7
    by_account = finance.get("/journal/", params={"account": ABA})
    assert len(re.findall(r'id="txn-\d+"', by_account.text)) == 4
    dated = finance.get("/journal/", params={"date_from": "2018-12-10", "date_to": "2018-12-10"})
    assert len(re.findall(r'id="txn-\d+"', dated.text)) == 2
    text = finance.get("/journal/", params={"text": "inv-0931"})
    assert len(re.findall(r'id="txn-\d+"', text.text)) == 2
    bad = finance.get("/journal/", params={"date_from": "yesterday"})
    assert bad.status_code == 200
    assert 'data-field="date_from"' in bad.text


def upload(client: TestClient[Any], account_id: int, name: str, fmt: str, **columns: str) -> Any:
    page = client.get("/reconcile/")
    return client.post(
        "/reconcile/",
        data={
            "_csrf_token": csrf_of(page.text),
            "idempotency_key": key_of(page.text),
            "book": "org",
            "account_id": str(account_id),
            "format": fmt,
            **{f"mapping.{name}": value for name, value in columns.items()},
        },
        files={"file": (name, (DATA / name).read_bytes(), "text/csv")},
        follow_redirects=False,
    )


def test_upload_match_and_close_a_statement(
    finance: TestClient[Any], accounts: dict[str, int]
) -> None:
    uploaded = upload(finance, accounts[ABA], "statement-aba-usd.csv", "aba")
    assert uploaded.status_code == 303, uploaded.text
    screen = finance.get(uploaded.headers["location"])
    kinds = re.findall(r'data-kind="(\w+)"', screen.text)
    assert kinds == ["one_to_one", "one_line_to_many", "many_lines_to_one"]
    forms = re.findall(
        r'name="idempotency_key" value="([^"]+)">\s*<input type="hidden" name="line_ids" '
        r'value="([^"]+)">\s*<input type="hidden" name="posting_ids" value="([^"]+)">',
        screen.text,
    )
    assert len(forms) == 3
    target = uploaded.headers["location"].rstrip("/")
    key, lines, postings = forms[0]
    rejected = finance.post(
        f"{target}/matches",
        data={"_csrf_token": csrf_of(screen.text), "idempotency_key": key,
              "line_ids": lines, "posting_ids": postings, "decision": "reject"},
    )  # fmt: skip
    assert rejected.status_code == 200
    for key, lines, postings in forms[1:]:
        body = {"_csrf_token": csrf_of(screen.text), "idempotency_key": key,
                "line_ids": lines, "posting_ids": postings, "decision": "accept"}  # fmt: skip
        assert finance.post(f"{target}/matches", data=body).status_code == 200
    after = finance.get(target)
    assert re.findall(r'data-kind="(\w+)"', after.text) == []
    # The same accept sent again (a double click): the first answer, no second match.
    key, lines, postings = forms[1]
    body = {"_csrf_token": csrf_of(after.text), "idempotency_key": key,
            "line_ids": lines, "posting_ids": postings, "decision": "accept"}  # fmt: skip
    assert finance.post(f"{target}/matches", data=body).status_code == 200
    # Sent as a new form (a new key), it is refused: those lines are matched already.
    again = finance.post(f"{target}/matches", data={**body, "idempotency_key": "k" * 20})
    assert again.status_code == 409
    assert 'data-code="already_matched"' in again.text
    refused = finance.post(
        f"{target}/close",
        data={"_csrf_token": csrf_of(after.text), "idempotency_key": key_of(after.text),
              "date": "2018-12-31"},
    )  # fmt: skip
    assert refused.status_code == 409
    assert 'data-code="reconciliation_difference"' in refused.text
    assert 'value="2018-12-31"' in refused.text


def test_a_bad_statement_file_is_refused_beside_the_file(
    finance: TestClient[Any], accounts: dict[str, int]
) -> None:
    wrong = upload(finance, accounts[ABA], "statement-aba-usd.csv", "acleda")
    assert wrong.status_code == 422
    assert 'data-field="format"' in wrong.text
    assert "/reconcile/1" not in finance.get("/reconcile/").text


def test_another_banks_columns_named_on_the_form(
    finance: TestClient[Any], accounts: dict[str, int]
) -> None:
    columns = {
        "header_row": "5",
        "date": "Date",
        "date_format": "DD/MM/YYYY",
        "description": "Description",
        "reference": "Reference",
        "balance": "Balance",
    }
    refused = upload(finance, accounts[BANK], "statement-acleda-usd.csv", "other", **columns)
    assert refused.status_code == 422
    assert 'data-field="mapping.amount"' in refused.text
    assert 'name="mapping.header_row" type="text" value="5"' in refused.text
    columns |= {"debit": "Debit", "credit": "Credit"}
    uploaded = upload(finance, accounts[BANK], "statement-acleda-usd.csv", "other", **columns)
    assert uploaded.status_code == 303, uploaded.text
    screen = finance.get(uploaded.headers["location"])
    assert re.findall(r'data-kind="(\w+)"', screen.text) == ["one_to_one"] * 3


def test_cash_count_and_the_period_close(
    finance: TestClient[Any], accounts: dict[str, int]
) -> None:
    checklist = finance.get("/close/", params={"date": "2018-11-30"})
    assert checklist.status_code == 200
    assert f'data-account="{BAVET}"' in checklist.text
    form = {"_csrf_token": csrf_of(checklist.text), "idempotency_key": key_of(checklist.text),
            "book": "org", "date": "2018-11-30"}  # fmt: skip
    refused = finance.post("/close/", data=form)
    assert refused.status_code == 409
    assert 'data-code="account_not_reconciled"' in refused.text
    assert "not closed yet" in refused.text
    page = finance.get("/cash-counts/")
    count = {"_csrf_token": csrf_of(page.text), "idempotency_key": key_of(page.text),
             "book": "org", "account_id": str(accounts[BAVET]), "date": "2018-11-30",
             "amount": "4,000,000"}  # fmt: skip
    wrong = finance.post("/cash-counts/", data=count)
    assert wrong.status_code == 409
    assert 'value="4,000,000"' in wrong.text
    count["amount"] = "4112000"
    assert finance.post("/cash-counts/", data=count, follow_redirects=False).status_code == 303
    assert "4,112,000" in finance.get("/cash-counts/").text


def test_reports_download_under_the_session(finance: TestClient[Any]) -> None:
    page = finance.get("/reports/")
    assert page.status_code == 200
    pdf = finance.get(f"/reports/awards/{AWARD}/donor-report.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    budget = finance.get(f"/reports/awards/{AWARD}/budget.csv")
    assert budget.status_code == 200
    assert "livelihood-grants" in budget.text
    export = finance.get("/reports/books/org/export.beancount")
    assert export.status_code == 200
    assert "Assets:Bank:ABA-USD" in export.text
    rows = finance.get("/reports/books/org/transactions.csv")
    assert rows.status_code == 200
    assert "INV-0931" in rows.text
    assert finance.get("/reports/books/nope/export.beancount").status_code == 404


def test_other_roles_and_strangers(db: Database, accounts: dict[str, int]) -> None:
    """Not signed in: the sign-in form. An auditor reads without a write button; an officer
    of another province may not open the organisation's journal (404, as in the API)."""
    db.write(lambda conn: _user(conn, "sothea.auditor", "auditor", ()))
    db.write(lambda conn: _user(conn, "kanha.officer", "officer", ("province:Mondulkiri",)))
    with make_client(db) as client:
        assert client.get("/finance", follow_redirects=False).status_code == 303
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        assert sign_in(client, "sothea.auditor").status_code == 303
        journal = client.get("/journal/", params={"account": ABA})
        first = re.findall(r'id="txn-(\d+)"', journal.text)[0]
        assert 'href="/journal/new' not in journal.text
        shown = client.get(f"/journal/{first}")
        assert shown.status_code == 200
        assert 'id="reverse"' not in shown.text
        assert client.get(f"/journal/{first}/reverse").status_code == 403
        close = client.get("/close/")
        assert close.status_code == 200
        assert 'id="close-period"' not in close.text
        assert 'id="upload-form"' not in client.get("/reconcile/").text
    with make_client(db) as client:
        client.app.state.login_limiter = SlidingWindowLimiter(1000)
        assert sign_in(client, "kanha.officer").status_code == 303
        assert client.get("/journal/new").status_code == 403
        assert client.get("/close/").status_code == 403
        assert client.get("/journal/", params={"book": "org"}).status_code == 404


def _user(conn: Any, username: str, role: str, scopes: tuple[str, ...]) -> None:
    users.create_user(conn, username, PASSWORD, role, scopes)

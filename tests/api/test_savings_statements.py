"""The member passbook and the share-out statement: bilingual PDFs with the right figures.

Figures and English are read back with pdftotext; Khmer is asserted on the HTML (pdftotext
reorders Khmer clusters), and rendered pages were looked at (pdftoppm) when the templates
were written: Khmer shapes correctly with the fonts-khmeros stack of templates/base.html.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from ledger.reports import savings as statements
from ledger.store.database import Database
from tests.api.conftest import bearer, make_client
from tests.api.savings_support import CODE, create_group, entry, meeting, post_meeting
from tests.pdf import pdf_page_count, pdf_page_png, pdf_text


def _cycle(client: TestClient[Any]) -> None:
    """Three members, three meetings, a loan repaid with interest, a fine; ends 2 February."""
    create_group(client, members=3, planned_end="2026-02-02")
    post_meeting(
        client,
        meeting(
            "2026-01-12",
            [entry("M01", 5), entry("M02", 2), entry("M03", 1, social_fund_paid="500")],
            cash=40_500,
        ),
    )
    post_meeting(
        client,
        meeting(
            "2026-01-19",
            [
                entry("M01", 5, loan_taken={"amount": "30000", "term_months": 1}),
                entry("M02", 2, fines_paid="500"),
                {"member": "M03", "attendance": "absent"},
            ],
            cash=40_500 + 25_000 - 30_000 + 10_500,
        ),
    )
    # Month 1 of M01's loan: 2% of 30,000 = 600.
    post_meeting(
        client,
        meeting(
            "2026-02-02",
            [entry("M01", 5, loan_repaid="30600"), entry("M02", 2), entry("M03", 1)],
            cash=46_000 + 25_000 + 30_600 + 10_000 + 5_000,
        ),
    )


def test_the_passbook_lists_every_meeting_with_running_totals(
    client: TestClient[Any], db: Database
) -> None:
    _cycle(client)
    response = client.get(f"/api/groups/{CODE}/members/M01/passbook.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert pdf_page_count(pdf) == 1
    text = pdf_text(pdf)
    for expected in (
        "Member passbook",
        "M01",
        "sg-kt-001",
        "Kampong Svay, Prasat Balang, Kampong Thom",
        "5,000 KHR",
        "2026-01-12",
        "2026-02-02",
        "30,000",  # the loan, and the balance owed after it
        "600",  # interest
        "75,000",  # 15 shares of savings
        "Member's signature or thumbprint",
    ):
        assert expected in text, expected
    rows = [
        line.split() for line in text.splitlines() if line.strip().startswith(("1 ", "2 ", "3 "))
    ]
    assert [row[-1] for row in rows[:3]] == ["0", "0", "0"]  # no grant
    assert [row[-2] for row in rows[:3]] == ["0", "30,000", "0"]  # loan balance after each
    with db.read() as conn:
        html = statements.passbook_html(statements.passbook(conn, CODE, "M01"))
    for expected in (
        "សៀវភៅសន្សំរបស់សមាជិក</span> / Member passbook",
        "លេខសមាជិក</span> / Member no.",
        "ប្រធាន",  # M01 chairs the group
        "មានវត្តមាន",
        "ប្រាក់កម្ចីនៅសល់",
        "ថ្ងៃទី៥ ខែមករា ឆ្នាំ២០២៦",
        "លើសមតុល្យនៅសល់",
    ):
        assert expected in html, expected
    absent = client.get(f"/api/groups/{CODE}/members/M03/passbook.pdf")
    assert absent.status_code == 200
    with db.read() as conn:
        assert "អវត្តមាន" in statements.passbook_html(statements.passbook(conn, CODE, "M03"))


def test_the_share_out_statement_preview_is_a_draft_and_the_executed_one_is_not(
    client: TestClient[Any], db: Database, tmp_path: Path
) -> None:
    _cycle(client)
    preview = client.get(f"/api/groups/{CODE}/cycles/1/share-out.pdf")
    assert preview.status_code == 200, preview.text
    text = pdf_text(preview.content)
    assert "DRAFT" in text
    done = client.post(f"/api/groups/{CODE}/cycles/1/share-out", json={"date": "2026-02-03"})
    assert done.status_code == 201, done.text
    shown = done.json()
    pdf = client.get(f"/api/groups/{CODE}/cycles/1/share-out.pdf").content
    text = pdf_text(pdf)
    assert "DRAFT" not in text
    # 23 shares; fund = 116,600 cash - 500 social fund = 116,100 (savings 115,000, interest
    # 600, a fine 500): 5,047.82 a share.
    assert shown["fund"] == "116100"
    assert shown["value_per_share"] == "5047.8260"
    for expected in (
        "Share-out statement",
        "3 February 2026",
        "116,100",
        "5,047.82",  # thousands separated, as every amount on the page
        "Signature or thumbprint",
        "Chair",
        "Treasurer",
        "Key holder",
    ):
        assert expected in text, expected
    for line in shown["members"]:
        assert f"{int(line['payout']):,}" in text, line
    with db.read() as conn:
        html = statements.share_out_html(statements.share_out_statement(conn, CODE, 1))
    for expected in (
        "របាយការណ៍ចែកប្រាក់ចុងវដ្ត</span> / Share-out statement",
        "តម្លៃមួយភាគហ៊ុន</span> / Value of one share",
        "មូលនិធិសង្គមរក្សាទុក",
        "ហត្ថលេខា ឬស្នាមមេដៃ",
        "អ្នកកាន់កូនសោ",
        "ថ្ងៃទី៣ ខែកុម្ភៈ ឆ្នាំ២០២៦",
    ):
        assert expected in html, expected
    png = pdf_page_png(pdf, tmp_path)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    assert (abs(width - 496), abs(height - 702)) <= (1, 1)  # A4 portrait at 60 dpi


def test_no_statement_field_can_hold_personal_data() -> None:
    personal = ("name", "phone", "address", "birth", "age", "sex", "contact")
    fields = [
        f.name
        for view in (
            statements.PassbookView,
            statements.PassbookRow,
            statements.ShareOutStatementView,
            statements.ShareOutRow,
        )
        for f in dataclasses.fields(view)
    ]
    assert [n for n in fields if any(p in n for p in personal)] == []


def test_statements_follow_the_groups_scope(client: TestClient[Any], db: Database) -> None:
    _cycle(client)
    with make_client(db) as stranger:
        stranger.headers.update(bearer(db, "treasurer.b", "treasurer", ("book:sg-kt-009",)))
        for path in (
            f"/api/groups/{CODE}/members/M01/passbook.pdf",
            f"/api/groups/{CODE}/cycles/1/share-out.pdf",
        ):
            response = stranger.get(path)
            assert response.status_code == 404
            assert response.json()["code"] == "book_not_found"
    missing = client.get(f"/api/groups/{CODE}/members/M09/passbook.pdf")
    assert missing.status_code == 404
    assert missing.json()["code"] == "member_not_found"


def test_a_debt_rolled_over_is_printed_beside_the_members_line(
    client: TestClient[Any], db: Database
) -> None:
    _cycle(client)
    with db.read() as conn:
        view = statements.share_out_statement(conn, CODE, 1)
    rows = list(view.rows)
    rows[2] = dataclasses.replace(
        rows[2], loan_deducted=Decimal(10_300), payout=Decimal(0), loan_carried=Decimal(19_700)
    )
    view = dataclasses.replace(view, rows=tuple(rows), loans_carried_forward=Decimal(19_700))
    text = pdf_text(statements.render_share_out(view))
    assert "owes" in text  # "still owes" wraps in its narrow column
    assert "19,700" in text
    html = statements.share_out_html(view)
    assert "នៅជំពាក់</span> / still owes" in html
    assert "ប្រាក់កម្ចីយោងទៅវដ្តបន្ទាប់</span> / Loans carried forward" in html

"""Spreadsheet imports through the API: templates with Khmer and English headers, a preview
that lists every row's problems and changes nothing, an import that records every row or
none, the same file twice adding nothing, and hostile files each refused with a clear 4xx
and nothing written."""

from __future__ import annotations

import io
from typing import Any

from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from ledger.store.database import Database
from ledger.store.tables import households, imports
from tests.api.import_files import (
    DATE,
    HOUSEHOLD_HEADER,
    body,
    csv_bytes,
    household_row,
    many_rows_xlsx,
    xlsx_bytes,
    zip_bomb_xlsx,
)
from tests.api.savings_support import CODE, create_group

HOUSEHOLDS = "/api/imports/households"


def _count(db: Database, table: Any = households) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _refused(client: TestClient[Any], content: bytes, code: str, db: Database) -> None:
    for path in (f"{HOUSEHOLDS}/preview", HOUSEHOLDS):
        response = client.post(path, json=body(content))
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    assert _count(db) == 0
    assert _count(db, imports) == 0


def test_templates_have_a_khmer_and_an_english_header(client: TestClient[Any]) -> None:
    xlsx = client.get(f"{HOUSEHOLDS}/template.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    khmer, english = (list(row) for row in sheet.iter_rows(max_row=2, values_only=True))
    assert english == list(HOUSEHOLD_HEADER)
    assert khmer[0] == "លេខករណី"
    csv = client.get(f"{HOUSEHOLDS}/template.csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("លេខករណី,ខេត្ត")
    assert lines[1] == ",".join(HOUSEHOLD_HEADER)
    assert client.get("/api/imports/nothing/template.csv").status_code in (400, 404, 422)


def test_the_template_itself_imports(client: TestClient[Any], db: Database) -> None:
    """Fill the downloaded template below its two header rows: it imports."""
    sheet_bytes = client.get(f"{HOUSEHOLDS}/template.xlsx").content
    workbook = load_workbook(io.BytesIO(sheet_bytes))
    row = household_row("DV-201", consent_date=DATE, village="ភូមិថ្មី")
    workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    created = client.post(HOUSEHOLDS, json=body(out.getvalue()))
    assert created.status_code == 201, created.text
    assert created.json()["added"] == 1
    shown = client.get("/api/households/DV-201").json()
    assert shown["village"] == "ភូមិថ្មី"  # Khmer text is accepted as written
    assert shown["consent_date"] == "2018-11-04"


def test_preview_lists_every_problem_and_changes_nothing(
    client: TestClient[Any], db: Database
) -> None:
    rows = [
        household_row("DV-101"),
        household_row("dv 102", members="three"),
        household_row("DV-103", consent_date="4 Nov 2018", head_sex="unknown"),
        household_row("DV-101"),  # the same case code twice in one file
    ]
    preview = client.post(f"{HOUSEHOLDS}/preview", json=body(csv_bytes(HOUSEHOLD_HEADER, rows)))
    assert preview.status_code == 200, preview.text
    found = preview.json()
    problems = {(p["row"], p["column"], p["code"]) for p in found["problems"]}
    # A row's cells are checked first; its rules once every cell reads.
    assert problems == {
        (3, "members", "cell_not_a_whole_number"),
        (4, "consent_date", "cell_not_a_date"),
        (5, None, "row_repeated"),
    }
    assert found["would_add"] == 1
    assert _count(db) == 0
    khmer = client.post(
        f"{HOUSEHOLDS}/preview",
        json=body(csv_bytes(HOUSEHOLD_HEADER, rows)),
        headers={"Accept-Language": "km"},
    ).json()
    messages = {p["code"]: p["message"] for p in khmer["problems"]}
    assert messages["cell_not_a_date"] == "កាលបរិច្ឆេទត្រូវសរសេរដូចជា 2018-11-04។"


def test_import_is_all_or_nothing(client: TestClient[Any], db: Database) -> None:
    rows = [household_row("DV-101"), household_row("DV-102", consent_date="2018-13-40")]
    refused = client.post(HOUSEHOLDS, json=body(csv_bytes(HOUSEHOLD_HEADER, rows)))
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "cell_not_a_date"
    assert problem["field"] == "rows[3].consent_date"
    assert _count(db) == 0
    assert client.get("/api/households/DV-101").status_code == 404


def test_the_same_file_twice_adds_nothing(client: TestClient[Any], db: Database) -> None:
    content = csv_bytes(HOUSEHOLD_HEADER, [household_row("DV-101"), household_row("DV-102")])
    first = client.post(HOUSEHOLDS, json=body(content, "households.csv"))
    assert first.status_code == 201, first.text
    assert (first.json()["added"], first.json()["already_imported"]) == (2, False)
    again = client.post(HOUSEHOLDS, json=body(content, "households.csv"))
    assert again.status_code == 201
    assert again.json()["added"] == 0
    assert again.json()["already_imported"] is True
    assert again.json()["id"] == first.json()["id"]
    preview = client.post(f"{HOUSEHOLDS}/preview", json=body(content)).json()
    assert preview["already_imported"] is True
    # Another file with one row recorded already: that row is recognised by its case code.
    more = csv_bytes(HOUSEHOLD_HEADER, [household_row("DV-102"), household_row("DV-103")])
    added = client.post(HOUSEHOLDS, json=body(more)).json()
    assert (added["added"], added["already_present"]) == (1, 1)
    assert _count(db) == 3


def test_formulas_are_never_evaluated(client: TestClient[Any], db: Database) -> None:
    rows = [household_row("DV-101", referral_source="=1+1", consent_date=DATE)]
    created = client.post(HOUSEHOLDS, json=body(xlsx_bytes(HOUSEHOLD_HEADER, rows)))
    assert created.status_code == 201, created.text
    assert client.get("/api/households/DV-101").json()["referral_source"] == "=1+1"
    counted = [household_row("DV-102", members="=2+3", consent_date=DATE)]
    refused = client.post(HOUSEHOLDS, json=body(xlsx_bytes(HOUSEHOLD_HEADER, counted)))
    assert refused.status_code == 422
    assert refused.json()["code"] == "cell_not_a_whole_number"
    assert _count(db) == 1


def test_dates_as_numbers_are_refused(client: TestClient[Any], db: Database) -> None:
    rows = [household_row("DV-101", consent_date=43408)]  # 4 November 2018 as a serial
    refused = client.post(HOUSEHOLDS, json=body(xlsx_bytes(HOUSEHOLD_HEADER, rows)))
    assert refused.status_code == 422
    assert refused.json()["code"] == "cell_date_as_number"
    assert refused.json()["field"] == "rows[2].consent_date"
    assert _count(db) == 0


def test_wrong_types_are_refused(client: TestClient[Any], db: Database) -> None:
    rows = [household_row("DV-101", members=4.5, children=True, consent_date=DATE)]
    refused = client.post(HOUSEHOLDS, json=body(xlsx_bytes(HOUSEHOLD_HEADER, rows)))
    assert refused.status_code == 422
    codes = {(e["field"], e["code"]) for e in refused.json()["errors"]}
    assert ("rows[2].members", "cell_not_a_whole_number") in codes
    assert ("rows[2].children", "cell_not_a_whole_number") in codes
    assert _count(db) == 0


def test_merged_cells_are_refused(client: TestClient[Any], db: Database) -> None:
    rows = [household_row("DV-101", consent_date=DATE), household_row("DV-102")]
    content = xlsx_bytes(HOUSEHOLD_HEADER, rows, merge="B2:B3")
    _refused(client, content, "sheet_merged_cells", db)


def test_a_hundred_thousand_rows_are_refused(client: TestClient[Any], db: Database) -> None:
    _refused(client, many_rows_xlsx(100_000), "file_too_many_rows", db)


def test_a_zip_bomb_disguised_as_xlsx_is_refused(client: TestClient[Any], db: Database) -> None:
    content = zip_bomb_xlsx(200 * 1024 * 1024)
    assert len(content) < 1024 * 1024
    _refused(client, content, "file_unpacks_too_large", db)


def test_not_a_spreadsheet_and_empty_files_are_refused(
    client: TestClient[Any], db: Database
) -> None:
    _refused(client, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "file_not_spreadsheet", db)
    _refused(client, b"PK\x03\x04 not really a zip", "file_not_spreadsheet", db)
    _refused(client, b"", "file_empty", db)
    _refused(client, b"\r\n  \r\n", "file_empty", db)
    _refused(client, b"name,age\r\nx,1\r\n", "header_missing", db)
    response = client.post(HOUSEHOLDS, json={"content_base64": "not base64!"})
    assert response.status_code == 422
    assert response.json()["code"] == "content_not_base64"


def test_people_members_participants_and_opening_balances(
    client: TestClient[Any], db: Database
) -> None:
    """Each other kind imports through its own service, and twice adds nothing."""
    households_file = csv_bytes(HOUSEHOLD_HEADER, [household_row("DV-101")])
    assert client.post(HOUSEHOLDS, json=body(households_file)).status_code == 201
    people = csv_bytes(
        ("case_code", "number", "role", "sex", "birth_year", "age_band"),
        [("DV-101", 1, "head", "female", 1985, ""), ("DV-101", 2, "child", "male", "", "under-18")],
    )
    created = client.post("/api/imports/household-members", json=body(people))
    assert created.status_code == 201, created.text
    assert created.json()["added"] == 2
    again = client.post("/api/imports/household-members", json=body(people + b"\r\n"))
    assert (again.json()["added"], again.json()["already_present"]) == (0, 2)
    create_group(client, members=0)
    members = csv_bytes(
        ("group", "number", "role", "joined_on", "case_code", "sex", "age_band"),
        [(CODE, "M01", "chair", "2026-01-05", "DV-101", "female", "35-49")],
    )
    added = client.post("/api/imports/savings-members", json=body(members))
    assert added.status_code == 201, added.text
    shown = client.get(f"/api/groups/{CODE}/members").json()["items"]
    assert [(m["number"], m["role"]) for m in shown] == [("M01", "chair")]
    balances_file = csv_bytes(
        ("book", "account", "currency", "amount", "date"),
        [(CODE, "Assets:Cash:Box", "KHR", "150000", "2026-01-05")],
    )
    opened = client.post("/api/imports/opening-balances", json=body(balances_file))
    assert opened.status_code == 201, opened.text
    cash = client.get(f"/api/books/{CODE}/balances").json()
    assert any(b["account"] == "Assets:Cash:Box" and b["amount"] == "150000" for b in _items(cash))
    repeated = client.post(
        "/api/imports/opening-balances", json=body(balances_file + b"\r\n")
    ).json()
    assert (repeated["added"], repeated["already_present"]) == (0, 1)
    participants = csv_bytes(("training", "case_code", "people"), [(999, "DV-101", 1)])
    refused = client.post("/api/imports/training-participants", json=body(participants))
    assert refused.status_code == 422
    assert refused.json()["code"] == "training_not_found"


def _items(page: Any) -> list[dict[str, Any]]:
    return list(page["balances"])

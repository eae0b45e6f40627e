"""Attachments: a scan or photo on a transaction, a disbursement, a bank statement or an
award, its type read from its bytes, stored once by SHA-256, listed and downloaded under the
record's own rule; a disbursement's receipt is personal data, never for auditors."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from beancount import loader
from beancount.core import data
from litestar.testing import TestClient
from sqlalchemy import func, select

from ledger.core import limits
from ledger.core.files import sniff_media_type
from ledger.store.database import Database
from ledger.store.tables import attachment_files, attachments
from tests.api.conftest import bearer
from tests.api.grants_world import AWARD, World, approved_grant, build_world, ok, pigs


def png(width: int = 2) -> bytes:
    """A real PNG, `width` x 1 pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x80\x40\x20" * width)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf(padding: int = 0) -> bytes:
    return b"%PDF-1.4\n%receipt\n" + b" " * padding + b"\ntrailer\n<<>>\n%%EOF\n"


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200 + b"\xff\xd9"


def stored_files(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(attachment_files)).scalar_one())


@pytest.fixture
def world(client: TestClient[Any], db: Database) -> World:
    return build_world(client, db)


def first_transaction(client: TestClient[Any]) -> int:
    page = ok(client.get("/api/books/org/transactions"), 200)
    items = page["items"] if isinstance(page, dict) else page
    return int(items[0]["id"])


def upload(client: TestClient[Any], url: str, content: bytes, **headers: str) -> Any:
    return client.post(url, content=content, headers=headers)


def test_a_pdf_on_a_transaction_is_listed_and_downloaded(
    client: TestClient[Any], world: World, db: Database
) -> None:
    base = f"/api/books/org/transactions/{first_transaction(client)}/attachments"
    made = ok(client.post(f"{base}?name=bank%20slip.PDF", content=pdf()))
    assert made["media_type"] == "application/pdf"
    assert made["file_name"] == "bank slip.pdf"
    assert made["size"] == len(pdf())
    listed = ok(client.get(base), 200)["items"]
    assert [a["id"] for a in listed] == [made["id"]]
    download = client.get(f"{base}/{made['id']}")
    assert download.status_code == 200
    assert download.content == pdf()
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["x-content-type-options"] == "nosniff"
    auditor = bearer(db, "chan.auditor", "auditor")
    assert ok(client.get(base, headers=auditor), 200)["items"][0]["sha256"] == made["sha256"]


def test_a_khmer_file_name_is_downloaded_under_its_own_name(
    client: TestClient[Any], world: World
) -> None:
    """A header holds only Latin-1: the name goes as RFC 6266's `filename*` (schemathesis
    found the download answering 500 for such a name)."""
    base = f"/api/books/org/transactions/{first_transaction(client)}/attachments"
    name = 'បង្កាន់ដៃ "ធនាគារ".pdf'
    made = ok(client.post(base, params={"name": name}, content=pdf()))
    download = client.get(f"{base}/{made['id']}")
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''" + quote(made["file_name"], safe="") in disposition


def test_hostile_files_are_refused_and_nothing_is_written(
    client: TestClient[Any], world: World, db: Database
) -> None:
    base = f"/api/books/org/transactions/{first_transaction(client)}/attachments"
    empty = client.post(base, content=b"")
    assert empty.status_code == 422
    assert empty.json()["code"] == "attachment_empty"
    for cut in (b"\x89PNG\r\n\x1a\n", png()[:30], b"%PDF-1.4\n", b"\xff\xd8\xff\xe0", b"GIF89a"):
        refused = client.post(base, content=cut, headers={"Content-Type": "application/pdf"})
        assert refused.status_code == 415, cut
        assert refused.json()["code"] == "attachment_type_unsupported"
        assert refused.json()["field"] == "file"
    text = client.post(
        f"{base}?name=invoice.pdf",
        content=b"just text " * 20,
        headers={"Content-Type": "application/pdf"},
    )
    assert text.status_code == 415
    over = client.post(base, content=pdf(limits.ATTACHMENT_BYTES_MAX + 1 - len(pdf())))
    assert over.status_code == 413
    assert over.json()["code"] == "attachment_too_large"
    far_over = client.post(base, content=b"x" * (limits.ATTACHMENT_BYTES_MAX + 4096))
    assert far_over.status_code == 413
    assert stored_files(db) == 0


def test_a_png_named_pdf_is_kept_as_the_png_it_is(client: TestClient[Any], world: World) -> None:
    base = f"/api/books/org/transactions/{first_transaction(client)}/attachments"
    made = ok(
        client.post(
            f"{base}?name=scan.pdf", content=png(), headers={"Content-Type": "application/pdf"}
        )
    )
    assert made["media_type"] == "image/png"
    assert made["file_name"] == "scan.png"


def test_the_largest_file_allowed_is_kept(client: TestClient[Any], world: World) -> None:
    base = f"/api/books/org/transactions/{first_transaction(client)}/attachments"
    exactly = pdf(limits.ATTACHMENT_BYTES_MAX - len(pdf()))
    assert len(exactly) == limits.ATTACHMENT_BYTES_MAX
    assert ok(client.post(base, content=exactly))["size"] == limits.ATTACHMENT_BYTES_MAX


def test_an_identical_file_is_stored_once(
    client: TestClient[Any], world: World, db: Database
) -> None:
    transaction = f"/api/books/org/transactions/{first_transaction(client)}/attachments"
    award = f"/api/awards/{AWARD}/attachments"
    first = ok(client.post(transaction, content=jpeg()))
    again = ok(client.post(transaction, content=jpeg()))
    elsewhere = ok(client.post(award, content=jpeg()))
    assert first["id"] == again["id"]  # the same file on the same record: the same link
    assert elsewhere["id"] != first["id"]
    assert first["sha256"] == elsewhere["sha256"]
    assert stored_files(db) == 1
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(attachments)).scalar_one() == 2


def test_another_file_under_the_same_key_is_409(
    client: TestClient[Any], world: World, db: Database
) -> None:
    base = f"/api/awards/{AWARD}/attachments"
    key = {"Idempotency-Key": "award-agreement-0001"}
    made = client.post(base, content=pdf(), headers=key)
    assert made.status_code == 201
    replay = client.post(base, content=pdf(), headers=key)
    assert replay.status_code == 201
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json() == made.json()
    other = client.post(base, content=png(), headers=key)
    assert other.status_code == 409
    assert stored_files(db) == 1


def test_a_receipt_is_personal_data(client: TestClient[Any], world: World, db: Database) -> None:
    grant_id = approved_grant(client, world)
    paid = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    base = f"/api/grants/{grant_id}/disbursements/{paid['id']}/attachments"
    made = ok(client.post(f"{base}?name=receipt.jpg", content=jpeg(), headers=world.officer))
    assert ok(client.get(base, headers=world.officer), 200)["items"][0]["id"] == made["id"]
    assert ok(client.get(base, headers=world.admin), 200)["items"][0]["id"] == made["id"]
    auditor = bearer(db, "chan.auditor", "auditor")
    for who in (auditor, world.finance):
        assert client.get(base, headers=who).status_code == 403
        assert client.get(f"{base}/{made['id']}", headers=who).status_code == 403
    far = client.get(base, headers=world.far_officer)
    assert far.status_code == 404
    far_upload = client.post(base, content=png(), headers=world.far_officer)
    assert far_upload.status_code == 404
    assert client.get(f"{base}/{made['id'] + 99}", headers=world.officer).status_code == 404


def test_records_that_do_not_exist_are_404(client: TestClient[Any], world: World) -> None:
    for url in (
        "/api/books/org/transactions/999999/attachments",
        "/api/books/org/accounts/1/statements/999/attachments",
        "/api/awards/NO-SUCH-AWARD/attachments",
        "/api/grants/999/disbursements/1/attachments",
    ):
        assert client.post(url, content=pdf()).status_code == 404, url
        assert client.get(url).status_code in (403, 404), url


def test_sniffing() -> None:
    assert sniff_media_type(png()) == "image/png"
    assert sniff_media_type(jpeg()) == "image/jpeg"
    assert sniff_media_type(pdf()) == "application/pdf"
    assert sniff_media_type(png()[:-12]) is None
    assert sniff_media_type(b"") is None


def test_beancount_reads_the_documents_beside_the_export(
    client: TestClient[Any], world: World, db: Database, tmp_path: Path
) -> None:
    """The export, the document directives and the files saved beside them load in
    Beancount with no error; a receipt (personal) is never among them."""
    grant_id = approved_grant(client, world)
    paid = ok(client.post(f"/api/grants/{grant_id}/disbursements", json=pigs()))
    receipt = f"/api/grants/{grant_id}/disbursements/{paid['id']}/attachments"
    ok(client.post(receipt, content=jpeg(), headers=world.officer))
    ok(client.post(f"/api/books/org/transactions/{first_transaction(client)}/attachments",
                   content=pdf()))  # fmt: skip
    ok(client.post(f"/api/awards/{AWARD}/attachments", content=png()))
    (tmp_path / "org.beancount").write_bytes(client.get("/api/books/org/export.beancount").content)
    directives = client.get("/api/books/org/documents.beancount")
    assert directives.status_code == 200
    (tmp_path / "documents.beancount").write_text(directives.text)
    (tmp_path / "documents").mkdir()
    for line in directives.text.splitlines()[1:]:
        name = line.rsplit('"', 2)[1]
        file = client.get(f"/api/books/org/{name}")
        assert file.status_code == 200, name
        (tmp_path / name).write_bytes(file.content)
    assert "jpg" not in directives.text  # the receipt is personal: not exported
    assert client.get(f"/api/books/org/documents/{sha256_of(jpeg())}.jpg").status_code == 404
    main = tmp_path / "main.beancount"
    main.write_text('include "org.beancount"\ninclude "documents.beancount"\n')
    entries, errors, _ = loader.load_file(str(main))
    assert errors == []
    documents = [e for e in entries if isinstance(e, data.Document)]
    assert len(documents) == 2


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()

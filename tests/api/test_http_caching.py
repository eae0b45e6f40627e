"""gzip above 1 KB and ETag/304 on reads, through real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import AuthSettings
from api.caching import COMPRESSION_BYTES_MIN
from ledger.store.database import Database
from tests.api.conftest import TEST_SECRET_KEY, bearer
from tests.api.live_server import serving


@pytest.fixture
def http(db: Database, client: TestClient[Any], org: str) -> Iterator[httpx.Client]:
    """A real client on a real server, signed in as finance, with the `org` book funded."""
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(url, migrate=False, auth=AuthSettings(secret_key=TEST_SECRET_KEY))
    with serving(app) as (host, port):
        headers = bearer(db, "vanna.finance", "finance")
        with httpx.Client(base_url=f"http://{host}:{port}", headers=headers) as real:
            yield real


def _gzip_raw(http: httpx.Client, path: str, **headers: str) -> httpx.Response:
    """The bytes as they came over the wire (httpx would otherwise inflate them)."""
    with http.stream("GET", path, headers={"accept-encoding": "gzip", **headers}) as response:
        response.raw_bytes = b"".join(response.iter_raw())  # type: ignore[attr-defined]
    return response


def _post_fare(http: httpx.Client, date: str) -> None:
    posted = http.post(
        "/api/books/org/transactions",
        json={
            "date": date,
            "narration": "Bus fare",
            "postings": [
                {
                    "account": "Expenses:Reintegration:Transport",
                    "amount": "3.00",
                    "currency": "USD",
                },
                {"account": "Assets:Bank:Operating-USD", "amount": "-3.00", "currency": "USD"},
            ],
        },
    )
    assert posted.status_code == 201, posted.text


def test_a_large_read_is_gzipped_and_a_small_one_is_not(http: httpx.Client) -> None:
    for day in range(1, 6):
        _post_fare(http, f"2018-08-0{day}")
    path = "/api/books/org/transactions"
    large = _gzip_raw(http, path)
    identity = http.get(path, headers={"accept-encoding": "identity"})
    assert len(identity.content) > COMPRESSION_BYTES_MIN
    assert large.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in large.headers["vary"].lower()
    assert gzip.decompress(large.raw_bytes) == identity.content  # type: ignore[attr-defined]
    assert len(large.raw_bytes) < len(identity.content)  # type: ignore[attr-defined]
    small = _gzip_raw(http, "/api/books/org")
    assert len(small.raw_bytes) < COMPRESSION_BYTES_MIN  # type: ignore[attr-defined]
    assert "content-encoding" not in small.headers


def test_a_read_has_an_etag_and_a_matching_if_none_match_is_304(http: httpx.Client) -> None:
    first = http.get("/api/books/org/balances")
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag == http.get("/api/books/org/balances").headers["etag"]
    again = http.get("/api/books/org/balances", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    listed = http.get("/api/books/org/balances", headers={"if-none-match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    stale = http.get("/api/books/org/balances", headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.json() == first.json()


def test_a_write_changes_the_etag(http: httpx.Client) -> None:
    etag = http.get("/api/books/org/balances").headers["etag"]
    posted = http.post(
        "/api/books/org/transactions",
        json={
            "date": "2018-08-01",
            "narration": "Bus fare",
            "postings": [
                {
                    "account": "Expenses:Reintegration:Transport",
                    "amount": "3.00",
                    "currency": "USD",
                },
                {"account": "Assets:Bank:Operating-USD", "amount": "-3.00", "currency": "USD"},
            ],
        },
    )
    assert posted.status_code == 201
    after = http.get("/api/books/org/balances", headers={"if-none-match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag


def test_a_replayed_write_is_untouched_by_if_none_match(http: httpx.Client) -> None:
    body = {"name": "Expenses:Bank-Charges", "open_date": "2018-01-01"}
    headers = {"idempotency-key": "bank-charges-1"}
    first = http.post("/api/books/org/accounts", json=body, headers=headers)
    assert first.status_code == 201
    replay = http.post(
        "/api/books/org/accounts", json=body, headers={**headers, "if-none-match": "*"}
    )
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert "etag" not in replay.headers


def test_a_pdf_has_an_etag_and_is_not_gzipped(http: httpx.Client, db: Database) -> None:
    pdf = _gzip_raw(http, "/api/outcomes.pdf")
    assert pdf.status_code == 200, pdf.raw_bytes  # type: ignore[attr-defined]
    assert pdf.headers["content-type"] == "application/pdf"
    assert "content-encoding" not in pdf.headers
    # Already deflated by WeasyPrint: gzip would save next to nothing.
    assert len(gzip.compress(pdf.raw_bytes)) > 0.95 * len(pdf.raw_bytes)  # type: ignore[attr-defined]
    again = http.get("/api/outcomes.pdf", headers={"if-none-match": pdf.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_a_streamed_csv_is_gzipped_without_an_etag(http: httpx.Client) -> None:
    response = http.get("/api/books/org/transactions.csv", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.text.startswith("\ufefftransaction_id,")
    assert "etag" not in response.headers

"""The console script: demo, verify, export, on a database chosen by DATABASE_URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.cli import main
from ledger.store.database import Database


def test_demo_then_verify_then_export(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    assert main(["migrate"]) == 0
    assert main(["demo"]) == 0
    loaded = capsys.readouterr().out
    assert "book 'org'" in loaded
    assert "33 trainees from 22 households in six provinces" in loaded
    assert main(["demo"]) == 0  # a second run loads nothing and says so
    assert "exists already" in capsys.readouterr().out
    assert main(["verify"]) == 0
    verified = capsys.readouterr().out
    assert "org: ok" in verified
    # The organisation, every household book (trainees' with a year of visits and income)
    # and both savings groups load in Beancount with our balances; then the audit trail.
    assert verified.count(": ok") == verified.count("\n") == 1 + 11 + 22 + 2 + 1
    assert "audit trail: ok" in verified
    # Each book's chain head is printed, to be kept where the database's users cannot write.
    assert re.search(r"^org: ok \(head [0-9a-f]{64}\)$", verified, re.MULTILINE)
    assert "sg-kt-001: ok" in verified
    out = tmp_path / "org.beancount"
    assert main(["export", "org", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Winrock International" in text
    assert "balance Assets:Cash:Bavet-KHR" in text
    assert main(["export", "nowhere"]) == 2
    every = tmp_path / "organisation.beancount"
    assert main(["export", "--all", "-o", str(every)]) == 0
    combined = every.read_text(encoding="utf-8")
    assert combined.index("; ---- book org ") < combined.index("; ---- book hh-")
    assert 'custom "budget" Expenses:Grants:Livelihood:CTIP-2018 "daily"' in combined
    assert "Assets:SG-KT-001:Cash:Box" in combined
    assert main(["export"]) == 2


def test_verify_fails_loudly_on_a_tampered_balance(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    assert main(["demo"]) == 0
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE balances SET units = units + 1 WHERE commodity = 'THB'")
    assert main(["verify", "org"]) == 1
    assert "Assets:Cash:Poipet-THB" in capsys.readouterr().out


def test_users_create_reads_the_password_from_standard_input(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert (
        main(
            [
                "users",
                "create",
                "--username",
                "dara.treasurer",
                "--role",
                "treasurer",
                "--scope",
                "book:sg-kt-001",
            ]
        )
        == 0
    )
    assert "created user 'dara.treasurer' (treasurer; book:sg-kt-001)" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "create", "--username", "vanna.officer", "--role", "officer"]) == 2
    assert "password_invalid" in capsys.readouterr().err


def test_purge_idempotency_keys_keeps_recent_ones(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime

    from sqlalchemy import select

    from ledger.store.tables import idempotency_keys

    monkeypatch.setenv("DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    now = datetime.datetime.now(datetime.UTC)
    rows = [
        {"scope": "POST /x", "key": f"k{days}", "fingerprint": "f", "status_code": 201}
        | {"response_body": b"{}", "created_at": now - datetime.timedelta(days=days)}
        for days in (1, 34, 36, 400)
    ]
    db.write(lambda conn: conn.execute(idempotency_keys.insert(), rows))
    assert main(["purge-idempotency-keys"]) == 0
    assert "purged 2 idempotency key(s) older than 35 days" in capsys.readouterr().out
    with db.read() as conn:
        kept = sorted(conn.execute(select(idempotency_keys.c.key)).scalars())
    assert kept == ["k1", "k34"]

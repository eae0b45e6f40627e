"""The Alembic migrations build exactly the schema `ledger/store/tables.py` describes.

Each test starts from an empty database of its own (a new SQLite file, or a new PostgreSQL
database), because an upgrade from nothing is what a new field office's server does.
"""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    insert,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError

from ledger.core.transaction import Posting, Transaction
from ledger.store import books as store_books
from ledger.store import checkpoints, journal
from ledger.store.database import Database
from ledger.store.migrate import alembic_config, upgrade
from ledger.store.tables import (
    accounts,
    audit_events,
    balances,
    books,
    metadata,
    postings,
    transaction_tags,
    transactions,
)
from ledger.verify import verify_audit_trail, verify_book

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
APPEND_ONLY_TABLES = {
    "transactions",
    "postings",
    "transaction_tags",
    "transaction_links",
    "transaction_meta",
    "audit_events",  # the audit trail (0002) is append-only like the journal
    "budget_spends",  # what records money in the grants area (0003)
    "exchanges",
    "prices",
    "disbursement_items",
    "training_costs",  # facts of trainings and follow-up (0005)
    "training_attendance",
    "livestock_visits",
    "livestock_visit_lines",
    "livestock_deaths",
    "household_income",
    "statement_lines",  # what records a reconciliation (0006)
    "reconciliation_matches",
    "matched_lines",
    "matched_postings",
    "rejected_pairs",
    "reconciliations",
}
SEEDED = {
    "KHR": 0,
    "USD": 2,
    "THB": 2,
    "PIG": 0,
    "CHICKEN": 0,
    "DUCK": 0,
    "COW": 0,
    "BUFFALO": 0,
    "GOAT": 0,
}


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Database]:
    """A database with nothing in it."""
    if TEST_DATABASE != "postgresql":
        database = Database.connect(f"sqlite:///{tmp_path / 'new-office.sqlite3'}")
        yield database
        database.dispose()
        return
    name = f"ledger_migration_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database.connect(TEST_POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def differences(engine: Engine, target: MetaData = metadata) -> list[object]:
    with engine.connect() as conn:
        # Server defaults are compared on PostgreSQL only: SQLite reflects '' as "('')", which
        # autogenerate reports as a difference where there is none.
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": engine.dialect.name == "postgresql",
            },
        )
        return list(compare_metadata(context, target))


def append_only_triggers(engine: Engine) -> set[str]:
    """The tables that have a trigger refusing changes."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE NOT t.tgisinternal"
                )
            )
        else:
            rows = conn.execute(text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'"))
        return {r[0] for r in rows}


def test_an_upgrade_from_nothing_builds_exactly_the_described_schema(empty: Database) -> None:
    upgrade(empty.engine)
    assert table_names(empty.engine) == set(metadata.tables) | {"alembic_version"}
    assert differences(empty.engine) == []


def test_the_comparison_would_see_a_column_the_migrations_lack(empty: Database) -> None:
    upgrade(empty.engine)
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    Table("postings", drifted, Column("cost_basis", Integer), extend_existing=True)
    found = differences(empty.engine, drifted)
    assert [(d[0], d[2], d[3].name) for d in found] == [  # type: ignore[index]
        ("add_column", "postings", "cost_basis")
    ]


def test_the_standard_commodities_are_seeded(empty: Database) -> None:
    upgrade(empty.engine)
    with empty.read() as conn:
        rows = conn.execute(text("SELECT code, precision FROM commodities")).all()
    assert {code: precision for code, precision in rows} == SEEDED


def test_every_journal_table_is_append_only_from_the_start(empty: Database) -> None:
    upgrade(empty.engine)
    assert append_only_triggers(empty.engine) == APPEND_ONLY_TABLES
    # Even with no rows written by the journal, an UPDATE statement is refused by the trigger
    # once a row exists.
    with empty.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO books (code, name, kind, operating_currency, created_at) "
                "VALUES ('org', 'Org', 'organisation', 'USD', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transactions (book_id, date, narration, created_at) "
                "VALUES (1, '2018-11-02', 'Grant', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), empty.engine.begin() as conn:
        conn.execute(text("UPDATE transactions SET narration = 'Changed'"))


def test_upgrading_twice_changes_nothing(empty: Database) -> None:
    upgrade(empty.engine)
    upgrade(empty.engine)
    assert differences(empty.engine) == []
    with empty.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM commodities")).scalar_one() == len(SEEDED)


def test_a_downgrade_removes_everything_and_an_upgrade_restores_it(empty: Database) -> None:
    upgrade(empty.engine)
    command.downgrade(alembic_config(empty.engine), "base")
    assert table_names(empty.engine) <= {"alembic_version"}
    assert append_only_triggers(empty.engine) == set()
    upgrade(empty.engine)
    assert differences(empty.engine) == []
    assert append_only_triggers(empty.engine) == APPEND_ONLY_TABLES


def test_rows_written_before_the_chains_are_hashed_in_chain_order(empty: Database) -> None:
    """0009 hashes the journal and the audit trail already there, on either engine; the
    triggers refuse changes again afterwards, and the next post chains on."""
    upgrade(empty.engine, "0006")
    with empty.engine.begin() as conn:
        _write_rows_as_0006_did(conn)
    upgrade(empty.engine)
    assert differences(empty.engine) == []
    assert append_only_triggers(empty.engine) == APPEND_ONLY_TABLES
    report = verify_book(empty, "org")
    assert report.ok
    assert report.head is not None
    assert verify_audit_trail(empty).ok
    # The hashes are the post path's own: a transaction posted now chains onto the last.
    empty.write(
        lambda c: journal.post(
            c,
            "org",
            Transaction(
                date=datetime.date(2018, 11, 4),
                narration="Tranche 4",
                postings=(
                    Posting("Assets:Bank:Operating-USD", 400, "USD"),
                    Posting("Income:Grants:CTIP", -400, "USD"),
                ),
            ),
        )
    )
    assert verify_book(empty, "org").ok
    with pytest.raises(DBAPIError, match="append-only"), empty.engine.begin() as conn:
        conn.execute(text("UPDATE transactions SET chain_hash = NULL"))


def _write_rows_as_0006_did(conn: Connection) -> None:
    """A book with three transactions (tags, a payee) and two audit events, without hashes."""
    at = datetime.datetime(2018, 11, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    conn.execute(
        insert(books).values(
            id=1,
            code="org",
            name="Org",
            kind="organisation",
            operating_currency="USD",
            created_at=at,
        )
    )
    for account_id, name in ((1, "Assets:Bank:Operating-USD"), (2, "Income:Grants:CTIP")):
        conn.execute(
            insert(accounts).values(
                id=account_id,
                book_id=1,
                name=name,
                open_date=datetime.date(2018, 1, 1),
                created_at=at,
            )
        )
    for txn_id in (1, 2, 3):
        conn.execute(
            insert(transactions).values(
                id=txn_id,
                book_id=1,
                date=datetime.date(2018, 11, txn_id),
                payee="Sok" if txn_id == 2 else None,
                narration=f"Tranche {txn_id}",
                created_at=at,
                created_by="finance",
            )
        )
        for position, (account_id, units) in enumerate(((1, 100 * txn_id), (2, -100 * txn_id))):
            conn.execute(
                insert(postings).values(
                    transaction_id=txn_id,
                    book_id=1,
                    account_id=account_id,
                    date=datetime.date(2018, 11, txn_id),
                    position=position,
                    commodity="USD",
                    units=units,
                    weight_commodity="USD",
                    weight=units,
                )
            )
        conn.execute(insert(transaction_tags).values(transaction_id=txn_id, tag="ctip", book_id=1))
    for account_id, units in ((1, 600), (2, -600)):
        conn.execute(
            insert(balances).values(account_id=account_id, commodity="USD", book_id=1, units=units)
        )
    for action in ("book.create", "transaction.post"):
        conn.execute(
            insert(audit_events).values(
                at=at,
                method="POST",
                path="/api/books",
                action=action,
                outcome="ok",
                username="finance",
            )
        )
    if conn.dialect.name == "postgresql":  # the ids above were given, not drawn
        conn.execute(text("SELECT setval('transactions_id_seq', 3)"))


def test_the_checkpoints_migration_fills_them_from_the_postings(empty: Database) -> None:
    """0010 on a book with history: the checkpoints it builds are what the journal would
    have written, and a (account, commodity) whose postings always cancelled out gets its
    zero balance row."""
    upgrade(empty.engine)
    when = datetime.date(2020, 1, 2)  # a Thursday; the posts span eleven weeks

    def history(conn: Connection) -> None:
        store_books.create_book(conn, "old", "Old office", "organisation", "USD")
        for name in ("Assets:Bank", "Income:Grants"):
            store_books.open_account(conn, "old", name, datetime.date(2020, 1, 1), [])
        txns = [
            Transaction(
                date=when + datetime.timedelta(days=7 * n),
                narration="history",
                postings=(
                    Posting("Assets:Bank", 100 + n, "USD"),
                    Posting("Income:Grants", -100 - n, "USD"),
                ),
            )
            for n in range(11)
        ]
        journal.post_many(conn, "old", txns)
        journal.post(
            conn,
            "old",
            Transaction(
                date=when,
                narration="in and out",
                postings=(
                    Posting("Assets:Bank", 5, "KHR"),
                    Posting("Assets:Bank", -5, "KHR"),
                    Posting("Income:Grants", 1, "USD"),
                    Posting("Income:Grants", -1, "USD"),
                ),
            ),
        )

    empty.write(history)
    with empty.read() as conn:
        written = checkpoints.stored_checkpoints(conn, store_books.get_book(conn, "old").id)
        balance_rows = conn.execute(text("SELECT count(*) FROM balances")).scalar_one()
    command.downgrade(alembic_config(empty.engine), "0009")
    empty.write(lambda c: c.execute(text("DELETE FROM balances WHERE commodity = 'KHR'")))
    upgrade(empty.engine)
    with empty.read() as conn:
        book_id = store_books.get_book(conn, "old").id
        assert checkpoints.stored_checkpoints(conn, book_id) == written
        assert checkpoints.recomputed_checkpoints(conn, book_id) == written
        assert conn.execute(text("SELECT count(*) FROM balances")).scalar_one() == balance_rows
    assert len(written) == 2 * 11 + 1  # the KHR in and out has its zero week


def test_grants_stored_before_0011_commit_their_approved_amount(empty: Database) -> None:
    """0011 on grants approved in the award's currency: each approved one commits its amount
    at the same-currency rate (what the budget line reserved before), a proposed one nothing;
    0012's amendments come and go with their tables."""
    from ledger.funds import service as funds
    from ledger.funds.service import BudgetLineDraft
    from ledger.grants import service as grants
    from ledger.grants.service import GrantDraft
    from ledger.households import service as households
    from tests.api.grants_world import create_ctip, household_draft

    upgrade(empty.engine)

    def history(conn: Connection) -> tuple[int, int]:
        store_books.create_book(conn, "org", "Programme", "organisation", "USD")
        store_books.open_account(conn, "org", "Assets:Bank", datetime.date(2018, 1, 1), ["USD"])
        line = BudgetLineDraft("livelihood-grants", "Grants", "2000.00", "Expenses:Grants")
        create_ctip(conn, [line])
        households.register_household(conn, household_draft(), datetime.date(2018, 11, 4), "o")
        made = []
        for amount in ("300.00", "150.00"):
            draft = GrantDraft(
                "DV-009", "CTIP-2018", "livelihood-grants", "grocery", amount, (), ""
            )
            made.append(grants.propose_grant(conn, draft, "dara").id)
        grants.approve_grant(conn, made[0], "sokha")
        return made[0], made[1]

    approved, proposed = empty.write(history)
    command.downgrade(alembic_config(empty.engine), "0010")
    with empty.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("grants")}
    assert "committed_amount" not in columns
    upgrade(empty.engine)
    with empty.read() as conn:
        first = grants.get_grant(conn, approved)
        assert (first.committed, first.commitment_rate_method, first.reserved) == (
            30000,
            "same_currency",
            30000,
        )
        assert grants.get_grant(conn, proposed).committed is None
        award = funds.get_award(conn, "CTIP-2018")
        assert funds.line_use(conn, award, award.line("livelihood-grants")).committed == 30000


def test_the_budget_weeks_migration_fills_them_from_the_spends(empty: Database) -> None:
    """0017 on an award with spends: the weeks it builds are what `funds.line_weeks` wrote
    with each spend, and a line's use reads the same before and after."""
    from ledger.funds import line_weeks
    from ledger.funds import service as funds
    from ledger.funds.service import BudgetLineDraft, ExpenseDraft
    from tests.api.grants_world import create_ctip

    upgrade(empty.engine)

    def history(conn: Connection) -> None:
        store_books.create_book(conn, "org", "Programme", "organisation", "USD")
        store_books.open_account(conn, "org", "Assets:Bank", datetime.date(2018, 1, 1), ["USD"])
        lines = [
            BudgetLineDraft("transport", "Transport", "2000.00", "Expenses:Transport"),
            BudgetLineDraft("venue", "Venue", "2000.00", "Expenses:Venue"),
        ]
        award = create_ctip(conn, lines)
        for n in range(12):  # two or three a week over four weeks, both lines
            day = datetime.date(2018, 11, 1) + datetime.timedelta(days=n * 2)
            expense = ExpenseDraft(day, "Assets:Bank", 100 + n, "USD", "Spend", "expense")
            funds.post_expense(conn, award, award.lines[n % 2], expense, "finance")

    empty.write(history)

    def state(conn: Connection) -> tuple[dict[tuple[int, datetime.date], int], list[int]]:
        award = funds.get_award(conn, "CTIP-2018")
        book_id = store_books.get_book(conn, "org").id
        uses = [
            funds.line_use(conn, award, line, as_of).actual
            for line in award.lines
            for as_of in (None, datetime.date(2018, 11, 8), datetime.date(2018, 11, 12))
        ]
        return line_weeks.stored_weeks(conn, book_id), uses

    with empty.read() as conn:
        written, uses = state(conn)
    assert len(written) == 2 * 4
    command.downgrade(alembic_config(empty.engine), "0016")
    assert "budget_line_weeks" not in table_names(empty.engine)
    upgrade(empty.engine)
    with empty.read() as conn:
        assert state(conn) == (written, uses)
        book_id = store_books.get_book(conn, "org").id
        assert line_weeks.recomputed_weeks(conn, book_id) == written
    assert differences(empty.engine) == []

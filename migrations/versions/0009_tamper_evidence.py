"""tamper evidence: a hash chain per book over its transactions, one over the audit trail

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03

`transactions.chain_hash` and `audit_events.chain_hash` hold each row's link, `books.chain_head`
and the one row of `audit_chain` the last link of each chain (`ledger.store.chain` describes
the encoding). Rows written before this revision are hashed here, in chain order (by id), with
the append-only triggers set aside for those updates only, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger.store.chain_reads import audit_links_of, transaction_links_of

revision = "0009"
down_revision = "0007"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None

_CHAINED_TABLES = ("transactions", "audit_events")


def upgrade() -> None:
    op.add_column("books", sa.Column("chain_head", sa.String(length=64), nullable=True))
    op.add_column("transactions", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    _set_triggers_aside(True)
    _hash_existing_transactions()
    _hash_existing_audit_events()
    _set_triggers_aside(False)


def _set_triggers_aside(aside: bool) -> None:
    """Let this migration update the append-only tables (only it, only now)."""
    if op.get_bind().dialect.name == "postgresql":
        verb = "DISABLE" if aside else "ENABLE"
        for table in _CHAINED_TABLES:
            op.execute(f"ALTER TABLE {table} {verb} TRIGGER {table}_append_only")
        return
    for table in _CHAINED_TABLES:
        if aside:
            op.execute(f"DROP TRIGGER {table}_no_update")
        else:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _hash_existing_transactions() -> None:
    conn = op.get_bind()
    book_ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM books ORDER BY id"))]
    set_hash = sa.text("UPDATE transactions SET chain_hash = :link WHERE id = :id")
    set_head = sa.text("UPDATE books SET chain_head = :link WHERE id = :id")
    for book_id in book_ids:
        updates = []
        previous = "0" * 64
        for link in transaction_links_of(conn, book_id):
            previous = link.expected_hash(previous)
            updates.append({"id": link.id, "link": previous})
        if updates:
            conn.execute(set_hash, updates)
            conn.execute(set_head, {"id": book_id, "link": previous})


def _hash_existing_audit_events() -> None:
    conn = op.get_bind()
    updates = []
    previous = "0" * 64
    for link in audit_links_of(conn):
        previous = link.expected_hash(previous)
        updates.append({"id": link.id, "link": previous})
    if updates:
        conn.execute(sa.text("UPDATE audit_events SET chain_hash = :link WHERE id = :id"), updates)
        conn.execute(
            sa.text("INSERT INTO audit_chain (id, head_hash) VALUES (1, :link)"),
            {"link": previous},
        )


def downgrade() -> None:
    op.drop_table("audit_chain")
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch copy would lose the tables' triggers.
    op.execute("ALTER TABLE audit_events DROP COLUMN chain_hash")
    op.execute("ALTER TABLE transactions DROP COLUMN chain_hash")
    op.execute("ALTER TABLE books DROP COLUMN chain_head")

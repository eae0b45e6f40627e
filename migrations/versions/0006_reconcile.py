"""reconcile: bank statements and their lines, matches, rejected proposals, reconciliations
and cash counts

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01

What records a reconciliation is append-only (a trigger refuses UPDATE, DELETE and, on
PostgreSQL, TRUNCATE): statement lines, matches and their lines and postings, rejected
proposals, reconciliations. `statement_imports` is not: an import counts the lines it added
after inserting them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "how IN ('proposed', 'manual', 'adjustment')",
            name=op.f("ck_reconciliation_matches_how"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_reconciliation_matches_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_matches")),
    )
    with op.batch_alter_table("reconciliation_matches", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliation_matches_account", ["account_id"], unique=False)

    op.create_table(
        "statement_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("file_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("lines_read", sa.Integer(), nullable=False),
        sa.Column("lines_added", sa.Integer(), nullable=False),
        sa.Column("closing_balance", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_statement_imports_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_statement_imports_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["currency"],
            ["commodities.code"],
            name=op.f("fk_statement_imports_currency_commodities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_imports")),
    )
    with op.batch_alter_table("statement_imports", schema=None) as batch_op:
        batch_op.create_index("ix_statement_imports_account", ["account_id"], unique=False)

    op.create_table(
        "matched_postings",
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["reconciliation_matches.id"],
            name=op.f("fk_matched_postings_match_id_reconciliation_matches"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_matched_postings_posting_id_postings")
        ),
        sa.PrimaryKeyConstraint("posting_id", name=op.f("pk_matched_postings")),
    )
    with op.batch_alter_table("matched_postings", schema=None) as batch_op:
        batch_op.create_index("ix_matched_postings_match", ["match_id"], unique=False)

    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("counted_units", sa.BigInteger(), nullable=False),
        sa.Column("ledger_units", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_transaction_id", sa.Integer(), nullable=True),
        sa.Column("balance_assertion_id", sa.Integer(), nullable=False),
        sa.Column("lines_unmatched", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('statement', 'cash_count')", name=op.f("ck_reconciliations_kind")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reconciliations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["adjustment_transaction_id"],
            ["transactions.id"],
            name=op.f("fk_reconciliations_adjustment_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["balance_assertion_id"],
            ["balance_assertions.id"],
            name=op.f("fk_reconciliations_balance_assertion_id_balance_assertions"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_reconciliations_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["commodities.code"], name=op.f("fk_reconciliations_currency_commodities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
        sa.UniqueConstraint("account_id", "currency", "date", name="uq_reconciliations_point"),
    )
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.create_index("ix_reconciliations_book_date", ["book_id", "date"], unique=False)

    op.create_table(
        "statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_statement_lines_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["statement_imports.id"],
            name=op.f("fk_statement_lines_import_id_statement_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_lines")),
        sa.UniqueConstraint("account_id", "fingerprint", name="uq_statement_lines_fingerprint"),
    )
    with op.batch_alter_table("statement_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_statement_lines_account_date", ["account_id", "date"], unique=False
        )

    op.create_table(
        "matched_lines",
        sa.Column("statement_line_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["reconciliation_matches.id"],
            name=op.f("fk_matched_lines_match_id_reconciliation_matches"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_line_id"],
            ["statement_lines.id"],
            name=op.f("fk_matched_lines_statement_line_id_statement_lines"),
        ),
        sa.PrimaryKeyConstraint("statement_line_id", name=op.f("pk_matched_lines")),
    )
    with op.batch_alter_table("matched_lines", schema=None) as batch_op:
        batch_op.create_index("ix_matched_lines_match", ["match_id"], unique=False)

    op.create_table(
        "rejected_pairs",
        sa.Column("statement_line_id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_rejected_pairs_posting_id_postings")
        ),
        sa.ForeignKeyConstraint(
            ["statement_line_id"],
            ["statement_lines.id"],
            name=op.f("fk_rejected_pairs_statement_line_id_statement_lines"),
        ),
        sa.PrimaryKeyConstraint("statement_line_id", "posting_id", name=op.f("pk_rejected_pairs")),
    )
    _refuse_changes(APPEND_ONLY_TABLES)


APPEND_ONLY_TABLES = (
    "statement_lines",
    "reconciliation_matches",
    "matched_lines",
    "matched_postings",
    "rejected_pairs",
    "reconciliations",
)


def _refuse_changes(tables: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # ledger_refuse_change() was created by 0001.
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
        return
    for table in tables:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.drop_table("rejected_pairs")
    with op.batch_alter_table("matched_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_matched_lines_match")

    op.drop_table("matched_lines")
    with op.batch_alter_table("statement_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_statement_lines_account_date")

    op.drop_table("statement_lines")
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliations_book_date")

    op.drop_table("reconciliations")
    with op.batch_alter_table("matched_postings", schema=None) as batch_op:
        batch_op.drop_index("ix_matched_postings_match")

    op.drop_table("matched_postings")
    with op.batch_alter_table("statement_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_statement_imports_account")

    op.drop_table("statement_imports")
    with op.batch_alter_table("reconciliation_matches", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_matches_account")

    op.drop_table("reconciliation_matches")

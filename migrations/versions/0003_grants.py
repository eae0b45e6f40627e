"""grants: donor awards and budget lines, exchanges and prices, households, grants,
disbursements and their receipts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

What records money is append-only like the journal (a trigger refuses UPDATE, DELETE and,
on PostgreSQL, TRUNCATE): budget spends, exchanges, prices and disbursement items.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("donor", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("approval_threshold", sa.BigInteger(), nullable=False),
        sa.Column("income_account", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_awards_amount_positive")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_awards_dates_ordered")),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_awards_book_id_books")),
        sa.ForeignKeyConstraint(
            ["currency"], ["commodities.code"], name=op.f("fk_awards_currency_commodities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_awards")),
        sa.UniqueConstraint("code", name=op.f("uq_awards_code")),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=20), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=False),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("head_sex", sa.String(length=10), nullable=False),
        sa.Column("head_age_band", sa.String(length=10), nullable=False),
        sa.Column("members", sa.SmallInteger(), nullable=False),
        sa.Column("children", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("referral_source", sa.String(length=200), server_default="", nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "children >= 0 AND children <= members",
            name=op.f("ck_households_children_within_members"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_households_book_id_books")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("book_id", name=op.f("uq_households_book_id")),
        sa.UniqueConstraint("case_code", name=op.f("uq_households_case_code")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index("ix_households_province", ["province"], unique=False)

    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("quote", sa.String(length=24), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_prices_book_id_books")),
        sa.ForeignKeyConstraint(
            ["commodity"], ["commodities.code"], name=op.f("fk_prices_commodity_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["quote"], ["commodities.code"], name=op.f("fk_prices_quote_commodities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
        sa.UniqueConstraint("book_id", "date", "commodity", "quote", name="uq_prices_point"),
    )
    op.create_table(
        "receipt_sequences",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_receipt_sequences_book_id_books")
        ),
        sa.PrimaryKeyConstraint("book_id", "year", name=op.f("pk_receipt_sequences")),
    )
    op.create_table(
        "budget_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expense_account", sa.String(length=200), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_budget_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_budget_lines_award_id_awards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_lines")),
        sa.UniqueConstraint("award_id", "code", name="uq_budget_lines_award_code"),
    )
    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("from_account_id", sa.Integer(), nullable=False),
        sa.Column("from_commodity", sa.String(length=24), nullable=False),
        sa.Column("from_units", sa.BigInteger(), nullable=False),
        sa.Column("to_account_id", sa.Integer(), nullable=False),
        sa.Column("to_commodity", sa.String(length=24), nullable=False),
        sa.Column("to_units", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "from_units > 0 AND to_units > 0", name=op.f("ck_exchanges_units_positive")
        ),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_exchanges_book_id_books")),
        sa.ForeignKeyConstraint(
            ["from_account_id"], ["accounts.id"], name=op.f("fk_exchanges_from_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"], ["accounts.id"], name=op.f("fk_exchanges_to_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_exchanges_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_exchanges_transaction_id")),
    )
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchanges_to_account_date", ["to_account_id", "date"], unique=False
        )

    op.create_table(
        "budget_spends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("award_units", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("rate_method", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "rate_method IN ('same_currency', 'average_exchange', 'explicit')",
            name=op.f("ck_budget_spends_rate_method"),
        ),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_budget_spends_award_id_awards")
        ),
        sa.ForeignKeyConstraint(
            ["budget_line_id"],
            ["budget_lines.id"],
            name=op.f("fk_budget_spends_budget_line_id_budget_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_budget_spends_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_spends")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_budget_spends_transaction_id")),
    )
    with op.batch_alter_table("budget_spends", schema=None) as batch_op:
        batch_op.create_index("ix_budget_spends_line", ["budget_line_id"], unique=False)

    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("approved_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.Text(), server_default="", nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=64), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'disbursing', 'fully_disbursed', 'closed', "
            "'cancelled')",
            name=op.f("ck_grants_status"),
        ),
        sa.CheckConstraint("approved_amount > 0", name=op.f("ck_grants_amount_positive")),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_grants_award_id_awards")
        ),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_grants_book_id_books")),
        sa.ForeignKeyConstraint(
            ["budget_line_id"],
            ["budget_lines.id"],
            name=op.f("fk_grants_budget_line_id_budget_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_grants_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index("ix_grants_award_status", ["award_id", "status"], unique=False)
        batch_op.create_index("ix_grants_household", ["household_id"], unique=False)

    op.create_table(
        "disbursements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("receipt_number", sa.String(length=40), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("paid_from_account_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("award_units", sa.BigInteger(), nullable=False),
        sa.Column("org_transaction_id", sa.Integer(), nullable=False),
        sa.Column("household_transaction_id", sa.Integer(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "method IN ('cash', 'bank_transfer', 'mobile_money', 'in_kind')",
            name=op.f("ck_disbursements_method"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name=op.f("fk_disbursements_grant_id_grants")
        ),
        sa.ForeignKeyConstraint(
            ["household_transaction_id"],
            ["transactions.id"],
            name=op.f("fk_disbursements_household_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["org_transaction_id"],
            ["transactions.id"],
            name=op.f("fk_disbursements_org_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["paid_from_account_id"],
            ["accounts.id"],
            name=op.f("fk_disbursements_paid_from_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disbursements")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_disbursements_receipt_number")),
    )
    with op.batch_alter_table("disbursements", schema=None) as batch_op:
        batch_op.create_index("ix_disbursements_grant", ["grant_id"], unique=False)

    op.create_table(
        "grant_tranches",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["grants.id"], name=op.f("fk_grant_tranches_grant_id_grants")
        ),
        sa.PrimaryKeyConstraint("grant_id", "position", name=op.f("pk_grant_tranches")),
    )
    op.create_table(
        "disbursement_items",
        sa.Column("disbursement_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commodity"],
            ["commodities.code"],
            name=op.f("fk_disbursement_items_commodity_commodities"),
        ),
        sa.ForeignKeyConstraint(
            ["disbursement_id"],
            ["disbursements.id"],
            name=op.f("fk_disbursement_items_disbursement_id_disbursements"),
        ),
        sa.PrimaryKeyConstraint("disbursement_id", "position", name=op.f("pk_disbursement_items")),
    )
    _refuse_changes(APPEND_ONLY_TABLES)


APPEND_ONLY_TABLES = ("budget_spends", "exchanges", "prices", "disbursement_items")


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
    op.drop_table("disbursement_items")
    op.drop_table("grant_tranches")
    with op.batch_alter_table("disbursements", schema=None) as batch_op:
        batch_op.drop_index("ix_disbursements_grant")

    op.drop_table("disbursements")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("ix_grants_household")
        batch_op.drop_index("ix_grants_award_status")

    op.drop_table("grants")
    with op.batch_alter_table("budget_spends", schema=None) as batch_op:
        batch_op.drop_index("ix_budget_spends_line")

    op.drop_table("budget_spends")
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_exchanges_to_account_date")

    op.drop_table("exchanges")
    op.drop_table("budget_lines")
    op.drop_table("receipt_sequences")
    op.drop_table("prices")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index("ix_households_province")

    op.drop_table("households")
    op.drop_table("awards")

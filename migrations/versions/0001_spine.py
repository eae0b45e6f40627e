"""spine: books, accounts, journal, balances, idempotency

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The whole double-entry spine. Transactions, postings and their labels are append-only: a
trigger refuses UPDATE and DELETE on them, on SQLite and on PostgreSQL alike. The standard
commodities are seeded here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commodities",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("precision", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), server_default="", nullable=False),
        sa.CheckConstraint(
            "precision >= 0 AND precision <= 8", name=op.f("ck_commodities_precision_range")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_commodities")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("operating_currency", sa.String(length=24), nullable=False),
        sa.Column("lock_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('organisation', 'savings_group', 'household')", name=op.f("ck_books_kind")
        ),
        sa.ForeignKeyConstraint(
            ["operating_currency"],
            ["commodities.code"],
            name=op.f("fk_books_operating_currency_commodities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_books")),
        sa.UniqueConstraint("code", name=op.f("uq_books_code")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("open_date", sa.Date(), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("currencies", sa.String(length=250), server_default="", nullable=False),
        sa.Column("non_negative", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["book_id"], ["books.id"], name=op.f("fk_accounts_book_id_books")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("book_id", "name", name="uq_accounts_book_name"),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("payee", sa.String(length=200), nullable=True),
        sa.Column("narration", sa.Text(), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_transactions_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["transactions.id"],
            name=op.f("fk_transactions_reverses_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_transactions_reverses_id")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transactions_book_date_id", ["book_id", "date", "id"], unique=False
        )

    op.create_table(
        "balance_assertions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_balance_assertions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["commodity"],
            ["commodities.code"],
            name=op.f("fk_balance_assertions_commodity_commodities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_assertions")),
        sa.UniqueConstraint("account_id", "commodity", "date", name="uq_balance_assertions_point"),
    )
    with op.batch_alter_table("balance_assertions", schema=None) as batch_op:
        batch_op.create_index("ix_balance_assertions_book_date", ["book_id", "date"], unique=False)

    op.create_table(
        "balances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_balances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "commodity", name=op.f("pk_balances")),
    )
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.create_index("ix_balances_book", ["book_id"], unique=False)

    op.create_table(
        "postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("price_commodity", sa.String(length=24), nullable=True),
        sa.Column("price_per_unit", sa.String(length=40), nullable=True),
        sa.Column("price_total", sa.BigInteger(), nullable=True),
        sa.Column("weight_commodity", sa.String(length=24), nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_postings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["commodity"], ["commodities.code"], name=op.f("fk_postings_commodity_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_postings_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_postings_account_commodity_date", ["account_id", "commodity", "date"], unique=False
        )
        batch_op.create_index("ix_postings_book_date", ["book_id", "date"], unique=False)
        batch_op.create_index("ix_postings_transaction", ["transaction_id"], unique=False)

    op.create_table(
        "transaction_links",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transaction_links_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", "link", name=op.f("pk_transaction_links")),
    )
    with op.batch_alter_table("transaction_links", schema=None) as batch_op:
        batch_op.create_index("ix_transaction_links_book_link", ["book_id", "link"], unique=False)

    op.create_table(
        "transaction_meta",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transaction_meta_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", "key", name=op.f("pk_transaction_meta")),
    )
    with op.batch_alter_table("transaction_meta", schema=None) as batch_op:
        batch_op.create_index("ix_transaction_meta_book_key", ["book_id", "key"], unique=False)

    op.create_table(
        "transaction_tags",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transaction_tags_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", "tag", name=op.f("pk_transaction_tags")),
    )
    with op.batch_alter_table("transaction_tags", schema=None) as batch_op:
        batch_op.create_index("ix_transaction_tags_book_tag", ["book_id", "tag"], unique=False)

    _create_append_only_triggers()
    _seed_commodities()


APPEND_ONLY_TABLES = (
    "transactions",
    "postings",
    "transaction_tags",
    "transaction_links",
    "transaction_meta",
)

SEED_COMMODITIES = (
    ("KHR", 0, "Cambodian riel"),
    ("USD", 2, "US dollar"),
    ("THB", 2, "Thai baht"),
    ("PIG", 0, "Pigs, head"),
    ("CHICKEN", 0, "Chickens, head"),
    ("DUCK", 0, "Ducks, head"),
    ("COW", 0, "Cows, head"),
    ("BUFFALO", 0, "Buffaloes, head"),
    ("GOAT", 0, "Goats, head"),
)


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
        return
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _seed_commodities() -> None:
    table = sa.table(
        "commodities",
        sa.column("code", sa.String),
        sa.column("precision", sa.SmallInteger),
        sa.column("name", sa.String),
    )
    op.bulk_insert(table, [{"code": c, "precision": p, "name": n} for c, p, n in SEED_COMMODITIES])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    with op.batch_alter_table("transaction_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_transaction_tags_book_tag")

    op.drop_table("transaction_tags")
    with op.batch_alter_table("transaction_meta", schema=None) as batch_op:
        batch_op.drop_index("ix_transaction_meta_book_key")

    op.drop_table("transaction_meta")
    with op.batch_alter_table("transaction_links", schema=None) as batch_op:
        batch_op.drop_index("ix_transaction_links_book_link")

    op.drop_table("transaction_links")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index("ix_postings_transaction")
        batch_op.drop_index("ix_postings_book_date")
        batch_op.drop_index("ix_postings_account_commodity_date")

    op.drop_table("postings")
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.drop_index("ix_balances_book")

    op.drop_table("balances")
    with op.batch_alter_table("balance_assertions", schema=None) as batch_op:
        batch_op.drop_index("ix_balance_assertions_book_date")

    op.drop_table("balance_assertions")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_book_date_id")

    op.drop_table("transactions")
    op.drop_table("accounts")
    op.drop_table("books")
    op.drop_table("idempotency_keys")
    op.drop_table("commodities")

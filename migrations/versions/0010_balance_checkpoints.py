"""balance checkpoints: each account's balance at the end of every week it was posted in

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03

`ledger.store.checkpoints` keeps them from now on, in the same database transaction as the
postings; this migration fills them from the postings already stored, and gives every
(account, commodity) ever posted to a balance row (a post whose postings cancelled out on an
account made none before), since the as-of reads find the checkpoints through those rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None

# The week of a posting's date, as the Monday of that ISO week, per dialect (SQLite: the
# Sunday on or after the date, less six days).
_WEEK = {
    "sqlite": "date(date, 'weekday 0', '-6 days')",
    "postgresql": "CAST(date_trunc('week', date) AS date)",
}


def upgrade() -> None:
    op.create_table(
        "balance_checkpoints",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("net_units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_balance_checkpoints_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "commodity", "week", name=op.f("pk_balance_checkpoints")
        ),
        sqlite_with_rowid=False,
    )
    week = _WEEK[op.get_bind().dialect.name]
    # The week's net change, then the running total over the weeks of each
    # (account, commodity) by a window (SQLite 3.25+, PostgreSQL).
    op.execute(
        "INSERT INTO balance_checkpoints"  # noqa: S608 (the week expression is a constant)
        " (account_id, commodity, week, book_id, units, net_units)"
        " SELECT account_id, commodity, week, book_id,"
        " SUM(net_units) OVER (PARTITION BY account_id, commodity ORDER BY week), net_units"
        f" FROM (SELECT account_id, commodity, {week} AS week, MIN(book_id) AS book_id,"
        " SUM(units) AS net_units FROM postings"
        f" GROUP BY account_id, commodity, {week}) AS weekly"
    )
    op.execute(
        "INSERT INTO balances (account_id, commodity, book_id, units)"
        " SELECT account_id, commodity, MIN(book_id), 0 FROM postings AS p"
        " WHERE NOT EXISTS (SELECT 1 FROM balances AS b"
        " WHERE b.account_id = p.account_id AND b.commodity = p.commodity)"
        " GROUP BY account_id, commodity"
    )


def downgrade() -> None:
    op.drop_table("balance_checkpoints")

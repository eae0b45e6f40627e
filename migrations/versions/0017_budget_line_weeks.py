"""budget line weeks: each budget line's spends summed per week; spends indexed by line and date

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

`ledger.funds.line_weeks` keeps `budget_line_weeks` from now on, in the same database
transaction as each `budget_spends` row; this migration fills it from the spends already
stored. The index of `budget_spends` on the line alone becomes one on (line, date): a line's
use as of a date reads the spends of the date's own week through it. A partial index holds the
reversals by date (an ordinary transaction writes nothing to it): the use walks the reversals
up to the date to take out the reversed spends.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The week of a spend's date, as the Monday of that ISO week, per dialect (SQLite: the
# Sunday on or after the date, less six days), as in 0010.
_WEEK = {
    "sqlite": "date(date, 'weekday 0', '-6 days')",
    "postgresql": "CAST(date_trunc('week', date) AS date)",
}


def upgrade() -> None:
    op.create_table(
        "budget_line_weeks",
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("award_units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["budget_line_id"],
            ["budget_lines.id"],
            name=op.f("fk_budget_line_weeks_budget_line_id_budget_lines"),
        ),
        sa.PrimaryKeyConstraint("budget_line_id", "week", name=op.f("pk_budget_line_weeks")),
        sqlite_with_rowid=False,
    )
    week = _WEEK[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO budget_line_weeks (budget_line_id, week, award_units)"  # noqa: S608 (a constant)
        f" SELECT budget_line_id, {week}, SUM(award_units) FROM budget_spends"
        f" GROUP BY budget_line_id, {week}"
    )
    op.create_index("ix_budget_spends_line_date", "budget_spends", ["budget_line_id", "date"])
    op.drop_index("ix_budget_spends_line", table_name="budget_spends")
    op.create_index(
        "ix_transactions_reversals",
        "transactions",
        ["date", "reverses_id"],
        sqlite_where=sa.text("reverses_id IS NOT NULL"),
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_reversals", table_name="transactions")
    op.create_index("ix_budget_spends_line", "budget_spends", ["budget_line_id"])
    op.drop_index("ix_budget_spends_line_date", table_name="budget_spends")
    op.drop_table("budget_line_weeks")

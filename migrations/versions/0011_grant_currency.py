"""grants in the currency paid: what approval committed of the award's currency

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A grant is approved in the currency the household receives (`grants.currency`) and commits
the award's currency at approval (`committed_amount`, with the rate and its method). Grants
stored before this revision were approved in the award's currency: those approved commit
their approved amount, at the same-currency rate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("grants", sa.Column("committed_amount", sa.BigInteger(), nullable=True))
    op.add_column("grants", sa.Column("commitment_rate", sa.String(length=40), nullable=True))
    op.add_column(
        "grants", sa.Column("commitment_rate_method", sa.String(length=20), nullable=True)
    )
    op.execute(
        "UPDATE grants SET committed_amount = approved_amount,"
        " commitment_rate_method = 'same_currency' WHERE approved_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("commitment_rate_method")
        batch.drop_column("commitment_rate")
        batch.drop_column("committed_amount")

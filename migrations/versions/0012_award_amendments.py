"""award amendments: budget revisions, total changes and no-cost extensions, approved by a
second person

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Append-only: `award_amendments` (with `award_amendment_lines`) is what was proposed, with the
figures before and after; `award_amendment_approvals` is the approval. Awards stored before
this revision have no amendments: their figures are their original ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "award_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount_before", sa.BigInteger(), nullable=False),
        sa.Column("amount_after", sa.BigInteger(), nullable=False),
        sa.Column("end_date_before", sa.Date(), nullable=False),
        sa.Column("end_date_after", sa.Date(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_after > 0", name=op.f("ck_award_amendments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_award_amendments_award_id_awards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_amendments")),
    )
    op.create_index("ix_award_amendments_award", "award_amendments", ["award_id"], unique=False)
    op.create_table(
        "award_amendment_lines",
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("amount_before", sa.BigInteger(), nullable=False),
        sa.Column("amount_after", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount_after > 0", name=op.f("ck_award_amendment_lines_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["award_amendments.id"],
            name=op.f("fk_award_amendment_lines_amendment_id_award_amendments"),
        ),
        sa.ForeignKeyConstraint(
            ["budget_line_id"],
            ["budget_lines.id"],
            name=op.f("fk_award_amendment_lines_budget_line_id_budget_lines"),
        ),
        sa.PrimaryKeyConstraint(
            "amendment_id", "budget_line_id", name=op.f("pk_award_amendment_lines")
        ),
    )
    op.create_table(
        "award_amendment_approvals",
        sa.Column("amendment_id", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["award_amendments.id"],
            name=op.f("fk_award_amendment_approvals_amendment_id_award_amendments"),
        ),
        sa.PrimaryKeyConstraint("amendment_id", name=op.f("pk_award_amendment_approvals")),
    )


def downgrade() -> None:
    op.drop_table("award_amendment_approvals")
    op.drop_table("award_amendment_lines")
    op.drop_index("ix_award_amendments_award", table_name="award_amendments")
    op.drop_table("award_amendments")

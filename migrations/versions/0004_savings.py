"""savings groups: constitution, members, cycles, meetings, loans and share-outs

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Each savings group is a book of kind savings_group; these tables hold its own records beside
the journal (see ledger/store/tables.py, section "savings groups").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
# The revision this one follows: relinked when migrations land together.
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "savings_groups",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("village", sa.String(length=100), nullable=False),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("formed_on", sa.Date(), nullable=False),
        sa.Column("meeting_frequency", sa.String(length=12), nullable=False),
        sa.Column("share_price", sa.BigInteger(), nullable=False),
        sa.Column("shares_per_meeting_min", sa.SmallInteger(), nullable=False),
        sa.Column("shares_per_meeting_max", sa.SmallInteger(), nullable=False),
        sa.Column("social_fund_per_meeting", sa.BigInteger(), nullable=False),
        sa.Column("interest_rate_monthly_percent", sa.String(length=12), nullable=False),
        sa.Column("interest_method", sa.String(length=10), nullable=False),
        sa.Column("loan_savings_multiple", sa.SmallInteger(), nullable=False),
        sa.Column("loan_term_months_max", sa.SmallInteger(), nullable=False),
        sa.Column("fine_late", sa.BigInteger(), nullable=False),
        sa.Column("fine_absent", sa.BigInteger(), nullable=False),
        sa.Column("fine_other", sa.BigInteger(), nullable=False),
        sa.Column("cash_unit", sa.BigInteger(), nullable=False),
        sa.Column(
            "lend_to_members_in_arrears", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "interest_method IN ('flat', 'declining')",
            name=op.f("ck_savings_groups_interest_method"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_savings_groups_book_id_books")
        ),
        sa.PrimaryKeyConstraint("book_id", name=op.f("pk_savings_groups")),
    )
    op.create_table(
        "savings_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("planned_end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("shared_out_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'shared_out')", name=op.f("ck_savings_cycles_status")
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["savings_groups.book_id"],
            name=op.f("fk_savings_cycles_book_id_savings_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_cycles")),
        sa.UniqueConstraint("book_id", "number", name="uq_savings_cycles_book_number"),
    )
    op.create_table(
        "savings_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("case_code", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["savings_groups.book_id"],
            name=op.f("fk_savings_members_book_id_savings_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_members")),
        sa.UniqueConstraint("book_id", "number", name="uq_savings_members_book_number"),
    )
    op.create_table(
        "savings_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("cash_counted", sa.BigInteger(), nullable=False),
        sa.Column("cash_difference", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_difference_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["savings_groups.book_id"],
            name=op.f("fk_savings_meetings_book_id_savings_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["savings_cycles.id"],
            name=op.f("fk_savings_meetings_cycle_id_savings_cycles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_meetings")),
        sa.UniqueConstraint("book_id", "date", name="uq_savings_meetings_book_date"),
    )
    op.create_table(
        "savings_share_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("total_shares", sa.Integer(), nullable=False),
        sa.Column("cash_available", sa.BigInteger(), nullable=False),
        sa.Column("value_per_share", sa.String(length=80), nullable=False),
        sa.Column("social_fund", sa.BigInteger(), nullable=False),
        sa.Column("carried_forward", sa.BigInteger(), nullable=False),
        sa.Column("loans_carried_forward", sa.BigInteger(), nullable=False),
        sa.Column("interest_income", sa.BigInteger(), nullable=False),
        sa.Column("fines_income", sa.BigInteger(), nullable=False),
        sa.Column("write_offs", sa.BigInteger(), nullable=False),
        sa.Column("cash_differences", sa.BigInteger(), nullable=False),
        sa.Column("carried_in", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["savings_groups.book_id"],
            name=op.f("fk_savings_share_outs_book_id_savings_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["savings_cycles.id"],
            name=op.f("fk_savings_share_outs_cycle_id_savings_cycles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_share_outs")),
        sa.UniqueConstraint("cycle_id", name=op.f("uq_savings_share_outs_cycle_id")),
    )
    op.create_table(
        "savings_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest_rate_monthly_percent", sa.String(length=12), nullable=False),
        sa.Column("interest_method", sa.String(length=10), nullable=False),
        sa.Column("term_months", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("rolled_from_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'repaid', 'written_off', 'rolled_over')",
            name=op.f("ck_savings_loans_status"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["savings_groups.book_id"],
            name=op.f("fk_savings_loans_book_id_savings_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["savings_cycles.id"],
            name=op.f("fk_savings_loans_cycle_id_savings_cycles"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["savings_meetings.id"],
            name=op.f("fk_savings_loans_meeting_id_savings_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["savings_members.id"],
            name=op.f("fk_savings_loans_member_id_savings_members"),
        ),
        sa.ForeignKeyConstraint(
            ["rolled_from_id"],
            ["savings_loans.id"],
            name=op.f("fk_savings_loans_rolled_from_id_savings_loans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_loans")),
    )
    with op.batch_alter_table("savings_loans", schema=None) as batch_op:
        batch_op.create_index(
            "ix_savings_loans_book_member", ["book_id", "member_id"], unique=False
        )

    op.create_table(
        "savings_meeting_entries",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("attendance", sa.String(length=12), nullable=False),
        sa.Column("shares", sa.SmallInteger(), nullable=False),
        sa.Column("social_fund_paid", sa.BigInteger(), nullable=False),
        sa.Column("fines_paid", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid", sa.BigInteger(), nullable=False),
        sa.Column("principal_repaid", sa.BigInteger(), nullable=False),
        sa.Column("loan_taken", sa.BigInteger(), nullable=False),
        sa.Column("grant_received", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["savings_meetings.id"],
            name=op.f("fk_savings_meeting_entries_meeting_id_savings_meetings"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["savings_members.id"],
            name=op.f("fk_savings_meeting_entries_member_id_savings_members"),
        ),
        sa.PrimaryKeyConstraint("meeting_id", "member_id", name=op.f("pk_savings_meeting_entries")),
    )
    with op.batch_alter_table("savings_meeting_entries", schema=None) as batch_op:
        batch_op.create_index("ix_savings_meeting_entries_member", ["member_id"], unique=False)

    op.create_table(
        "savings_share_out_lines",
        sa.Column("share_out_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("savings", sa.BigInteger(), nullable=False),
        sa.Column("interest_due", sa.BigInteger(), nullable=False),
        sa.Column("share_value", sa.BigInteger(), nullable=False),
        sa.Column("profit", sa.BigInteger(), nullable=False),
        sa.Column("interest_deducted", sa.BigInteger(), nullable=False),
        sa.Column("principal_deducted", sa.BigInteger(), nullable=False),
        sa.Column("payout", sa.BigInteger(), nullable=False),
        sa.Column("loan_carried", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["savings_members.id"],
            name=op.f("fk_savings_share_out_lines_member_id_savings_members"),
        ),
        sa.ForeignKeyConstraint(
            ["share_out_id"],
            ["savings_share_outs.id"],
            name=op.f("fk_savings_share_out_lines_share_out_id_savings_share_outs"),
        ),
        sa.PrimaryKeyConstraint(
            "share_out_id", "member_id", name=op.f("pk_savings_share_out_lines")
        ),
    )
    op.create_table(
        "savings_loan_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('repayment', 'share_out', 'write_off')",
            name=op.f("ck_savings_loan_payments_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["savings_loans.id"],
            name=op.f("fk_savings_loan_payments_loan_id_savings_loans"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["savings_meetings.id"],
            name=op.f("fk_savings_loan_payments_meeting_id_savings_meetings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_loan_payments")),
    )
    with op.batch_alter_table("savings_loan_payments", schema=None) as batch_op:
        batch_op.create_index("ix_savings_loan_payments_loan", ["loan_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("savings_loan_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_savings_loan_payments_loan")

    op.drop_table("savings_loan_payments")
    op.drop_table("savings_share_out_lines")
    with op.batch_alter_table("savings_meeting_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_savings_meeting_entries_member")

    op.drop_table("savings_meeting_entries")
    with op.batch_alter_table("savings_loans", schema=None) as batch_op:
        batch_op.drop_index("ix_savings_loans_book_member")

    op.drop_table("savings_loans")
    op.drop_table("savings_share_outs")
    op.drop_table("savings_meetings")
    op.drop_table("savings_members")
    op.drop_table("savings_cycles")
    op.drop_table("savings_groups")

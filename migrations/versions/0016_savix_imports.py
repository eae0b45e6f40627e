"""savix and imports: each meeting keeps its attendance counts; the spreadsheet imports

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-03

`savings_meetings.attended` (present or represented) and `attendance_records` are counted
once when a meeting is recorded, so that the programme's attendance rate adds up meetings
(52 a year per group) instead of every member's entry (1,000 a year per group); this migration
counts them for the meetings already stored. `imports` names each imported file by the
SHA-256 of its content: the same file imported twice adds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("savings_meetings") as batch:
        batch.add_column(
            sa.Column("attended", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("attendance_records", sa.SmallInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE savings_meetings SET "
        "attended = (SELECT count(*) FROM savings_meeting_entries e "
        "WHERE e.meeting_id = savings_meetings.id "
        "AND e.attendance IN ('present', 'represented')), "
        "attendance_records = (SELECT count(*) FROM savings_meeting_entries e "
        "WHERE e.meeting_id = savings_meetings.id)"
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("already_present", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint("kind", "content_sha256", name="uq_imports_kind_content"),
    )


def downgrade() -> None:
    op.drop_table("imports")
    with op.batch_alter_table("savings_meetings") as batch:
        batch.drop_column("attendance_records")
        batch.drop_column("attended")

"""people: household members with sex, birth year or age band and role; sex and age of
savings-group members; which people of a household are a training's trainees

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-03

No names: those stay in `contacts`. A training participant recorded before this keeps its
`people` count (readable as before) with no trainees named.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("age_band", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(birth_year IS NULL) <> (age_band IS NULL)",
            name=op.f("ck_household_members_birth_year_or_age_band"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_members_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_members")),
        sa.UniqueConstraint("household_id", "number", name="uq_household_members_household_number"),
    )
    op.create_table(
        "training_trainees",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_training_trainees_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["household_members.id"],
            name=op.f("fk_training_trainees_member_id_household_members"),
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
            name=op.f("fk_training_trainees_training_id_trainings"),
        ),
        sa.PrimaryKeyConstraint("training_id", "member_id", name=op.f("pk_training_trainees")),
    )
    op.create_index(
        "ix_training_trainees_household", "training_trainees", ["household_id"], unique=False
    )
    with op.batch_alter_table("savings_members") as batch:
        batch.add_column(sa.Column("sex", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("birth_year", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("age_band", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("savings_members") as batch:
        batch.drop_column("age_band")
        batch.drop_column("birth_year")
        batch.drop_column("sex")
    op.drop_index("ix_training_trainees_household", table_name="training_trainees")
    op.drop_table("training_trainees")
    op.drop_table("household_members")

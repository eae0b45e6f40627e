"""training and outcomes: trainings, their cost items, participants and attendance;
follow-up visits with livestock counted per species and deaths by cause; household income

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01

What records a fact once seen (cost items, attendance, visits, deaths, income) is
append-only like the journal: a trigger refuses UPDATE, DELETE and, on PostgreSQL, TRUNCATE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
# Relinked to the savings migration when both are merged: keep this line easy to change.
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = (
    "training_costs",
    "training_attendance",
    "livestock_visits",
    "livestock_visit_lines",
    "livestock_deaths",
    "household_income",
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


def upgrade() -> None:
    op.create_table(
        "household_income",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("baseline", sa.Boolean(), nullable=False),
        sa.Column("baseline_month", sa.Date(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "source IN ('livestock', 'crops', 'small_business', 'wages', 'remittances', 'other')",
            name=op.f("ck_household_income_source"),
        ),
        sa.CheckConstraint("units > 0", name=op.f("ck_household_income_units_positive")),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_household_income_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["currency"],
            ["commodities.code"],
            name=op.f("fk_household_income_currency_commodities"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_income_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_household_income_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_income")),
        sa.UniqueConstraint("household_id", "baseline_month", name="uq_household_income_baseline"),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_household_income_transaction_id")),
    )
    with op.batch_alter_table("household_income", schema=None) as batch_op:
        batch_op.create_index(
            "ix_household_income_household_month", ["household_id", "month"], unique=False
        )

    op.create_table(
        "livestock_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("feed_cost", sa.BigInteger(), nullable=False),
        sa.Column("vet_cost", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "feed_cost >= 0 AND vet_cost >= 0", name=op.f("ck_livestock_visits_costs_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_livestock_visits_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["currency"],
            ["commodities.code"],
            name=op.f("fk_livestock_visits_currency_commodities"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_livestock_visits_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_livestock_visits")),
    )
    with op.batch_alter_table("livestock_visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_livestock_visits_household_date", ["household_id", "date"], unique=False
        )

    op.create_table(
        "livestock_deaths",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("species", sa.String(length=24), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("head", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("head > 0", name=op.f("ck_livestock_deaths_head_positive")),
        sa.ForeignKeyConstraint(
            ["species"], ["commodities.code"], name=op.f("fk_livestock_deaths_species_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["livestock_visits.id"],
            name=op.f("fk_livestock_deaths_visit_id_livestock_visits"),
        ),
        sa.PrimaryKeyConstraint("visit_id", "species", "cause", name=op.f("pk_livestock_deaths")),
    )
    op.create_table(
        "livestock_visit_lines",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("species", sa.String(length=24), nullable=False),
        sa.Column("counted", sa.BigInteger(), nullable=False),
        sa.Column("births", sa.BigInteger(), nullable=False),
        sa.Column("deaths", sa.BigInteger(), nullable=False),
        sa.Column("bought", sa.BigInteger(), nullable=False),
        sa.Column("bought_price", sa.BigInteger(), nullable=False),
        sa.Column("sold", sa.BigInteger(), nullable=False),
        sa.Column("sold_price", sa.BigInteger(), nullable=False),
        sa.Column("eaten", sa.BigInteger(), nullable=False),
        sa.Column("passed_on", sa.BigInteger(), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_reason", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "counted >= 0 AND births >= 0 AND deaths >= 0 AND bought >= 0 AND sold >= 0 "
            "AND eaten >= 0 AND passed_on >= 0 AND bought_price >= 0 AND sold_price >= 0",
            name=op.f("ck_livestock_visit_lines_head_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["species"],
            ["commodities.code"],
            name=op.f("fk_livestock_visit_lines_species_commodities"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_livestock_visit_lines_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["livestock_visits.id"],
            name=op.f("fk_livestock_visit_lines_visit_id_livestock_visits"),
        ),
        sa.PrimaryKeyConstraint("visit_id", "species", name=op.f("pk_livestock_visit_lines")),
    )
    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topics", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("completion_days_min", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "completion_days_min >= 1", name=op.f("ck_trainings_completion_days_positive")
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_trainings_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_trainings_award_id_awards")
        ),
        sa.ForeignKeyConstraint(
            ["budget_line_id"],
            ["budget_lines.id"],
            name=op.f("fk_trainings_budget_line_id_budget_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
    )
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.create_index("ix_trainings_province", ["province"], unique=False)

    op.create_table(
        "training_attendance",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("people", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("people >= 1", name=op.f("ck_training_attendance_people_positive")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_training_attendance_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
            name=op.f("fk_training_attendance_training_id_trainings"),
        ),
        sa.PrimaryKeyConstraint(
            "training_id", "household_id", "date", name=op.f("pk_training_attendance")
        ),
    )
    op.create_table(
        "training_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=20), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_training_costs_units_positive")),
        sa.ForeignKeyConstraint(
            ["training_id"], ["trainings.id"], name=op.f("fk_training_costs_training_id_trainings")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_training_costs_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_costs")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_training_costs_transaction_id")),
    )
    with op.batch_alter_table("training_costs", schema=None) as batch_op:
        batch_op.create_index("ix_training_costs_training", ["training_id"], unique=False)

    op.create_table(
        "training_participants",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint("people >= 1", name=op.f("ck_training_participants_people_positive")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_training_participants_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
            name=op.f("fk_training_participants_training_id_trainings"),
        ),
        sa.PrimaryKeyConstraint(
            "training_id", "household_id", name=op.f("pk_training_participants")
        ),
    )
    with op.batch_alter_table("training_participants", schema=None) as batch_op:
        batch_op.create_index("ix_training_participants_household", ["household_id"], unique=False)

    _refuse_changes(APPEND_ONLY_TABLES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    with op.batch_alter_table("training_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_training_participants_household")

    op.drop_table("training_participants")
    with op.batch_alter_table("training_costs", schema=None) as batch_op:
        batch_op.drop_index("ix_training_costs_training")

    op.drop_table("training_costs")
    op.drop_table("training_attendance")
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.drop_index("ix_trainings_province")

    op.drop_table("trainings")
    op.drop_table("livestock_visit_lines")
    op.drop_table("livestock_deaths")
    with op.batch_alter_table("livestock_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_livestock_visits_household_date")

    op.drop_table("livestock_visits")
    with op.batch_alter_table("household_income", schema=None) as batch_op:
        batch_op.drop_index("ix_household_income_household_month")

    op.drop_table("household_income")

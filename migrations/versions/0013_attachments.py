"""attachments: scans and photos of receipts, invoices and statements, stored once by SHA-256

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03

`attachment_files` holds each distinct file once (its bytes in the database: one backup, one
transaction); `attachments` links a file to a transaction, a disbursement, a bank statement
import or an award.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"  # relinked at merge time onto the latest revision before it
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'application/pdf')",
            name=op.f("ck_attachment_files_media_type"),
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_attachment_files")),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("personal", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "record_kind IN ('transaction', 'disbursement', 'statement', 'award')",
            name=op.f("ck_attachments_record_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_attachments_book_id_books")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["attachment_files.sha256"],
            name=op.f("fk_attachments_sha256_attachment_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint(
            "record_kind", "record_id", "sha256", name=op.f("uq_attachments_record_file")
        ),
    )
    op.create_index("ix_attachments_book", "attachments", ["book_id"])


def downgrade() -> None:
    op.drop_index("ix_attachments_book", table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("attachment_files")

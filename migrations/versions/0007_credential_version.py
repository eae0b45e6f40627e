"""credential version: a password change revokes every credential issued before it; an
index to purge expired idempotency keys

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

`users.credential_version` counts password changes (and disablings). A sign-in token carries
the version it was issued at and an API (device) token stores it: a credential whose version
is not the user's current one no longer signs in. A counter orders a token and a change
exactly, where the token's whole-second `iat` could not (a token issued in the same second as
a change survived it), and it reaches API tokens, which the old check did not.

Idempotency keys are kept for a fixed time and then purged by their `created_at`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("credential_version", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("credential_version", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("credential_version")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("credential_version")

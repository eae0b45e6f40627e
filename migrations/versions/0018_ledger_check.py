"""ledger_check: a statement that fails, for the checks PostgreSQL makes inside a post

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

On PostgreSQL a post sends its writes, its audit event and its COMMIT in one round trip
(`ledger.store.journal_pipelined.write_and_commit`), so what the client checked after the
writes before (the read under the book's lock unchanged, no non-negative balance below zero,
no balance beyond the limit, the stored postings balanced) is checked by the server there:
`SELECT ledger_check(condition, what)` raises SQLSTATE `LL001` when the condition is false,
which fails the round trip before its COMMIT runs. The client then undoes the post and posts
it again the careful way, where the same checks run in Python and name the exact error.
SQLite has no such function and needs none: its post checks in Python between statements that
cost no round trip.
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION ledger_check(ok boolean, what text) RETURNS boolean
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            IF ok IS NOT TRUE THEN
                RAISE EXCEPTION 'ledger check failed: %', what USING ERRCODE = 'LL001';
            END IF;
            RETURN true;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION ledger_check(boolean, text)")

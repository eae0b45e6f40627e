"""Alembic environment: runs on the engine the application hands over (see ledger.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from ledger.store.database import Database
from ledger.store.tables import metadata


def run_migrations() -> None:
    engine: Engine | None = context.config.attributes.get("engine")
    if engine is None:
        engine = Database.connect().engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()

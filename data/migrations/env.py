"""Alembic environment: runs on the connection handed over by data.db.migrate."""

from __future__ import annotations

from alembic import context

from data.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI
    raise RuntimeError("run migrations through data.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

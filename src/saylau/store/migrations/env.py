"""Alembic environment: migrations run on the connection ``saylau.store.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from saylau.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through saylau.store.migrate.upgrade (saylau db upgrade)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

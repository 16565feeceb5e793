"""Alembic environment: migrations run on the connection the collection hands over."""

from __future__ import annotations

from alembic import context

from studyapp.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("studyapp migrations run through studyapp.db.schema, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

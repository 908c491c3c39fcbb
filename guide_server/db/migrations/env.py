"""Alembic's environment for guide: migrations run on the connection ``db.migrate`` hands over, inside
its transaction and under its schema lock; there is no alembic.ini and no URL here."""

from alembic import context

from guide_server.db.schema import metadata

conn = context.config.attributes.get("connection")
if conn is None:
    raise RuntimeError("run migrations through guide_server.db.migrate (`guide db upgrade`), not the alembic command")

context.configure(
    connection=conn,
    target_metadata=metadata,
    render_as_batch=conn.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""The database: ``schema`` (every table), ``engine`` (opening it, every wait bounded), ``migrate``
(Alembic revisions in ``migrations/``, ``guide db upgrade``), ``upsert`` (one-statement writes) and
``retention`` (purge and forget). docs/database.md tells SQLite from PostgreSQL."""

"""The database engine: SQLite in WAL mode by default, any SQLAlchemy URL otherwise, with every
table of ``db.schema`` created (and columns added since an older release) when it is opened."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine

from .schema import metadata

BUSY_TIMEOUT_S = 30.0  # how long a SQLite connection waits for another process's write lock


def connect(url: str) -> Engine:
    """Open the database and create missing tables."""
    kwargs = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):
            cur = conn.cursor()
            _use_wal(cur)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    _create_schema(engine)
    return engine


def _use_wal(cur, wait: float = BUSY_TIMEOUT_S) -> None:
    """Switch the file to write-ahead logging (it stays so). SQLite answers "database is locked"
    at once, without its busy timeout, when another process is switching a new file too, so the
    switch is tried again until it holds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# Any fixed number: PostgreSQL advisory locks are keyed by an integer chosen by the application.
_SCHEMA_LOCK = 0x6775696465


def _create_schema(engine: Engine) -> None:
    """Create missing tables and columns in one transaction that holds the database's write lock.

    Every gunicorn worker opens the database when it starts, at the same moment: without the
    lock, two workers both saw a fresh database without tables, both created them, and the
    second died with "table ... already exists"."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the others wait here (busy timeout)
        elif engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
        metadata.create_all(conn)
        _add_missing_columns(conn)
        conn.commit()


def _add_missing_columns(conn: Connection) -> None:
    """Bring a database made by an older release up to date: create_all makes missing tables but
    leaves existing ones alone, so columns added since (always nullable) are added here. Rows
    already stored are kept as they are, with NULL in the new columns."""
    present = inspect(conn)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in present.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise RuntimeError(f"{table.name}.{column.name} is missing and cannot be added to stored rows")
            quote, kind = conn.dialect.identifier_preparer.quote, column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}")

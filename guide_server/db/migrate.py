"""Schema migrations with Alembic (``db/migrations/``), run under the database's schema lock.

- ``upgrade_at_start(engine)``: what opening the database does (``engine.connect``). It runs the
  pending revisions when every one of them is marked ``startup_safe`` (it only adds tables, nullable
  columns or indexes on new tables), creates missing tables, and leaves alone a database migrated by
  a newer release. Otherwise it refuses to start with ``SchemaOutdated``.
- ``upgrade(engine)``: ``guide db upgrade``: every pending revision, then every missing table and
  index of ``db.schema`` created again.
- ``state(engine)``: ``guide db current``.

A database made before migrations (tables, no ``alembic_version``) is taken over by the baseline
revision, which creates only what such a database lacks.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from .schema import metadata

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MAINTENANCE_TIMEOUT_S = 30.0  # how long a schema change waits for the lock (other workers, other instances)
# Any fixed number: PostgreSQL advisory locks are keyed by an integer chosen by the application.
SCHEMA_LOCK = 0x6775696465


class SchemaOutdated(ValueError):
    """The database needs migrations that are not run at start-up: ``guide db upgrade`` runs them."""


@dataclass
class SchemaState:
    """Where a database stands against this release (``guide db current``)."""

    current: tuple[str, ...]  # its revision(s); () when it has no alembic_version
    head: str  # this release's revision
    pending: list[str] = field(default_factory=list)  # revisions to run, oldest first
    unsafe: list[str] = field(default_factory=list)  # those of them that start-up does not run
    unknown: list[str] = field(default_factory=list)  # revisions this release does not know (a newer one ran)
    has_tables: bool = False
    missing_tables: list[str] = field(default_factory=list)
    missing_indexes: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.pending or self.unknown or self.missing_tables or self.missing_indexes)


def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def alembic_config(conn: Connection | None = None) -> Config:
    """Alembic's configuration for ``db/migrations``; ``env.py`` runs on ``conn``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


@contextlib.contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that holds the schema lock, committed at the end: SQLite's
    write lock (switching a new file to WAL first), PostgreSQL's advisory lock. Other workers and
    instances opening the database wait here, up to MAINTENANCE_TIMEOUT_S, not the request timeout."""
    with engine.connect() as conn:
        name, restore = engine.dialect.name, None
        try:
            if name == "sqlite":
                raw = conn.connection.driver_connection
                restore = raw.execute("PRAGMA busy_timeout").fetchone()[0]
                raw.execute(f"PRAGMA busy_timeout={round(MAINTENANCE_TIMEOUT_S * 1000)}")
                _use_wal(raw)
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the others wait here
            elif name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {round(MAINTENANCE_TIMEOUT_S * 1000)}")
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # an index on a big table takes its time
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
            yield conn
            conn.commit()
        finally:
            if restore is not None and not conn.invalidated:  # back to the pool with the request timeout
                with contextlib.suppress(Exception):
                    raw.execute(f"PRAGMA busy_timeout={restore}")


def _use_wal(raw: sqlite3.Connection, wait: float = MAINTENANCE_TIMEOUT_S) -> None:
    """Switch the file to write-ahead logging (it stays so). SQLite answers "database is locked"
    at once, without its busy timeout, when another process is switching a new file too, so the
    switch is tried again until it holds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            raw.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def inspect_schema(conn: Connection) -> SchemaState:
    """Where the database of ``conn`` stands against this release."""
    script = scripts()
    head = script.get_current_head()
    current = MigrationContext.configure(conn).get_current_heads()
    state = SchemaState(current=tuple(current), head=head)
    for rev in current:
        try:
            script.get_revision(rev)
        except CommandError:
            state.unknown.append(rev)
    if not state.unknown:
        lower = current[0] if current else "base"
        for rev in reversed(list(script.iterate_revisions("heads", lower))):
            if rev.revision in current:
                continue
            state.pending.append(rev.revision)
            if not getattr(rev.module, "startup_safe", False):
                state.unsafe.append(rev.revision)
    present = inspect(conn)
    tables = set(present.get_table_names())
    state.has_tables = bool(tables & set(metadata.tables))
    state.missing_tables = [t for t in metadata.tables if t not in tables]
    if not state.unknown:  # indexes as this release declares them
        for table in metadata.sorted_tables:
            if table.name in tables:
                have = {i["name"] for i in present.get_indexes(table.name)}
                state.missing_indexes += sorted(i.name for i in table.indexes if i.name not in have)
    return state


def upgrade_at_start(engine: Engine) -> SchemaState:
    """Bring the database to this release when that is safe (see the module's doc); raise
    ``SchemaOutdated`` when it is not."""
    with schema_lock(engine) as conn:
        state = inspect_schema(conn)
        if state.unknown:
            log.warning("the database is at revision %s, which this release does not know (its newest is %s): "
                        "a newer release migrated it; starting without changing it", ", ".join(state.unknown), state.head)
            return state
        if state.unsafe:
            raise SchemaOutdated(f"the database needs migrations that are not run at start-up "
                                 f"({', '.join(state.unsafe)}): run `guide db upgrade`, then start again")
        if state.pending:
            log.info("database schema: running %s", ", ".join(state.pending))
            command.upgrade(alembic_config(conn), "heads")
            state = inspect_schema(conn)
        if state.missing_tables:  # empty tables: nothing waits on them
            metadata.create_all(conn, tables=[metadata.tables[t] for t in state.missing_tables])
            state = inspect_schema(conn)
        if state.missing_indexes:
            log.warning("the database lacks the indexes %s; `guide db upgrade` creates them (it blocks writes "
                        "to their tables while it runs)", ", ".join(state.missing_indexes))
        return state


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState, list[str]]:
    """``guide db upgrade``: every pending revision, then the missing tables and indexes; returns
    the state before and after, and the tables and indexes created after the revisions ran. A
    database migrated by a newer release is left as it is."""
    with schema_lock(engine) as conn:
        before = inspect_schema(conn)
        if before.unknown:
            return before, before, []
        migrated = before
        if before.pending:
            command.upgrade(alembic_config(conn), "heads")
            migrated = inspect_schema(conn)
        # missing tables (with their indexes), then missing indexes of the tables there were
        metadata.create_all(conn, tables=[metadata.tables[t] for t in migrated.missing_tables])
        for table in metadata.sorted_tables:
            for index in table.indexes:
                if index.name in migrated.missing_indexes:
                    index.create(conn)
        return before, inspect_schema(conn), migrated.missing_tables + migrated.missing_indexes


def state(engine: Engine) -> SchemaState:
    """``guide db current``: where the database stands, changing nothing."""
    with engine.connect() as conn:
        return inspect_schema(conn)

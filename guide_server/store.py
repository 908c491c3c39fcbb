"""The database: questions asked with their outcome, and feedback on answers."""

from __future__ import annotations

import sqlite3
import time
import uuid

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()

questions = Table(
    "questions", metadata,
    Column("id", String(32), primary_key=True),
    Column("site", String(64), nullable=False, index=True),
    Column("created_at", Float, nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("question", Text, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("top_faq_id", String(200)),
    Column("confidence", Float, nullable=False),
    Column("url", Text),
    Column("tour_id", String(200)),
    Column("step_id", String(200)),
    Column("user_id", String(200)),
    Column("build_id", String(64)),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False, index=True),
    Column("question_id", String(32), ForeignKey("questions.id"), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("comment", Text),
)


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


def record_question(engine: Engine, **values) -> str:
    qid = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(insert(questions).values(id=qid, created_at=time.time(), **values))
    return qid


def question_site(engine: Engine, question_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(questions.c.site).where(questions.c.id == question_id)).scalar_one_or_none()


def record_feedback(engine: Engine, site: str, question_id: str, helpful: bool, comment: str | None) -> int:
    with engine.begin() as conn:
        result = conn.execute(insert(feedback).values(site=site, question_id=question_id, helpful=helpful,
                                                      comment=comment, created_at=time.time()))
        return int(result.inserted_primary_key[0])

"""The database engine: SQLite in WAL mode by default, PostgreSQL (``pip install 'guide[postgres]'``)
or another SQLAlchemy URL otherwise. Every wait a request can meet is bounded by one timeout, a
connection broken by a read-only or I/O fault is thrown away, and the schema is brought to this
release's revision (``db.migrate``) when the database is opened."""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import ExceptionContext

from .. import metrics
from . import migrate

REQUEST_TIMEOUT_S = 1.5  # DATABASE_TIMEOUT's default: the longest a request waits for a lock or a connection
STATEMENT_TIMEOUT_S = 30.0  # PostgreSQL: no statement of a request runs longer (the desk's figures included)
IDLE_IN_TRANSACTION_S = 60.0  # PostgreSQL: a client stuck inside a transaction lets its locks go

# SQLite result codes (the low byte of an extended code) after which a connection stays broken: one
# opened while the file was read-only keeps refusing writes when the file is writable again.
_SQLITE_BROKEN = {8: "readonly", 10: "I/O error", 14: "cannot open"}
# PostgreSQL: a read-only transaction (a session opened on a standby, or while the database refused
# writes) and a server shutting down.
_POSTGRES_BROKEN = {"25006", "57P01", "57P02", "57P03"}


def connect(url: str, timeout: float = REQUEST_TIMEOUT_S, upgrade: bool = True,
            statement_timeout: float | None = STATEMENT_TIMEOUT_S) -> Engine:
    """Open the database for a server or a command: ``timeout`` and ``statement_timeout`` bound each
    wait (see ``open_engine``); with ``upgrade``, the schema is brought to this release's revision
    first (``migrate.upgrade_at_start``). A command that may wait longer than a request (``guide
    purge``) passes ``timeout=migrate.MAINTENANCE_TIMEOUT_S, statement_timeout=None``."""
    engine = open_engine(url, timeout, statement_timeout)
    if upgrade:
        migrate.upgrade_at_start(engine)
        if not _in_memory(engine.url):  # a SQLite database in memory lives as long as its connection
            # gunicorn's preload_app forks the workers from this process: none of them may inherit
            # (and share) the connection the migration used.
            engine.dispose()
    return engine


def open_engine(url: str, timeout: float = REQUEST_TIMEOUT_S,
                statement_timeout: float | None = STATEMENT_TIMEOUT_S) -> Engine:
    """The engine of ``url`` without touching its schema. ``timeout`` (seconds) bounds the wait for
    a free pooled connection, for another writer's lock (SQLite's busy timeout, PostgreSQL's
    lock_timeout) and for a new PostgreSQL connection (at least 2 s, libpq's minimum);
    ``statement_timeout`` (PostgreSQL; None: no limit) the run of one statement."""
    if not timeout > 0:
        raise ValueError(f"DATABASE_TIMEOUT must be more than 0 seconds, not {timeout!r}")
    u = make_url(url)
    backend = u.get_backend_name()
    kwargs: dict = {"hide_parameters": True, "pool_pre_ping": True}
    if backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": timeout}
        if not _in_memory(u):  # a file: a queue of connections (memory has one)
            kwargs["pool_timeout"] = timeout
    elif backend == "postgresql":
        kwargs["pool_timeout"] = timeout
        settings = (f"-c lock_timeout={round(timeout * 1000)} -c statement_timeout={round((statement_timeout or 0) * 1000)} "
                    f"-c idle_in_transaction_session_timeout={round(IDLE_IN_TRANSACTION_S * 1000)}")
        args = {"options": f"{settings} {u.query.get('options', '')}".strip()}  # the URL's own options win
        if "connect_timeout" not in u.query:
            args["connect_timeout"] = max(2, math.ceil(timeout))
        kwargs["connect_args"] = args
    try:
        engine = create_engine(u, **kwargs)
    except ModuleNotFoundError as exc:
        extra = " (pip install 'guide[postgres]')" if backend == "postgresql" else ""
        raise ValueError(f"DATABASE_URL: the driver of {u.drivername} is not installed: "
                         f"no module named {exc.name!r}{extra}") from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "handle_error", _discard_broken)
    event.listen(engine, "handle_error", _note_failure)
    event.listen(engine, "commit", _note_commit)
    _forget_after_fork(engine)
    return engine


def missing_database(url: str) -> str | None:
    """Why ``url`` names no database yet (a SQLite file not created), or None: a command that only
    reads must not create one."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and not _in_memory(u) and not Path(u.database).is_file():
        return f"no database at {u.database}"
    return None


def _forget_after_fork(engine: Engine) -> None:
    """A forked process starts with an empty pool: a connection opened before the fork stays the
    parent's, never used (or closed) by the child, as SQLAlchemy's guide to os.fork() says."""
    ref = weakref.ref(engine)

    def forget() -> None:
        found = ref()
        if found is not None:
            found.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


def _in_memory(u) -> bool:
    return u.get_backend_name() == "sqlite" and u.database in (None, "", ":memory:")


def _sqlite_pragmas(conn, _record) -> None:
    # Neither takes a lock, so a new connection opens at once even while another process holds the
    # database (WAL is switched on once, by migrate.schema_lock: it stays so in the file).
    cur = conn.cursor()
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _discard_broken(ctx: ExceptionContext) -> None:
    """Treat a connection that failed for good as disconnected: SQLAlchemy then closes it and every
    connection pooled before it, and the next checkout opens a new one. Without this, connections
    opened while the database file was read-only kept failing once it was writable again."""
    if ctx.is_disconnect or ctx.original_exception is None:
        return
    exc = ctx.original_exception
    if isinstance(exc, sqlite3.Error):
        broken = (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _SQLITE_BROKEN
    else:
        broken = getattr(exc, "sqlstate", None) in _POSTGRES_BROKEN
    if broken:
        ctx.is_disconnect = True
        metrics.count("guide_db_connections_discarded_total")


# --- what the last writes say (for /readyz) ------------------------------------------------------

WRITE_FAILURE_WINDOW_S = 10.0
_writes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> [last commit, last failure, why]
_writes_lock = threading.Lock()


def _state(engine: Engine) -> list:
    with _writes_lock:
        return _writes.setdefault(engine, [0.0, 0.0, ""])


def _note_commit(conn) -> None:
    _state(conn.engine)[0] = time.monotonic()


def _note_failure(ctx: ExceptionContext) -> None:
    exc = ctx.original_exception
    if ctx.engine is None or not isinstance(exc, (sqlite3.OperationalError, OSError)) and \
            getattr(exc, "sqlstate", None) not in _POSTGRES_BROKEN and not ctx.is_disconnect:
        return
    if isinstance(exc, sqlite3.OperationalError) and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (5, 6):
        return  # busy or locked: a wait, not a broken write path; the readiness probe sees locks itself
    state = _state(ctx.engine)
    state[1], state[2] = time.monotonic(), f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def write_problem(engine: Engine) -> str | None:
    """Why writes fail, when the last write in the past few seconds failed and none succeeded
    since (a read-only file lets a probe take and give back its lock, but refuses every commit)."""
    ok, failed, why = _state(engine)
    if failed > ok and time.monotonic() - failed < WRITE_FAILURE_WINDOW_S:
        return f"database: writes are failing ({why})"
    return None

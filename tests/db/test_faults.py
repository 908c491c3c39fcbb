"""Database faults degrade, never hang: a locked or read-only database gives 503 with Retry-After
within a bounded time on what needs it, answers and reads that need no write keep working, and the
service heals by itself when the fault ends, with no acknowledged event lost.

The faults are real: another process holding SQLite's lock, another session holding PostgreSQL's
table locks, SQLite's files made read-only (the immutable flag under root, which ignores
permissions), a PostgreSQL database switched to read-only with its sessions cut. Only where the file
system has no immutable flag is the read-only file injected: connections opened during it are then
opened read-only, as SQLite does with a file it may not write.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.pool import NullPool

from guide_server.db.schema import events, questions
from guide_server.web.context import services
from tests.support import POSTGRES, ROOT, make_event

WITHIN_S = 5.0  # DATABASE_TIMEOUT is 1.5 s: generous, no tight timing here
USER = "fault-user"
TOUR = {"tour": "welcome", "version": 1}

sqlite_only = pytest.mark.skipif(bool(POSTGRES), reason="SQLite's locks (the app fixtures use PostgreSQL now)")
postgres_only = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL: set GUIDE_TEST_DATABASE_URL")

# Holds the database file's lock until the release file appears (at most two minutes).
HOLD_SQLITE = """
import sqlite3, sys, time
from pathlib import Path
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "readers":  # shut out readers too, as a backup tool or a stuck checkpoint can
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
else:  # another process writing: writers wait, readers go on (WAL)
    conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO people (site, user_id, first_seen) VALUES ('lock', 'holder', 0)")
print("held", flush=True)
release, deadline = Path(sys.argv[3]), time.monotonic() + 120
while not release.exists() and time.monotonic() < deadline:
    time.sleep(0.05)
conn.execute("ROLLBACK")
"""


class Lock:
    """A database lock held by another process (SQLite) or session (PostgreSQL) until ``release()``."""

    def __init__(self, url: str, folder, mode: str = "writers"):
        self.release_file = folder / f"release-{time.monotonic_ns()}"
        if url.startswith("sqlite"):
            self.proc = subprocess.Popen([sys.executable, "-c", HOLD_SQLITE, url.removeprefix("sqlite:///"), mode,
                                          str(self.release_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
            assert self.proc.stdout.readline().strip() == "held"
            self.conn = None
        else:
            self.engine = create_engine(url, poolclass=NullPool)
            self.conn = self.engine.connect()
            self.conn.exec_driver_sql("LOCK TABLE events, questions, tour_progress, people IN ACCESS EXCLUSIVE MODE")

    def release(self):
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.engine.dispose()
            self.conn = None
        elif not self.release_file.exists():
            self.release_file.touch()
            self.proc.wait(30)


def timed(call):
    started = time.monotonic()
    resp = call()
    return resp, time.monotonic() - started


def assert_unavailable(resp, took, codes=("database_unavailable",)):
    """503 in the one JSON error shape, with Retry-After, within the bound."""
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["code"] in codes
    assert int(resp.headers["Retry-After"]) > 0
    assert took < WITHIN_S, took


def send_batch(client, batch):
    return client.post("/api/v1/events", json={"site": "demo", "user": USER, "events": batch})


def progress(client, step):
    return client.post("/api/v1/tours/progress", json={"site": "demo", "user": USER, **TOUR, "step": step,
                                                        "status": "active"})


def ask(client):
    return client.post("/api/v1/ask", json={"site": "demo", "question": "請求書をメールで送りたい"})


def stored_event_ids(app) -> set[str]:
    with services(app).db.connect() as conn:
        return set(conn.execute(select(events.c.event_id)).scalars())


def check_locked_then_healed(app, lock_mode, tmp_path):
    """Every kind of request while the lock is held, then again once it is let go."""
    client = app.test_client()
    asked = ask(client).get_json()
    assert asked["question_id"]
    batch = [make_event("step_shown", n, **TOUR, step="hello", step_index=0) for n in range(3)]

    if lock_mode == "readers" and app.config["DATABASE_URL"].startswith("sqlite"):
        # SQLite's exclusive locking mode (a maintenance tool, VACUUM) is taken only while no one
        # else has the file open: the server's idle connections are closed first
        services(app).db.dispose()
    lock = Lock(app.config["DATABASE_URL"], tmp_path, lock_mode)
    try:
        resp, took = timed(lambda: send_batch(client, batch))
        assert_unavailable(resp, took, ("events_unavailable", "database_unavailable"))
        resp, took = timed(lambda: progress(client, 1))
        assert_unavailable(resp, took)
        resp, took = timed(lambda: client.post("/api/v1/feedback", json={
            "site": "demo", "question_id": asked["question_id"], "helpful": True}))
        assert_unavailable(resp, took)
        resp, took = timed(lambda: ask(client))  # the answer needs no write: it comes, unlogged
        assert resp.status_code == 200 and took < WITHIN_S, (resp.get_data(as_text=True), took)
        answer = resp.get_json()
        assert answer["question_id"] is None and answer["outcome"] == asked["outcome"] == "answered"
        resp, took = timed(lambda: client.get("/api/v1/tours", query_string={"site": "demo", "url": "/demo"}))
        assert resp.status_code == 200 and took < WITHIN_S  # an anonymous visitor's tours read nothing stored
        resp, took = timed(lambda: client.get("/api/v1/tours", query_string={"site": "demo", "url": "/demo",
                                                                               "user": USER}))
        if lock_mode == "writers":  # WAL: readers are not kept out by a writer
            assert resp.status_code == 200 and took < WITHIN_S, (resp.get_data(as_text=True), took)
        else:
            assert_unavailable(resp, took)
    finally:
        lock.release()

    # healed, without a restart; the widget sends its batch again and it is stored once
    resp = send_batch(client, batch)
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 3, resp.get_data(as_text=True)
    assert progress(client, 1).status_code == 200
    assert ask(client).get_json()["question_id"]
    assert stored_event_ids(app) == {e["id"] for e in batch}
    with services(app).db.connect() as conn:  # the unlogged question is not there; the others are
        assert len(conn.execute(select(questions.c.id)).scalars().all()) == 2


@sqlite_only
def test_sqlite_locked_by_another_writer(app, tmp_path):
    check_locked_then_healed(app, "writers", tmp_path)


@sqlite_only
def test_sqlite_locked_against_readers_too(app, tmp_path):
    check_locked_then_healed(app, "readers", tmp_path)


@postgres_only
def test_postgresql_tables_locked_by_another_session(app, tmp_path):
    check_locked_then_healed(app, "readers", tmp_path)  # ACCESS EXCLUSIVE keeps readers out too


def check_read_only_period_heals(app, start_fault, end_fault):
    """Batches sent before, during and after a read-only period: during it 503 (never 500); after it,
    every batch is stored again within a couple of tries, with no restart; nothing acknowledged is lost
    and what was refused is stored when the widget sends it again."""
    client = app.test_client()
    batches = [[make_event("chat_opened", 10 * b + n) for n in range(5)] for b in range(14)]
    statuses, acknowledged = [], set()

    def send(batch):
        resp = send_batch(client, batch)
        assert resp.status_code in (200, 503), resp.get_data(as_text=True)
        if resp.status_code == 200:
            assert resp.get_json()["accepted"] == len(batch)
            acknowledged.update(e["id"] for e in batch)
        else:
            assert "Retry-After" in resp.headers
        statuses.append(resp.status_code)

    send(batches[0])
    try:
        start_fault()
        for batch in batches[1:4]:
            send(batch)
        resp, took = timed(lambda: progress(client, 1))
        assert_unavailable(resp, took)
    finally:
        end_fault()
    for batch in batches[4:]:
        send(batch)
    assert statuses[0] == 200 and statuses[1:4] == [503] * 3
    assert statuses[-8:] == [200] * 8, statuses  # healed: the connections opened read-only were let go
    assert progress(client, 1).status_code == 200
    assert acknowledged <= stored_event_ids(app)
    for batch in batches:  # the widget sends again what was not acknowledged
        assert send_batch(client, batch).status_code == 200
    assert stored_event_ids(app) == {e["id"] for b in batches for e in b}


def _file_read_only(paths: list[Path], on: bool) -> bool:
    """Make the database's files and folder read-only (or writable again) for real: the immutable
    flag under root, which ignores permissions, else the permissions. False when the file system
    cannot (chattr on tmpfs or overlayfs)."""
    if os.geteuid() != 0:
        for p in paths:
            p.chmod((p.stat().st_mode & ~0o222) if on else (p.stat().st_mode | 0o200))
        return True
    chattr = shutil.which("chattr")
    return chattr is not None and subprocess.run([chattr, "+i" if on else "-i", *map(str, paths)],
                                                 capture_output=True).returncode == 0


@sqlite_only
def test_sqlite_read_only_for_a_while_does_not_poison_the_pool(app):
    """Connections already open keep writing through a read-only period (their files are open);
    those opened during it are read-only, and stayed so after it until a restart."""
    engine = services(app).db
    path = Path(engine.url.database)
    paths = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), path.parent) if p.exists()]
    injected = threading.Event()

    @event.listens_for(engine, "do_connect")
    def _open(dialect, record, cargs, cparams):
        if injected.is_set():  # what SQLite does with a file it may not write: opens it read-only
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                                   timeout=cparams["timeout"])
        return None

    def start():
        if not _file_read_only(paths, True):
            injected.set()  # a file system without the immutable flag: the same, injected
        engine.dispose()  # the pool's connections are opened during the fault (load, a worker restart)

    def end():
        injected.clear()
        _file_read_only(paths, False)

    check_read_only_period_heals(app, start, end)


@postgres_only
def test_postgresql_read_only_for_a_while_does_not_poison_the_pool(app):
    """As after a fail-over: sessions cut, new ones land on a read-only database; then it takes writes again."""
    admin = create_engine(app.config["DATABASE_URL"], poolclass=NullPool, isolation_level="AUTOCOMMIT",
                          connect_args={"options": "-c default_transaction_read_only=off"})  # may undo it
    with admin.connect() as conn:
        name = conn.exec_driver_sql("SELECT current_database()").scalar()

    def set_read_only(on: bool):
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" {"SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"}')
            if on:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    try:
        check_read_only_period_heals(app, lambda: set_read_only(True), lambda: set_read_only(False))
    finally:
        set_read_only(False)
        admin.dispose()


def test_an_answer_comes_when_the_question_cannot_be_logged(app, caplog):
    """Any refusal of the write (here: the question log's table gone) costs the log entry, not the answer;
    the failure is logged without the question and counted."""
    from guide_server import metrics

    def not_logged():
        return sum(v for name, _, v in metrics.snapshot()["counters"] if name == "guide_questions_not_logged_total")

    with services(app).db.begin() as conn:
        conn.execute(text("DROP TABLE feedback"))
        conn.execute(text("DROP TABLE questions"))
    before = not_logged()
    resp = app.test_client().post("/api/v1/ask", json={"site": "demo", "question": "パスワードを忘れた secret-42"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["question_id"] is None and resp.get_json()["outcome"]
    assert not_logged() == before + 1
    assert "question not logged" in caplog.text and "secret-42" not in caplog.text

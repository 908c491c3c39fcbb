"""The database file as several server processes open it at once."""

import sqlite3
import subprocess
import sys
import time

from sqlalchemy import inspect

from guide_server.chat import store
from guide_server.db.engine import connect
from tests.support import ROOT

# Each process waits for the go file, then opens the database, as a gunicorn worker does at start.
OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from guide_server.db.engine import connect
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
connect("sqlite:///" + sys.argv[1])
"""

EVERY_TABLE = {"questions", "feedback", "user_traits", "tour_progress", "checklist_tasks", "tour_events", "people",
               "survey_state", "events", "admin_users", "admin_sessions", "admin_tokens", "admin_login_failures",
               "admin_lockouts", "admin_audit", "escalations", "tour_versions", "alerts", "alembic_version"}


def test_the_database_is_whole_whatever_was_imported_first(tmp_path):
    """A process that imports nothing but the engine (as `guide purge` or a fresh worker might)
    gets every table: none waits for the module that uses it to be imported."""
    code = ("import sys; from sqlalchemy import inspect; from guide_server.db.engine import connect; "
            "print(','.join(sorted(inspect(connect('sqlite:///' + sys.argv[1])).get_table_names()))); "
            "print(','.join(sorted(m for m in sys.modules if m.startswith('guide_server'))))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "fresh.db")], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    tables, modules = out.stdout.splitlines()
    assert set(tables.split(",")) == EVERY_TABLE
    assert set(modules.split(",")) == {"guide_server", "guide_server.db", "guide_server.db.engine",
                                        "guide_server.db.migrate", "guide_server.db.schema", "guide_server.metrics"}


def test_workers_opening_a_new_database_at_once_all_start(tmp_path):
    """Two gunicorn workers on a fresh database both created the tables; the second died with
    'table questions already exists' (found by benchmarks/latency.py on a clean machine)."""
    for attempt in range(2):
        db, go = tmp_path / f"guide-{attempt}.db", tmp_path / f"go-{attempt}"
        procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, str(db), str(go)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(6)]
        time.sleep(3)  # all of them imported and waiting
        go.touch()
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err[-2000:]
        engine = connect(f"sqlite:///{db}")
        assert set(inspect(engine).get_table_names()) == EVERY_TABLE
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        engine.dispose()


def test_connect_twice_keeps_rows_and_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'guide.db'}"
    engine = connect(url)
    qid = store.record_question(engine, site="demo", channel="http", locale="ja", question="q", outcome="no_answer",
                                confidence=0.1)
    engine.dispose()
    again = connect(url)
    assert store.question_site(again, qid) == "demo"

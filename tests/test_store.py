"""The database file as several server processes open it at once."""

import sqlite3
import subprocess
import sys
import time

from sqlalchemy import inspect

from guide_server import store

from .conftest import ROOT

# Each process waits for the go file, then opens the database, as a gunicorn worker does at start.
OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from guide_server import admin_auth, events, progress, store, surveys  # every table
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
store.connect("sqlite:///" + sys.argv[1])
"""


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
        engine = store.connect(f"sqlite:///{db}")
        assert {"questions", "feedback", "events", "tour_progress"} <= set(inspect(engine).get_table_names())
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        engine.dispose()


def test_connect_twice_keeps_rows_and_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'guide.db'}"
    engine = store.connect(url)
    qid = store.record_question(engine, site="demo", channel="http", locale="ja", question="q", outcome="no_answer",
                                confidence=0.1)
    engine.dispose()
    again = store.connect(url)
    assert store.question_site(again, qid) == "demo"

"""Schema migrations (Alembic): a new database, a database made before migrations, a dropped index,
revisions start-up must not run, a database a newer release migrated; on SQLite, and on
PostgreSQL when GUIDE_TEST_DATABASE_URL names a server."""

import logging
import shutil
import subprocess
import sys
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.pool import NullPool

from guide_server.db import migrate
from guide_server.db.engine import connect, open_engine
from guide_server.db.schema import events, metadata, questions, tour_progress
from tests.support import ROOT, guide

HEAD = migrate.scripts().get_current_head()


def _baseline():
    """The schema of the last release without migrations, as its baseline revision keeps it."""
    from alembic.util.pyfiles import load_python_file

    return load_python_file(migrate.MIGRATIONS / "versions", "0001_baseline.py").baseline()


def _indexes(engine, table: str) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes(table)}


def test_an_empty_database_is_brought_to_head_and_matches_the_schema(database_url):
    """db/schema.py and the revisions describe the same tables: a change to one without the other fails here."""
    engine = connect(database_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (HEAD,)
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert migrate.state(engine).up_to_date
    engine.dispose()


@pytest.mark.parametrize("release", ["0.1", "before client_tab"])
def test_a_database_made_before_migrations_is_taken_over_with_its_rows(database_url, release):
    """A database of the current release (tables, no alembic_version), or of an older one that
    lacks columns added since, is brought to head at start-up; every stored row is kept."""
    old = _baseline()
    plain = create_engine(database_url, poolclass=NullPool)
    old.create_all(plain)
    with plain.begin() as conn:
        if release == "before client_tab":
            conn.execute(text("ALTER TABLE tour_progress DROP COLUMN client_tab"))
            conn.execute(text("ALTER TABLE tour_progress DROP COLUMN client_seq"))
        conn.execute(insert(old.tables["questions"]).values(
            id="q1", site="demo", created_at=1.0, channel="http", locale="ja", question="請求書", outcome="answered",
            confidence=0.9))
        conn.execute(insert(old.tables["events"]).values(
            site="demo", event_id="ev-00000001", type="chat_opened", at=1.0, received_at=1.0, props="{}"))
        conn.execute(text("INSERT INTO tour_progress (site, user_id, tour_id, version, status, step, updated_at) "
                          "VALUES ('demo', 'u', 'welcome', 1, 'active', 2, 1.0)"))
    plain.dispose()

    engine = connect(database_url)
    state = migrate.state(engine)
    assert state.current == (HEAD,) and state.up_to_date
    with engine.connect() as conn:
        assert conn.execute(select(questions.c.question)).scalars().all() == ["請求書"]
        assert conn.execute(select(events.c.event_id)).scalars().all() == ["ev-00000001"]
        row = conn.execute(select(tour_progress)).one()
        assert (row.step, row.client_tab, row.client_seq) == (2, None, None)
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_a_dropped_index_is_reported_at_start_and_recreated_by_guide_db_upgrade(database_url, tmp_path, caplog):
    engine = connect(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_events_site_at"))
    engine.dispose()

    with caplog.at_level(logging.WARNING, logger="guide_server.db.migrate"):
        engine = connect(database_url)  # the server starts, and says what is missing
    assert "ix_events_site_at" in caplog.text and "guide db upgrade" in caplog.text
    assert "ix_events_site_at" not in _indexes(engine, "events")  # start-up builds no index on a table with rows
    engine.dispose()

    env = {"GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_DATABASE_URL": database_url}
    before = guide("db", "current", env=env)
    assert before.returncode == 1 and "missing indexes: ix_events_site_at" in before.stdout, before.stdout + before.stderr
    done = guide("db", "upgrade", env=env)
    assert done.returncode == 0 and "created ix_events_site_at" in done.stdout, done.stdout + done.stderr
    after = guide("db", "current", env=env)
    assert after.returncode == 0 and after.stdout.rstrip().endswith("up to date"), after.stdout
    engine = open_engine(database_url)
    assert "ix_events_site_at" in _indexes(engine, "events")
    engine.dispose()


def test_guide_db_upgrade_brings_an_empty_database_to_head(database_url, tmp_path):
    env = {"GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_DATABASE_URL": database_url}
    first = guide("db", "current", env=env)
    assert first.returncode == 1 and "revision none (empty)" in first.stdout, first.stdout + first.stderr
    done = guide("db", "upgrade", env=env)
    every = ", ".join(rev.revision for rev in reversed(list(migrate.scripts().walk_revisions())))
    assert done.returncode == 0 and f"ran {every};" in done.stdout and f"now at {HEAD}" in done.stdout, done.stdout
    assert "password" not in done.stdout.lower()
    again = guide("db", "upgrade", env=env)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout


NEXT = '''"""A test revision."""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "{head}"
branch_labels = None
depends_on = None
startup_safe = {safe}


def upgrade():
    op.add_column("people", sa.Column("test_note", sa.Text))


def downgrade():
    op.drop_column("people", "test_note")
'''


@pytest.fixture
def next_release(tmp_path, monkeypatch):
    """This release's migrations plus a revision 0002 (safe at start-up or not), as a later release has them."""
    def make(safe: bool):
        folder = tmp_path / f"migrations-{safe}"
        shutil.copytree(migrate.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
        (folder / "versions" / "0002_test.py").write_text(NEXT.format(head=HEAD, safe=safe), encoding="utf-8")
        monkeypatch.setattr(migrate, "MIGRATIONS", folder)
    return make


def test_start_up_runs_a_later_revision_marked_safe(database_url, next_release):
    connect(database_url).dispose()
    next_release(safe=True)
    engine = connect(database_url)
    assert migrate.state(engine).current == ("0002",)
    assert "test_note" in {c["name"] for c in inspect(engine).get_columns("people")}
    engine.dispose()


def test_start_up_refuses_a_revision_not_marked_safe_until_guide_db_upgrade_ran(database_url, next_release):
    connect(database_url).dispose()
    next_release(safe=False)
    with pytest.raises(migrate.SchemaOutdated, match="0002.*guide db upgrade"):
        connect(database_url)
    engine = open_engine(database_url)
    assert migrate.state(engine).current == (HEAD,)  # nothing was changed
    before, after, _ = migrate.upgrade(engine)
    assert before.pending == ["0002"] and after.current == ("0002",) and after.up_to_date
    engine.dispose()
    connect(database_url).dispose()  # and the server starts


def test_a_database_migrated_by_a_newer_release_is_left_as_it_is(database_url, tmp_path, caplog):
    engine = connect(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with caplog.at_level(logging.WARNING, logger="guide_server.db.migrate"):
        engine = connect(database_url)  # starts: a rolling upgrade has old and new servers side by side
    assert "9999" in caplog.text
    assert migrate.state(engine).current == ("9999",)
    engine.dispose()
    out = guide("db", "upgrade", env={"GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_DATABASE_URL": database_url})
    assert out.returncode == 1 and "9999" in out.stderr and "newer release" in out.stderr, out.stdout + out.stderr


# Each process waits for the go file, then opens the database, as the workers of two instances do
# when they start together on a new database.
OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from guide_server.db.engine import connect
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
connect(sys.argv[1]).dispose()
"""


def test_servers_starting_together_on_a_new_database_all_start_and_migrate_it_once(database_url, tmp_path):
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, database_url, str(go)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    time.sleep(2)  # all of them imported and waiting
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    engine = open_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
    assert migrate.state(engine).up_to_date
    engine.dispose()


def test_the_wheel_carries_every_migration_file():
    """package-data names the migrations folder's files (it is not a package): each one must match."""
    import glob
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"][
        "guide_server"]
    package = ROOT / "guide_server"
    shipped = {p for pattern in patterns for p in glob.glob(pattern, root_dir=package, recursive=True)}
    files = {str(p.relative_to(package)) for p in migrate.MIGRATIONS.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert files and files <= shipped, files - shipped

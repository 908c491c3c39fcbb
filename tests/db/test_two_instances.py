"""The deployment of docs/database.md: two instances of the service (the production command, each
its own gunicorn) on one PostgreSQL database. Skipped without GUIDE_TEST_DATABASE_URL."""

import json
import threading
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.support import Gunicorn, make_event, postgres_schema

SETTINGS = {"PSEUDONYM_KEY": "two-instances", "RELOAD_INTERVAL": "0",
            "SITES": {"demo": {"identity": "open", "origins": ["http://host.example"]}}}


@pytest.fixture
def postgres_url():
    with postgres_schema() as url:
        yield url


def call(base: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_two_instances_on_one_postgresql_database_see_each_others_writes(postgres_url, tmp_path):
    servers, failures = [], []

    def start(name):  # both at once, on a new database: one migrates it while the other waits for the lock
        instance = tmp_path / name
        instance.mkdir()
        try:
            servers.append(Gunicorn(instance, {**SETTINGS, "DATABASE_URL": postgres_url,
                                               "INDEX_DIR": str(tmp_path / "no-index")}, ("-w", "1", "--threads", "4")))
        except Exception as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(name,)) for name in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not failures, failures
        one, two = (s.url for s in servers)

        # a tour's progress saved through one instance is what the other shows
        status, saved = call(one, "/api/v1/tours/progress", {"site": "demo", "user": "u-1", "tour": "welcome",
                                                             "version": 1, "step": 2, "status": "active"})
        assert status == 200, saved
        status, tour = call(two, "/api/v1/tours/welcome?site=demo&user=u-1")
        assert status == 200 and tour["progress"]["step"] == 2 and tour["progress"]["status"] == "active", tour

        # a batch of events sent to one instance, and again to the other (a retry through the load
        # balancer), is stored once
        batch = {"site": "demo", "user": "u-1", "events": [make_event("chat_opened", n) for n in range(5)]}
        assert call(one, "/api/v1/events", batch) == (200, {"accepted": 5, "duplicates": 0, "rejected": []})
        assert call(two, "/api/v1/events", batch) == (200, {"accepted": 0, "duplicates": 5, "rejected": []})
    finally:
        for server in servers:
            server.stop()

    engine = create_engine(postgres_url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() == 5
        assert len(conn.execute(text("SELECT version_num FROM alembic_version")).all()) == 1
    engine.dispose()

"""The event writer: batches of many request threads stored in shared transactions, each event
once, each response only after its commit; overload and faults answered at once with 503."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import event, exc, func, select

from guide_server.db.schema import events
from guide_server.events import writer as writer_module
from guide_server.events.routes import writer
from guide_server.web.context import services
from tests.support import ORIGIN, assert_error, make_event, send


def count(app) -> int:
    with services(app).db.connect() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


def test_concurrent_batches_share_transactions_and_each_event_is_stored_once(events_app):
    """32 threads send 4 batches each; half of every thread's events repeat another thread's
    ids. Every event is stored once, and the responses' counts add up to exactly that."""
    engine = services(events_app).db
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    answers, errors = [], []

    def client(t):
        c = events_app.test_client()
        for b in range(4):
            batch = [make_event("chat_opened", 1000 * t + 10 * b + i) for i in range(10)]
            batch += [make_event("chat_opened", 10 * b + i) for i in range(10)]  # shared by every thread
            resp = send(c, batch, user=f"u-{t}")
            (answers if resp.status_code == 200 else errors).append(resp.get_json())

    threads = [threading.Thread(target=client, args=(t,)) for t in range(1, 33)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    stored = count(events_app)
    assert stored == 32 * 4 * 10 + 4 * 10
    assert sum(a["accepted"] for a in answers) == stored
    assert sum(a["duplicates"] for a in answers) == 32 * 4 * 20 - stored
    assert len(commits) < len(answers)  # some transactions carried several batches


def test_a_full_queue_answers_503_with_retry_after_at_once(events_app, monkeypatch):
    """The writer is held inside a transaction; past MAX_QUEUED waiting batches, the next one is
    refused at once instead of waiting its turn."""
    monkeypatch.setattr(writer_module, "MAX_QUEUED", 2)
    engine = services(events_app).db
    hold, holding = threading.Event(), threading.Event()

    def slow_commit(conn):
        holding.set()
        hold.wait(20)

    event.listen(engine, "commit", slow_commit)
    c = events_app.test_client()
    results = []
    try:
        first = threading.Thread(target=lambda: results.append(send(c, [make_event("chat_opened", 1)]).status_code))
        first.start()
        assert holding.wait(10)
        waiting = [threading.Thread(target=lambda n=n: results.append(send(events_app.test_client(),
                                                                             [make_event("chat_opened", 10 + n)]).status_code))
                   for n in range(2)]
        for th in waiting:
            th.start()
        deadline = time.monotonic() + 10
        with events_app.test_request_context():
            queue = writer()
        while queue.depth() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        resp = send(c, [make_event("chat_opened", 99)])
        assert time.monotonic() - started < 1.0
        assert_error(resp, 503, "events_unavailable")
        assert resp.headers["Retry-After"] == "1"
    finally:
        hold.set()
    first.join(20)
    for th in waiting:
        th.join(20)
    event.remove(engine, "commit", slow_commit)
    assert sorted(results) == [200, 200, 200]
    assert send(c, [make_event("chat_opened", 99)]).get_json()["accepted"] == 1


def test_a_refused_transaction_fails_its_batches_and_the_next_ones_are_stored(events_app):
    engine = services(events_app).db
    c = events_app.test_client()

    def fail(conn):
        raise exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))

    event.listen(engine, "commit", fail)
    try:
        resp = c.post("/api/v1/events?site=demo", headers={"Origin": ORIGIN}, json={
            "site": "demo", "user": "u-1", "events": [make_event("chat_opened", 1), make_event("chat_opened", 2)]})
    finally:
        event.remove(engine, "commit", fail)
    assert_error(resp, 503, "events_unavailable")
    assert resp.headers["Retry-After"]
    # a widget on the customer's page may read it (CORS)
    assert "Retry-After" in resp.headers["Access-Control-Expose-Headers"]
    assert count(events_app) == 0
    assert send(c, [make_event("chat_opened", 1), make_event("chat_opened", 2)]).get_json()["accepted"] == 2

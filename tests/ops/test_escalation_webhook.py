"""Escalations delivered to a real webhook: a loopback HTTP server (http.server in a thread) receives
them. The signature verifies with the site's secret; a receiver answering 500 twice gets a third
attempt and the escalation ends delivered; a receiver that is down leaves it failed after the last
attempt, with the error; an escalation still pending when the app stops is delivered by the next
app on the same database; the request that made it never waits for the receiver; and a row claimed
by one sender is not sent by another. Retry delays are ESCALATION_RETRIES, a few milliseconds here."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from guide_server import create_app
from guide_server.chat import delivery
from guide_server.db import schema
from guide_server.web.context import services

SECRET = "webhook-secret-0123456789-0123456789-abc"
FAST = "0.05,0.05,0.05,0.05,0.05"  # six attempts in a quarter of a second


class Receiver:
    """A webhook receiver on a free loopback port: answers each request with the next of ``statuses``
    (then 200), after ``gate`` is set; keeps every request it got."""

    def __init__(self, statuses=(), gate: threading.Event | None = None):
        self.statuses = list(statuses)
        self.gate = gate
        self.got: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.gate is not None:
                    receiver.gate.wait(30)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/guide"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


def dead_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/guide"


@pytest.fixture
def receivers():
    made = []

    def make(*args, **kw) -> Receiver:
        made.append(Receiver(*args, **kw))
        return made[-1]

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def make_app(sample_index, database_url):
    made = []

    def make(url: str, retries: str = FAST):
        app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url,
                          "RELOAD_INTERVAL": 0, "ESCALATION_RETRIES": retries,
                          "SITES": {"shop": {"name": "Shop", "identity": "open", "origins": [], "support": url,
                                             "support_secret": SECRET}}})
        made.append(app)
        return app

    yield make
    for app in made:
        services(app).close()


def escalate(app, **extra) -> str:
    asked = app.test_client().post("/api/v1/ask", json={"site": "shop", "question": "請求書をメールで送るには？"})
    body = {"site": "shop", "user": "u-7", "message": "The invoice mail never arrives", "reason": "unhelpful",
            "question_id": asked.get_json()["question_id"],
            "context": {"url": "https://shop.example/invoices", "tour_id": "first-invoice", "step_id": "send"}, **extra}
    resp = app.test_client().post("/api/v1/escalations", data=json.dumps(body), content_type="text/plain")
    assert resp.status_code == 201 and resp.get_json()["delivery"] == "webhook", resp.get_data(as_text=True)
    return resp.get_json()["id"]


def row(app, escalation_id: str):
    with services(app).db.connect() as conn:
        return conn.execute(select(schema.escalations).where(schema.escalations.c.id == escalation_id)).one()


def wait_for(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out")


def verify(secret: str, header: str, body: bytes, tolerance: float = 300) -> bool:
    """What a receiver does (docs/escalations.md has the same in ten lines)."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) <= tolerance


def test_the_webhook_is_signed_and_carries_the_escalation(receivers, make_app):
    hook = receivers()
    app = make_app(hook.url)
    escalation_id = escalate(app)
    got = wait_for(lambda: hook.got)[0]
    headers = got["headers"]
    assert got["path"] == "/hooks/guide"
    assert verify(SECRET, headers["X-Guide-Signature"], got["body"])
    assert not verify("another secret", headers["X-Guide-Signature"], got["body"])
    assert not verify(SECRET, headers["X-Guide-Signature"], got["body"] + b" ")
    assert headers["X-Guide-Event"] == "escalation.created" and headers["X-Guide-Delivery"] == escalation_id
    assert headers["User-Agent"].startswith("guide/") and headers["Content-Type"] == "application/json"
    sent = json.loads(got["body"])
    assert set(sent) == {"id", "site", "created_at", "reason", "message", "email", "user", "anon", "question",
                         "answer", "page", "tour", "desk_url"}
    assert (sent["id"], sent["site"], sent["reason"], sent["user"], sent["anon"], sent["email"]) == (
        escalation_id, "shop", "unhelpful", "u-7", None, None)
    assert sent["message"] == "The invoice mail never arrives"
    assert sent["question"]["text"] == "請求書をメールで送るには？"
    assert sent["answer"]["faq_id"].startswith("ja-invoices-") and sent["answer"]["url"].startswith("http://")
    assert sent["page"] == {"url": "https://shop.example/invoices"}
    assert sent["tour"] == {"id": "first-invoice", "step": "send"}
    assert sent["desk_url"].endswith(f"/admin/escalations?site=shop&id={escalation_id}")
    done = wait_for(lambda: (r := row(app, escalation_id)).delivery_status == "delivered" and r)
    assert done.attempts == 1 and done.delivered_at and done.last_error is None


def test_a_receiver_failing_twice_gets_a_third_attempt_and_the_escalation_is_delivered(receivers, make_app):
    hook = receivers(statuses=[500, 500])
    app = make_app(hook.url)
    escalation_id = escalate(app)
    done = wait_for(lambda: (r := row(app, escalation_id)).delivery_status == "delivered" and r)
    assert done.attempts == 3 and len(hook.got) == 3
    assert {g["headers"]["X-Guide-Delivery"] for g in hook.got} == {escalation_id}
    assert done.last_error is None


def test_a_receiver_that_is_down_leaves_the_escalation_failed_with_the_error(make_app):
    app = make_app(dead_url())
    escalation_id = escalate(app)
    done = wait_for(lambda: (r := row(app, escalation_id)).delivery_status == "failed" and r)
    assert done.attempts == 6  # the first and one per delay of ESCALATION_RETRIES
    assert "Connection" in done.last_error or "refused" in done.last_error.lower(), done.last_error
    assert done.next_attempt_at is None and done.delivered_at is None
    time.sleep(0.3)
    assert row(app, escalation_id).attempts == 6  # no attempt after it failed


def test_an_escalation_pending_when_the_app_stopped_is_delivered_by_the_next_start(receivers, make_app):
    first = make_app(dead_url(), retries="0.2,3600")
    escalation_id = escalate(first)
    wait_for(lambda: row(first, escalation_id).attempts >= 1)
    services(first).close()  # the process ends: its sender stops, the row stays pending
    left = row(first, escalation_id)
    assert (left.delivery_status, left.attempts) == ("pending", 1) and "Connection" in left.last_error

    hook = receivers()
    second = make_app(hook.url)  # a restart, with the receiver up again
    assert second.test_client().get("/livez").status_code == 200  # the first request starts the sender
    done = wait_for(lambda: (r := row(second, escalation_id)).delivery_status == "delivered" and r)
    assert done.attempts == 2 and [g["headers"]["X-Guide-Delivery"] for g in hook.got] == [escalation_id]


def test_the_request_returns_before_the_delivery_finishes(receivers, make_app):
    gate = threading.Event()  # the receiver answers only once this is set
    hook = receivers(gate=gate)
    app = make_app(hook.url)
    answered = {}
    request = threading.Thread(target=lambda: answered.setdefault("id", escalate(app)))
    request.start()
    request.join(20)
    assert "id" in answered, "the request waited for the receiver"
    escalation_id = answered["id"]
    assert row(app, escalation_id).delivery_status == "pending"  # the receiver has not answered: not delivered
    wait_for(lambda: hook.got)  # the sender is at the receiver, which holds it
    gate.set()
    done = wait_for(lambda: (r := row(app, escalation_id)).delivery_status == "delivered" and r)
    assert done.attempts == 1


def test_a_row_claimed_by_one_sender_is_not_sent_by_another(receivers, make_app):
    hook = receivers()
    app = make_app(hook.url, retries="3600")
    sender = delivery.sender(app)
    sender.stop()  # this test drives the senders itself
    escalation_id = escalate(app)
    engine = services(app).db
    hooks = {"shop": (hook.url, SECRET)}
    one, two = delivery.EscalationSender(engine, hooks, [3600]), delivery.EscalationSender(engine, hooks, [3600])
    claimed = one._claim(escalation_id, time.time())
    assert claimed is not None and claimed.attempts == 1
    assert two.run_once() == 0 and two._claim(escalation_id, time.time()) is None  # leased to the first
    one._attempt(claimed)
    assert row(app, escalation_id).delivery_status == "delivered" and len(hook.got) == 1
    assert two.run_once() == 0 and len(hook.got) == 1

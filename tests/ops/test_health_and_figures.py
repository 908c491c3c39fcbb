"""/livez, /readyz, /api/v1/health, /metrics and the request log, on the app in this process."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading

import pytest

from guide_server.ops import health, lifecycle, logs
from guide_server.ops import metrics as scrape


@pytest.fixture(autouse=True)
def fresh_probe():
    health._probes.clear()
    yield
    health._probes.clear()


def test_live_and_ready(client):
    assert client.get("/livez").get_json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json() == {"status": "ready"}
    assert client.get("/api/v1/health").get_json()["status"] == "ok"


def test_draining_is_not_ready_but_still_alive(client, monkeypatch):
    monkeypatch.setattr(lifecycle, "_draining", threading.Event())
    lifecycle.start_draining()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.get_json()["reasons"] == ["draining: the process is stopping"]
    assert client.get("/livez").status_code == 200
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "degraded" and "draining: the process is stopping" in body["reasons"]


def test_a_locked_database_makes_readiness_503_and_health_degraded(client, app, tmp_path):
    """Another process's write lock (here: another connection's) past the request timeout."""
    holder = sqlite3.connect(tmp_path / "guide.db", timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert any(r.startswith("database:") and "locked" in r for r in ready.get_json()["reasons"])
        health._probes.clear()
        body = client.get("/api/v1/health").get_json()
        assert body["status"] == "degraded" and any("locked" in r for r in body["reasons"])
        assert client.get("/livez").status_code == 200
    finally:
        holder.rollback()
        holder.close()
    health._probes.clear()
    assert client.get("/readyz").status_code == 200


def test_no_index_is_unavailable_and_not_ready(events_app):
    c = events_app.test_client()
    assert c.get("/api/v1/health").status_code == 503
    ready = c.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["reasons"][0].startswith("index:")


def value(text: str, series: str) -> float:
    """The value of one series in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_and_add_up_every_process(client, app):
    faq404 = 'guide_http_requests_total{method="GET",route="/api/v1/faq/<faq_id>",status="404"}'
    asked = 'guide_http_requests_total{method="POST",route="/api/v1/ask",status="200"}'
    timed = 'guide_http_request_duration_seconds_count{route="/api/v1/ask"}'
    before = client.get("/metrics").get_data(as_text=True)
    assert client.get("/api/v1/faq/nope?site=demo").status_code == 404
    client.post("/api/v1/ask", json={"site": "demo", "question": "請求書をPDFでダウンロードしたい"})
    # a second process's figures, as its writer thread leaves them in the shared folder
    other = {"pid": 1, "counters": [["guide_http_requests_total", [["method", "GET"], ["route", "/api/v1/faq/<faq_id>"],
                                                                   ["status", "404"]], 5]],
             "histograms": [], "gauges": [["guide_ws_open", [], 7.0]]}
    folder = scrape.folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "1.json").write_text(json.dumps(other))  # pid 1 is always alive
    try:
        text = client.get("/metrics").get_data(as_text=True)
    finally:
        (folder / "1.json").unlink()
    assert value(text, faq404) - value(before, faq404) == 6
    assert value(text, asked) - value(before, asked) == 1
    assert value(text, timed) - value(before, timed) == 1
    assert "# TYPE guide_http_request_duration_seconds histogram" in text
    assert value(text, "guide_ws_open") == 7
    (folder / "2147483646.json").write_text(json.dumps(other))  # a process that is gone
    client.get("/metrics")
    assert not (folder / "2147483646.json").exists()


def test_the_request_log_is_json_with_an_id_and_no_query_or_question(client, caplog):
    caplog.set_level(logging.INFO, logger="guide.request")
    resp = client.post("/api/v1/ask?user=alice@example.com", json={"site": "demo", "question": "パスワードを忘れた"},
                       headers={"X-Request-Id": "trace-123456"})
    assert resp.headers["X-Request-Id"] == "trace-123456"
    record = next(r for r in caplog.records if r.name == "guide.request")
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["request_id"] == "trace-123456" and line["route"] == "/api/v1/ask" and line["status"] == 200
    assert line["site"] == "demo" and line["duration_ms"] > 0
    assert "alice" not in json.dumps(line, ensure_ascii=False) and "パスワード" not in json.dumps(line, ensure_ascii=False)
    client.get("/livez", headers={"X-Request-Id": "bad id with spaces"})
    assert "bad id" not in caplog.text


def test_failing_writes_make_readiness_503_until_a_write_succeeds(events_app, monkeypatch):
    """A read-only file lets the probe take and give back the write lock but refuses every commit:
    readiness follows what the last writes said."""
    from guide_server.web.context import services
    from tests.support import make_event, send

    c = events_app.test_client()
    dialect = services(events_app).db.dialect

    def readonly(dbapi_connection):  # the driver's own error, as a read-only file gives it
        raise sqlite3.OperationalError("attempt to write a readonly database")

    with monkeypatch.context() as m:
        m.setattr(dialect, "do_commit", readonly)
        assert send(c, [make_event("chat_opened", 1)]).status_code == 503
    ready = c.get("/readyz")
    assert ready.status_code == 503
    assert any("writes are failing" in r and "readonly" in r for r in ready.get_json()["reasons"])
    assert send(c, [make_event("chat_opened", 1)]).status_code == 200
    assert "writes are failing" not in json.dumps(c.get("/readyz").get_json())

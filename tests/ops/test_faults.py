"""Faults under the production command: a process killed with SIGKILL in the middle of event
ingest loses no acknowledged event, and the master replaces the worker without a restart."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import threading
import time
import uuid

from tests.support import now_ms


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _post(port: int, body: str) -> tuple[int, dict | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/v1/events", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if resp.status == 200 else None
    finally:
        conn.close()


def test_sigkill_during_ingest_loses_no_acknowledged_event(serve, tmp_path):
    server = serve()
    acknowledged: set[str] = set()
    failures: list[str] = []
    stop = threading.Event()

    def client(n):
        while not stop.is_set():
            ids = [f"k{n}-{uuid.uuid4().hex[:20]}" for _ in range(20)]
            body = json.dumps({"site": "demo", "anon": f"browser-{n}", "events": [
                {"id": i, "type": "chat_opened", "at": now_ms(), "url": "https://app.example/"} for i in ids]})
            try:
                status, answer = _post(server.port, body)
            except (OSError, http.client.HTTPException) as exc:  # died with the worker (mid-answer too): not acknowledged
                failures.append(type(exc).__name__)
                continue
            if status == 200 and answer["accepted"] + answer["duplicates"] == 20:
                acknowledged.update(ids)
            elif status >= 500 and status != 503:
                failures.append(f"HTTP {status}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for th in threads:
        th.start()
    time.sleep(2)
    workers = _children(server.proc.pid)
    os.kill(workers[0], signal.SIGKILL)  # one worker, mid-transaction as likely as not
    time.sleep(3)
    replaced = _children(server.proc.pid)
    before_master = len(acknowledged)
    os.kill(server.proc.pid, signal.SIGKILL)  # then the master: its workers follow it out
    for pid in replaced:
        os.kill(pid, signal.SIGKILL)
    stop.set()
    for th in threads:
        th.join(30)
    assert workers[0] not in replaced and len(replaced) == 2  # the master had replaced the killed worker
    assert len(acknowledged) >= before_master > 0
    assert not [f for f in failures if f.startswith("HTTP")]
    db = sqlite3.connect(tmp_path / "instance0" / "guide.db")
    stored = {row[0] for row in db.execute("SELECT event_id FROM events")}
    db.close()
    assert acknowledged - stored == set()

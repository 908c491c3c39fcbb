"""What tests in several folders share: the sample FAQs, a real HTTP server, the CLI, Chromium,
the JSON error shape, widget events, and the database under test. Fixtures are in conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"ja": "usem3", "en": "minilm"}  # the defaults

FAQ_JA = """---
title: 請求書をメールで送付するには？
questions:
  - 請求書をメールで送りたい
category: invoices
related: [ja-billing-plans]
---
請求書の詳細画面から送付できます。

## 手順
1. 請求書一覧で請求書を開きます。
2. 「メールで送付」を押します。
"""

FAQ_PLANS = """---
title: 料金プランの違いは？
category: billing
---
スタンダードとプロの二つのプランがあります。
"""

FAQ_EN = """---
title: How do I reset my password?
questions: [I forgot my password]
category: security
---
Use **Forgot password** on the sign-in page.

## If no e-mail arrives
Check your spam folder, then ask an administrator.
"""


def write_content(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "faq" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def assert_error(resp, status, code):
    """The one JSON error shape: ``{"error": {"code", "message"}}`` with this status and code."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def guide(*args, stdin=None, env=None):
    """The ``guide`` command line, as a child process."""
    return subprocess.run([sys.executable, "-m", "guide_server.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=300)


class LiveServer:
    """The app served over real HTTP (werkzeug, threaded) on a free loopback port."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


CHROMIUM = os.environ.get("GUIDE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@contextlib.contextmanager
def chromium():
    """Debian's Chromium driven by Playwright. Without it the browser tests are skipped, except
    under CI (CI=true), where a missing browser must fail the run rather than hide it."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GUIDE_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- widget events -------------------------------------------------------------------------------

KEY = "test-pseudonym-key"  # PSEUDONYM_KEY of the events_app fixture
ORIGIN = "http://host.example"
TOUR = {"tour": "first-invoice", "version": 1}
STEP = {**TOUR, "step": "open-list", "step_index": 0}

# One valid event of every type (without id and at).
VALID = {
    "tour_started": TOUR,
    "step_shown": STEP,
    "step_completed": STEP,
    "tour_completed": TOUR,
    "tour_dismissed": STEP,
    "target_missing": {**TOUR, "step": "open-list", "props": {"action": "skip"}},
    "checklist_started": {"props": {"checklist": "onboarding"}},
    "checklist_task_completed": {"props": {"checklist": "onboarding", "task": "create-invoice"}},
    "checklist_completed": {"props": {"checklist": "onboarding"}},
    "chat_opened": {},
    "question_asked": {**STEP, "props": {"question_id": "q" * 32}},
    "answer_feedback": {"props": {"question_id": "q" * 32, "helpful": False}},
    "answer_opened": {"props": {"question_id": "q" * 32, "faq_id": "ja-invoices-send-email", "which": "suggestion", "rank": 1}},
    "escalation_offered": {},
    "escalation_taken": {},
    "nps_answered": {"props": {"score": 9, "comment": "便利です"}},
    "nps_later": {},
    "nps_dismissed": {"props": {"survey": "nps"}},
    "widget_error": {"props": {"message": "TypeError: x is undefined"}},
    "idle": {**STEP, "props": {"seconds": 31.5}},
    "rage_click": {"props": {"count": 4, "selector": "#save"}},
    "back_forth": {**STEP, "props": {"other_step": "new"}},
    "page_left": STEP,
}


def now_ms() -> int:
    return int(time.time() * 1000)


def make_event(kind: str, n: int = 0, **changes) -> dict:
    body = {"id": f"ev-{kind}-{n:04d}", "type": kind, "at": now_ms(), "url": "https://app.example/demo/invoices",
            **json.loads(json.dumps(VALID[kind]))}
    body.update(changes)
    return body


def send(client, events_list, user="u-1", anon=None, site="demo", **extra):
    """POST one batch of events to /api/v1/events."""
    body = {"site": site, "events": events_list, **extra}
    if user is not None:
        body["user"] = user
    if anon is not None:
        body["anon"] = anon
    return client.post("/api/v1/events", json=body)


def stored(user: str, site: str = "demo", key: str = KEY) -> str:
    """How the database names a signed-in user: the keyed pseudonym of the id."""
    from guide_server.privacy import pseudonymise

    return pseudonymise(key.encode(), site, user)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GUNICORN_SECRET_KEY = "test-secret-key-for-gunicorn-not-for-production-0123456789"


class Gunicorn:
    """The documented production command (``gunicorn -c python:guide_server.ops.gunicorn_conf``) as
    a child process on a free loopback port, with settings as GUIDE_* variables."""

    def __init__(self, instance: Path, settings: dict, args: tuple[str, ...] = (), wait: float = 120):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # the production settings refuse the default SECRET_KEY; a test that means to try it sets it
        env = {**os.environ, "GUIDE_INSTANCE_PATH": str(instance), "GUIDE_SECRET_KEY": GUNICORN_SECRET_KEY}
        env.update({f"GUIDE_{k}": v if isinstance(v, str) else json.dumps(v) for k, v in settings.items()})
        self.log = open(Path(instance) / "server.log", "w+b")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:guide_server.ops.gunicorn_conf",
             "-b", f"127.0.0.1:{self.port}", *args, "guide_server:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError):
                import urllib.request

                with urllib.request.urlopen(self.url + "/livez", timeout=2):
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {wait} s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


# --- the database under test ---------------------------------------------------------------------

# A PostgreSQL server for the tests (postgresql://user@127.0.0.1:port/db; .ci/run starts one and sets
# it). With it, the app fixtures use PostgreSQL instead of SQLite files, each test a schema of its own.
POSTGRES = os.environ.get("GUIDE_TEST_DATABASE_URL", "")


@contextlib.contextmanager
def fresh_database(folder: Path):
    """The URL of a new database for one test: a SQLite file in ``folder``, or, with
    GUIDE_TEST_DATABASE_URL, a new PostgreSQL schema (dropped afterwards)."""
    if not POSTGRES:
        yield f"sqlite:///{folder / 'guide.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextlib.contextmanager
def postgres_schema():
    """A new, empty schema on the GUIDE_TEST_DATABASE_URL server, as a URL whose connections work in
    it (``search_path``), dropped afterwards; the test is skipped without a server."""
    if not POSTGRES:
        pytest.skip("needs PostgreSQL: set GUIDE_TEST_DATABASE_URL=postgresql://... (.ci/run does)")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"test_{uuid.uuid4().hex[:16]}"
    server = make_url(POSTGRES)
    options = f"{server.query.get('options', '')} -csearch_path={name}".strip()
    admin = create_engine(server, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        yield server.update_query_dict({"options": options}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


def _has_japanese_font() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(found.strip())


# Screenshots for docs/img, only on request (make screenshots): written on every run, the PNGs in git
# changed with each test run. Without a Japanese font Chromium draws empty boxes, so none are written then.
WRITE_SHOTS = os.environ.get("GUIDE_SCREENSHOTS") == "1" and _has_japanese_font()

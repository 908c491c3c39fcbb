"""What tests in several folders share: the sample FAQs, a real HTTP server, the CLI, Chromium,
the JSON error shape, and widget events. Fixtures are in conftest.py."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
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

"""A small hand-made week of use for the review desk's tests (and its screenshots).

Events go in through the real endpoint (``POST /api/v1/events``), questions and feedback through
the store, so the desk reads what production would. The expected figures are written down in
``EXPECTED``, computed by hand from the story below.

Tour ``first-invoice`` v1 has three steps: open-list (0), new-button (1), fill-form (2).
Four users start it. All pass step 0. On step 1 u3 idles and asks the chat a question it cannot
answer, u4 rage-clicks and closes the tour; u1 and u2 go on. On step 2 u1 finishes, u2 leaves the page.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
import uuid

from sqlalchemy import update

from guide_server import create_app
from guide_server.chat.store import record_feedback, record_question
from guide_server.db.schema import questions
from guide_server.desk.auth import create_admin, create_token
from guide_server.privacy import pseudonymise
from guide_server.web.context import services
from tests.support import ROOT, LiveServer

SITE = "demo"
TOUR = "first-invoice"
STEPS = ("open-list", "new-button", "fill-form")
ADMIN = "alice"
PASSWORD = "correct horse battery staple"
STUCK_QUESTION = "請求書の新規作成ボタンが見つかりません"
UNANSWERED_JA = "インボイス登録番号はどこで設定しますか"
INJECTION = '=HYPERLINK("http://evil.example","click")'

EXPECTED = {
    "funnel": [  # step, reached, completed, drop-off
        ("open-list", 4, 4, 0.0),
        ("new-button", 4, 2, 0.5),
        ("fill-form", 2, 1, 0.5),
    ],
    "top_stuck": "new-button",
    "nps": 33.3,  # 10, 9 promoters; 6 detractor: (2 - 1) / 3
    "onboarding_rate": 0.5,
    "unanswered_top": (UNANSWERED_JA, 3),
}


def _event(kind: str, at_ms: int, step: int | None = None, **props) -> dict:
    ev = {"id": uuid.uuid4().hex, "type": kind, "at": at_ms, "url": "https://app.example/invoices"}
    if kind not in ("chat_opened", "question_asked", "answer_opened", "nps_answered", "checklist_started", "checklist_completed"):
        ev.update(tour=TOUR, version=1)
    if step is not None:
        ev.update(tour=TOUR, version=1, step=STEPS[step])
        if kind in ("step_shown", "step_completed", "tour_dismissed"):
            ev["step_index"] = step
    if props:
        ev["props"] = props
    return ev


def _send(client, user: str, events: list[dict]) -> None:
    resp = client.post("/api/v1/events", json={"site": SITE, "user": user, "events": events})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["rejected"] == [], body


def seed(app) -> dict:
    """Store the story; returns the users' pseudonyms and the stuck question's id."""
    client = app.test_client()
    engine = services(app).db
    base = int((time.time() - 2 * 86400) * 1000)  # two days ago, well inside the default 30 days
    s = 1000  # one second in ms

    def walk(user: str, until_step: int, t0: int) -> list[dict]:
        evs = [_event("tour_started", t0)]
        for i in range(until_step + 1):
            evs.append(_event("step_shown", t0 + (i * 10 + 1) * s, i))
            if i < until_step:
                evs.append(_event("step_completed", t0 + (i * 10 + 5) * s, i))
        return evs

    pseudo = {u: pseudonymise(services(app).pseudonym_key, SITE, u) for u in ("u1", "u2", "u3", "u4")}
    _send(client, "u1", walk("u1", 2, base) + [_event("step_completed", base + 25 * s, 2),
                                               _event("tour_completed", base + 26 * s)])
    _send(client, "u2", walk("u2", 2, base + 100 * s) + [_event("page_left", base + 140 * s, 2)])

    qid = record_question(engine, site=SITE, channel="http", locale="ja", question=STUCK_QUESTION,
                          outcome="no_answer", top_faq_id=None, confidence=0.1, url="https://app.example/invoices",
                          tour_id=TOUR, step_id=STEPS[1], user_id=pseudo["u3"])
    with engine.begin() as conn:  # asked while the step was open, not now
        conn.execute(update(questions).where(questions.c.id == qid).values(created_at=(base + 258 * s) / 1000))
    _send(client, "u3", walk("u3", 1, base + 200 * s) + [
        _event("idle", base + 245 * s, 1, seconds=30),
        _event("chat_opened", base + 250 * s),
        {**_event("question_asked", base + 260 * s, question_id=qid), "tour": TOUR, "version": 1, "step": STEPS[1]},
    ])
    _send(client, "u4", walk("u4", 1, base + 300 * s) + [
        {**_event("rage_click", base + 315 * s, count=5, selector="#new"), "tour": TOUR, "version": 1, "step": STEPS[1]},
        _event("tour_dismissed", base + 320 * s, 1),
    ])

    # unanswered questions: one repeated three times, one in English
    for n in range(3):
        record_question(engine, site=SITE, channel="http", locale="ja", question=UNANSWERED_JA, outcome="no_answer",
                        top_faq_id=None, confidence=0.05, url=f"https://app.example/settings/{n % 2}", user_id=pseudo["u1"])
    record_question(engine, site=SITE, channel="http", locale="en", question="Can I pay by bank transfer?",
                    outcome="no_answer", top_faq_id=None, confidence=0.05, url="https://app.example/billing")
    # answered questions with feedback, one comment a spreadsheet formula
    a1 = record_question(engine, site=SITE, channel="http", locale="ja", question="請求書をメールで送りたい",
                         outcome="answered", top_faq_id="ja-invoices-send-email", confidence=0.95)
    a2 = record_question(engine, site=SITE, channel="http", locale="ja", question="請求書をメールで送付",
                         outcome="answered", top_faq_id="ja-invoices-send-email", confidence=0.9)
    record_feedback(engine, SITE, a1, True, "分かりやすい")
    record_feedback(engine, SITE, a2, False, INJECTION)
    # the 👎 answer passed over: the person opened the first related FAQ under it, not the answer
    _send(client, "u2", [_event("answer_opened", base + 150 * s, question_id=a2, faq_id="ja-invoices-download-pdf",
                                which="related", rank=0)])

    # onboarding: two start the checklist, one completes it; NPS 10, 9 and 6
    _send(client, "u1", [_event("checklist_started", base, checklist="setup"),
                         _event("checklist_completed", base + 50 * s, checklist="setup"),
                         _event("nps_answered", base + 60 * s, score=10, comment="@SUM(1,1) 便利です")])
    _send(client, "u2", [_event("checklist_started", base + 100 * s, checklist="setup"),
                         _event("nps_answered", base + 160 * s, score=6, comment="動作が遅い")])
    _send(client, "u3", [_event("nps_answered", base + 270 * s, score=9)])
    return {"pseudo": pseudo, "stuck_question_id": qid}


def make_admin(app, name: str = ADMIN, password: str = PASSWORD):
    return create_admin(services(app).db, name, password)


def make_token(app, name: str = "bi") -> str:
    return create_token(services(app).db, name)


# --- the app and a logged-in browser ---------------------------------------------------------------

def make_app(tmp_path, **overrides):
    """The real app on a temporary SQLite file and a copy of the content (drafts are written there).

    No search index: the desk does not need one (unanswered questions then group by identical text).
    """
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "CONTENT_DIR": str(content),
        "INDEX_DIR": str(tmp_path / "no-index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}",
        "RELOAD_INTERVAL": 0,
        "SITES": {"demo": {"name": "請求クラウド", "identity": "open", "origins": []}, "other": {"identity": "open", "origins": []}},
        **overrides,
    })


def seeded_app(tmp_path, **overrides):
    """The app with the seeded week (``app.seeded``: what ``seed`` returns) and the admin account."""
    app = make_app(tmp_path, **overrides)
    app.seeded = seed(app)
    make_admin(app)
    return app


def signed_in(app, lang: str | None = None, name: str = ADMIN):
    """A test client logged in as ``name`` (the admin by default), reading the desk in ``lang`` when given."""
    client = app.test_client()
    assert login(client, name=name).status_code == 303
    if lang:
        client.get(f"/admin/lang/{lang}")
    return client


def csrf_of(resp) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True))
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client, name: str = ADMIN, password: str = PASSWORD, ip: str = "127.0.0.1", next: str = ""):
    token = csrf_of(client.get("/admin/login"))
    return client.post("/admin/login", data={"csrf_token": token, "name": name, "password": password, "next": next},
                       environ_base={"REMOTE_ADDR": ip})


@contextlib.contextmanager
def served(app):
    """``app`` over real HTTP (``tests.support.LiveServer``, with ``.app``), closed with its services after."""
    server = LiveServer(app)
    server.app = app
    try:
        yield server
    finally:
        server.stop()
        services(app).close()

"""Alerts and digests for a site's CS team, delivered to real receivers on loopback: an HTTP server
(guide's signed JSON, or a Slack body) and a small SMTP server written here. escalation.created and
feedback.negative come through the real HTTP API; a digest is computed from events and questions sent
through it too (a new stuck point, a new question group, a broken selector, KPI changes), mailed, and
stored once per period however many senders race for it. Retry delays are a few milliseconds here."""

from __future__ import annotations

import json
import socketserver
import threading
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as dtime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from guide_server import cli, create_app, settings
from guide_server.chat import alerts
from guide_server.db import schema
from guide_server.desk import digest
from guide_server.desk.auth import create_token
from guide_server.web.context import services
from tests.desk.admin_seed import login, make_admin

from .test_escalation_webhook import Receiver, dead_url, verify, wait_for

SECRET = "alerts-secret-0123456789-0123456789-abc"
FAST = "0.05,0.05"  # three attempts
TZ = ZoneInfo("Asia/Tokyo")  # ADMIN_TIMEZONE's default: the digest's days


class SmtpReceiver:
    """An SMTP server on a free loopback port (no TLS, no login): keeps each message it accepted;
    refuses the first ``refuse`` MAIL commands with a 451 (a server busy for a while)."""

    def __init__(self, refuse: int = 0):
        self.got: list[dict] = []
        self.refuse = refuse
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def say(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.say("220 loopback ESMTP")
                mail = {"from": None, "to": []}
                while line := self.rfile.readline():
                    verb = line.decode().strip().split(" ")[0].split(":")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.say("250 loopback")
                    elif verb == "MAIL" and receiver.refuse:
                        receiver.refuse -= 1
                        self.say("451 try again later")
                    elif verb == "MAIL":
                        mail = {"from": line.decode().strip(), "to": []}
                        self.say("250 ok")
                    elif verb == "RCPT":
                        mail["to"].append(line.decode().strip().split(":", 1)[1].strip("<> "))
                        self.say("250 ok")
                    elif verb == "DATA":
                        self.say("354 end with .")
                        data = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                        receiver.got.append({**mail, "message": message_from_bytes(data, policy=policy.default)})
                        self.say("250 queued")
                    elif verb == "QUIT":
                        self.say("221 bye")
                        return
                    else:
                        self.say("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(*args, smtp: bool = False, **kw):
        made.append(SmtpReceiver(*args, **kw) if smtp else Receiver(*args, **kw))
        return made[-1]

    yield make
    for r in made:
        r.stop()


def site(**alerting) -> dict:
    return {"name": "Invoice Cloud", "identity": "open", "origins": [], "support": "", **alerting}


@pytest.fixture
def make_app(sample_index, database_url):
    made = []

    def make(demo: dict, **config):
        app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url,
                          "RELOAD_INTERVAL": 0, "ALERT_RETRIES": FAST, "TARGET_MISSING_MIN_PEOPLE": 1,
                          "DESK_URL": "https://guide.example/admin", "SITES": {"demo": demo}, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        services(app).close()


def alert_rows(app, **where):
    with services(app).db.connect() as conn:
        query = select(schema.alerts).where(*(schema.alerts.c[k] == v for k, v in where.items()))
        return conn.execute(query.order_by(schema.alerts.c.created_at)).all()


def ask(app, question="請求書をメールで送るには？") -> str:
    resp = app.test_client().post("/api/v1/ask", json={
        "site": "demo", "question": question,
        "context": {"url": "https://app.example/invoices", "tour_id": "invoice-send", "step_id": "send-button"}})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["question_id"]


# --- alerts sent at once ---------------------------------------------------------------------------

def test_an_escalation_is_signed_and_sent_to_the_cs_webhook_whatever_its_delivery(receivers, make_app):
    hook = receivers()
    app = make_app(site(alerts=hook.url, alerts_secret=SECRET))
    resp = app.test_client().post("/api/v1/escalations", json={
        "site": "demo", "user": "u-7", "message": "The invoice mail never arrives", "reason": "unhelpful",
        "question_id": ask(app), "context": {"url": "https://app.example/invoices/12"}})
    assert resp.status_code == 201 and resp.get_json()["delivery"] == "none"  # support has no webhook
    got = wait_for(lambda: hook.got)[0]
    assert verify(SECRET, got["headers"]["X-Guide-Signature"], got["body"])
    assert not verify("another secret", got["headers"]["X-Guide-Signature"], got["body"])
    assert got["headers"]["X-Guide-Event"] == "escalation.created"
    sent = json.loads(got["body"])
    escalation_id = resp.get_json()["id"]
    assert sent["event"] == "escalation.created" and sent["site"] == "demo"
    assert sent["escalation"]["id"] == escalation_id and sent["escalation"]["message"] == "The invoice mail never arrives"
    assert sent["question"]["text"] == "請求書をメールで送るには？"
    assert sent["answer"]["faq_id"].startswith("ja-invoices-") and sent["answer"]["title"]
    assert sent["page"] == {"url": "https://app.example/invoices/12"}
    assert sent["desk_url"] == f"https://guide.example/admin/escalations?site=demo&id={escalation_id}"
    done = wait_for(lambda: (r := alert_rows(app)[0]).status == "delivered" and r)
    assert got["headers"]["X-Guide-Delivery"] == done.id and done.attempts == 1


def test_a_thumbs_down_waits_for_its_comment_and_is_sent_with_it(receivers, make_app):
    hook = receivers()
    app = make_app(site(alerts=hook.url, alerts_secret=SECRET), FEEDBACK_ALERT_WAIT=3600)
    qid = ask(app)
    client = app.test_client()
    vote = client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False})
    assert vote.status_code == 201 and vote.get_json()["escalation"] == {"support": None}
    waiting = alert_rows(app, kind="feedback.negative")
    assert [(r.status, r.attempts) for r in waiting] == [("pending", 0)] and waiting[0].next_attempt_at > time.time() + 3000
    comment = client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False,
                                                     "feedback_id": vote.get_json()["feedback_id"],
                                                     "comment": "It does not say where the button is"})
    assert comment.status_code == 201
    wait_for(lambda: alert_rows(app)[0].status == "delivered")
    assert len(hook.got) == 1 and len(alert_rows(app)) == 1  # one alert, with the comment
    sent = json.loads(hook.got[0]["body"])
    assert sent["event"] == "feedback.negative" and hook.got[0]["headers"]["X-Guide-Event"] == "feedback.negative"
    assert sent["feedback"] == {"id": vote.get_json()["feedback_id"], "comment": "It does not say where the button is"}
    assert sent["question"]["text"] == "請求書をメールで送るには？" and sent["answer"]["faq_id"].startswith("ja-invoices-")
    assert sent["tour"] == {"id": "invoice-send", "step": "send-button"}
    assert sent["page"] == {"url": "https://app.example/invoices"}
    assert sent["desk_url"] == "https://guide.example/admin/feedback?site=demo"


def test_a_comment_after_the_alert_went_is_a_second_alert(receivers, make_app):
    hook = receivers()
    app = make_app(site(alerts=hook.url, alerts_secret=SECRET), FEEDBACK_ALERT_WAIT=0)
    qid = ask(app)
    client = app.test_client()
    vote = client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False}).get_json()
    wait_for(lambda: alert_rows(app)[0].status == "delivered")
    client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False,
                                          "feedback_id": vote["feedback_id"], "comment": "too vague"})
    wait_for(lambda: len(hook.got) == 2 and all(r.status == "delivered" for r in alert_rows(app)))
    first, second = (json.loads(g["body"])["feedback"] for g in hook.got)
    assert first == {"id": vote["feedback_id"], "comment": None}
    assert second == {"id": vote["feedback_id"], "comment": "too vague"}
    client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": True})
    assert len(alert_rows(app)) == 2  # a 👍 is no alert


def test_a_failing_receiver_is_retried_and_one_that_is_down_leaves_the_alert_failed(receivers, make_app):
    hook = receivers(statuses=[500, 503])
    app = make_app(site(alerts=hook.url, alerts_secret=SECRET), FEEDBACK_ALERT_WAIT=0)
    app.test_client().post("/api/v1/feedback", json={"site": "demo", "question_id": ask(app), "helpful": False})
    done = wait_for(lambda: (r := alert_rows(app)[0]).status == "delivered" and r)
    assert done.attempts == 3 and len(hook.got) == 3 and done.last_error is None
    assert len({g["headers"]["X-Guide-Delivery"] for g in hook.got}) == 1  # the same alert each time

    down = make_app(site(alerts=dead_url(), alerts_secret=SECRET), FEEDBACK_ALERT_WAIT=0,
                    DATABASE_URL=app.config["DATABASE_URL"])
    services(app).close()
    down.test_client().post("/api/v1/feedback", json={"site": "demo", "question_id": ask(down), "helpful": False})
    failed = wait_for(lambda: (r := alert_rows(down)[-1]).status == "failed" and r)
    assert failed.attempts == 3 and failed.next_attempt_at is None and failed.delivered_at is None
    assert "Connection" in failed.last_error or "refused" in failed.last_error.lower(), failed.last_error

    make_admin(down)
    desk = down.test_client()
    assert login(desk).status_code == 303
    page = desk.get("/admin/escalations?site=demo")
    assert page.status_code == 200 and "CSチームへの通知" in page.get_data(as_text=True)
    exported = desk.get("/admin/escalations?site=demo&format=csv&table=alerts").get_data(as_text=True)
    head, *lines = exported.lstrip("\ufeff").splitlines()
    assert head == "at,kind,channel,status,attempts,last_error,delivered_at"
    assert sorted(line.split(",")[1:5] for line in lines) == [["feedback.negative", "webhook", "delivered", "3"],
                                                            ["feedback.negative", "webhook", "failed", "3"]]
    # the JSON admin API has the same table (on the escalations endpoint, for a token made with --write)
    token = create_token(services(down).db, "bi-alerts", write=True)
    body = desk.get("/api/v1/admin/escalations?site=demo", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert sorted((a["kind"], a["status"], a["attempts"]) for a in body["alerts"]) == [
        ("feedback.negative", "delivered", 3), ("feedback.negative", "failed", 3)]
    assert "target" not in body["alerts"][0]  # a Slack hook's URL is its secret


def test_a_slack_hook_gets_a_slack_message_without_a_signature(receivers, make_app):
    hook = receivers()
    url = hook.url.replace("/hooks/guide", "/services/T000/B000/XXXX")
    app = make_app(site(alerts=url, alerts_format="slack"), FEEDBACK_ALERT_WAIT=0)
    app.test_client().post("/api/v1/feedback", json={"site": "demo", "question_id": ask(app), "helpful": False,
                                                     "comment": "<b>bad</b> & wrong"})
    got = wait_for(lambda: hook.got)[0]
    assert got["path"] == "/services/T000/B000/XXXX" and "X-Guide-Signature" not in got["headers"]
    body = json.loads(got["body"])
    assert set(body) == {"text", "blocks"} and body["text"].startswith("[guide] Invoice Cloud: ")
    assert body["blocks"][0]["type"] == "header"
    sections = "\n".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; wrong" in sections and "請求書をメールで送るには？" in sections


def test_alert_settings_are_checked():
    slack = settings.validate_sites({"s": {"alerts": "https://hooks.slack.com/services/T/B/x"}})["s"]
    assert (slack["alerts_format"], slack["digest"], slack["alerts_email"]) == ("slack", "", [])
    with pytest.raises(ValueError, match="alerts_secret"):
        settings.validate_sites({"s": {"alerts": "https://cs.example/hook"}})
    with pytest.raises(ValueError, match="alerts_email"):
        settings.validate_sites({"s": {"alerts_email": ["not an address"]}})
    with pytest.raises(ValueError, match="digest"):
        settings.validate_sites({"s": {"digest": "hourly"}})
    with pytest.raises(ValueError, match="SMTP_HOST"):
        create_app({"TESTING": True, "SITES": {"s": {"alerts_email": ["cs@example.com"]}}})


# --- the digest -----------------------------------------------------------------------------------------

def _ms(day, hour: int, minute: int = 0) -> int:
    return int(datetime.combine(day, dtime(hour, minute), TZ).timestamp() * 1000)


def _walk(client, user: str, tour: str, steps: list[str], until: int, t0: int, stuck: bool) -> None:
    """``user`` goes through ``steps`` of ``tour`` up to ``until``; there (``stuck``) rage-clicks and closes it."""
    evs = [{"type": "tour_started", "at": t0}]
    for i, step in enumerate(steps[: until + 1]):
        evs.append({"type": "step_shown", "at": t0 + i * 10_000 + 1000, "step": step, "step_index": i})
        if i < until:
            evs.append({"type": "step_completed", "at": t0 + i * 10_000 + 5000, "step": step, "step_index": i})
    if stuck:
        evs += [{"type": "rage_click", "at": t0 + until * 10_000 + 6000, "step": steps[until], "props": {"count": 5}},
                {"type": "tour_dismissed", "at": t0 + until * 10_000 + 7000, "step": steps[until], "step_index": until}]
    for ev in evs:
        ev.update(id=uuid.uuid4().hex, url="https://app.example/partners", tour=tour, version=1)
    resp = client.post("/api/v1/events", json={"site": "demo", "user": user, "events": evs})
    assert resp.status_code == 200 and resp.get_json()["rejected"] == [], resp.get_data(as_text=True)


def _asked(app, question: str, locale: str, at_ms: int) -> None:
    from guide_server.chat.store import record_question

    qid = record_question(services(app).db, site="demo", channel="http", locale=locale, question=question,
                          outcome="no_answer", top_faq_id=None, confidence=0.05, url="https://app.example/billing")
    with services(app).db.begin() as conn:
        conn.execute(schema.questions.update().where(schema.questions.c.id == qid).values(created_at=at_ms / 1000))


def seed(app) -> None:
    """The day before yesterday: p1 gets stuck on the last step of invite-partner and asks one question.
    Yesterday: c1 and c2 get stuck on its second step, and three questions go unanswered, two the same
    as the day before's. Now: the selector of invoice-send's first step finds nothing for c3."""
    client = app.test_client()
    today = datetime.now(TZ).date()
    before, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    steps = ["menu", "email", "send"]
    _walk(client, "p1", "invite-partner", steps, 2, _ms(before, 12), stuck=True)
    _walk(client, "c1", "invite-partner", steps, 1, _ms(yesterday, 12), stuck=True)
    _walk(client, "c2", "invite-partner", steps, 1, _ms(yesterday, 13), stuck=True)
    _asked(app, "インボイス登録番号はどこで設定しますか", "ja", _ms(before, 14))
    _asked(app, "インボイス登録番号はどこで設定しますか", "ja", _ms(yesterday, 14))
    _asked(app, "インボイス登録番号はどこで設定しますか", "ja", _ms(yesterday, 15))
    _asked(app, "Can I pay by bank transfer?", "en", _ms(yesterday, 16))
    now = int(time.time() * 1000)
    resp = client.post("/api/v1/events", json={"site": "demo", "user": "c3", "events": [
        {"id": uuid.uuid4().hex, "type": "target_missing", "at": now - 1000, "url": "https://app.example/invoices",
         "tour": "invoice-send", "version": 1, "step": "send-button", "props": {"action": "center"}}]})
    assert resp.status_code == 200 and resp.get_json()["rejected"] == [], resp.get_data(as_text=True)


def test_the_digest_tells_what_is_new_and_how_the_figures_moved(make_app):
    app = make_app(site())
    seed(app)
    yesterday = datetime.now(TZ).date() - timedelta(days=1)
    with app.app_context():
        found = digest.compute("demo", "daily", yesterday, yesterday)
    assert found["period"] == {"from": yesterday.isoformat(), "to": yesterday.isoformat()}
    kpis = {k["name"]: k for k in found["kpis"]}
    assert (kpis["users"]["value"], kpis["users"]["previous"], kpis["users"]["change"]) == (2, 1, 1)
    assert (kpis["questions"]["value"], kpis["questions"]["previous"], kpis["questions"]["change"]) == (3, 1, 2)
    assert (kpis["tours_started"]["value"], kpis["tours_started"]["change"]) == (2, 1)
    assert [(s["tour"], s["step"]) for s in found["new_stuck_points"]] == [("invite-partner", "email")]
    assert [g["label"] for g in found["new_question_groups"]] == ["Can I pay by bank transfer?"]
    assert [(b["tour"], b["step"], b["target"]) for b in found["broken_targets"]] == [
        ("invoice-send", "send-button", "#invoice-table tbody tr:first-child .send")]


def test_the_daily_digest_is_mailed_once_however_many_senders_race_for_it(receivers, make_app):
    smtp = receivers(smtp=True, refuse=1)  # the first try is refused: the digest is sent again
    demo = site(alerts_email=["cs@example.com", "lead@example.com"], digest="daily", locale="en")
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_TLS": "none", "SMTP_FROM": "guide@example.com",
            "DIGEST_HOUR": 0}
    first, second = make_app(demo, **mail), make_app(demo, **mail)  # two processes on one database
    for app in (first, second):
        alerts.sender(app).stop()  # this test turns their clocks itself: their threads never start
    seed(first)
    racers = [threading.Thread(target=alerts.sender(app).tick) for app in (first, second, first)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    stored = alert_rows(first, kind="digest.daily")
    assert len(stored) == 1 and stored[0].channel == "email"
    refused = alerts.sender(first).send_ids([stored[0].id])[0]  # 451: due again in 50 ms, from any process
    assert (refused.status, refused.attempts) == ("pending", 1) and "451" in refused.last_error
    done = wait_for(lambda: (r := alerts.sender(second).send_ids([stored[0].id])[0]).status == "delivered" and r)
    assert done.attempts == 2
    assert len(smtp.got) == 1
    got = smtp.got[0]
    yesterday = (datetime.now(TZ).date() - timedelta(days=1)).isoformat()
    msg = got["message"]
    assert sorted(got["to"]) == ["cs@example.com", "lead@example.com"]
    assert msg["Subject"] == f"[guide] Invoice Cloud: Daily digest {yesterday}"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Users: 2 (+1 from 1)" in text and "Questions: 3 (+2 from 1)" in text
    assert "invite-partner / email" in text and "Can I pay by bank transfer?" in text
    assert "#invoice-table tbody tr:first-child .send" in text
    assert f"https://guide.example/admin/step?site=demo&amp;from={yesterday}&amp;to={yesterday}&amp;tour=invite-partner" in html
    assert msg["X-Guide-Delivery"] == stored[0].id


def test_the_digest_is_not_due_before_its_hour():
    tue = datetime(2026, 12, 1, 7, 59, tzinfo=TZ)  # a Tuesday
    assert digest.due_period("daily", tue, 8) is None
    assert [d.isoformat() for d in digest.due_period("daily", tue.replace(hour=8), 8)] == ["2026-11-30", "2026-11-30"]
    assert [d.isoformat() for d in digest.due_period("weekly", tue, 8)] == ["2026-11-23", "2026-11-29"]
    assert digest.due_period("weekly", datetime(2026, 11, 30, 7, tzinfo=TZ), 8) is None  # Monday, before 8


def test_guide_digest_prints_and_sends_the_digest(receivers, sample_index, database_url, tmp_path, monkeypatch, capsys):
    hook = receivers()
    monkeypatch.setenv("GUIDE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GUIDE_INDEX_DIR", str(sample_index))
    monkeypatch.setenv("GUIDE_DATABASE_URL", database_url)
    monkeypatch.setenv("GUIDE_RELOAD_INTERVAL", "0")
    monkeypatch.setenv("GUIDE_SITES", json.dumps({"demo": site(alerts=hook.url, alerts_secret=SECRET, digest="weekly")}))
    assert cli.main(["digest", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("[guide] Invoice Cloud: 週次ダイジェスト ") and "ユーザー: 0（前回 0 から +0）" in printed
    assert hook.got == []
    assert cli.main(["digest", "--site", "demo"]) == 0
    assert "demo: digest.weekly by webhook: delivered" in capsys.readouterr().out
    sent = json.loads(hook.got[0]["body"])
    assert hook.got[0]["headers"]["X-Guide-Event"] == "digest.weekly" and sent["event"] == "digest.weekly"
    assert verify(SECRET, hook.got[0]["headers"]["X-Guide-Signature"], hook.got[0]["body"])
    assert {k["name"] for k in sent["kpis"]} >= {"users", "answered_rate", "nps", "tours_completed"}
    assert cli.main(["digest", "--site", "demo"]) == 0  # this week's was sent
    assert "sent before" in capsys.readouterr().out and len(hook.got) == 1
    assert cli.main(["digest", "--site", "nowhere"]) == 2

"""Acceptance: the overview's figures reconcile with a hand count and with the detail pages.

Seven people use the real widget in Chromium against a real server: answers (a source opened and
👍, a 👎 with a comment, one answered confidently wrong and asked again), suggestions (one opened,
one not and rated 👎 with a comment), a question with no answer escalated to support, and a
question in English left alone. Every KPI of the overview, on the page and from the JSON API, is
checked against the count written down below, and against the totals of its detail page's CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

import pytest

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip install -e '.[test]')")

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from guide_server.db.schema import escalations, events, feedback, questions  # noqa: E402
from guide_server.web.context import services  # noqa: E402
from tests.support import chromium  # noqa: E402
from tests.widget.conftest import serve  # noqa: E402
from tests.widget.helpers import RECORD_EVENTS, call, eventually, visit, wait_title  # noqa: E402
from tests.widget.test_chat import LOG, ask  # noqa: E402

from .admin_seed import login, make_admin, make_token  # noqa: E402

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out


@dataclass(frozen=True)
class Asked:
    """One question as the test asked it, and what a person on the desk would call it by hand."""

    user: str
    outcome: str
    resolution: str  # confirmed | assumed | unresolved
    vote: bool | None = None
    escalated: bool = False


# What the story below does, question by question.
STORY = [
    Asked("u1", "answered", "confirmed", vote=True),  # on /t/basic during a tour: source opened, then 👍
    Asked("u2", "answered", "unresolved", vote=False),  # 👎 with a comment
    Asked("u3", "suggested", "confirmed"),  # the first suggestion opened
    Asked("u4", "suggested", "unresolved", vote=False),  # none opened, 👎 with a comment
    Asked("u5", "no_answer", "unresolved", escalated=True),  # written to support
    Asked("u6", "answered", "unresolved"),  # confidently wrong: asked again at once
    Asked("u6", "answered", "assumed"),  # the second ask, left alone
    Asked("u7", "answered", "assumed"),  # English, left alone
]
COMMENTS = {"u2": "手順が古いです", "u4": "どれも違います"}


def hand_count() -> dict:
    n = len(STORY)
    votes = [a.vote for a in STORY if a.vote is not None]
    count = lambda **k: sum(all(getattr(a, f) == v for f, v in k.items()) for a in STORY)  # noqa: E731
    return {
        "users": len({a.user for a in STORY}), "questions": n, "answered": count(outcome="answered"),
        "answered_rate": round(count(outcome="answered") / n, 4),
        "suggested": count(outcome="suggested"), "no_answer": count(outcome="no_answer"),
        "escalated": count(escalated=True), "resolution_rate": round(count(resolution="confirmed") / n, 4),
        "assumed_rate": round(count(resolution="assumed") / n, 4), "to_work_on": count(resolution="unresolved"),
        "ratings": len(votes), "helpful_rate": round(votes.count(True) / len(votes), 4),
        "tours_started": 1, "tours_completed": 0,  # u1's page starts t-basic; nobody finishes it
    }


@pytest.fixture(scope="module")
def guide(sample_index, tmp_path_factory):
    yield from serve(tmp_path_factory.mktemp("reconcile"), sample_index, sites=("demo",))


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def traffic(browser, guide):
    """The story, through the widget; done when the server holds every event, vote and escalation."""
    pages = {}

    def chat(user: str, path: str = "/t/chat"):
        context = browser.new_context(base_url=guide.url, viewport={"width": 1024, "height": 720})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.add_init_script(RECORD_EVENTS)
        visit(page, path, user=user)
        pages[user] = page
        return page

    def opens(page, link):
        with page.context.expect_page() as tab:
            link.click()
        tab.value.close()

    def vote(page, reply, helpful: bool, comment: str | None = None):
        reply.locator(".fb button").nth(0 if helpful else 1).click()
        if comment:
            box = page.locator(LOG + " .m.a textarea").last
            box.fill(comment)
            page.locator(LOG + " .m.a form .pri").last.click()
            expect(page.locator(LOG + " .m.a form")).to_have_count(0)

    page = chat("u1", "/t/basic")
    wait_title(page, "ようこそ")
    call(page, "open-chat")
    reply = ask(page, "請求書をメールで送りたい")
    opens(page, reply.locator("a.src"))
    vote(page, reply, True)

    page = chat("u2")
    call(page, "open-chat")
    vote(page, ask(page, "パスワードを忘れた"), False, COMMENTS["u2"])

    page = chat("u3")
    call(page, "open-chat")
    reply = ask(page, "請求書をプリントアウトしたいんだけどボタンどこ")
    opens(page, reply.locator("li a").first)

    page = chat("u4")
    call(page, "open-chat")
    reply = ask(page, "ドル建てで請求書を作りたい")
    expect(reply.locator("li a")).to_have_count(3)
    vote(page, reply, False, COMMENTS["u4"])

    page = chat("u5")
    call(page, "open-chat")
    ask(page, "ピザを注文したい").locator("button", has_text="担当者に問い合わせる").click()
    page.locator(LOG + " form .pri").last.click()
    expect(page.locator(LOG + " a[href^='mailto:']")).to_have_count(1)

    page = chat("u6")
    call(page, "open-chat")
    for _ in range(2):
        expect(ask(page, "お客さんに領収書を発行したい").locator("a.src")).to_have_count(1)

    page = chat("u7")
    call(page, "open-chat")
    expect(ask(page, "How do I reset my password?").locator("a.src")).to_have_count(1)

    for page in pages.values():
        page.goto("about:blank")  # the widget sends what it still holds as the page goes
    engine = services(guide.app).db

    def stored():
        with engine.connect() as conn:
            people = conn.execute(select(func.count(events.c.user_id.distinct()))).scalar_one()
            opened = conn.execute(select(func.count()).where(events.c.type == "answer_opened")).scalar_one()
            comments = conn.execute(select(func.count()).where(feedback.c.comment.is_not(None))).scalar_one()
            escalated = conn.execute(select(func.count()).select_from(escalations)).scalar_one()
        assert (people, opened, comments, escalated) == (7, 2, 2, 1)

    eventually(stored, timeout=20)
    for page in pages.values():
        page.context.close()
    return guide


@pytest.fixture(scope="module")
def desk(traffic):
    app = traffic.app
    make_admin(app)
    client = app.test_client()
    assert login(client).status_code == 303
    client.token = make_token(app)
    return client


def _csv(desk, path: str, table: str) -> list[dict]:
    resp = desk.get(f"{path}?format=csv&table={table}")
    assert resp.status_code == 200
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))


def _shown(key: str, value) -> str:
    """A KPI as the overview's card prints it."""
    return f"{value * 100:.1f}%" if key.endswith("_rate") else str(value)


def test_the_api_overview_is_the_hand_count(desk):
    body = desk.get("/api/v1/admin/overview", headers={"Authorization": f"Bearer {desk.token}"}).get_json()
    expected = hand_count()
    assert {k: body["overview"][k] for k in expected} == expected


def test_the_api_lists_each_question_as_counted_by_hand(desk):
    body = desk.get("/api/v1/admin/questions", headers={"Authorization": f"Bearer {desk.token}"}).get_json()
    got = sorted((a["outcome"], a["resolution"], a["escalated"]) for a in body["questions"])
    assert got == sorted((a.outcome, a.resolution, a.escalated) for a in STORY)
    (picked,) = [a for a in body["questions"] if a["outcome"] == "suggested" and a["opened"]]
    assert picked["opened"] == [{"which": "suggestion", "faq_id": "ja-invoices-download-pdf", "rank": 0}]


def test_the_overview_page_shows_the_hand_count(desk):
    html = desk.get("/admin/").get_data(as_text=True)
    cards = dict(re.findall(r'id="kpi-(\w+)".*?gd-kpi-value">([^<]*)<', html, re.S))
    assert {k: cards[k] for k in hand_count()} == {k: _shown(k, v) for k, v in hand_count().items()}


def test_questions_to_work_on_total_the_unresolved_and_show_what_the_bot_did(desk):
    expected = hand_count()
    groups = _csv(desk, "/admin/unanswered", "unanswered")
    assert sum(int(g["count"]) for g in groups) == expected["to_work_on"]
    assert sum(int(g["reason_no_answer"]) for g in groups) == expected["no_answer"]
    assert sum(int(g["reason_none_opened"]) for g in groups) == 1  # u4; u3 opened one
    assert sum(int(g["reason_not_helpful"]) for g in groups) == 2  # u2 and u4
    assert sum(int(g["reason_escalated"]) for g in groups) == expected["escalated"]
    # the confidently wrong answer, in whichever group its meaning put it
    (wrong,) = [g for g in groups if "ja-billing-receipt" in g["answers"]]
    assert wrong["reason_reasked"] == "1" and "お客さんに領収書を発行したい" in wrong["examples"]
    with services(desk.application).db.connect() as conn:  # what the bot said at the time
        (first,) = conn.execute(select(questions.c.confidence).where(questions.c.question == "お客さんに領収書を発行したい")
                                .order_by(questions.c.created_at).limit(1)).scalars()
    assert f"ja-billing-receipt ({first:.2f}) ×1" in wrong["answers"] and "↻1" in wrong["answers"]
    html = desk.get("/admin/unanswered").get_data(as_text=True)
    assert "請求クラウドの利用料金の領収書を発行するには？" in html and f"（確信度 {first:.2f}）" in html


def test_feedback_totals_are_the_overviews_and_every_comment_is_there(desk):
    expected = hand_count()
    rows = _csv(desk, "/admin/feedback", "feedback")
    up, down = sum(int(r["up"]) for r in rows), sum(int(r["down"]) for r in rows)
    assert up + down == expected["ratings"] and round(up / (up + down), 4) == expected["helpful_rate"]
    assert sum(int(r["shown"]) for r in rows) == expected["questions"]
    for outcome in ("answered", "suggested", "no_answer"):
        assert sum(int(r["shown"]) for r in rows if r["outcome"] == outcome) == expected[outcome]
    comments = _csv(desk, "/admin/feedback", "feedback-comments")
    assert sorted((c["outcome"], c["comment"]) for c in comments) == [
        ("answered", COMMENTS["u2"]), ("suggested", COMMENTS["u4"])]


def test_escalations_and_funnels_total_the_overviews(desk):
    expected = hand_count()
    assert len(_csv(desk, "/admin/escalations", "escalations")) == expected["escalated"]
    funnels = _csv(desk, "/admin/funnels", "funnels")
    assert sum(int(s["reached"]) for s in funnels if s["step_index"] == "0") == expected["tours_started"]
    assert [(s["tour_id"], s["reached"]) for s in funnels if s["step_index"] == "0"] == [("t-basic", "1")]


def test_the_widget_says_which_faq_was_opened(traffic):
    with services(traffic.app).db.connect() as conn:
        props = conn.execute(select(events.c.props).where(events.c.type == "answer_opened").order_by(events.c.at)).scalars()
        opened = [{k: v for k, v in json.loads(p).items() if k != "question_id"} for p in props]
    assert opened == [{"faq_id": "ja-invoices-send-email", "which": "source"},
                      {"faq_id": "ja-invoices-download-pdf", "which": "suggestion", "rank": 0}]

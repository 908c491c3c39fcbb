"""Tenant isolation, endpoint by endpoint: with site A's key ("demo") and site B's ids ("b"), no
public endpoint, chat message, desk page or admin API endpoint reads, changes or counts anything of B.

Two tables drive it: PUBLIC (every public route and chat message type) and DESK (every desk page
and admin API endpoint, for an account and a token given site A only). A public probe is sent twice:
with B's key, to show that the ids are real (B's data comes back), then with A's key, where the
answer is a refusal (401/403/404) or holds nothing of B, and B's rows in the database do not
change. Everything runs with both sites in identity "open", then again in "verified", with tokens
signed by each site's secret. A new route fails ``test_every_route_is_probed_or_takes_no_site_ids``
until it is added to a table, or to NO_SITE_IDS with the reason it needs no probe.

Site "b" has content of its own, written here: an FAQ, a tour, a checklist and an NPS survey, and a
public FAQ whose ``related`` names B's FAQ. Everything of B that A never sends is in B_MARKERS.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import websocket
from sqlalchemy import select

from guide_server import create_app
from guide_server.chat import ws
from guide_server.db import schema
from guide_server.desk import auth
from guide_server.privacy import pseudonymise
from guide_server.search.builder import build
from guide_server.web import preview
from guide_server.web.context import services
from guide_server.web.identity import TOKEN_HEADER, sign
from tests.desk.admin_seed import PASSWORD, login
from tests.support import MODELS, ROOT, LiveServer, assert_error, write_content

A, B = "demo", "b"
USER = "shared-user-7"  # the same user id on both sites: two different people
SECRETS = {A: "identity-secret-of-site-a-0123456789", B: "identity-secret-of-site-b-0123456789"}
B_QUESTION = "経費精算の締め日はいつですか"
B_UNANSWERED = "ペンギンの飼育許可証はどこで更新しますかzzz"
B_TITLE, B_BODY = "B社だけの経費精算の締め日", "毎月25日に締め"
B_COMMENT, B_NPS_COMMENT = "B社のフィードバック", "B社のNPSコメント"
B_PLAN = "b-secret-plan"
B_SITE_NAME = "B社ポータル"
B_FAQ = f"""---
id: ja-b-only
title: {B_TITLE}
questions:
  - {B_QUESTION}
  - 立替経費はいつまでに申請しますか
category: b
locale: ja
sites: [b]
---
B社の経費精算は{B_BODY}、翌月10日に振り込みます。
"""
PUBLIC_FAQ = """---
id: ja-public-related
title: 経費の領収書を添付するには？
questions: [領収書の画像を経費に添付したい]
category: expenses
locale: ja
related: [ja-b-only]
---
経費の明細画面で領収書の画像を添付できます。
"""
B_TOUR = {"id": "b-tour", "kind": "tour", "title": {"ja": "B社のツアー"}, "sites": [B], "match": {"urls": ["/b*"]},
          "steps": [{"id": "b-first-step", "title": {"ja": "B社へようこそ"}},
                    {"id": "b-secret-step", "title": {"ja": "B社の秘密の手順"}}]}
B_CHECKLIST = {"id": "b-checklist", "kind": "checklist", "title": {"ja": "B社の初期設定"}, "sites": [B],
               "match": {"urls": ["/b*"]},
               "tasks": [{"id": "b-task", "title": {"ja": "B社のタスク"}, "done_when": {"event": "b_thing_done"}},
                         {"id": "b-tour-task", "title": {"ja": "B社のツアーを見る"}, "tour": "b-tour",
                          "done_when": {"tour_completed": "b-tour"}}]}
B_SURVEY = {"id": "b-survey", "kind": "nps", "question": {"ja": "B社を友人に勧めますか"}, "sites": [B],
            "match": {"urls": ["/b*"]}, "after_days": 0}
B_PAGE = "https://b.example/b/home"

# What only B has; a reply to A shows none of them unless A's own request holds it.
B_MARKERS = [B_TITLE, B_BODY, B_UNANSWERED, B_COMMENT, B_NPS_COMMENT, B_PLAN, B_SITE_NAME, "ja-b-only",
             "b-tour", "B社のツアー", "b-first-step", "B社へようこそ", "b-secret-step", "B社の秘密の手順",
             "b-checklist", "B社の初期設定", "b-task", "b-survey", "B社を友人に勧めますか"]
# The ids of B's content that A's own probes name (events, progress, a page's done list): A's desk
# may show them as A's own events did. What B's users wrote or were shown stays B's alone.
A_SENT = ["b-tour", "b-first-step", "b-secret-step", "b-survey", "b-checklist", "b-task"]
DESK_MARKERS = [m for m in B_MARKERS if m not in A_SENT]
ATTACK_DAYS = 20  # A's key sent a step of B's tour this many days ago (seed), alone on that day
LIMITS_OFF = {name: 0 for name in ("LIMIT_SITE", "LIMIT_ASK", "LIMIT_SEARCH", "LIMIT_FEEDBACK", "LIMIT_EVENTS",
                                   "LIMIT_TOURS", "LIMIT_IDENTIFY", "LIMIT_PROGRESS", "LIMIT_TRACK", "LIMIT_CHAT",
                                   "LIMIT_ESCALATIONS")}


@dataclass
class Reply:
    status: int
    text: str  # JSON re-dumped without \u escapes, so that Japanese markers can be looked for
    sent: str  # what the request held (path, query, body): markers in it are not a leak when echoed


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tenants")
    content = root / "content"
    shutil.copytree(ROOT / "content", content)
    write_content(content, {"ja/b-only.md": B_FAQ, "ja/public-related.md": PUBLIC_FAQ})
    for rel, item in (("tours/b-tour.yml", B_TOUR), ("tours/b-checklist.yml", B_CHECKLIST),
                      ("surveys/b-survey.yml", B_SURVEY)):
        (content / rel).write_text(json.dumps(item, ensure_ascii=False), encoding="utf-8")
    build(content, root / "index", MODELS, progress=False)
    return root


class Tenants:
    """The app of one identity mode, its live server (for /ws/chat), and B's ids once seeded."""

    def __init__(self, app, mode: str):
        self.app, self.mode, self.client = app, mode, app.test_client()
        self.server = LiveServer(app)
        self.ids: dict[str, str] = {}

    # --- who is asking, as each site's widget sends it ---

    def token(self, site: str, user: str, traits: dict | None = None) -> str:
        claims = {"sub": user, "aud": site, "exp": int(time.time()) + 3600, **({"traits": traits} if traits else {})}
        return sign(claims, SECRETS[site])

    def person(self, site: str, user: str = USER, traits: dict | None = None) -> dict:
        if self.mode == "verified":
            return {"user": user, "token": self.token(site, user, traits)}
        return {"user": user, **({"traits": traits} if traits else {})}

    # --- requests ---

    def get(self, site: str | None, path: str, params: dict | None = None, user: str | None = None) -> Reply:
        params = {**({"site": site} if site else {}), **(params or {})}
        headers = {}
        if user is not None:
            params["user"] = user
            if self.mode == "verified":
                headers[TOKEN_HEADER] = self.token(site, user)
        return reply(self.client.get(path, query_string=params, headers=headers), path + dumps(params))

    def post(self, site: str, path: str, body: dict) -> Reply:
        body = {"site": site, **body}
        resp = self.client.post("/api/v1/" + path, data=json.dumps(body), content_type="text/plain")
        return reply(resp, path + dumps({k: v for k, v in body.items() if k != "token"}))

    def chat(self, site: str, message: dict) -> Reply:
        sock = websocket.create_connection(f"ws://127.0.0.1:{self.server.port}/ws/chat?site={site}", timeout=30)
        try:
            sock.send(json.dumps(message))
            answer = json.loads(sock.recv())
        finally:
            sock.close()
        status = answer["error"]["status"] if answer["type"] == "error" else 200
        return Reply(status, dumps(answer), dumps({k: v for k, v in message.items() if k != "token"}))

    def events(self, site: str, user: str = USER) -> Reply:
        """A batch naming B's tour, steps, question, survey and checklist, as ``site``'s widget sends it."""
        at, qid = int(time.time() * 1000) - 60_000, self.ids["question"]
        tour = {"tour": "b-tour", "version": 1}
        batch = [{"type": "tour_started", **tour},
                 {"type": "step_shown", **tour, "step": "b-first-step", "step_index": 0},
                 {"type": "step_completed", **tour, "step": "b-first-step", "step_index": 0},
                 {"type": "step_shown", **tour, "step": "b-secret-step", "step_index": 1},
                 {"type": "question_asked", **tour, "step": "b-secret-step", "step_index": 1, "props": {"question_id": qid}},
                 {"type": "answer_feedback", "props": {"question_id": qid, "helpful": False}},
                 {"type": "nps_answered", "props": {"survey": "b-survey", "score": 2, "comment": "x"}},
                 {"type": "checklist_started", "props": {"checklist": "b-checklist"}},
                 {"type": "checklist_task_completed", "props": {"checklist": "b-checklist", "task": "b-task"}}]
        batch = [{"id": uuid.uuid4().hex, "at": at + n, "url": B_PAGE, **e} for n, e in enumerate(batch)]
        return self.post(site, "events", {**self.person(site, user), "events": batch})

    # --- B's data, as B's widget makes it; and what A's key already tried ---

    def seed(self) -> None:
        ok = self.post(B, "identify", self.person(B, traits={"plan": B_PLAN}))
        assert ok.status == 200, ok.text
        asked = json.loads(self.post(B, "ask", {"question": B_QUESTION, **self.person(B)}).text)
        assert asked["outcome"] != "no_answer" and "ja-b-only" in dumps(asked), asked
        self.ids["question"] = asked["question_id"]
        lost = json.loads(self.post(B, "ask", {"question": B_UNANSWERED, **self.person(B)}).text)
        assert lost["outcome"] == "no_answer", lost
        self.ids["unanswered"] = lost["question_id"]
        voted = self.post(B, "feedback", {"question_id": self.ids["question"], "helpful": False, "comment": B_COMMENT})
        self.ids["feedback"] = json.loads(voted.text)["feedback_id"]
        escalated = self.post(B, "escalations", {"message": B_COMMENT, "reason": "unhelpful",  # the desk shows B's answer
                                                 "question_id": self.ids["question"], **self.person(B)})
        assert escalated.status == 201, escalated.text
        for sent in (self.events(B), self.post(B, "track", {"name": "b_thing_done", **self.person(B)}),
                     self.post(B, "tours/progress", {"tour": "b-tour", "version": 1, "step": 1, "status": "active",
                                                     **self.person(B)})):
            assert sent.status == 200, sent.text
        answered = self.post(B, "events", {**self.person(B), "events": [
            {"id": uuid.uuid4().hex, "type": "nps_answered", "at": int(time.time() * 1000) - 30_000, "url": B_PAGE,
             "props": {"survey": "b-survey", "score": 3, "comment": B_NPS_COMMENT}}]})
        assert json.loads(answered.text)["accepted"] == 1
        self.ids["pseudonym"] = pseudonymise(services(self.app).pseudonym_key, B, USER)
        # A's key sending an event that names B's tour: stored under A, and A's desk shows nothing
        # of B's tour that the event did not name itself (test_a_funnel_shows_no_step_of_another_sites_tour)
        self.post(A, "ask", {"question": "請求書をメールで送りたい", **self.person(A)})
        self.ids["attack_at"] = time.time() - ATTACK_DAYS * 86400
        sent = self.post(A, "events", {**self.person(A), "events": [
            {"id": uuid.uuid4().hex, "type": "step_shown", "at": int(self.ids["attack_at"] * 1000), "url": B_PAGE,
             "tour": "b-tour", "version": 1, "step": "b-first-step", "step_index": 0}]})
        assert json.loads(sent.text)["accepted"] == 1

    def b_rows(self) -> dict[str, list]:
        """Every row of B in every table that has a site (the audit log aside: it records who tried what)."""
        out = {}
        with services(self.app).db.connect() as conn:
            for table in schema.metadata.sorted_tables:
                if "site" in table.c and table.name != "admin_audit":
                    out[table.name] = sorted(map(tuple, conn.execute(select(table).where(table.c.site == B))), key=repr)
        return out


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def reply(resp, sent: str) -> Reply:
    body = resp.get_json(silent=True)
    return Reply(resp.status_code, dumps(body) if body is not None else resp.get_data(as_text=True), sent)


def leaked(r: Reply, markers: list[str] = B_MARKERS) -> list[str]:
    """B's markers in a reply that its request did not hold."""
    return [m for m in markers if m in r.text and m not in r.sent]


@pytest.fixture(scope="module", params=["open", "verified"])
def tenants(request, built):
    mode = request.param
    sites = {site: {"identity": mode, "origins": [],
                    **({"identity_secrets": [SECRETS[site]]} if mode == "verified" else {})} for site in (A, B)}
    sites[B]["name"] = B_SITE_NAME
    app = create_app({
        "TESTING": True, "INDEX_DIR": str(built / "index"), "CONTENT_DIR": str(built / "content"),
        "DATABASE_URL": f"sqlite:///{built / f'{mode}.db'}", "RELOAD_INTERVAL": 0, "SITES": sites, **LIMITS_OFF,
    })
    found = Tenants(app, mode)
    found.seed()
    yield found
    found.server.stop()
    services(app).close()


# --- the public side --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    endpoint: str  # the url rule's endpoint; "ws.chat:<type>" for a chat message type
    what: str
    send: Callable[[Tenants, str], Reply]  # the request with the key of this site, naming B's ids
    refused: bool = False  # A's key gets 401/403/404; otherwise a 2xx that holds nothing of B
    shows_b: bool = True  # with B's own key, the reply holds something of B (the ids are real)


PUBLIC = [
    Probe("api.ask", "the question only B's FAQ answers, asked at B's tour step",
          lambda t, s: t.post(s, "ask", {"question": B_QUESTION, "context": {"tour_id": "b-tour", "step_id": "b-first-step"},
                                         **t.person(s)})),
    Probe("api.ask", "the question a public FAQ answers, whose related names B's FAQ",
          lambda t, s: t.post(s, "ask", {"question": "領収書の画像を経費に添付したい", **t.person(s)})),
    Probe("api.feedback", "feedback on B's question",
          lambda t, s: t.post(s, "feedback", {"question_id": t.ids["question"], "helpful": False, "comment": "x"}),
          refused=True, shows_b=False),
    Probe("api.escalate", "an escalation naming B's question (the server would add B's answer)",
          lambda t, s: t.post(s, "escalations", {"message": "help", "reason": "unhelpful", "question_id": t.ids["question"],
                                                 **t.person(s)}), refused=True, shows_b=False),
    Probe("api.search_faqs", "a search for B's FAQ", lambda t, s: t.get(s, "/api/v1/search", {"q": B_QUESTION, "k": 50})),
    Probe("api.faq", "B's FAQ by id", lambda t, s: t.get(s, "/api/v1/faq/ja-b-only"), refused=True),
    Probe("api.faq", "a public FAQ whose related names B's FAQ", lambda t, s: t.get(s, "/api/v1/faq/ja-public-related")),
    Probe("events.post_events", "events naming B's tour, steps, question, survey and checklist",
          lambda t, s: t.events(s), shows_b=False),
    Probe("tours.page_tours", "a page of B's, for B's user",
          lambda t, s: t.get(s, "/api/v1/tours", {"url": B_PAGE, "done": "b-tour"}, user=USER)),
    Probe("tours.one_tour", "B's tour by id", lambda t, s: t.get(s, "/api/v1/tours/b-tour", user=USER), refused=True),
    Probe("tours.preview", "B's tour, with a preview token the desk signed for B's site",
          lambda t, s: t.get(s, "/api/v1/preview/b-tour", {"token": preview.sign(t.app.config["SECRET_KEY"], "b-tour", B, "ed")}),
          refused=True),
    Probe("tours.preview", "B's checklist, with a preview token signed for the asking site",
          lambda t, s: t.get(s, "/api/v1/preview/b-checklist", {"token": preview.sign(t.app.config["SECRET_KEY"], "b-checklist", s, "ed")}),
          refused=True),
    Probe("tours.tour_progress", "progress on B's tour",
          lambda t, s: t.post(s, "tours/progress", {"tour": "b-tour", "version": 1, "step": 1, "status": "completed",
                                                    "event": {"type": "target_missing", "step_id": "b-secret-step",
                                                              "action": "skip"}, **t.person(s)}), refused=True),
    Probe("tours.track", "the app event that ticks B's checklist",
          lambda t, s: t.post(s, "track", {"name": "b_thing_done", **t.person(s)})),
    Probe("tours.identify", "B's user, by the same id", lambda t, s: t.post(s, "identify", t.person(s))),
    Probe("help.help_page", "B's FAQ's page", lambda t, s: t.get(s, "/help/ja-b-only"), refused=True),
    Probe("help.help_index", "the list of FAQs", lambda t, s: t.get(s, "/help/")),
    Probe("help.help_search", "the help centre's search, asked B's question",
          lambda t, s: t.get(s, "/help/search", {"q": B_QUESTION})),
    Probe("help.help_category", "the help centre's page of B's category", lambda t, s: t.get(s, "/help/category/b"),
          refused=True),
    Probe("help.home", "the search box, asked B's question", lambda t, s: t.get(s, "/", {"q": B_QUESTION})),
    Probe("ws.chat:ask", "the question only B's FAQ answers, over the chat",
          lambda t, s: t.chat(s, {"type": "ask", "id": 1, "question": B_QUESTION, **t.person(s)})),
    Probe("ws.chat:feedback", "feedback on B's question, over the chat",
          lambda t, s: t.chat(s, {"type": "feedback", "id": 2, "question_id": t.ids["question"], "helpful": True}),
          refused=True, shows_b=False),
    Probe("ws.chat:ping", "a ping", lambda t, s: t.chat(s, {"type": "ping", "id": 3}), shows_b=False),
]


@pytest.mark.parametrize("probe", PUBLIC, ids=lambda p: f"{p.endpoint}:{p.what}")
def test_site_a_gets_nothing_of_site_b(tenants, probe):
    mine = probe.send(tenants, B)  # B's own key: the ids are real
    assert 200 <= mine.status < 300, mine.text
    assert not probe.shows_b or leaked(mine), mine.text
    before = tenants.b_rows()
    theirs = probe.send(tenants, A)
    if probe.refused:
        assert theirs.status in (401, 403, 404), theirs.text
    else:
        assert 200 <= theirs.status < 300, theirs.text
    assert leaked(theirs) == [], theirs.text
    assert tenants.b_rows() == before  # nothing of B written, changed or counted


def test_a_related_faq_of_b_is_listed_to_b_only(tenants):
    assert "ja-b-only" in json.loads(tenants.get(B, "/api/v1/faq/ja-public-related").text)["related"]
    assert json.loads(tenants.get(A, "/api/v1/faq/ja-public-related").text)["related"] == []
    answer = json.loads(tenants.post(A, "ask", {"question": "領収書の画像を経費に添付したい"}).text)["answer"]
    assert answer["id"] == "ja-public-related" and answer["related"] == []


def test_pages_that_name_no_site_show_no_sites_own_faqs(tenants):
    for path, params in (("/", {"q": B_QUESTION}), ("/help/", {}), ("/help/ja-b-only", {})):
        found = tenants.get(None, path, params)
        assert found.status in (200, 404) and leaked(found) == [], found.text
    assert tenants.get(None, "/help/ja-b-only").status == 404


def test_the_same_user_id_on_two_sites_is_two_people(tenants):
    on_a = json.loads(tenants.post(A, "identify", tenants.person(A, traits={"plan": "a-plan"})).text)
    assert B_PLAN not in dumps(on_a)
    on_b = json.loads(tenants.post(B, "identify", tenants.person(B)).text)
    assert on_b["traits"] == {"plan": B_PLAN}
    key = services(tenants.app).pseudonym_key
    assert pseudonymise(key, A, USER) != pseudonymise(key, B, USER)
    welcome = tenants.post(A, "tours/progress", {"tour": "welcome", "version": 1, "step": 1, "status": "active",
                                                 **tenants.person(A)})
    assert welcome.status == 200
    assert json.loads(tenants.get(B, "/api/v1/tours/b-tour", user=USER).text)["progress"]["step"] == 1  # B's, as seeded


def test_a_token_of_one_site_is_refused_on_the_other(tenants):
    if tenants.mode != "verified":
        pytest.skip("identity 'open' has no tokens")
    for site, other in ((A, B), (B, A)):
        foreign = {"user": USER, "token": tenants.token(other, USER, {"plan": B_PLAN})}
        for path, body in (("identify", foreign), ("track", {"name": "b_thing_done", **foreign}),
                           ("events", {**foreign, "events": []}), ("ask", {"question": B_QUESTION, **foreign})):
            assert_error(tenants.client.post("/api/v1/" + path, json={"site": site, **body}), 401, "invalid_user_token")
        resp = tenants.client.get(f"/api/v1/tours?site={site}&user={USER}", headers={TOKEN_HEADER: foreign["token"]})
        assert_error(resp, 401, "invalid_user_token")
        # signed with the right secret but for another site (aud): refused as well
        misaddressed = sign({"sub": USER, "aud": other, "exp": int(time.time()) + 60}, SECRETS[site])
        assert_error(tenants.client.post("/api/v1/identify", json={"site": site, "user": USER, "token": misaddressed}),
                     401, "invalid_user_token")


def test_events_sent_with_a_key_are_stored_and_counted_under_that_site(tenants):
    token = auth.create_token(services(tenants.app).db, f"b-reader-{uuid.uuid4().hex[:6]}", sites=frozenset({B}))

    def funnels():
        return tenants.client.get(f"/api/v1/admin/funnels?site={B}",
                                  headers={"Authorization": f"Bearer {token}"}).get_json()["funnels"]

    before = funnels()
    for n in range(3):
        assert json.loads(tenants.events(A, user=f"a-user-{n}").text)["rejected"] == []
    assert funnels() == before
    reached = {s["step"]: s["reached"] for f in before if f["tour"] == "b-tour" for s in f["steps"]}
    assert reached["b-first-step"] >= 1  # B's own user, from the seed and the probes with B's key


# --- the desk and the admin API, given site A only -----------------------------------------------------

@dataclass(frozen=True)
class DeskProbe:
    endpoint: str
    path: str  # {site}, {pseudonym} and {question} are filled in
    shows_b: bool = True  # B's admin finds something of B there


STEP = "tour=b-tour&version=1&step=b-secret-step"
DESK = [
    DeskProbe("admin.overview", "/admin/?site={site}", shows_b=False),
    DeskProbe("admin.funnels", "/admin/funnels?site={site}"),
    DeskProbe("admin.stuck", "/admin/stuck?site={site}"),
    DeskProbe("admin.step", "/admin/step?site={site}&" + STEP),
    DeskProbe("admin.user", "/admin/user?site={site}&user={pseudonym}"),
    DeskProbe("admin.unanswered", "/admin/unanswered?site={site}"),
    DeskProbe("admin.feedback", "/admin/feedback?site={site}"),
    DeskProbe("admin.onboarding", "/admin/onboarding?site={site}", shows_b=False),
    DeskProbe("admin.nps", "/admin/nps?site={site}"),
    DeskProbe("admin.tour_list", "/admin/tours?site={site}"),
    DeskProbe("admin.escalations", "/admin/escalations?site={site}"),
    DeskProbe("admin_api.overview", "/api/v1/admin/overview?site={site}", shows_b=False),
    DeskProbe("admin_api.funnels", "/api/v1/admin/funnels?site={site}"),
    DeskProbe("admin_api.stuck_points", "/api/v1/admin/stuck-points?site={site}"),
    DeskProbe("admin_api.step_users", "/api/v1/admin/stuck-points/users?site={site}&" + STEP),
    DeskProbe("admin_api.timeline", "/api/v1/admin/users/{pseudonym}/timeline?site={site}"),
    DeskProbe("admin_api.unanswered", "/api/v1/admin/unanswered?site={site}"),
    DeskProbe("admin_api.questions", "/api/v1/admin/questions?site={site}"),
    DeskProbe("admin_api.feedback", "/api/v1/admin/feedback?site={site}"),
    DeskProbe("admin_api.onboarding", "/api/v1/admin/onboarding?site={site}", shows_b=False),
    DeskProbe("admin_api.nps", "/api/v1/admin/nps?site={site}"),
    DeskProbe("admin_api.escalations", "/api/v1/admin/escalations?site={site}"),
]
DESK_WRITES = {"admin.draft", "admin_api.drafts"}  # test_drafts_take_no_question_of_another_site
DESK_WRITES |= {"admin.teach", "admin_api.teach"}  # test_teaching_takes_no_faq_or_question_of_another_site
DESK_WRITES |= {"admin.find_user"}  # test_the_user_search_finds_each_sites_own_person
DESK_WRITES |= {"admin.preview"}  # tests/guidance/test_preview.py: test_only_editors_of_the_site_get_a_preview
DESK_ADMIN_ONLY = {"admin.accounts": "/admin/accounts", "admin.audit_page": "/admin/audit"}


@pytest.fixture(scope="module")
def desk(tenants):
    """Clients of an editor of A, an admin (every site), and API tokens of A (with --write) and of B."""
    engine, tag = services(tenants.app).db, tenants.mode
    auth.create_admin(engine, f"ed-a-{tag}", PASSWORD, role="editor", sites=frozenset({A}))
    auth.create_admin(engine, f"root-{tag}", PASSWORD, role="admin")
    clients = {}
    for name in ("ed-a", "root"):
        clients[name] = tenants.app.test_client()
        assert login(clients[name], name=f"{name}-{tag}").status_code == 303
    for name, sites in (("token-a", {A}), ("token-b", {B})):
        token = auth.create_token(engine, f"{name}-{tag}", sites=frozenset(sites), write=True)
        clients[name] = _Bearer(tenants.app.test_client(), token)
    return clients


class _Bearer:
    def __init__(self, client, token: str):
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)


def _downloads(client, url: str, page: Reply) -> list[Reply]:
    """Every CSV the page links to (each of its tables), and its default CSV."""
    links = {u.replace("&amp;", "&") for u in re.findall(r'href="([^"]*format=csv[^"]*)"', page.text)}
    links.add(url + "&format=csv")
    return [reply(client.get(link), url) for link in sorted(links)]


@pytest.mark.parametrize("probe", DESK, ids=lambda p: p.endpoint)
def test_the_desk_of_site_a_shows_nothing_of_site_b(tenants, desk, probe):
    api = probe.endpoint.startswith("admin_api.")
    me, admin_of_b = (desk["token-a"], desk["token-b"]) if api else (desk["ed-a"], desk["root"])
    fill = {"pseudonym": tenants.ids["pseudonym"]}
    url_b, url_a = probe.path.format(site=B, **fill), probe.path.format(site=A, **fill)
    theirs = reply(admin_of_b.get(url_b), url_b)
    assert theirs.status == 200 and (not probe.shows_b or leaked(Reply(200, theirs.text, ""))), theirs.text
    refused = reply(me.get(url_b), url_b)
    assert refused.status == 403, refused.text
    assert leaked(refused, DESK_MARKERS) == [], refused.text
    mine = reply(me.get(url_a), url_a)
    assert mine.status == 200, mine.text
    assert leaked(mine, DESK_MARKERS) == [], mine.text
    if not api:
        for csv in _downloads(me, url_a, mine):
            assert csv.status == 200 and leaked(csv, DESK_MARKERS) == [], csv.text
    if probe.path.endswith("?site={site}"):  # no site named: A's, the first site it may see
        default = reply(me.get(probe.path.split("?")[0]), url_a)
        assert default.status == 200 and leaked(default, DESK_MARKERS) == [], default.text


def test_a_funnel_shows_no_step_of_another_sites_tour(tenants, desk):
    day = datetime.fromtimestamp(tenants.ids["attack_at"], ZoneInfo(tenants.app.config["ADMIN_TIMEZONE"])).date()
    found = desk["token-a"].get(f"/api/v1/admin/funnels?site={A}&from={day}&to={day}").get_json()["funnels"]
    assert [(f["tour"], [s["step"] for s in f["steps"]]) for f in found] == [("b-tour", ["b-first-step"])]
    page = desk["ed-a"].get(f"/admin/funnels?site={A}&from={day}&to={day}").get_data(as_text=True)
    assert "b-first-step" in page and "b-secret-step" not in page


def test_the_admin_only_pages_are_refused_to_an_account_of_one_site(desk):
    for url in DESK_ADMIN_ONLY.values():
        resp = desk["ed-a"].get(url + "?site=b")
        assert resp.status_code == 403 and B_SITE_NAME not in resp.get_data(as_text=True)


def test_drafts_take_no_question_of_another_site(tenants, desk):
    drafts = Path(tenants.app.config["CONTENT_DIR"]) / "faq" / "ja" / "drafts"
    ids = [tenants.ids["unanswered"], tenants.ids["question"]]
    slug = f"from-b-{tenants.mode}"
    api = desk["token-a"]
    for site, status in ((B, 403), (A, 400)):
        resp = api.post("/api/v1/admin/drafts", json={"site": site, "question_ids": ids, "locale": "ja", "title": "x",
                                                      "slug": slug})
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert leaked(reply(resp, "")) == []
    page = desk["ed-a"].get("/admin/unanswered?site=demo").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for site, status in ((B, 403), (A, 400)):
        resp = desk["ed-a"].post("/admin/unanswered/draft", data={
            "csrf_token": csrf, "site": site, "locale": "ja", "title": "x", "slug": slug, "question_id": ids})
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert leaked(reply(resp, "")) == []
    assert not list(drafts.glob(f"{slug}*"))


def test_teaching_takes_no_faq_or_question_of_another_site(tenants, desk):
    faqs = Path(tenants.app.config["CONTENT_DIR"]) / "faq"
    before = {p: p.read_bytes() for p in faqs.rglob("*.md")}
    ids = [tenants.ids["unanswered"], tenants.ids["question"]]
    page = desk["ed-a"].get("/admin/unanswered?site=demo").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # B's site refused; B's FAQ unknown to A; A's FAQ with B's questions: none found
    for site, faq, status in ((B, "ja-public-related", 403), (A, "ja-b-only", 404), (A, "ja-public-related", 400)):
        resp = desk["token-a"].post("/api/v1/admin/teach", json={"site": site, "faq_id": faq, "question_ids": ids})
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert leaked(reply(resp, faq)) == []  # the FAQ id asked for may be named back
        resp = desk["ed-a"].post("/admin/teach", data={"csrf_token": csrf, "site": site, "faq": faq, "hash": "0" * 64,
                                                      "question_id": ids, "page": "admin.unanswered"})
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert leaked(reply(resp, faq)) == []
    assert {p: p.read_bytes() for p in faqs.rglob("*.md")} == before


def test_the_user_search_finds_each_sites_own_person(tenants, desk):
    page = desk["ed-a"].get(f"/admin/?site={A}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf, "app_id": USER, "kind": "user", "next": "/admin/"}
    refused = desk["ed-a"].post("/admin/user/find", data={**form, "site": B})
    assert refused.status_code == 403 and leaked(reply(refused, USER), DESK_MARKERS) == []
    found = desk["ed-a"].post("/admin/user/find", data={**form, "site": A})
    assert found.status_code == 303  # the same id on A is another person, A's own
    mine = pseudonymise(services(tenants.app).pseudonym_key, A, USER)
    assert f"user={mine}" in found.headers["Location"] and tenants.ids["pseudonym"] not in found.headers["Location"]
    shown = reply(desk["ed-a"].get(found.headers["Location"]), found.headers["Location"])
    assert shown.status == 200 and leaked(shown, DESK_MARKERS) == [], shown.text


# --- every route is probed, or says why it needs no probe ---------------------------------------------

NO_SITE_IDS = {
    "health.health": "the server's build and FAQ counts, no site's data",
    "health.livez": "process liveness",
    "health.readyz": "readiness",
    "metrics.scrape": "counters by kind of request, no site's data",
    "openapi.openapi_json": "the API's description",
    "widget.embed_js": "the widget's script, the same for every site",
    "widget.embed_part": "the widget's parts (help panel, survey, editor), the same for every site",
    "widget.demo": "the demo app's pages: site 'demo' only, its token signed for its own user",
    "widget.demo_session": "the demo app's session: site 'demo' only, a new demo-xxxxxxxx user",
    "widget.static": "the demo app's files",
    "admin_session.login": "the desk's login form: no site yet",
    "admin_session.logout": "ends a session",
    "admin_session.switch_lang": "a language cookie",
    "admin_session.static": "the desk's CSS",
    "admin.unknown": "a 404 for any other desk path",
    "admin_api.unknown": "a 404 for any other admin API path",
}


def test_every_route_is_probed_or_takes_no_site_ids(built):
    app = create_app({"TESTING": True, "INDEX_DIR": str(built / "index"), "RELOAD_INTERVAL": 0,
                      "DATABASE_URL": f"sqlite:///{built / 'routes.db'}"})
    try:
        probed = ({p.endpoint.partition(":")[0] for p in PUBLIC} | {p.endpoint for p in DESK} | DESK_WRITES
                  | set(DESK_ADMIN_ONLY))
        routes = {rule.endpoint for rule in app.url_map.iter_rules()}
        assert routes - probed - set(NO_SITE_IDS) == set(), "add a probe to PUBLIC or DESK, or a reason to NO_SITE_IDS"
        assert set(NO_SITE_IDS) <= routes, "a route of NO_SITE_IDS is gone"
    finally:
        services(app).close()


def test_every_chat_message_type_is_probed():
    types = set(re.findall(r'kind == "(\w+)"', inspect.getsource(ws._dispatch)))
    assert types and types == {p.endpoint.partition(":")[2] for p in PUBLIC if p.endpoint.startswith("ws.chat:")}

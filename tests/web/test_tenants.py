"""Tenant isolation: with one site's key, nothing of another site is read, changed or counted —
tours, progress, checklists, surveys, FAQs (API, search, answers, /help), questions and feedback,
events, the chat socket's messages, and the desk's API with a token of one site.

Site "demo" has the sample content (the welcome tour, the onboarding checklist, the NPS survey);
site "b" has an FAQ and a tour of its own, written for these tests. A last test checks that every
public route is tried here, or says why it takes no site-specific id.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import websocket
from sqlalchemy import select

from guide_server import create_app
from guide_server.db.schema import events, survey_state
from guide_server.desk import auth
from guide_server.search.builder import build
from guide_server.web.context import services
from tests.support import MODELS, ROOT, LiveServer, make_event

B_FAQ = """---
id: ja-b-only
title: B社だけの経費精算の締め日
questions:
  - 経費精算の締め日はいつですか
  - 立替経費はいつまでに申請しますか
category: b
locale: ja
sites: [b]
---
B社の経費精算は毎月25日に締め、翌月10日に振り込みます。
"""
B_TOUR = {"id": "b-tour", "kind": "tour", "title": {"ja": "B社のツアー"}, "sites": ["b"], "match": {"urls": ["/b*"]},
          "steps": [{"id": "one", "title": {"ja": "B社へようこそ"}}]}
B_QUESTION = "経費精算の締め日はいつですか"
DEMO_URL = "https://app.demo.example/demo"


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("tenants")
    content = root / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "faq" / "ja" / "b-only.md").write_text(B_FAQ, encoding="utf-8")
    (content / "tours" / "b-tour.yml").write_text(json.dumps(B_TOUR, ensure_ascii=False), encoding="utf-8")
    build(content, root / "index", MODELS, progress=False)
    app = create_app({
        "TESTING": True, "INDEX_DIR": str(root / "index"), "CONTENT_DIR": str(content),
        "DATABASE_URL": f"sqlite:///{root / 'guide.db'}", "RELOAD_INTERVAL": 0, "LIMIT_SITE": 0,
        "SITES": {"demo": {"identity": "open", "origins": []}, "b": {"identity": "open", "origins": []}},
    })
    yield app
    services(app).close()


@pytest.fixture
def client(two_sites):
    return two_sites.test_client()


def post(client, path, body):
    return client.post("/api/v1/" + path, data=json.dumps(body), content_type="text/plain")


def demo_question(client, user="u-demo") -> str:
    return post(client, "ask", {"site": "demo", "question": "請求書をメールで送りたい", "user": user}).get_json()["question_id"]


# --- tours, progress, checklists, surveys -----------------------------------------------------------

def test_another_sites_tour_is_not_found_nor_saved(client):
    assert client.get("/api/v1/tours/welcome?site=b&user=u1").status_code == 404
    assert client.get("/api/v1/tours/b-tour?site=demo&user=u1").status_code == 404
    resp = post(client, "tours/progress", {"site": "b", "user": "u1", "tour": "welcome", "version": 1, "step": 2,
                                           "status": "active"})
    assert resp.status_code == 404
    assert client.get("/api/v1/tours/welcome?site=demo&user=u1").get_json()["progress"]["step"] == 0


def test_a_page_of_one_site_shows_nothing_of_the_other(client):
    seen = client.get("/api/v1/tours", query_string={"site": "b", "url": DEMO_URL, "user": "u-new"}).get_json()
    assert seen["tours"] == [] and seen["checklists"] == [] and seen["survey"] is None and seen["autostart"] is None
    mine = client.get("/api/v1/tours", query_string={"site": "b", "url": "https://b.example/b/home"}).get_json()
    assert [t["id"] for t in mine["tours"]] == ["b-tour"]
    theirs = client.get("/api/v1/tours", query_string={"site": "demo", "url": "https://b.example/b/home"}).get_json()
    assert "b-tour" not in [t["id"] for t in theirs["tours"]]


def test_tracking_and_traits_on_one_site_tick_and_target_nothing_on_the_other(client):
    assert post(client, "track", {"site": "b", "user": "u-t", "name": "invoice_created"}).get_json()["checklists"] == []
    assert post(client, "identify", {"site": "b", "user": "u-t", "traits": {"plan": "pro"}}).get_json()["traits"] == {"plan": "pro"}
    page = client.get("/api/v1/tours", query_string={"site": "demo", "url": DEMO_URL, "user": "u-t"}).get_json()
    tasks = {t["id"]: t["done"] for c in page["checklists"] for t in c["tasks"]}
    assert tasks["create-invoice"] is False
    assert post(client, "identify", {"site": "demo", "user": "u-t"}).get_json()["traits"] == {}


def test_a_survey_answer_sent_with_another_sites_key_is_that_sites_alone(client, two_sites):
    event = make_event("nps_answered", 1)
    event["props"] = {**event["props"], "survey": "nps"}
    assert post(client, "events", {"site": "b", "user": "u-s", "events": [event]}).get_json()["accepted"] == 1
    with services(two_sites).db.connect() as conn:
        sites = set(conn.execute(select(survey_state.c.site)).scalars())
    assert "demo" not in sites


# --- FAQs, questions, feedback ------------------------------------------------------------------------

def test_an_faq_of_one_site_is_invisible_to_the_other(client):
    assert client.get("/api/v1/faq/ja-b-only?site=b").status_code == 200
    assert client.get("/api/v1/faq/ja-b-only?site=demo").status_code == 404
    assert client.get("/help/ja-b-only?site=demo").status_code == 404
    assert b"ja-b-only" not in client.get("/help/?site=demo").data  # the index lists the FAQs every site may see
    found = client.get("/api/v1/search", query_string={"site": "demo", "q": B_QUESTION, "k": 50}).get_json()
    assert "ja-b-only" not in [r["id"] for r in found["results"]]
    answer = post(client, "ask", {"site": "demo", "question": B_QUESTION}).get_json()
    offered = [(answer.get("answer") or {}).get("id")] + [s["id"] for s in answer.get("suggestions", [])]
    assert "ja-b-only" not in offered
    mine = post(client, "ask", {"site": "b", "question": B_QUESTION}).get_json()
    assert (mine.get("answer") or {}).get("id") == "ja-b-only" or "ja-b-only" in [s["id"] for s in mine["suggestions"]]


def test_feedback_on_another_sites_question_is_not_found(client):
    qid = demo_question(client)
    resp = post(client, "feedback", {"site": "b", "question_id": qid, "helpful": False, "comment": "x"})
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "unknown_question"


def test_events_sent_with_one_sites_key_are_that_sites_whatever_they_name(client, two_sites):
    event = make_event("step_shown", 3, tour="welcome", step="hello", url=DEMO_URL)
    assert post(client, "events", {"site": "b", "user": "u-e", "events": [event]}).get_json()["accepted"] == 1
    with services(two_sites).db.connect() as conn:
        rows = conn.execute(select(events.c.site).where(events.c.event_id == event["id"])).scalars().all()
    assert rows == ["b"]


def test_the_chat_socket_of_one_site_answers_only_from_its_faqs_and_only_its_questions(two_sites, client):
    qid = demo_question(client)
    server = LiveServer(two_sites)
    try:
        ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site=b", timeout=20)
        ws.send(json.dumps({"type": "feedback", "id": 1, "question_id": qid, "helpful": True}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["error"]["code"] == "unknown_question"
        ws.close()
        ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site=demo", timeout=20)
        ws.send(json.dumps({"type": "ask", "id": 2, "question": B_QUESTION}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "answer"
        offered = [(reply.get("answer") or {}).get("id")] + [s["id"] for s in reply.get("suggestions", [])]
        assert "ja-b-only" not in offered
        ws.close()
    finally:
        server.stop()


# --- the desk's API with a token of one site ---------------------------------------------------------

def test_a_token_of_one_site_reads_and_drafts_nothing_of_the_other(client, two_sites, tmp_path):
    b_question = post(client, "ask", {"site": "b", "question": "全く関係のない質問ですzzz"}).get_json()["question_id"]
    token = auth.create_token(services(two_sites).db, "demo-only", sites=frozenset({"demo"}), write=True)
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("overview", "funnels", "stuck-points", "unanswered", "feedback", "onboarding", "nps",
                 "users/u1/timeline", "stuck-points/users?tour=welcome&step=hello"):
        sep = "&" if "?" in path else "?"
        resp = client.get(f"/api/v1/admin/{path}{sep}site=b", headers=bearer)
        assert resp.status_code == 403, (path, resp.status_code)
    resp = client.post("/api/v1/admin/drafts", json={"site": "b", "question_ids": [b_question], "locale": "ja",
                                                     "title": "x", "slug": "x"}, headers=bearer)
    assert resp.status_code == 403
    resp = client.post("/api/v1/admin/drafts", json={"site": "demo", "question_ids": [b_question], "locale": "ja",
                                                     "title": "x", "slug": "from-b"}, headers=bearer)
    assert 400 <= resp.status_code < 500  # b's question is no question of demo's
    assert not list((Path(two_sites.config["CONTENT_DIR"]) / "faq" / "ja" / "drafts").glob("from-b*"))


# --- every public route is covered --------------------------------------------------------------------

COVERED = {"api.ask", "api.feedback", "api.search_faqs", "api.faq", "events.post_events", "tours.page_tours",
           "tours.one_tour", "tours.tour_progress", "tours.track", "tours.identify", "help.help_page", "help.help_index",
           "ws.chat",
           "admin_api.overview", "admin_api.funnels", "admin_api.stuck_points", "admin_api.unanswered",
           "admin_api.feedback", "admin_api.onboarding", "admin_api.nps", "admin_api.timeline",
           "admin_api.step_users", "admin_api.drafts"}
NO_SITE_IDS = {
    "health.health": "the server's own state, no site's data",
    "health.livez": "process liveness",
    "health.readyz": "readiness",
    "metrics.scrape": "counters without site data",
    "openapi.openapi_json": "the API's description",
    "admin_api.unknown": "a 404 for any other path",
    "help.home": "the help centre's search box, with the site's FAQs as /api/v1/search filters them",
}


def test_every_public_route_is_tried_here_or_takes_no_site_ids(two_sites):
    public = {r.endpoint for r in two_sites.url_map.iter_rules()
              if r.rule.startswith(("/api/", "/ws/", "/help", "/")) and not r.rule.startswith(("/admin", "/demo", "/embed"))}
    assert public - COVERED - set(NO_SITE_IDS) == set()

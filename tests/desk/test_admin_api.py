"""The admin JSON API: a token on every endpoint, the same figures as the desk, JSON errors for bad input."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from guide_server.analytics import tours as tour_figures
from guide_server.db import schema
from guide_server.web.context import services

from .admin_seed import EXPECTED, SITE, STUCK_QUESTION, TOUR, UNANSWERED_JA, login, make_admin, make_app, make_token, seed

ENDPOINTS = ["overview", "funnels", "stuck-points", f"stuck-points/users?tour={TOUR}&version=1&step=new-button",
             "users/{u3}/timeline", "unanswered", "questions", "feedback", "onboarding", "nps"]


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    app.seeded = seed(app)
    app.token = make_token(app)
    yield app
    services(app).close()


@pytest.fixture
def api(app):
    client = app.test_client()

    def get(path: str, token: str | None = app.token, **headers):
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.get("/api/v1/admin/" + path.format(u3=app.seeded["pseudo"]["u3"]), headers=headers)

    return get


def _api_routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin_api."):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            out += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer "}, {"Authorization": "Bearer gdt_wrong"}, {"Authorization": "Basic YWxpY2U6eA=="},
    {"Authorization": "gdt_no_scheme"},
])
def test_every_endpoint_needs_a_token(app, headers):
    routes = _api_routes(app)
    assert {p for _, p in routes} >= {"/api/v1/admin/stuck-points", "/api/v1/admin/overview", "/api/v1/admin/nps"}
    client = app.test_client()
    for method, path in routes:
        resp = client.open(path, method=method, headers=headers)
        assert resp.status_code == 401, (method, path)
        assert resp.get_json()["error"]["code"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_desk_login_is_not_a_token(app):
    make_admin(app)
    client = app.test_client()
    login(client)
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/v1/admin/overview").status_code == 401


def test_the_token_scheme_is_case_insensitive_and_use_is_recorded(app, api):
    assert api("overview", token=None, Authorization=f"bearer {app.token}").status_code == 200
    with services(app).db.connect() as conn:
        assert conn.execute(select(schema.admin_tokens.c.last_used_at)).scalar() is not None


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_answers_with_its_parameters(api, path):
    resp = api(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["site"] == SITE
    assert resp.headers["Cache-Control"] == "no-store"


def test_stuck_points_are_the_desks_figures(app, api):
    body = api("stuck-points?from=2020-01-01&to=2029-12-30").get_json()
    assert body["from"] == "2020-01-01" and body["to"] == "2029-12-30"
    top = body["stuck_points"][0]
    assert (top["tour"], top["version"], top["step"]) == (TOUR, 1, EXPECTED["top_stuck"])
    assert (top["reached"], top["completed"], top["dropoff"]) == (4, 2, 0.5)
    assert top["signals"]["idle"] == 1 and top["signals"]["rage_click"] == 1
    assert [q["question"] for q in top["questions"]] == [STUCK_QUESTION]
    assert [p["score"] for p in body["stuck_points"]] == sorted((p["score"] for p in body["stuck_points"]), reverse=True)
    # exactly what analytics computes for the same range
    from guide_server.desk.figures import parse_query
    from guide_server.desk.roles import Access

    with app.test_request_context("/?from=2020-01-01&to=2029-12-30"):
        from flask import request

        q = parse_query(request.args, Access("bi", "token", "viewer", None))
    untitled = [{k: v for k, v in p.items() if k != "step_title"} for p in body["stuck_points"]]  # the desk adds titles
    assert untitled == tour_figures.stuck_points(services(app).db, SITE, q.start, q.end)


def test_limit_and_the_other_figures(api):
    assert len(api("stuck-points?limit=1").get_json()["stuck_points"]) == 1
    funnels = api("funnels").get_json()["funnels"]
    assert [(s["step"], s["reached"], s["completed"], s["dropoff"]) for s in funnels[0]["steps"]] == EXPECTED["funnel"]
    overview = api("overview").get_json()["overview"]
    assert overview["nps"] == EXPECTED["nps"] and overview["onboarding_rate"] == EXPECTED["onboarding_rate"]
    groups = api("unanswered").get_json()["groups"]
    assert (groups[0]["label"], groups[0]["count"]) == (UNANSWERED_JA, 3)
    users = api(f"stuck-points/users?tour={TOUR}&version=1&step=new-button").get_json()["users"]
    assert sorted(u["status"] for u in users) == ["completed", "completed", "dismissed", "dropped"]
    timeline = api("users/{u3}/timeline").get_json()["timeline"]
    assert [e["type"] for e in timeline][:2] == ["tour_started", "step_shown"]
    assert api("nps").get_json()["nps"]["responses"] == 3
    assert api("feedback").get_json()["faqs"][0]["down"] == 1
    assert api("onboarding").get_json()["weeks"][0]["rate"] == 0.5


def test_a_content_tour_funnel_lists_the_steps_nobody_reached(app, api):
    now = int(time.time() * 1000)
    shown = {"id": "ev-send-1", "type": "step_shown", "at": now - 60000, "url": "https://app.example/demo/invoices",
             "tour": "invoice-send", "version": 1, "step": "send-button", "step_index": 0}
    resp = app.test_client().post("/api/v1/events", json={"site": SITE, "user": "u9", "events": [shown]})
    assert resp.status_code == 200 and resp.get_json()["rejected"] == []
    funnel = next(f for f in api("funnels").get_json()["funnels"] if f["tour"] == "invoice-send")
    tour = services(app).tours.current().tours["invoice-send"]
    assert [s["step"] for s in funnel["steps"]] == [step.id for step in tour.steps]  # as the content defines them
    assert [(s["reached"], s["completed"]) for s in funnel["steps"]] == [(1, 0)] + [(0, 0)] * (len(tour.steps) - 1)
    assert len(tour.steps) >= 2


def test_a_content_hint_is_figured_as_a_hint_not_a_tour(app, api):
    now = int(time.time() * 1000)
    ctx = {"url": "https://app.example/demo/invoices", "tour": "export-hint", "version": 1, "step": "csv", "step_index": 0}
    events = [{"id": "ev-hint-1", "type": "tour_started", "at": now - 60000, **ctx},
              {"id": "ev-hint-2", "type": "step_shown", "at": now - 60000, **ctx},
              {"id": "ev-hint-3", "type": "tour_dismissed", "at": now - 50000, **ctx}]
    resp = app.test_client().post("/api/v1/events", json={"site": SITE, "user": "u9", "events": events})
    assert resp.status_code == 200 and resp.get_json()["rejected"] == []
    assert services(app).tours.current().tours["export-hint"].kind == "hint"
    body = api("funnels").get_json()
    assert "export-hint" not in {f["tour"] for f in body["funnels"]}
    assert {"hint": "export-hint", "seen": 1, "dismissed": 1, "acknowledged": 0, "clicked_through": 0} in body["hints"]
    assert "export-hint" not in {p["tour"] for p in api("stuck-points").get_json()["stuck_points"]}
    assert api("overview").get_json()["overview"]["tours_started"] == 4  # the seed's four, not the hint


def test_the_range_and_site_select_the_data(api):
    assert api("funnels?from=2020-01-01&to=2020-01-31").get_json()["funnels"] == []
    assert api("funnels?site=other").get_json()["funnels"] == []


@pytest.mark.parametrize("path, code", [
    ("overview?from=2026-02-30", "bad_param"), ("overview?from=11/01/2026", "bad_param"),
    ("overview?from=2026-11-10&to=2026-11-01", "bad_param"), ("overview?site=nope", "bad_site"),
    ("overview?to=1999-12-31", "bad_param"), ("stuck-points?limit=501", "bad_param"), ("stuck-points?limit=-1", "bad_param"),
    ("stuck-points/users?tour=t&step=s", "bad_param"), ("stuck-points/users?tour=t&version=1", "bad_param"),
    ("stuck-points/users?tour=t&version=x&step=s", "bad_param"), ("users/" + "x" * 300 + "/timeline", "bad_param"),
])
def test_bad_parameters_are_400_json(api, path, code):
    resp = api(path)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]


def test_unknown_endpoint_is_404_json_but_only_with_a_token(api):
    assert api("nothing", token=None).status_code == 401
    resp = api("nothing")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"

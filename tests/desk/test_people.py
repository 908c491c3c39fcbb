"""People on the desk (issue 14, item 6): the user search by the app's own id (pseudonymised as ingest
does, in a POST so the id stays out of URLs), the user page (traits, locale, questions, tour
progress), the step's users with those who dropped first and their questions, and step titles."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from guide_server.desk import audit
from guide_server.privacy import pseudonymise
from guide_server.web.context import services

from .admin_seed import SITE, STUCK_QUESTION, TOUR, UNANSWERED_JA, _send, csrf_of, make_token, seeded_app, signed_in

TITLED = "invoice-send"  # a tour of the content: its steps have titles in ja and en
TITLES = {"ja": "ワンクリックで送付", "en": "One click to send"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = seeded_app(tmp_path_factory.mktemp("people"))
    client = app.test_client()
    resp = client.post("/api/v1/identify", json={"site": SITE, "user": "u3", "traits": {"plan": "pro"}, "locale": "ja"})
    assert resp.status_code == 200
    resp = client.post("/api/v1/tours/progress", json={"site": SITE, "user": "u3", "tour": TITLED, "version": 1,
                                                       "step": 1, "status": "active"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    at = int((time.time() - 3600) * 1000)
    _send(client, "u5", [{"id": uuid.uuid4().hex, "type": "step_shown", "at": at, "url": "https://app.example/x",
                          "tour": TITLED, "version": 1, "step": "send-button", "step_index": 0}])
    resp = client.post("/api/v1/events", json={"site": SITE, "anon": "browser-7", "events": [
        {"id": uuid.uuid4().hex, "type": "chat_opened", "at": at, "url": "https://app.example/x"}]})
    assert resp.status_code == 200
    resp = client.post("/api/v1/events", json={"site": "other", "user": "only-other", "events": [
        {"id": uuid.uuid4().hex, "type": "chat_opened", "at": at, "url": "https://other.example/"}]})
    assert resp.status_code == 200
    yield app
    services(app).close()


@pytest.fixture
def desk(app):
    return signed_in(app, "en")


def pseudo(app, user: str, site: str = SITE) -> str:
    return pseudonymise(services(app).pseudonym_key, site, user)


def find(desk, app_id: str, site: str = SITE, kind: str = "user", page: str = "/admin/stuck"):
    token = csrf_of(desk.get(f"{page}?site={site}"))
    return desk.post("/admin/user/find", data={"csrf_token": token, "site": site, "from": "2020-01-01",
                                                "to": "2029-12-31", "app_id": app_id, "kind": kind,
                                                "next": f"{page}?site={site}"})


def test_every_figures_page_has_the_search_form(desk):
    html = desk.get("/admin/funnels").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/admin/user/find"[^>]*>(.*?)</form>', html, re.S)
    assert form and 'method="post"' in form.group(0) and 'name="app_id"' in form.group(1)
    assert 'name="csrf_token"' in form.group(1)


def test_the_apps_user_id_finds_the_pseudonym_and_stays_out_of_the_url(app, desk):
    resp = find(desk, "u3")
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert parse_qs(urlparse(location).query)["user"] == [pseudo(app, "u3")]
    assert "u3" not in location.replace(pseudo(app, "u3"), "")  # the app's id is not in the URL
    entry = audit.entries(services(app).db, action="find_user")[0]
    assert entry["detail"]["user"] == pseudo(app, "u3") and "u3" not in str(entry["detail"]).replace(pseudo(app, "u3"), "")


def test_the_user_page_shows_traits_locale_questions_and_tour_progress(app, desk):
    html = desk.get(find(desk, "u3").headers["Location"]).get_data(as_text=True)
    traits = re.search(r'<table id="table-user-traits">(.*?)</table>', html, re.S).group(1)
    assert "plan" in traits and "pro" in traits
    assert "Locale: ja" in html
    questions = re.search(r'<table id="table-user-questions">(.*?)</table>', html, re.S).group(1)
    assert STUCK_QUESTION in questions and "no answer" in questions
    tours = re.search(r'<table id="table-user-tours">(.*?)</table>', html, re.S).group(1)
    assert TITLED in tours and "in progress" in tours
    timeline = re.search(r'<table id="table-timeline">(.*?)</table>', html, re.S).group(1)
    assert "new-button" in timeline


def test_an_unknown_id_says_so(app, desk):
    resp = find(desk, "nobody-here")
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/admin/stuck")
    html = desk.get(resp.headers["Location"]).get_data(as_text=True)
    assert "has no record of a user with this id" in html


def test_another_sites_user_is_not_found(app, desk):
    assert "/admin/user?" not in find(desk, "only-other").headers["Location"]  # they are on "other" only
    assert "/admin/user?" in find(desk, "only-other", site="other").headers["Location"]
    assert "/admin/user?" not in find(desk, "u3", site="other").headers["Location"]


def test_an_anonymous_browser_id_is_found_as_its_a_pseudonym(app, desk):
    location = find(desk, "browser-7", kind="anon").headers["Location"]
    user = parse_qs(urlparse(location).query)["user"][0]
    assert user.startswith("a-")
    assert "/admin/user?" not in find(desk, "browser-7").headers["Location"]  # not a signed-in user's id


def test_the_search_refuses_what_ingest_would(desk):
    for bad in ("", "x" * 300):
        resp = find(desk, bad)
        assert resp.status_code == 400 and "Type the user id your app knows" in resp.get_data(as_text=True)


def test_step_users_who_dropped_come_first_newest_first_with_their_questions(app, desk):
    url = f"/admin/step?tour={TOUR}&version=1&step=new-button"
    rows = list(csv.reader(io.StringIO(desk.get(url + "&format=csv&table=step-users").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert rows[0] == ["user", "reached_at", "status", "signals", "questions"]
    order = [(r[0], r[2]) for r in rows[1:]]
    # u4 closed the tour there (reached last), u3 went no further, then those who went on, newest first
    assert order == [(pseudo(app, "u4"), "dismissed"), (pseudo(app, "u3"), "dropped"),
                     (pseudo(app, "u2"), "completed"), (pseudo(app, "u1"), "completed")]
    assert rows[2][4] == f"{STUCK_QUESTION} (no_answer)"  # the CSV keeps the outcome's code
    html = desk.get(url).get_data(as_text=True)
    row = re.search(rf'<tr>(?:(?!</tr>).)*{pseudo(app, "u3")}(?:(?!</tr>).)*</tr>', html, re.S).group(0)
    assert STUCK_QUESTION in row and "no answer" in row
    dropped = desk.get(url + "&dropped=1&format=csv&table=step-users").get_data(as_text=True)
    assert pseudo(app, "u4") in dropped and pseudo(app, "u3") in dropped and pseudo(app, "u1") not in dropped
    assert 'href="' in html and "dropped=1" in html  # the switch to those who dropped
    assert desk.get(url + "&dropped=2").status_code == 400


def test_questions_elsewhere_are_not_the_steps(app, desk):
    html = desk.get(f"/admin/step?tour={TOUR}&version=1&step=new-button").get_data(as_text=True)
    users = re.search(r'<table id="table-step-users">(.*?)</table>', html, re.S).group(1)
    assert UNANSWERED_JA not in users  # u1 asked it, but not on this step


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_step_titles_everywhere_a_step_is_shown(app, desk, lang):
    desk.get(f"/admin/lang/{lang}")
    title = TITLES[lang]
    assert title in desk.get("/admin/funnels").get_data(as_text=True)
    assert title in desk.get("/admin/stuck").get_data(as_text=True)
    step = desk.get(f"/admin/step?tour={TITLED}&version=1&step=send-button").get_data(as_text=True)
    assert title in re.search(r"<h1>(.*?)</h1>", step, re.S).group(1)
    timeline = desk.get(f"/admin/user?user={pseudo(app, 'u5')}").get_data(as_text=True)
    assert title in timeline
    rows = list(csv.reader(io.StringIO(desk.get("/admin/funnels?format=csv").get_data(as_text=True).lstrip("\ufeff"))))
    head = rows[0]
    assert head[head.index("step_id") + 1] == "step_title"
    assert [r[head.index("step_title")] for r in rows[1:] if r[head.index("step_id")] == "send-button"] == [title]


def test_the_api_has_the_same_people(app):
    token = make_token(app, "people-bi")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/admin/stuck-points/users?tour={TOUR}&version=1&step=new-button&dropped=1",
                      headers=headers).get_json()
    assert [(u["user"], u["status"]) for u in body["users"]] == [(pseudo(app, "u4"), "dismissed"),
                                                                 (pseudo(app, "u3"), "dropped")]
    assert [q["question"] for q in body["users"][1]["questions"]] == [STUCK_QUESTION]
    user = client.get(f"/api/v1/admin/users/{pseudo(app, 'u3')}/timeline", headers=headers).get_json()
    assert (user["traits"], user["locale"]) == ({"plan": "pro"}, "ja")
    assert [q["question"] for q in user["questions"]] == [STUCK_QUESTION]
    assert [(p["tour"], p["status"]) for p in user["tours"]] == [(TITLED, "active")]

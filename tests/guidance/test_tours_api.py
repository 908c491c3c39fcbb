import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from guide_server import create_app, privacy
from guide_server.db import schema
from guide_server.web.context import services
from tests.support import assert_error

WELCOME = """\
id: welcome
title: {ja: ようこそ, en: Welcome}
priority: 20
match:
  urls: ["/demo"]
steps:
  - id: hello
    title: {ja: こんにちは, en: Hello}
    body: {ja: "**ようこそ**", en: "**Welcome**"}
"""

FIRST_INVOICE = """\
id: first-invoice
version: 1
title: {ja: はじめての請求書, en: Your first invoice}
priority: 10
match:
  urls: ["/demo/invoices*"]
  after: [welcome]
  unless: [expert]
steps:
  - id: open-list
    target: "#nav-invoices"
    placement: bottom
    body: {ja: 一覧です, en: The list}
    advance: click
  - id: new
    url: "/demo/invoices/new*"
    target: "#save"
    body: 保存します
    wait: 5000
    missing: center
    buttons: {done: {ja: 完了, en: Finish}}
"""

EXPERT = "id: expert\ntrigger: manual\nfrequency: always\nsteps:\n  - id: s\n    body: tips\n"
PRO_HINT = """\
id: pro-hint
kind: hint
match:
  traits: {plan: [pro, enterprise]}
steps:
  - id: s
    target: "#sso"
    body: SSO
"""
SETTINGS = """\
id: settings-tour
frequency: until_completed
match:
  urls: ["/demo/settings*"]
steps:
  - id: s
    body: settings
"""
AGAIN = "id: again\nfrequency: always\nmatch:\n  urls: [\"/demo/again\"]\nsteps:\n  - id: s\n    body: again\n"
OTHER_SITE = "id: other-only\nsites: [other]\nsteps:\n  - id: s\n    body: x\n"
CHECKLIST = """\
id: onboarding
kind: checklist
title: {ja: はじめの設定, en: Get set up}
match:
  urls: ["/demo*"]
tasks:
  - id: invoice
    title: {ja: 請求書を作る, en: Create an invoice}
    tour: first-invoice
  - id: settings
    title: Settings
    done_when: {url: "/demo/settings*"}
  - id: partner
    title: Partner
    done_when: {event: partner_invited}
"""

TOURS = {"welcome.yml": WELCOME, "billing/first-invoice.yml": FIRST_INVOICE, "expert.yml": EXPERT,
         "pro-hint.yml": PRO_HINT, "settings.yml": SETTINGS, "again.yml": AGAIN, "other.yml": OTHER_SITE,
         "onboarding.yml": CHECKLIST}


def make_app(tmp_path: Path, tours: dict[str, str]):
    content = tmp_path / "content"
    (content / "faq").mkdir(parents=True, exist_ok=True)
    for rel, text in tours.items():
        path = content / "tours" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "no-index").mkdir(exist_ok=True)  # tours need no search index
    return create_app({
        "TESTING": True, "CONTENT_DIR": str(content), "INDEX_DIR": str(tmp_path / "no-index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}", "RELOAD_INTERVAL": 0,
        "SITES": {"demo": {"identity": "open", "origins": ["http://host.example"], "support": "mailto:help@example.com"},
                  "other": {"identity": "open", "origins": [], "support": ""}},
    })


@pytest.fixture
def tours_app(tmp_path):
    return make_app(tmp_path, TOURS)


@pytest.fixture
def client(tours_app):
    return tours_app.test_client()


def tours(client, url="/demo", user="u1", **params):
    params = {"site": "demo", "url": url, **({"user": user} if user else {}), **params}
    resp = client.get("/api/v1/tours", query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def post_progress(client, tour, status, step=0, version=1, user="u1", **extra):
    body = {"site": "demo", "tour": tour, "version": version, "step": step, "status": status, **extra}
    if user:
        body["user"] = user
    resp = client.post("/api/v1/tours/progress", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def ids(body):
    return [t["id"] for t in body["tours"]]


def find(body, tour_id):
    (found,) = [t for t in body["tours"] if t["id"] == tour_id]
    return found


def table_rows(app, table):
    with services(app).db.connect() as conn:
        return conn.execute(select(table)).all()


# --- shapes -----------------------------------------------------------------------------------------

def test_tours_response_shape(client):
    post_progress(client, "welcome", "completed")
    body = tours(client, url="https://app.example/demo/invoices?tab=1", locale="en")
    assert set(body) == {"user", "locale", "support", "autostart", "tours", "checklists", "survey", "library"}
    assert body["survey"] is None  # no content/surveys here (tests/test_surveys.py)
    assert (body["user"], body["locale"], body["support"], body["autostart"]) == (
        "u1", "en", "mailto:help@example.com", "first-invoice")
    first = next(t for t in body["tours"] if t["id"] == "first-invoice")
    assert first == {
        "id": "first-invoice", "kind": "tour", "version": 1, "title": "Your first invoice", "priority": 10,
        "trigger": {"type": "load"}, "frequency": "once",
        "steps": [
            {"id": "open-list", "target": "#nav-invoices", "placement": "bottom", "title": None,
             "html": "<p>The list</p>\n", "advance": {"type": "click"}, "url": None, "wait": 3000, "missing": "skip",
             "buttons": {}, "idle_after": 30},
            {"id": "new", "target": "#save", "placement": "auto", "title": None, "html": "<p>保存します</p>\n",
             "advance": {"type": "next"}, "url": "/demo/invoices/new*", "wait": 5000, "missing": "center",
             "buttons": {"done": "Finish"}, "idle_after": 30},
        ],
        "progress": {"status": "new", "step": 0, "version": 1},
    }
    assert body["checklists"] == [{
        "id": "onboarding", "title": "Get set up", "html": None, "done": 0, "total": 3, "completed": False,
        "tasks": [{"id": "invoice", "title": "Create an invoice", "tour": "first-invoice", "done": False},
                  {"id": "settings", "title": "Settings", "tour": None, "done": False},
                  {"id": "partner", "title": "Partner", "tour": None, "done": False}],
    }]


def test_the_library_lists_the_tours_the_user_may_start_again_on_any_page(client):
    """The help panel's "tours" list: this person's audience, whatever the page, frequency or progress."""
    ids = lambda body: [t["id"] for t in body["library"]]  # noqa: E731
    before = tours(client, url="/elsewhere", locale="en")
    assert "welcome" in ids(before) and "first-invoice" not in ids(before)  # first-invoice comes `after: welcome`
    post_progress(client, "welcome", "completed")
    after = tours(client, url="/elsewhere", locale="en")
    assert "welcome" in ids(after) and "first-invoice" in ids(after)  # done once, still offered again
    assert {"id": "first-invoice", "title": "Your first invoice"} in after["library"]
    content = services(client.application).tours.current()
    assert all(content.tours[i].kind == "tour" for i in ids(after))  # hints are not listed
    assert "other-only" not in ids(after)  # another site's


def test_locale_defaults_to_the_identified_locale_then_the_site_default(client):
    assert find(tours(client), "welcome")["title"] == "ようこそ"
    client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": {}, "locale": "en"})
    assert tours(client)["locale"] == "en" and find(tours(client), "welcome")["title"] == "Welcome"
    assert find(tours(client, locale="ja"), "welcome")["steps"][0]["html"] == "<p><strong>ようこそ</strong></p>\n"


def test_one_tour_whatever_the_targeting(client):
    body = client.get("/api/v1/tours/first-invoice?site=demo&user=u1&locale=en").get_json()
    assert body["id"] == "first-invoice" and body["title"] == "Your first invoice"  # 'after: welcome' not met
    assert body["progress"] == {"status": "new", "step": 0, "version": 1}
    post_progress(client, "first-invoice", "active", step=1)
    assert client.get("/api/v1/tours/first-invoice?site=demo&user=u1").get_json()["progress"] == {
        "status": "active", "step": 1, "version": 1}
    assert_error(client.get("/api/v1/tours/ghost?site=demo"), 404, "unknown_tour")
    assert_error(client.get("/api/v1/tours/onboarding?site=demo"), 404, "unknown_tour")  # a checklist
    assert_error(client.get("/api/v1/tours/other-only?site=demo"), 404, "unknown_tour")
    assert client.get("/api/v1/tours/other-only?site=other").status_code == 200


# --- identify ---------------------------------------------------------------------------------------

def test_identify_merges_traits_and_they_target(client, tours_app):
    resp = client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": {"plan": "free", "seats": 3}})
    assert resp.status_code == 200 and resp.get_json() == {"user": "u1", "traits": {"plan": "free", "seats": 3},
                                                           "verified": False, "ignored_traits": []}
    assert "pro-hint" not in ids(tours(client))
    body = client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": {"plan": "pro", "seats": None}}).get_json()
    assert body["traits"] == {"plan": "pro"}
    assert "pro-hint" in ids(tours(client))
    assert "pro-hint" not in ids(tours(client, user="u2"))  # traits are per user
    other = client.post("/api/v1/identify", json={"site": "other", "user": "u1", "traits": {"plan": "x"}}).get_json()
    assert other["traits"] == {"plan": "x"}  # and per site
    assert services(tours_app).db is not None


def test_numeric_user_ids_are_text(client):
    body = client.post("/api/v1/identify", json={"site": "demo", "user": 42, "traits": {"a": True}}).get_json()
    assert body == {"user": "42", "traits": {"a": True}, "verified": False, "ignored_traits": []}
    post_progress(client, "welcome", "completed", user=42)
    assert "welcome" not in ids(tours(client, user="42"))


def test_concurrent_identify_calls_lose_no_trait(tours_app):
    errors = []

    def identify(n):
        resp = tours_app.test_client().post("/api/v1/identify", json={"site": "demo", "user": "u", "traits": {f"k{n}": n}})
        if resp.status_code != 200:
            errors.append(resp.get_data(as_text=True))

    threads = [threading.Thread(target=identify, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = tours_app.test_client().post("/api/v1/identify", json={"site": "demo", "user": "u", "traits": {}}).get_json()
    assert final["traits"] == {f"k{n}": n for n in range(12)}


def test_traits_are_capped_after_merging(client):
    first = {f"k{n}": n for n in range(30)}
    assert client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": first}).status_code == 200
    more = {f"m{n}": n for n in range(30)}
    assert_error(client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": more}), 413, "traits_too_big")
    kept = client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": {}}).get_json()["traits"]
    assert kept == first  # the refused call changed nothing


# --- progress, frequency and progressive disclosure ----------------------------------------------------

def test_progress_round_trip_and_once(client, tours_app):
    assert tours(client)["autostart"] == "welcome"
    out = post_progress(client, "welcome", "active", step=0)
    assert out == {"progress": {"status": "active", "step": 0, "version": 1}, "checklists": []}
    assert find(tours(client), "welcome")["progress"] == {"status": "active", "step": 0, "version": 1}
    post_progress(client, "welcome", "dismissed", step=0)
    body = tours(client)
    assert "welcome" not in ids(body) and body["autostart"] is None
    rows = table_rows(tours_app, schema.tour_progress)
    stored = privacy.pseudonymise(services(tours_app).pseudonym_key, "demo", "u1")  # the database holds the pseudonym only
    assert [(r.site, r.user_id, r.tour_id, r.version, r.status) for r in rows] == [("demo", stored, "welcome", 1, "dismissed")]
    assert tours(client, user="u2")["autostart"] == "welcome"  # progress is per user


def test_a_save_that_arrives_after_a_later_one_from_the_same_tab_changes_nothing(client):
    def stored():
        return client.get("/api/v1/tours/first-invoice", query_string={"site": "demo", "user": "u1"}).get_json()["progress"]

    post_progress(client, "first-invoice", "active", step=1, tab="tabA", seq=200)
    late = post_progress(client, "first-invoice", "active", step=0, tab="tabA", seq=100)  # sent first, arrived last
    assert late["progress"]["step"] == 1  # the answer tells what is stored
    assert stored()["step"] == 1
    post_progress(client, "first-invoice", "active", step=0, tab="tabB", seq=5)  # another tab: its own clock
    assert stored()["step"] == 0
    post_progress(client, "first-invoice", "completed", step=1, tab="tabB", seq=6)
    assert post_progress(client, "first-invoice", "active", step=0, tab="tabB", seq=4)["progress"]["status"] == "completed"
    assert stored()["status"] == "completed"
    post_progress(client, "first-invoice", "active", step=0)  # callers that send no order always apply
    assert stored() == {"status": "active", "step": 0, "version": 1}
    post_progress(client, "first-invoice", "active", step=1, tab="tabB", seq=1)  # and leave none behind
    assert stored()["step"] == 1


def test_a_database_from_an_older_release_gets_the_new_columns_and_keeps_its_rows(tmp_path):
    import sqlite3

    stored = privacy.pseudonymise(services(make_app(tmp_path / "probe", TOURS)).pseudonym_key, "demo", "u1")
    with sqlite3.connect(tmp_path / "guide.db") as old:  # tour_progress as it was before client_tab/client_seq
        old.execute("CREATE TABLE tour_progress (site VARCHAR(64) NOT NULL, user_id VARCHAR(200) NOT NULL, "
                    "tour_id VARCHAR(200) NOT NULL, version INTEGER NOT NULL, status VARCHAR(16) NOT NULL, "
                    "step INTEGER NOT NULL, updated_at FLOAT NOT NULL, completed_at FLOAT, "
                    "PRIMARY KEY (site, user_id, tour_id, version))")
        old.execute("INSERT INTO tour_progress VALUES ('demo', ?, 'first-invoice', 1, 'active', 1, 1.0, NULL)", (stored,))
    app = make_app(tmp_path, TOURS)
    client = app.test_client()
    one = client.get("/api/v1/tours/first-invoice", query_string={"site": "demo", "user": "u1"}).get_json()
    assert one["progress"] == {"status": "active", "step": 1, "version": 1}
    post_progress(client, "first-invoice", "active", step=0, tab="tabA", seq=2)
    assert post_progress(client, "first-invoice", "active", step=1, tab="tabA", seq=1)["progress"]["step"] == 0
    (row,) = table_rows(app, schema.tour_progress)
    assert (row.step, row.client_tab, row.client_seq) == (0, "tabA", 2)


def test_until_completed_comes_back_after_dismissal(client):
    post_progress(client, "settings-tour", "dismissed")
    assert tours(client, url="/demo/settings")["autostart"] == "settings-tour"
    post_progress(client, "settings-tour", "completed")
    body = tours(client, url="/demo/settings")
    assert body["autostart"] is None and "settings-tour" not in ids(body)


def test_always_shows_again_after_completion(client):
    post_progress(client, "again", "completed")
    body = tours(client, url="/demo/again")
    assert body["autostart"] == "again"
    assert find(body, "again")["progress"]["status"] == "completed"


def test_after_and_unless_disclose_progressively(client):
    assert "first-invoice" not in ids(tours(client, url="/demo/invoices"))  # welcome not completed yet
    post_progress(client, "welcome", "completed")
    assert tours(client, url="/demo/invoices")["autostart"] == "first-invoice"
    post_progress(client, "welcome", "active")  # restarting welcome does not undo its completion
    assert tours(client, url="/demo/invoices")["autostart"] == "first-invoice"
    post_progress(client, "expert", "completed")
    assert "first-invoice" not in ids(tours(client, url="/demo/invoices"))


def test_progress_is_per_version(tmp_path):
    app = make_app(tmp_path, {"welcome.yml": WELCOME})
    client = app.test_client()
    post_progress(client, "welcome", "completed")
    assert tours(client)["autostart"] is None
    path = tmp_path / "content" / "tours" / "welcome.yml"
    before = path.stat().st_mtime_ns
    path.write_text(WELCOME.replace("id: welcome\n", "id: welcome\nversion: 2\n"), encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))
    body = tours(client)
    assert body["autostart"] == "welcome"
    assert body["tours"][0]["progress"] == {"status": "new", "step": 0, "version": 2}
    post_progress(client, "welcome", "active", step=0, version=2)
    post_progress(client, "welcome", "active", step=5, version=1)  # a page loaded before the edit: not range-checked
    rows = {(r.version, r.status, r.step) for r in table_rows(app, schema.tour_progress)}
    assert rows == {(1, "active", 5), (2, "active", 0)}
    assert tours(client)["tours"][0]["progress"] == {"status": "active", "step": 0, "version": 2}


def test_active_tour_resumes_on_its_steps_page(client):
    post_progress(client, "welcome", "completed")
    post_progress(client, "first-invoice", "active", step=1)
    elsewhere = tours(client, url="/demo/settings")
    assert "first-invoice" in ids(elsewhere) and elsewhere["autostart"] == "settings-tour"
    assert tours(client, url="/demo/invoices/new?from=list")["autostart"] == "first-invoice"


# --- checklists -------------------------------------------------------------------------------------------

def checklist(body):
    (found,) = [c for c in body["checklists"] if c["id"] == "onboarding"]
    return {t["id"]: t["done"] for t in found["tasks"]}, found


def test_checklist_ticks_from_tour_url_and_event(client, tours_app):
    done = post_progress(client, "first-invoice", "completed", step=1)
    tasks, found = checklist(done)
    assert tasks == {"invoice": True, "settings": False, "partner": False} and found["done"] == 1
    assert tasks == checklist(tours(client))[0]

    assert checklist(tours(client, url="/demo/settings/company"))[0]["settings"] is True
    assert checklist(tours(client, url="/demo"))[0]["settings"] is True  # remembered

    resp = client.post("/api/v1/track", json={"site": "demo", "user": "u1", "name": "partner_invited", "props": {"n": 1}})
    assert resp.status_code == 200
    tasks, found = checklist(resp.get_json())
    assert all(tasks.values()) and found["completed"] and (found["done"], found["total"]) == (3, 3)
    assert checklist(tours(client))[1]["completed"]
    stored = {(r.checklist_id, r.task_id) for r in table_rows(tours_app, schema.checklist_tasks)}
    assert stored == {("onboarding", "settings"), ("onboarding", "partner")}  # tour tasks are derived


def test_track_an_event_no_task_waits_for(client):
    assert client.post("/api/v1/track", json={"site": "demo", "user": "u1", "name": "other"}).get_json() == {"checklists": []}


def test_checklists_only_on_their_pages(client):
    assert tours(client, url="/elsewhere")["checklists"] == []


# --- anonymous users -------------------------------------------------------------------------------------

def test_anonymous_users_send_their_own_state(client, tours_app):
    body = tours(client, user=None, url="/demo/invoices")
    assert body["user"] is None and "first-invoice" not in ids(body)
    body = tours(client, user=None, url="/demo/invoices", done="welcome")
    assert body["autostart"] == "first-invoice"
    assert checklist(tours(client, user=None, done="first-invoice"))[0]["invoice"] is True
    body = tours(client, user=None, url="/demo/invoices", done="welcome", dismissed="first-invoice")
    assert "first-invoice" not in ids(body)
    body = tours(client, user=None, traits='{"plan": "pro"}')
    assert "pro-hint" in ids(body)
    body = tours(client, user=None, url="/demo/settings")
    assert checklist(body)[0]["settings"] is True
    body = tours(client, user=None, url="/demo", tasks="onboarding:settings,onboarding:partner,gone:x")
    assert checklist(body)[0] == {"invoice": False, "settings": True, "partner": True}
    assert checklist(tours(client, url="/demo", tasks="onboarding:partner"))[0]["partner"] is False  # known user
    assert table_rows(tours_app, schema.checklist_tasks) == []


def test_anonymous_params_are_ignored_for_known_users(client):
    assert "pro-hint" not in ids(tours(client, traits='{"plan": "pro"}'))
    assert tours(client, done="welcome")["autostart"] == "welcome"


def test_anonymous_progress_stores_nothing_but_answers(client, tours_app):
    out = post_progress(client, "first-invoice", "completed", step=1, user=None)
    assert out["progress"] == {"status": "completed", "step": 1, "version": 1}
    assert checklist(out)[0]["invoice"] is True
    assert table_rows(tours_app, schema.tour_progress) == []
    resp = client.post("/api/v1/track", json={"site": "demo", "name": "partner_invited"})
    assert checklist(resp.get_json())[0] == {"invoice": False, "settings": False, "partner": True}
    assert table_rows(tours_app, schema.checklist_tasks) == []


def test_target_missing_reports_are_stored(client, tours_app):
    event = {"type": "target_missing", "step_id": "open-list", "action": "skip"}
    post_progress(client, "first-invoice", "active", step=1, url="https://app.example/demo/invoices", event=event)
    post_progress(client, "first-invoice", "active", step=1, user=None, event={**event, "action": "abort"})
    rows = table_rows(tours_app, schema.tour_events)
    assert [(r.site, r.user_id, r.tour_id, r.version, r.step_id, r.action, r.url) for r in rows] == [
        ("demo", privacy.pseudonymise(services(tours_app).pseudonym_key, "demo", "u1"), "first-invoice", 1, "open-list", "skip",
         "https://app.example/demo/invoices"),
        ("demo", None, "first-invoice", 1, "open-list", "abort", None)]
    assert all(r.created_at > 0 for r in rows)


# --- content edits and health ---------------------------------------------------------------------------

def test_edits_are_served_without_restart_and_errors_show_in_health(tmp_path):
    app = make_app(tmp_path, {"welcome.yml": WELCOME})
    client = app.test_client()
    path = tmp_path / "content" / "tours" / "welcome.yml"

    def rewrite(text):
        before = path.stat().st_mtime_ns
        path.write_text(text, encoding="utf-8")
        os.utime(path, ns=(before + 10**9, before + 10**9))

    rewrite(WELCOME.replace("{ja: ようこそ, en: Welcome}", "新しいタイトル"))
    assert tours(client)["tours"][0]["title"] == "新しいタイトル"
    rewrite("id: welcome\nsteps: [\n")
    assert tours(client)["tours"][0]["title"] == "新しいタイトル"  # the last good version
    health = client.get("/api/v1/health").get_json()
    assert health["tours"]["tours"] == 1
    assert health["tours"]["errors"] and health["tours"]["errors"][0].startswith("tours/welcome.yml:")
    rewrite(WELCOME)
    assert client.get("/api/v1/health").get_json()["tours"]["errors"] == []


def test_cors_applies_to_tour_routes(client):
    resp = client.get("/api/v1/tours?site=demo&url=/demo", headers={"Origin": "http://host.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "http://host.example"


# --- every error is a 4xx JSON error ------------------------------------------------------------------------

@pytest.mark.parametrize("params, status, code", [
    ({"site": None}, 400, "missing_site"),
    ({"site": "ghost"}, 403, "unknown_site"),
    ({"locale": "fr"}, 400, "bad_locale"),
    ({"user": "x" * 201}, 400, "bad_user"),
    ({"url": "/" + "a" * 5000}, 400, "bad_url"),
    ({"url": "http://[::1/x"}, 400, "bad_url"),
    ({"user": None, "traits": "{not json"}, 400, "bad_traits"),
    ({"user": None, "traits": "[1, 2]"}, 400, "bad_traits"),
    ({"user": None, "traits": '{"a": {"b": 1}}'}, 400, "bad_traits"),
    ({"user": None, "traits": "{" + ",".join(f'"k{n}": {n}' for n in range(51)) + "}"}, 413, "traits_too_big"),
    ({"user": None, "done": ",".join(f"t{n}" for n in range(501))}, 400, "bad_ids"),
    ({"user": None, "tasks": "onboarding-without-task"}, 400, "bad_ids"),
    ({"user": None, "tasks": ":settings"}, 400, "bad_ids"),
])
def test_tours_list_errors(client, params, status, code):
    query = {k: v for k, v in {"site": "demo", "user": "u1", "url": "/demo", **params}.items() if v is not None}
    assert_error(client.get("/api/v1/tours", query_string=query), status, code)


@pytest.mark.parametrize("path, status, code", [
    ("/api/v1/tours/welcome", 400, "missing_site"),
    ("/api/v1/tours/welcome?site=demo&locale=de", 400, "bad_locale"),
    ("/api/v1/tours/welcome?site=nope", 403, "unknown_site"),
])
def test_one_tour_errors(client, path, status, code):
    assert_error(client.get(path), status, code)


@pytest.mark.parametrize("payload, status, code", [
    ({"user": "u1", "traits": {}}, 400, "missing_site"),
    ({"site": "ghost", "user": "u1"}, 403, "unknown_site"),
    ({"site": "demo", "traits": {"a": 1}}, 400, "missing_user"),
    ({"site": "demo", "user": ["u1"]}, 400, "bad_user"),
    ({"site": "demo", "user": True}, 400, "bad_user"),
    ({"site": "demo", "user": "u" * 201}, 400, "bad_user"),
    ({"site": "demo", "user": "u1", "traits": [1]}, 400, "bad_traits"),
    ({"site": "demo", "user": "u1", "traits": None}, 400, "bad_traits"),
    ({"site": "demo", "user": "u1", "traits": {"a": [1, 2]}}, 400, "bad_traits"),
    ({"site": "demo", "user": "u1", "traits": {"": 1}}, 400, "bad_traits"),
    ({"site": "demo", "user": "u1", "traits": {"k" * 101: 1}}, 400, "bad_traits"),
    ({"site": "demo", "user": "u1", "traits": {"a": "x" * 501}}, 413, "traits_too_big"),
    ({"site": "demo", "user": "u1", "traits": {f"k{n}": n for n in range(51)}}, 413, "traits_too_big"),
    ({"site": "demo", "user": "u1", "traits": {}, "locale": "fr"}, 400, "bad_locale"),
    (["a", "list"], 400, "bad_request"),
])
def test_identify_errors(client, payload, status, code):
    assert_error(client.post("/api/v1/identify", json=payload), status, code)


@pytest.mark.parametrize("change, status, code", [
    ({"site": None}, 400, "missing_site"),
    ({"site": "ghost"}, 403, "unknown_site"),
    ({"tour": None}, 400, "bad_tour"),
    ({"tour": 7}, 400, "bad_tour"),
    ({"tour": "ghost"}, 404, "unknown_tour"),
    ({"tour": "onboarding"}, 404, "unknown_tour"),
    ({"tour": "other-only"}, 404, "unknown_tour"),
    ({"version": None}, 400, "bad_version"),
    ({"version": "1"}, 400, "bad_version"),
    ({"version": 0}, 400, "bad_version"),
    ({"version": 2}, 400, "bad_version"),
    ({"step": 2}, 400, "bad_step"),
    ({"step": -1}, 400, "bad_step"),
    ({"step": 1.5}, 400, "bad_step"),
    ({"step": True}, 400, "bad_step"),
    ({"status": "done"}, 400, "bad_status"),
    ({"status": None}, 400, "bad_status"),
    ({"user": {"id": 1}}, 400, "bad_user"),
    ({"url": 5}, 400, "bad_url"),
    ({"event": "missing"}, 400, "bad_event"),
    ({"event": {"type": "clicked", "step_id": "new", "action": "skip"}}, 400, "bad_event"),
    ({"event": {"type": "target_missing", "step_id": "new", "action": "explode"}}, 400, "bad_event"),
    ({"event": {"type": "target_missing", "action": "skip"}}, 400, "bad_event"),
    ({"tab": "t1"}, 400, "bad_seq"),
    ({"seq": 1}, 400, "bad_tab"),
    ({"tab": "t 1", "seq": 1}, 400, "bad_tab"),
    ({"tab": "t" * 65, "seq": 1}, 400, "bad_tab"),
    ({"tab": 7, "seq": 1}, 400, "bad_tab"),
    ({"tab": "t1", "seq": -1}, 400, "bad_seq"),
    ({"tab": "t1", "seq": 1.5}, 400, "bad_seq"),
    ({"tab": "t1", "seq": "2"}, 400, "bad_seq"),
    ({"tab": "t1", "seq": 2**53}, 400, "bad_seq"),
])
def test_progress_errors(client, tours_app, change, status, code):
    payload = {"site": "demo", "user": "u1", "tour": "first-invoice", "version": 1, "step": 0, "status": "active", **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    assert_error(client.post("/api/v1/tours/progress", json=payload), status, code)
    assert table_rows(tours_app, schema.tour_progress) == [] and table_rows(tours_app, schema.tour_events) == []


@pytest.mark.parametrize("payload, status, code", [
    ({"user": "u1", "name": "x"}, 400, "missing_site"),
    ({"site": "demo", "user": "u1"}, 400, "bad_name"),
    ({"site": "demo", "user": "u1", "name": ""}, 400, "bad_name"),
    ({"site": "demo", "user": "u1", "name": "x" * 101}, 400, "bad_name"),
    ({"site": "demo", "user": "u1", "name": 5}, 400, "bad_name"),
    ({"site": "demo", "user": "u1", "name": "x", "props": [1]}, 400, "bad_props"),
    ({"site": "demo", "user": "u1", "name": "x", "url": ["/a"]}, 400, "bad_url"),
])
def test_track_errors(client, payload, status, code):
    assert_error(client.post("/api/v1/track", json=payload), status, code)


@pytest.mark.parametrize("route", ["/api/v1/identify", "/api/v1/tours/progress", "/api/v1/track"])
def test_bad_json_bodies(client, route):
    assert_error(client.post(route, data=b"\xff{garbage", content_type="application/json"), 400, "bad_json")
    assert_error(client.post(route, data="name=x"), 400, "bad_json")


def test_wrong_method_is_json(client):
    assert_error(client.get("/api/v1/tours/progress?site=demo"), 404, "unknown_tour")  # read as a tour id
    assert_error(client.post("/api/v1/tours?site=demo"), 405, "method_not_allowed")


def test_store_counts_nothing_on_errors(client, tours_app):
    client.post("/api/v1/identify", json={"site": "demo", "user": "u1", "traits": {"a": "x" * 600}})
    with services(tours_app).db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.user_traits)).scalar() == 0

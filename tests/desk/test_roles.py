"""Desk roles and per-site access: each role on every desk page and admin API endpoint (allowed, or a
403 that says why), a viewer of one site never seeing another's figures anywhere, API tokens scoped to
sites and read-only unless made with --write, the audit log of every kind of action, the accounts
commands (`guide admins list | remove | set-role`), and accounts made before roles keeping their access."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from guide_server import cli
from guide_server.chat.store import record_feedback, record_question
from guide_server.db import migrate, schema
from guide_server.db.engine import connect
from guide_server.desk import audit, auth
from guide_server.desk.i18n import STRINGS
from guide_server.desk.roles import ROLES
from guide_server.web.context import services
from tests.support import assert_error, guide

from .admin_seed import PASSWORD, STUCK_QUESTION, TOUR, UNANSWERED_JA, csrf_of, login, make_app, make_token, seed, signed_in

# Who is who: an admin of every site, an editor and a viewer of "demo", a viewer of "other".
ACCOUNTS = {"alice": ("admin", None), "eddie": ("editor", {"demo"}), "vera": ("viewer", {"demo"}),
            "otto": ("viewer", {"other"})}

# What only "demo" holds (admin_seed) and what only "other" holds (below): never shown to the other's viewer.
DEMO_ONLY = [STUCK_QUESTION, UNANSWERED_JA, "Can I pay by bank transfer?", "分かりやすい", "動作が遅い", "便利です"]
OTHER_ONLY = ["他サイトだけの未回答の質問", "other-site-only comment", "other-site-only NPS comment", "other-only-tour"]

# Every desk route (as _desk_routes lists it) with a URL to try and the least role that may use it;
# None: nobody (an unknown page is a 404 for everyone).
PAGES = {
    ("GET", "/admin/"): ("/admin/", "viewer"),
    ("GET", "/admin/funnels"): ("/admin/funnels", "viewer"),
    ("GET", "/admin/stuck"): ("/admin/stuck", "viewer"),
    ("GET", "/admin/step"): (f"/admin/step?tour={TOUR}&version=1&step=new-button", "viewer"),
    ("GET", "/admin/user"): ("/admin/user?user={u3}", "viewer"),
    ("POST", "/admin/user/find"): ("/admin/user/find", "viewer"),  # a look-up: a POST only to keep ids out of URLs
    ("GET", "/admin/unanswered"): ("/admin/unanswered", "viewer"),
    ("POST", "/admin/unanswered/draft"): ("/admin/unanswered/draft", "editor"),
    ("POST", "/admin/teach"): ("/admin/teach", "editor"),  # desk/teach.py; tests/desk/test_teach.py teaches
    ("GET", "/admin/feedback"): ("/admin/feedback", "viewer"),
    ("GET", "/admin/onboarding"): ("/admin/onboarding", "viewer"),
    ("GET", "/admin/nps"): ("/admin/nps", "viewer"),
    ("GET", "/admin/escalations"): ("/admin/escalations", "editor"),  # what people wrote to support, unmasked
    ("GET", "/admin/tours"): ("/admin/tours", "editor"),  # editors' previews (desk/preview.py)
    ("GET", "/admin/preview"): ("/admin/preview", "editor"),  # without ?tour=: the same list
    ("GET", "/admin/accounts"): ("/admin/accounts", "admin"),
    ("GET", "/admin/audit"): ("/admin/audit", "admin"),
    ("GET", "/admin/x"): ("/admin/no-such-page", None),
    ("POST", "/admin/x"): ("/admin/no-such-page", None),
}
FIGURE_PAGES = [url for (method, _), (url, role) in PAGES.items() if method == "GET" and role == "viewer"]

API = ["overview", "funnels", "stuck-points", f"stuck-points/users?tour={TOUR}&version=1&step=new-button",
       "users/{u3}/timeline", "unanswered", "questions", "feedback", "onboarding", "nps"]


def _seed_other(app) -> None:
    """A little of everything on site "other", worded so that it can be looked for on "demo"'s pages."""
    engine = services(app).db
    client = app.test_client()
    at = int((time.time() - 86400) * 1000)
    events = [{"id": uuid.uuid4().hex, "type": kind, "at": at + n * 1000, "url": "https://other.example/",
               "tour": "other-only-tour", "version": 1, **extra}
              for n, (kind, extra) in enumerate([("tour_started", {}), ("step_shown", {"step": "s1", "step_index": 0})])]
    events.append({"id": uuid.uuid4().hex, "type": "nps_answered", "at": at, "url": "https://other.example/",
                   "props": {"score": 3, "comment": "other-site-only NPS comment"}})
    resp = client.post("/api/v1/events", json={"site": "other", "user": "o1", "events": events})
    assert resp.status_code == 200 and resp.get_json()["rejected"] == [], resp.get_data(as_text=True)
    record_question(engine, site="other", channel="http", locale="ja", question=OTHER_ONLY[0], outcome="no_answer",
                    top_faq_id=None, confidence=0.05, url="https://other.example/")
    answered = record_question(engine, site="other", channel="http", locale="en", question="other answered",
                               outcome="answered", top_faq_id="ja-invoices-send-email", confidence=0.9)
    record_feedback(engine, "other", answered, False, OTHER_ONLY[1])


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    app.seeded = seed(app)
    _seed_other(app)
    for name, (role, sites) in ACCOUNTS.items():
        auth.create_admin(services(app).db, name, PASSWORD, role=role, sites=frozenset(sites) if sites else None)
    yield app
    services(app).close()



def _url(app, url: str) -> str:
    return url.format(u3=app.seeded["pseudo"]["u3"])


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _draft_form(client, site: str = "demo") -> dict:
    """The first draft form of the unanswered page, as the browser would send it."""
    page = _text(client.get(f"/admin/unanswered?site={site}"))
    form = page.split('class="gd-draft"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(name, []).append(value)
    return fields


def _entries(app, action: str | None = None) -> list[dict]:
    return audit.entries(services(app).db, action=action, limit=1000)


# --- each role on each desk page ------------------------------------------------------------------

def test_every_desk_route_is_in_the_role_table(app):
    """A page added later must say who may open it here, or this fails."""
    listed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            listed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert listed == set(PAGES)


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_each_role_on_each_desk_page(app, name):
    role = ACCOUNTS[name][0]
    client = signed_in(app, name=name)
    token = csrf_of(client.get("/admin/"))  # the logout form's
    for (method, _), (url, least) in PAGES.items():
        if method == "POST" and least is not None and ROLES.index(role) >= ROLES.index(least) and url == "/admin/teach":
            # let through, then refused for the missing index (no index here; tests/desk/test_teach.py teaches)
            resp = client.post(url, data={**_draft_form(client), "faq": ["x"], "hash": ["0" * 64]})
            assert resp.status_code == 503 and "検索インデックス" in _text(resp), (name, _text(resp)[:300])
            continue
        if url == "/admin/user/find":  # every role may search, each on its own sites
            site = "other" if name == "otto" else "demo"
            resp = client.post(url, data={"csrf_token": token, "site": site, "app_id": "u3", "next": "/admin/"})
            found = resp.headers.get("Location", "").startswith("/admin/user?")
            assert resp.status_code == 303 and found == (site == "demo"), (name, _text(resp)[:300])
            continue
        if method == "POST" and least is not None and ROLES.index(role) >= ROLES.index(least):
            data = {**_draft_form(client), "slug": [f"by-{name}"]}
            resp = client.post(url, data=data)
            assert resp.status_code == 303, (name, url, _text(resp)[:300])
            continue
        site = "" if url.startswith("/admin/accounts") or url.startswith("/admin/audit") else \
            ("&" if "?" in url else "?") + f"site={'other' if name == 'otto' else 'demo'}"
        resp = client.open(_url(app, url) + site, method=method, data={"csrf_token": token} if method == "POST" else None)
        if least is None:
            assert resp.status_code == 404, (name, method, url)
        elif ROLES.index(role) >= ROLES.index(least):
            assert resp.status_code == 200, (name, method, url, _text(resp)[:300])
        else:
            assert resp.status_code == 403, (name, method, url)
            assert "権限が必要です" in _text(resp) and resp.mimetype == "text/html"  # a page that says why
    drafts = sorted(p.name for p in (Path(app.config["CONTENT_DIR"]) / "faq").rglob("by-*.md"))
    assert drafts == ([f"by-{name}.md"] if role != "viewer" else [])


def test_the_refusal_page_names_the_role_needed_in_both_languages(app):
    vera = signed_in(app, name="vera")
    resp = vera.get("/admin/audit")
    assert resp.status_code == 403 and "「管理者」以上" in _text(resp) and "「閲覧者」" in _text(resp)
    vera.get("/admin/lang/en")
    text = _text(vera.get("/admin/accounts"))
    assert "This needs the admin role or higher; your account is viewer" in text
    assert "vera" in text  # still signed in: the header names the account and offers the logout


def test_the_desk_shows_each_role_only_what_it_may_use(app):
    vera, eddie, alice = (signed_in(app, name=n) for n in ("vera", "eddie", "alice"))
    page = _text(vera.get("/admin/unanswered"))
    assert 'class="gd-draft"' not in page and "編集者以上の権限" in page
    assert 'class="gd-draft"' in _text(eddie.get("/admin/unanswered"))
    for client, admin_links in ((vera, False), (eddie, False), (alice, True)):
        page = _text(client.get("/admin/"))
        assert ('href="/admin/audit' in page) is admin_links and ('href="/admin/accounts' in page) is admin_links
    assert "vera · 閲覧者" in _text(vera.get("/admin/"))


def test_the_accounts_page_lists_accounts_and_tokens_never_their_secrets(app):
    token = auth.create_token(services(app).db, "bi", frozenset({"demo"}))
    alice = signed_in(app, name="alice")
    alice.get("/admin/lang/en")
    page = _text(alice.get("/admin/accounts"))
    for name in ACCOUNTS:
        assert f"<td class=\"k-text\">{name}</td>" in page
    assert "bi" in page and "read only" in page and "all sites" in page
    assert token not in page and "argon2" not in page
    csv = alice.get("/admin/accounts?format=csv&table=tokens")
    assert csv.status_code == 200 and "bi" in _text(csv) and token not in _text(csv)


def test_a_role_change_applies_at_the_next_request_and_removal_ends_the_session(app):
    vera = signed_in(app, name="vera")
    assert vera.get("/admin/audit").status_code == 403
    auth.set_role(services(app).db, "vera", "admin")
    assert vera.get("/admin/audit").status_code == 200
    assert vera.get("/admin/?site=other").status_code == 200  # an admin has every site
    auth.remove_admin(services(app).db, "vera")
    assert vera.get("/admin/").status_code == 302  # back to the login form


# --- per-site access ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, mine, theirs, hidden", [
    ("vera", "demo", "other", OTHER_ONLY), ("otto", "other", "demo", DEMO_ONLY)])
def test_a_viewer_of_one_site_never_sees_another_sites_figures(app, name, mine, theirs, hidden):
    client = signed_in(app, name=name)
    for url in FIGURE_PAGES:
        url = _url(app, url)
        default = client.get(url)  # no site named: the account's own
        assert default.status_code == 200, url
        text = _text(default)
        assert f'<option value="{mine}" selected>' in text and f'<option value="{theirs}"' not in text
        assert not [h for h in hidden if h in text], url
        csv = client.get(url + ("&" if "?" in url else "?") + "format=csv")
        assert csv.status_code == 200 and not [h for h in hidden if h in _text(csv)], url
        for variant in ("", "&format=csv"):
            other = client.get(url + ("&" if "?" in url else "?") + f"site={theirs}{variant}")
            assert other.status_code == 403, (url, variant)
            assert not [h for h in hidden if h in _text(other)] and "表示する権限がありません" in _text(other)
    own = _text(client.get("/admin/unanswered"))
    assert (UNANSWERED_JA if mine == "demo" else OTHER_ONLY[0]) in own  # and its own figures are there


def test_an_editor_cannot_draft_for_a_site_it_is_not_given(app):
    eddie = signed_in(app, name="eddie")
    fields = _draft_form(eddie)
    resp = eddie.post("/admin/unanswered/draft", data={**fields, "site": ["other"], "slug": ["elsewhere"]})
    assert resp.status_code == 403
    assert not list((Path(app.config["CONTENT_DIR"]) / "faq").rglob("elsewhere.md"))


def test_an_account_whose_sites_are_all_gone_gets_a_clear_refusal(app):
    auth.set_role(services(app).db, "otto", "viewer", frozenset({"retired-site"}))
    resp = signed_in(app, name="otto").get("/admin/")
    assert resp.status_code == 403 and "サイトが割り当てられていません" in _text(resp)


# --- the API: tokens scoped to sites, read-only unless --write --------------------------------------

@pytest.fixture
def api(app):
    client = app.test_client()

    def call(path: str, token: str, method: str = "GET", **kwargs):
        return client.open("/api/v1/admin/" + _url(app, path), method=method,
                           headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


def _draft_body(app, site: str = "demo", slug: str = "from-api") -> dict:
    with services(app).db.connect() as conn:
        ids = conn.execute(select(schema.questions.c.id).where(schema.questions.c.site == site,
                                                               schema.questions.c.outcome == "no_answer")).scalars().all()
    return {"site": site, "locale": "ja", "title": "API draft", "slug": slug, "question_ids": ids}


def test_every_api_route_is_covered(app):
    routes = {(m, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin_api.")
              for m in rule.methods - {"HEAD", "OPTIONS"}}
    reads = {("GET", "/api/v1/admin/" + p.split("?")[0].replace("{u3}", "<user>")) for p in API}
    # drafts and escalations need an editor (a token made with --write): tests/desk/test_escalations.py
    editors = {("POST", "/api/v1/admin/drafts"), ("GET", "/api/v1/admin/escalations")}
    editors |= {("POST", "/api/v1/admin/teach")}  # tests/desk/test_teach.py
    assert routes - editors - {(m, "/api/v1/admin/<path:rest>") for m in
                               ("GET", "POST", "PUT", "PATCH", "DELETE")} == reads


def test_a_token_reads_only_its_sites(app, api):
    demo = make_token(app, "demo-bi")
    other = auth.create_token(services(app).db, "other-bi", frozenset({"other"}))
    for path in API:
        mine = api(path, other)  # default: the token's own site
        assert mine.status_code == 200 and not [h for h in DEMO_ONLY if h in _text(mine)], path
        assert api(path + ("&" if "?" in path else "?") + "site=other", other).status_code == 200
        refused = api(path + ("&" if "?" in path else "?") + "site=demo", other)
        assert_error(refused, 403, "forbidden_site")
        assert not [h for h in DEMO_ONLY if h in _text(refused)]
        assert "demo" not in refused.get_json()["error"]["message"].split("has:")[1]  # lists only its own sites
        assert api(path + ("&" if "?" in path else "?") + "site=other", demo).status_code == 200  # every site
    # the timeline of one of demo's users, asked for on "other": nothing
    assert api("users/{u3}/timeline", other).get_json()["timeline"] == []


def test_a_token_is_read_only_unless_made_with_write(app, api):
    read = auth.create_token(services(app).db, "reader", frozenset({"demo"}))
    write = auth.create_token(services(app).db, "writer", frozenset({"demo"}), write=True)
    refused = api("drafts", read, "POST", json=_draft_body(app))
    assert_error(refused, 403, "forbidden_role")
    assert not list((Path(app.config["CONTENT_DIR"]) / "faq").rglob("from-api.md"))
    made = api("drafts", write, "POST", json=_draft_body(app))
    assert made.status_code == 201, _text(made)
    assert made.get_json() == {"site": "demo", "path": "faq/ja/drafts/from-api.md", "questions": 5}  # ids found
    text = (Path(app.config["CONTENT_DIR"]) / "faq/ja/drafts/from-api.md").read_text(encoding="utf-8")
    assert UNANSWERED_JA in text and "、token writer）" in text  # the note, in the draft's language
    assert_error(api("drafts", write, "POST", json=_draft_body(app)), 409, "draft_exists")
    # a writer of demo writes nothing for other, and another site's question ids are not found
    assert_error(api("drafts", write, "POST", json=_draft_body(app, "other", "x1")), 403, "forbidden_site")
    body = {**_draft_body(app, "other", "x2"), "site": "demo"}
    assert_error(api("drafts", write, "POST", json=body), 400, "no_questions")
    for bad in ({"question_ids": "q1"}, {"title": 5}, {"site": ["demo"]}):
        assert api("drafts", write, "POST", json={**_draft_body(app, slug="x3"), **bad}).status_code == 400
    assert not list((Path(app.config["CONTENT_DIR"]) / "faq").rglob("x?.md"))


# --- the audit log ---------------------------------------------------------------------------------

def _cli_env(app, monkeypatch):
    monkeypatch.setenv("GUIDE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("GUIDE_INSTANCE_PATH", app.instance_path)
    monkeypatch.setenv("GUIDE_SITES", json.dumps({"demo": {"identity": "open"}, "other": {"identity": "open"}}))


def test_the_audit_log_records_every_kind_of_action(app, api, monkeypatch, capsys):
    engine = services(app).db
    assert login(app.test_client(), name="vera", password="wrong password!", ip="10.9.9.9").status_code == 401
    eddie = signed_in(app, name="eddie")
    eddie.get("/admin/stuck?format=csv")
    eddie.post("/admin/unanswered/draft", data={**_draft_form(eddie), "slug": ["audited"]})
    eddie.get("/admin/?site=other")  # refused: not its site
    eddie.post("/admin/user/find", data={"csrf_token": csrf_of(eddie.get("/admin/")), "site": "demo", "app_id": "u3"})
    eddie.get("/admin/preview?site=demo&tour=welcome&url=https://app.example/demo")
    eddie.post("/admin/logout", data={"csrf_token": csrf_of(eddie.get("/admin/"))})
    token = make_token(app, "bi")
    api("overview?site=demo", token)

    _cli_env(app, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password here\n"))
    assert cli.main(["create-admin", "newbie", "--password-stdin", "--role", "viewer", "--sites", "demo"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert cli.main(["create-admin", "newbie", "--password-stdin", "--reset-password"]) == 0
    assert cli.main(["admins", "set-role", "newbie", "editor"]) == 0
    assert cli.main(["admins", "remove", "newbie"]) == 0
    assert cli.main(["create-admin-token", "etl", "--sites", "other"]) == 0
    assert cli.main(["revoke-admin-token", "etl"]) == 0
    capsys.readouterr()

    entries = audit.entries(engine, limit=1000)
    # teach needs a search index, which this app has not: tests/desk/test_teach.py checks its entry
    assert {e["action"] for e in entries} == set(audit.ACTIONS) - {"teach"}
    by = {e["action"]: e for e in reversed(entries)}  # the newest of each
    assert (by["login_failed"]["actor"], by["login_failed"]["ip"]) == ("vera", "10.9.9.9")
    assert (by["login"]["actor"], by["login"]["actor_kind"]) == ("eddie", "account")
    assert by["export"]["site"] == "demo" and by["export"]["detail"]["table"] == "stuck-points"
    assert by["draft"]["detail"]["file"] == "faq/ja/drafts/audited.md" and by["draft"]["actor"] == "eddie"
    assert by["denied"]["site"] == "other" and by["denied"]["detail"]["code"] == "forbidden_site"
    assert by["logout"]["actor"] == "eddie"
    assert by["find_user"]["detail"] == {"found": True, "anonymous": False, "user": app.seeded["pseudo"]["u3"]}
    assert by["preview"]["detail"] == {"tour": "welcome", "url": "https://app.example/demo"} and by["preview"]["site"] == "demo"
    assert (by["token_used"]["actor"], by["token_used"]["actor_kind"], by["token_used"]["site"]) == ("bi", "token", "demo")
    assert by["token_used"]["detail"] == {"method": "GET", "path": "/api/v1/admin/overview", "status": 200}
    assert by["account_created"]["detail"] == {"account": "newbie", "role": "viewer", "sites": "demo"}
    assert by["account_changed"]["detail"]["role"] == "editor" and by["account_removed"]["actor_kind"] == "cli"
    assert by["token_created"]["detail"] == {"token": "etl", "sites": "other", "write": False}
    assert all(PASSWORD not in json.dumps(e["detail"]) for e in entries)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_admins_read_the_audit_log_on_the_desk(app, lang):
    login(app.test_client(), name="otto", password="not the password")
    alice = signed_in(app, name="alice")
    alice.get(f"/admin/lang/{lang}")
    page = alice.get("/admin/audit")
    text = _text(page)
    assert page.status_code == 200 and f'<html lang="{lang}">' in text
    shown = re.sub(r"<[^>]+>", " ", text)
    keys = {k.split(".")[0] for k in STRINGS} - {"app"}
    assert not re.findall(rf"\b(?:{'|'.join(keys)})\.[a-z_]+", shown)  # every word translated
    assert STRINGS["v.login_failed"][0 if lang == "ja" else 1] in text and "otto" in text
    only = _text(alice.get("/admin/audit?action=login_failed"))
    assert "otto" in only and "alice" not in re.sub(r'<span class="gd-who">.*?</span>', "", only)
    csv = alice.get("/admin/audit?format=csv")
    assert csv.status_code == 200 and "otto" in _text(csv)
    assert alice.get("/admin/audit?action=nope").status_code == 400


def test_the_audit_log_pages_back(app):
    engine = services(app).db
    for n in range(audit.PAGE + 5):
        audit.record(engine, "token_used", f"t{n}", "token")
    alice = signed_in(app, name="alice")
    first = _text(alice.get("/admin/audit?action=token_used"))
    assert "t104" in first and ">t0<" not in first
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)"', first).group(1).replace("&amp;", "&")
    assert ">t0<" in _text(alice.get(older))


# --- the accounts commands ---------------------------------------------------------------------------

def test_guide_admins_list_remove_and_set_role(app, monkeypatch, capsys):
    _cli_env(app, monkeypatch)
    auth.create_token(services(app).db, "bi", frozenset({"demo"}), write=True)
    env = {"GUIDE_DATABASE_URL": app.config["DATABASE_URL"], "GUIDE_INSTANCE_PATH": app.instance_path}
    listed = guide("admins", "list", env=env)  # as a real command
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line.split() for line in listed.stdout.splitlines() if line.strip()}
    assert lines["alice"][1] == "admin" and lines["alice"][-1] == "*"
    assert lines["vera"][1] == "viewer" and lines["vera"][-1] == "demo"
    assert lines["bi"][1] == "write" and lines["bi"][-1] == "demo"

    assert cli.main(["admins", "set-role", "vera", "editor", "--sites", "demo,other"]) == 0
    assert "'vera' is now editor of site(s) demo, other" in capsys.readouterr().out
    vera = next(a for a in auth.admin_rows(services(app).db) if a["name"] == "vera")
    assert (vera["role"], vera["sites"]) == ("editor", "demo,other")
    assert cli.main(["admins", "set-role", "vera", "viewer"]) == 0  # the sites stay
    assert next(a for a in auth.admin_rows(services(app).db) if a["name"] == "vera")["sites"] == "demo,other"
    assert cli.main(["admins", "set-role", "vera", "admin"]) == 0  # an admin gets every site
    assert next(a for a in auth.admin_rows(services(app).db) if a["name"] == "vera")["sites"] == "*"
    capsys.readouterr()

    for argv, message in [
        (["admins", "set-role", "vera", "admin", "--sites", "demo"], "an admin has every site"),
        (["admins", "set-role", "vera", "viewer", "--sites", "nope"], "unknown site(s) nope"),
        (["admins", "set-role", "vera", "viewer", "--sites", ""], "at least one site"),
        (["admins", "set-role", "nobody", "viewer"], "no admin named 'nobody'"),
        (["admins", "remove", "nobody"], "no admin named 'nobody'"),
        (["create-admin-token", "x", "--sites", "nope"], "unknown site(s) nope"),
    ]:
        assert cli.main(argv) == 1, argv
        assert message in capsys.readouterr().err, argv
    with pytest.raises(SystemExit):
        cli.main(["admins", "set-role", "vera", "owner"])  # not a role: argparse says which are
    capsys.readouterr()

    assert cli.main(["admins", "remove", "vera"]) == 0
    assert cli.main(["admins", "remove", "eddie"]) == 0
    assert cli.main(["admins", "set-role", "alice", "viewer"]) == 1
    assert "last admin" in capsys.readouterr().err
    assert cli.main(["admins", "remove", "alice"]) == 1  # someone must be able to read the audit log
    assert "last admin" in capsys.readouterr().err
    assert {a["name"] for a in auth.admin_rows(services(app).db)} == {"alice", "otto"}


def test_create_admin_takes_a_role_and_sites_and_tokens_their_scope(app, monkeypatch, capsys):
    _cli_env(app, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password here\n"))
    assert cli.main(["create-admin", "carol", "--password-stdin", "--role", "editor", "--sites", "other"]) == 0
    assert "created editor 'carol' of site(s) other" in capsys.readouterr().out
    carol = app.test_client()
    assert login(carol, name="carol", password="a long password here").status_code == 303
    assert carol.get("/admin/").status_code == 200 and carol.get("/admin/?site=demo").status_code == 403
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password here\n"))
    assert cli.main(["create-admin", "dan", "--password-stdin", "--sites", "demo"]) == 1  # admin by default
    assert "an admin has every site" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password here\n"))
    assert cli.main(["create-admin", "carol", "--password-stdin", "--reset-password", "--role", "admin"]) == 1
    assert "guide admins set-role" in capsys.readouterr().err

    assert cli.main(["create-admin-token", "etl", "--sites", "demo", "--write"]) == 0
    out = capsys.readouterr()
    assert "read and write, site(s) demo" in out.err
    access = auth.token_access(services(app).db, out.out.strip())
    assert (access.role, access.sites) == ("editor", frozenset({"demo"}))
    assert cli.main(["create-admin-token", "bi"]) == 0  # as before: every site, read only
    access = auth.token_access(services(app).db, capsys.readouterr().out.strip())
    assert (access.role, access.sites) == ("viewer", None)


# --- accounts and tokens made before roles ----------------------------------------------------------

def test_accounts_and_tokens_made_before_roles_keep_their_access(tmp_path):
    """A database at the revision before roles, with an account and a token: after the upgrade the
    account is an admin of every site and the token reads every site, as they did; nobody is locked out."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'guide.db'}"
    plain = create_engine(url, poolclass=NullPool)
    with plain.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0001")
    token = auth.TOKEN_PREFIX + "old-token-made-before-roles-0123456789"
    with plain.begin() as conn:  # the columns of that release only
        conn.execute(text("INSERT INTO admin_users (name, password_hash, created_at) VALUES ('old', :p, 1.0)"),
                     {"p": PasswordHasher().hash(PASSWORD)})
        conn.execute(text("INSERT INTO admin_tokens (name, token_hash, created_at) VALUES ('legacy', :h, 1.0)"),
                     {"h": hashlib.sha256(token.encode()).hexdigest()})
    plain.dispose()

    connect(url).dispose()  # a server starts: the revision runs
    app = make_app(tmp_path, DATABASE_URL=url)
    try:
        row = next(a for a in auth.admin_rows(services(app).db) if a["name"] == "old")
        assert (row["role"], row["sites"]) == ("admin", "*")
        client = signed_in(app, name="old")
        for page in ("/admin/?site=demo", "/admin/?site=other", "/admin/audit", "/admin/accounts"):
            assert client.get(page).status_code == 200, page
        access = auth.token_access(services(app).db, token)
        assert (access.name, access.role, access.sites) == ("legacy", "viewer", None)
        assert app.test_client().get("/api/v1/admin/overview?site=other",
                                     headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        services(app).close()

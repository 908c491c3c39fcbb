"""Editors' previews: drafts are never served to users; the desk's /admin/preview signs a token only
for editors and only for the site's own pages; /api/v1/preview/<id> shows the item (drafts too) for
that token alone."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from guide_server import create_app
from guide_server.db.schema import admin_audit
from guide_server.desk.auth import create_admin
from guide_server.web import preview as preview_token
from guide_server.web.context import services
from tests.desk.admin_seed import PASSWORD, login
from tests.support import assert_error

SECRET = "preview-test-secret"
ORIGIN = "https://app.example.com"
DRAFT_TOUR = """\
id: new-reports
title: {ja: 新しいレポート, en: New reports}
draft: true
match:
  urls: ["/demo*"]
steps:
  - id: open
    title: {ja: レポート, en: Reports}
    body: {ja: ここです, en: Here}
"""
DRAFT_HINT = "id: draft-hint\nkind: hint\ndraft: true\nsteps:\n  - id: s\n    target: \"#x\"\n    body: hint\n"
DRAFT_CHECKLIST = """\
id: draft-list
kind: checklist
title: {ja: 下書きのリスト, en: Draft list}
draft: true
tasks:
  - id: a
    title: {ja: タスク, en: A task}
    done_when: {event: a_done}
"""
PUBLISHED = "id: live-tour\ntitle: Live\ndraft: false\nmatch:\n  urls: [\"/demo*\"]\nsteps:\n  - id: s\n    body: live\n"
OTHER_SITE = "id: other-tour\nsites: [other]\ndraft: true\nsteps:\n  - id: s\n    body: other\n"
TOURS = {"new-reports.yml": DRAFT_TOUR, "draft-hint.yml": DRAFT_HINT, "draft-list.yml": DRAFT_CHECKLIST,
         "live.yml": PUBLISHED, "other.yml": OTHER_SITE}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for the module (its accounts take a while to hash); tests only add sessions and audit entries."""
    tmp_path = tmp_path_factory.mktemp("preview")
    content = tmp_path / "content"
    (content / "faq").mkdir(parents=True)
    (content / "tours").mkdir()
    for name, text in TOURS.items():
        (content / "tours" / name).write_text(text, encoding="utf-8")
    app = create_app({
        "TESTING": True, "SECRET_KEY": SECRET, "CONTENT_DIR": str(content), "INDEX_DIR": str(tmp_path / "no-index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}", "RELOAD_INTERVAL": 0,
        "SITES": {"demo": {"identity": "open", "origins": [ORIGIN, "http://localhost:8000"]},
                  "other": {"identity": "open", "origins": []}},
    })
    engine = services(app).db
    create_admin(engine, "ed", PASSWORD, role="editor", sites=frozenset({"demo"}))
    create_admin(engine, "ed-other", PASSWORD, role="editor", sites=frozenset({"other"}))
    create_admin(engine, "viewer", PASSWORD, role="viewer")
    create_admin(engine, "root", PASSWORD, role="admin")
    assert not services(app).tours.errors, services(app).tours.errors
    yield app
    services(app).close()


@pytest.fixture
def api(app):
    return app.test_client()


def desk(app, name: str):
    client = app.test_client()
    assert login(client, name=name).status_code == 303
    return client


def token_for(item: str, site: str = "demo", **kw) -> str:
    return preview_token.sign(SECRET, item, site, "ed", **kw)


# --- drafts are not served -----------------------------------------------------------------------------

def test_drafts_are_not_served_to_users(api):
    page = api.get("/api/v1/tours", query_string={"site": "demo", "url": "/demo", "user": "u1"}).get_json()
    assert [t["id"] for t in page["tours"]] == ["live-tour"]
    assert page["checklists"] == []
    assert [t["id"] for t in page["library"]] == ["live-tour"]
    for item in ("new-reports", "draft-hint", "draft-list"):
        assert_error(api.get(f"/api/v1/tours/{item}?site=demo"), 404, "unknown_tour")
    assert api.get("/api/v1/tours/live-tour?site=demo").status_code == 200
    # progress on a draft is refused as well: no user can be in one
    resp = api.post("/api/v1/tours/progress", json={"site": "demo", "user": "u1", "tour": "new-reports", "version": 1,
                                                    "step": 0, "status": "active"})
    assert_error(resp, 404, "unknown_tour")


def test_draft_must_be_true_or_false(tmp_path):
    from guide_server.content.rules import ContentError
    from guide_server.guidance.tours import parse_item

    assert parse_item(DRAFT_TOUR.encode(), "tours/x.yml").draft is True
    assert parse_item(PUBLISHED.encode(), "tours/x.yml").draft is False
    assert parse_item(DRAFT_CHECKLIST.encode(), "tours/x.yml").draft is True
    with pytest.raises(ContentError, match="x.yml:3: 'draft' must be true or false"):
        parse_item(DRAFT_TOUR.replace("draft: true", "draft: yes please").encode(), "tours/x.yml")


# --- the desk: /admin/tours and /admin/preview ---------------------------------------------------------

def test_the_tours_page_lists_the_sites_items_with_draft_badges(app):
    client = desk(app, "ed")
    for lang in ("ja", "en"):
        client.get(f"/admin/lang/{lang}")
        resp = client.get("/admin/tours?site=demo")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, html
        for item in ("new-reports", "draft-hint", "draft-list", "live-tour"):
            assert f'id="item-{item}"' in html
        assert "other-tour" not in html
        assert html.count('class="gd-badge"') == 3
        assert "tours." not in html.replace("tours.html", "")  # every word translated
    # the Preview forms may be redirected to the site's pages, and nowhere else
    csp = resp.headers["Content-Security-Policy"]
    assert f"form-action 'self' {ORIGIN} http://localhost:8000;" in csp
    assert client.get("/admin/tours?site=other").status_code == 403
    assert "gd-warn" in desk(app, "ed-other").get("/admin/tours?site=other").get_data(as_text=True)  # no origins


def _preview(client, **args):
    return client.get("/admin/preview", query_string={"site": "demo", "tour": "new-reports", **args})


@pytest.mark.parametrize(("url", "expected"), [
    (f"{ORIGIN}/demo", f"{ORIGIN}/demo?guide_preview="),
    (f"{ORIGIN}", f"{ORIGIN}/?guide_preview="),
    (f"{ORIGIN}/demo?tab=2&q=a%20b", f"{ORIGIN}/demo?tab=2&q=a%20b&guide_preview="),
    (f"{ORIGIN}/app?x=1#/settings?y=2", f"{ORIGIN}/app?x=1&guide_preview="),  # a hash route stays after the query
    (f"{ORIGIN}/demo?guide_preview=old.a.b&k=v#top", f"{ORIGIN}/demo?k=v&guide_preview="),  # an old link's is replaced
    ("http://localhost:8000/demo", "http://localhost:8000/demo?guide_preview="),
])
def test_preview_redirects_to_the_page_with_a_token(app, url, expected):
    client = desk(app, "ed")
    resp = _preview(client, url=url)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    where = resp.headers["Location"]
    assert where.startswith(expected)
    parts = urlsplit(where)
    assert parts.fragment == urlsplit(url).fragment
    value = parse_qs(parts.query)["guide_preview"][0]
    item, token = preview_token.parse_link_value(value)
    assert item == "new-reports"
    claims = preview_token.check(SECRET, token, "new-reports", "demo")
    assert claims["user"] == "ed" and 3500 < claims["exp"] - time.time() <= 3600
    with services(app).db.connect() as conn:
        logged = conn.execute(select(admin_audit).where(admin_audit.c.action == "preview")).all()
    assert [(r.actor, r.site) for r in logged if json.loads(r.detail) == {"tour": "new-reports", "url": url}] == [("ed", "demo")]


@pytest.mark.parametrize("url", [
    "https://evil.example/demo", "https://app.example.com.evil.example/", "http://app.example.com/demo",  # another origin
    "javascript:alert(1)", "data:text/html,x", "//evil.example/", "/demo", "ftp://app.example.com/",
    "https://user:pw@app.example.com/", "https://app.example.com\\@evil.example/", "https:/\\evil.example",
    " https://app.example.com/", "https://app.example.com:99999/",
])
def test_preview_refuses_pages_off_the_sites_origins(app, url):
    resp = _preview(desk(app, "ed"), url=url)
    assert resp.status_code == 400 and "Location" not in resp.headers, (url, resp.headers)


def test_a_site_without_origins_takes_any_http_page(app):
    client = desk(app, "ed-other")
    resp = client.get("/admin/preview", query_string={"site": "other", "tour": "other-tour", "url": "https://x.example/p"})
    assert resp.status_code == 303 and resp.headers["Location"].startswith("https://x.example/p?guide_preview=other-tour.")
    bad = client.get("/admin/preview", query_string={"site": "other", "tour": "other-tour", "url": "javascript:x"})
    assert bad.status_code == 400


@pytest.mark.parametrize(("who", "args", "status"), [
    ("viewer", {}, 403),  # viewers may not edit content
    ("ed-other", {}, 403),  # an editor of another site
    ("ed", {"tour": "other-tour"}, 404),  # another site's item
    ("ed", {"tour": "nope"}, 404),
    ("ed", {"site": "other", "tour": "other-tour"}, 403),
])
def test_only_editors_of_the_site_get_a_preview(app, who, args, status):
    resp = _preview(desk(app, who), url=f"{ORIGIN}/demo", **args)
    assert resp.status_code == status and "Location" not in resp.headers
    assert "guide_preview" not in resp.get_data(as_text=True)


def test_preview_needs_a_login(app):
    resp = _preview(app.test_client(), url=f"{ORIGIN}/demo")
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]


def test_an_admin_may_preview_too(app):
    assert _preview(desk(app, "root"), url=f"{ORIGIN}/by-an-admin").status_code == 303


# --- the API: /api/v1/preview/<id> ---------------------------------------------------------------------

def test_preview_api_serves_the_draft_as_the_tour_endpoint_would(app, api):
    resp = api.get("/api/v1/preview/new-reports", query_string={"site": "demo", "token": token_for("new-reports"),
                                                                 "locale": "en"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    tour = resp.get_json()
    assert tour["id"] == "new-reports" and tour["title"] == "New reports" and tour["steps"][0]["title"] == "Reports"
    assert tour["progress"] == {"status": "new", "step": 0, "version": 1}
    # the same shape as GET /api/v1/tours/<id> (a published tour shows it)
    live = api.get("/api/v1/tours/live-tour?site=demo&locale=en").get_json()
    assert set(live) == set(tour)
    assert api.get("/api/v1/preview/live-tour", query_string={"site": "demo", "token": token_for("live-tour"),
                                                               "locale": "en"}).get_json() == live
    hint = api.get("/api/v1/preview/draft-hint", query_string={"site": "demo", "token": token_for("draft-hint")}).get_json()
    assert hint["kind"] == "hint"
    checklist = api.get("/api/v1/preview/draft-list", query_string={"site": "demo", "token": token_for("draft-list"),
                                                                     "locale": "ja"}).get_json()
    assert checklist["title"] == "下書きのリスト" and checklist["done"] == 0 and checklist["total"] == 1


@pytest.mark.parametrize(("make", "status", "code"), [
    (lambda: None, 401, "missing_preview_token"),
    (lambda: token_for("draft-hint"), 403, "preview_mismatch"),  # another item
    (lambda: token_for("new-reports", site="other"), 403, "preview_mismatch"),  # another site
    (lambda: token_for("new-reports", ttl=-1), 401, "preview_expired"),
    (lambda: token_for("new-reports")[:-2] + "xx", 401, "invalid_preview_token"),  # tampered signature
    (lambda: preview_token.sign("another-secret", "new-reports", "demo", "ed"), 401, "invalid_preview_token"),
    (lambda: "not-a-token", 401, "invalid_preview_token"),
])
def test_preview_api_refuses_other_tokens(api, make, status, code):
    token = make()
    params = {"site": "demo", **({"token": token} if token else {})}
    assert_error(api.get("/api/v1/preview/new-reports", query_string=params), status, code)


def test_a_tampered_payload_is_refused(api):
    token = token_for("draft-hint")
    payload, sig = token.rsplit(".", 1)
    forged = token_for("new-reports").rsplit(".", 1)[0] + "." + sig  # the payload of one, the signature of another
    assert_error(api.get("/api/v1/preview/new-reports", query_string={"site": "demo", "token": forged}),
                 401, "invalid_preview_token")
    assert payload


def test_an_expired_token_fails_an_hour_after_it_was_made():
    token = preview_token.sign(SECRET, "t", "demo", "ed", now=1_000_000)
    assert preview_token.check(SECRET, token, "t", "demo", now=1_000_000 + 3599)["tour"] == "t"
    with pytest.raises(Exception, match="expired"):
        preview_token.check(SECRET, token, "t", "demo", now=1_000_000 + 3601)


@pytest.mark.parametrize("item", ["welcome", "a.b.c", "x-1_y"])
def test_the_link_value_splits_back_into_id_and_token(item):
    token = token_for(item)
    assert preview_token.parse_link_value(preview_token.link_value(item, token)) == (item, token)
    compressed = "." + token  # a payload itsdangerous compressed starts with a dot
    assert preview_token.parse_link_value(f"{item}.{compressed}") == (item, compressed)

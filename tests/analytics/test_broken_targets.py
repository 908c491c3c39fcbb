"""Broken targets (analytics/targets.py): steps whose selector found nothing for many of the people
who reached them, on /api/v1/health, the desk's stuck-points page and the admin JSON API.

Events go in as the widget sends them (POST /api/v1/events), for people signed in or anonymous.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from guide_server import create_app
from guide_server.analytics.targets import missing_targets
from guide_server.desk import auth
from guide_server.ops import health
from guide_server.web.context import services
from tests.desk.admin_seed import PASSWORD, login
from tests.support import KEY

TOUR = """\
id: invoice
sites: [demo, other]
steps:
  - id: list
    title: The list
    target: "#invoice-list"
  - id: send
    title: Send it
    target: '[data-testid="send-invoice"]'
  - id: fill
    title: Fill it in
    target: "#form"
  - id: old
    title: An old step
    target: ".old"
  - id: other-secret-step
    title: Only other's
    target: "#other-secret-target"
"""
SEND_TARGET = '[data-testid="send-invoice"]'
HOUR_MS = 3600 * 1000
NO_LIMITS = {"LIMIT_SITE": 0, "LIMIT_EVENTS": 0}  # dozens of people's batches from one test client
INDEX = {"list": 0, "send": 1, "fill": 2, "old": 3, "other-secret-step": 4}


@pytest.fixture
def app(sample_index, database_url, tmp_path):
    content = tmp_path / "content"
    (content / "tours").mkdir(parents=True)
    (content / "tours" / "invoice.yml").write_text(TOUR, encoding="utf-8")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "INDEX_DIR": str(sample_index), "CONTENT_DIR": str(content),
        "DATABASE_URL": database_url, "RELOAD_INTERVAL": 0, "PSEUDONYM_KEY": KEY,
        "SITES": {"demo": {"identity": "open", "origins": []}, "other": {"identity": "open", "origins": []}},
        **NO_LIMITS,
    })
    yield app
    services(app).close()


def event(kind: str, step: str, ago_hours: float = 1.0) -> dict:
    """One event as the widget's track() sends it: the run's context (tour, version, step, index)."""
    ev = {"id": uuid.uuid4().hex, "type": kind, "at": int(time.time() * 1000 - ago_hours * HOUR_MS),
          "url": "https://app.example/invoices", "tour": "invoice", "version": 1, "step": step,
          "step_index": INDEX[step]}
    if kind == "target_missing":
        ev["props"] = {"action": "skip"}
    return ev


def visit(client, site: str, step: str, people: int, missing: int, ago_hours: float = 1.0, tag: str = "") -> None:
    """``people`` reach ``step`` (half signed in, half anonymous); the first ``missing`` of them find no target."""
    for n in range(people):
        kinds = ["target_missing"] if n < missing else ["step_shown"]
        if n < missing and n % 3 == 0:
            kinds.append("step_shown")  # missing: center (the step is shown in the middle): still one person
        person = {"user": f"{tag}{step}-u{n}"} if n % 2 else {"anon": f"a-{tag}{step}-{n}"}
        resp = client.post("/api/v1/events", json={"site": site, **person,
                                                   "events": [event(k, step, ago_hours) for k in kinds]})
        assert resp.status_code == 200 and resp.get_json()["rejected"] == [], resp.get_data(as_text=True)


@pytest.fixture
def seeded(app):
    c = app.test_client()
    visit(c, "demo", "send", 10, 6)  # 60 %: broken
    visit(c, "demo", "send", 5, 5, ago_hours=30, tag="before-")  # older than the 24 h window: not counted
    visit(c, "demo", "list", 10, 1)  # 10 %: fine
    visit(c, "demo", "fill", 3, 3)  # 100 %, but 3 people, fewer than TARGET_MISSING_MIN_PEOPLE (5)
    visit(c, "demo", "old", 8, 8, ago_hours=25)  # all outside the window
    visit(c, "other", "other-secret-step", 6, 6)  # another site's: 100 % of 6
    health._broken.clear()
    return c


DEMO_ROW = {"site": "demo", "tour": "invoice", "step": "send", "target": SEND_TARGET, "missing": 6, "reached": 10,
            "share": 0.6}
OTHER_ROW = {"site": "other", "tour": "invoice", "step": "other-secret-step", "target": "#other-secret-target",
             "missing": 6, "reached": 6, "share": 1.0}


def test_people_are_counted_once_per_step_within_the_window(app, seeded):
    now = time.time()
    rows = missing_targets(services(app).db, ["demo", "other"], now - 24 * 3600, now + 60)
    by_step = {(r["site"], r["step"]): (r["missing"], r["reached"]) for r in rows}
    assert by_step == {("demo", "send"): (6, 10), ("demo", "list"): (1, 10), ("demo", "fill"): (3, 3),
                       ("other", "other-secret-step"): (6, 6)}
    rows = missing_targets(services(app).db, ["demo"], now - 48 * 3600, now + 60)  # a wider window takes them in
    assert {r["step"]: r["missing"] for r in rows} == {"send": 11, "list": 1, "fill": 3, "old": 8}


def test_health_lists_broken_targets_as_warnings_and_stays_ok(app, seeded):
    body = seeded.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["reasons"] == []
    assert body["broken_targets"] == [OTHER_ROW, DEMO_ROW]  # highest share first
    assert len(body["warnings"]) == 2
    assert any("tour invoice, step send" in w and SEND_TARGET in w and "6 of 10 people (60%)" in w
               for w in body["warnings"])
    assert seeded.get("/readyz").status_code == 200


def test_health_computes_them_once_a_minute(app, seeded):
    assert len(seeded.get("/api/v1/health").get_json()["broken_targets"]) == 2
    visit(seeded, "demo", "fill", 5, 5, tag="more-")  # now 8 of 8 on fill: broken, once the cache is stale
    assert len(seeded.get("/api/v1/health").get_json()["broken_targets"]) == 2
    health._broken.clear()
    steps = [b["step"] for b in seeded.get("/api/v1/health").get_json()["broken_targets"]]
    assert sorted(steps) == ["fill", "other-secret-step", "send"]


def test_the_threshold_and_the_minimum_are_settings(sample_index, database_url, tmp_path):
    content = tmp_path / "content"
    (content / "tours").mkdir(parents=True)
    (content / "tours" / "invoice.yml").write_text(TOUR, encoding="utf-8")
    app = create_app({
        "TESTING": True, "INDEX_DIR": str(sample_index), "CONTENT_DIR": str(content), "DATABASE_URL": database_url,
        "RELOAD_INTERVAL": 0, "SITES": {"demo": {"identity": "open", "origins": []}},
        "TARGET_MISSING_ALERT": 5, "TARGET_MISSING_MIN_PEOPLE": 1, "TARGET_MISSING_HOURS": 48, **NO_LIMITS,
    })
    try:
        c = app.test_client()
        visit(c, "demo", "list", 10, 1)  # 10 % of 10, 1 person: listed under these settings
        visit(c, "demo", "old", 2, 2, ago_hours=30)  # inside 48 h
        health._broken.clear()
        rows = c.get("/api/v1/health").get_json()["broken_targets"]
        assert [(r["step"], r["missing"], r["reached"]) for r in rows] == [("old", 2, 2), ("list", 1, 10)]
    finally:
        services(app).close()


def test_bad_settings_are_refused(sample_index, database_url):
    for bad in ({"TARGET_MISSING_ALERT": 120}, {"TARGET_MISSING_MIN_PEOPLE": 0}, {"TARGET_MISSING_HOURS": 0}):
        with pytest.raises(ValueError, match="TARGET_MISSING"):
            create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url, **bad})


def _viewer_of_demo(app):
    name = f"viewer-{uuid.uuid4().hex[:6]}"
    auth.create_admin(services(app).db, name, PASSWORD, role="viewer", sites=frozenset({"demo"}))
    client = app.test_client()
    assert login(client, name=name).status_code == 303
    return client


@pytest.mark.parametrize(("lang", "title"), [("ja", "対象要素が見つからないステップ（直近24時間）"),
                                             ("en", "Steps whose target is missing (last 24 hours)")])
def test_the_desk_shows_the_sites_broken_targets_only(app, seeded, lang, title):
    desk = _viewer_of_demo(app)
    desk.get(f"/admin/lang/{lang}")
    html = desk.get("/admin/stuck?site=demo").get_data(as_text=True)
    assert title in html
    table = re.search(r'<table id="table-broken-targets">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)]
    assert len(rows) == 1 and cells == ["invoice", "send", "[data-testid=&#34;send-invoice&#34;]", "6", "10", "60.0%"]
    assert "other-secret" not in html
    assert desk.get("/admin/stuck?site=other").status_code == 403
    csv = desk.get("/admin/stuck?site=demo&format=csv&table=broken-targets").get_data(as_text=True)
    assert "send" in csv and "other-secret" not in csv


def test_the_desk_says_when_nothing_is_broken(app):
    desk = _viewer_of_demo(app)
    desk.get("/admin/lang/en")
    html = desk.get("/admin/stuck?site=demo").get_data(as_text=True)
    assert "No step has lost its target." in html


def test_the_admin_api_lists_them_with_the_stuck_points_of_the_tokens_site(app, seeded):
    token = auth.create_token(services(app).db, "bi-demo", sites=frozenset({"demo"}))
    headers = {"Authorization": f"Bearer {token}"}
    body = seeded.get("/api/v1/admin/stuck-points?site=demo", headers=headers).get_json()
    assert body["broken_targets"] == [DEMO_ROW]
    assert seeded.get("/api/v1/admin/stuck-points?site=other", headers=headers).status_code == 403

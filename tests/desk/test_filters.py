"""Segment filters (issue 14, item 6): ``locale`` and ``trait=name:value`` narrow every page, its CSV
and the admin API to the people they name, links keep them, and bad ones are a 400.

The seeded week (admin_seed.py) with identified traits added by hand:

    u1 plan:pro   role:admin  ja   walks the whole tour, checklist done, NPS 10, asks UNANSWERED_JA 3x
    u2 plan:free              en   stops after step 3 (page left), checklist started, NPS 6
    u3 plan:pro               ja   idles on step 2 and asks STUCK_QUESTION there, NPS 9
    u4 plan:free              ja   rage-clicks and closes the tour on step 2

so plan:pro is u1 and u3, locale en is u2 alone, and every figure below is counted from that.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from guide_server.desk.auth import create_token
from guide_server.web.context import services

from .admin_seed import SITE, STUCK_QUESTION, TOUR, UNANSWERED_JA, make_token, seeded_app, signed_in

TRAITS = {"u1": ({"plan": "pro", "role": "admin"}, "ja"), "u2": ({"plan": "free"}, "en"),
          "u3": ({"plan": "pro"}, "ja"), "u4": ({"plan": "free"}, "ja")}
WINDOW = "from=2020-01-01&to=2029-12-31"

# (reached, completed) per step of first-invoice: open-list, new-button, fill-form
FUNNELS = {"": [(4, 4), (4, 2), (2, 1)], "trait=plan:pro": [(2, 2), (2, 1), (1, 1)],
           "trait=plan:free": [(2, 2), (2, 1), (1, 0)], "locale=en": [(1, 1), (1, 1), (1, 0)],
           "locale=ja&trait=plan:pro&trait=role:admin": [(1, 1), (1, 1), (1, 1)]}
NPS = {"": (33.3, "33.3"), "trait=plan:pro": (100.0, "100"), "trait=plan:free": (-100.0, "-100"),
       "locale=en": (-100.0, "-100")}  # the figure, and as the desk prints it
ONBOARDING = {"": (2, 1), "trait=plan:pro": (1, 1), "trait=plan:free": (1, 0), "locale=en": (1, 0)}


def identify(client, user: str, traits: dict, locale: str) -> None:
    resp = client.post("/api/v1/identify", json={"site": SITE, "user": user, "traits": traits, "locale": locale})
    assert resp.status_code == 200, resp.get_data(as_text=True)


def escalate(client, user: str, message: str) -> None:
    resp = client.post("/api/v1/escalations", data=json.dumps({"site": SITE, "user": user, "message": message,
                                                                "reason": "other"}), content_type="text/plain")
    assert resp.status_code == 201, resp.get_data(as_text=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = seeded_app(tmp_path_factory.mktemp("filters"))
    client = app.test_client()
    for user, (traits, locale) in TRAITS.items():
        identify(client, user, traits, locale)
    escalate(client, "u3", "pro user needs help")
    escalate(client, "u2", "free user needs help")
    app.token = make_token(app)
    app.writer = create_token(services(app).db, "bi-write", write=True)  # escalations need a token with --write
    yield app
    services(app).close()


@pytest.fixture
def desk(app):
    return signed_in(app, "en")


def api(app, path: str, token: str | None = None):
    return app.test_client().get(f"/api/v1/admin/{path}", headers={"Authorization": f"Bearer {token or app.token}"})


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return [line.split(",") for line in resp.get_data(as_text=True).lstrip("\ufeff").splitlines()]


@pytest.mark.parametrize("segment", list(FUNNELS))
def test_funnels_count_only_the_segment(app, desk, segment):
    body = api(app, f"funnels?{WINDOW}&{segment}").get_json()
    (funnel,) = [f for f in body["funnels"] if f["tour"] == TOUR]
    assert [(s["reached"], s["completed"]) for s in funnel["steps"]] == FUNNELS[segment]
    rows = csv_rows(desk.get(f"/admin/funnels?{WINDOW}&{segment}&format=csv"))
    head = rows[0]
    got = [(int(r[head.index("reached")]), int(r[head.index("completed")])) for r in rows[1:] if r[0] == TOUR]
    assert got == FUNNELS[segment]  # the page's table is the same


@pytest.mark.parametrize("segment", list(NPS))
def test_nps_and_onboarding_count_only_the_segment(app, desk, segment):
    assert api(app, f"nps?{WINDOW}&{segment}").get_json()["nps"]["score"] == NPS[segment][0]
    weeks = api(app, f"onboarding?{WINDOW}&{segment}").get_json()["weeks"]
    assert (sum(w["started"] for w in weeks), sum(w["completed"] for w in weeks)) == ONBOARDING[segment]
    html = desk.get(f"/admin/nps?{WINDOW}&{segment}").get_data(as_text=True)
    assert re.search(r'id="nps-score">([^<]*)<', html).group(1) == NPS[segment][1]


def test_stuck_points_and_the_step_count_only_the_segment(app, desk):
    (top,) = [p for p in api(app, f"stuck-points?{WINDOW}&trait=plan:free").get_json()["stuck_points"]
              if p["step"] == "new-button"]
    assert (top["reached"], top["completed"], top["signals"]["rage_click"], top["signals"]["idle"]) == (2, 1, 1, 0)
    assert top["questions"] == []  # u3 asked it, and u3 is on pro
    (pro,) = [p for p in api(app, f"stuck-points?{WINDOW}&trait=plan:pro").get_json()["stuck_points"]
              if p["step"] == "new-button"]
    assert (pro["signals"]["rage_click"], pro["signals"]["idle"]) == (0, 1)
    assert [q["question"] for q in pro["questions"]] == [STUCK_QUESTION]
    users = api(app, f"stuck-points/users?{WINDOW}&trait=plan:pro&tour={TOUR}&version=1&step=new-button").get_json()
    pseudo = pseudonyms(app)
    assert {u["user"] for u in users["users"]} == {pseudo["u1"], pseudo["u3"]}


def test_questions_filter_by_their_own_locale(app):
    def groups(segment):
        return {g["label"]: g["count"] for g in api(app, f"unanswered?{WINDOW}&{segment}").get_json()["groups"]}

    assert groups("locale=en") == {"Can I pay by bank transfer?": 1}
    assert groups("trait=plan:pro").get(UNANSWERED_JA) == 3
    assert "Can I pay by bank transfer?" not in groups("trait=plan:pro")  # asked by nobody identified


def test_overview_and_escalations_count_only_the_segment(app, desk):
    pro = api(app, f"overview?{WINDOW}&trait=plan:pro").get_json()["overview"]
    assert (pro["users"], pro["nps"], pro["onboarding_rate"]) == (2, 100.0, 1.0)
    assert api(app, f"overview?{WINDOW}&locale=en").get_json()["overview"]["users"] == 1
    text = desk.get(f"/admin/escalations?{WINDOW}&trait=plan:pro").get_data(as_text=True)
    assert "pro user needs help" in text and "free user needs help" not in text
    (only,) = api(app, f"escalations?{WINDOW}&trait=plan:free", app.writer).get_json()["escalations"]
    assert only["message"] == "free user needs help"


def pseudonyms(app) -> dict[str, str]:
    from guide_server.privacy import pseudonymise

    return {u: pseudonymise(services(app).pseudonym_key, SITE, u) for u in TRAITS}


def test_links_downloads_and_the_form_keep_the_filter(app, desk):
    html = desk.get(f"/admin/stuck?{WINDOW}&locale=ja&trait=plan:pro").get_data(as_text=True)
    links = [a.replace("&amp;", "&") for a in re.findall(r'href="(/admin/[^"]*)"', html)]
    step = next(a for a in links if a.startswith("/admin/step?"))
    for link in (step, next(a for a in links if "format=csv" in a), next(a for a in links if a.startswith("/admin/nps"))):
        args = parse_qs(urlparse(link).query)
        assert args["trait"] == ["plan:pro"] and args["locale"] == ["ja"], link
    assert re.search(r'<option value="ja" selected>', html)
    assert 'name="trait" value="plan:pro"' in html
    assert '<option value="plan:free">' in html and '<option value="role:admin">' in html  # known traits offered
    page = desk.get(step).get_data(as_text=True)  # the drill-down keeps counting the segment
    pseudo = pseudonyms(app)
    assert pseudo["u3"] in page and pseudo["u1"] in page and pseudo["u4"] not in page and pseudo["u2"] not in page


@pytest.mark.parametrize("bad", ["locale=fr", "trait=plan", "trait=:pro", "trait=plan:", "trait=plan:a&trait=plan:b",
                                 "&".join(f"trait=t{n}:x" for n in range(6)), "trait=plan:" + "x" * 300])
def test_bad_filters_are_a_400_on_the_desk_and_the_api(app, desk, bad):
    resp = desk.get(f"/admin/funnels?{bad}")
    assert resp.status_code == 400 and ("A trait filter is name:value" in resp.get_data(as_text=True)
                                        or "The locale must be one of ja, en" in resp.get_data(as_text=True))
    desk.get("/admin/lang/ja")
    assert "名前:値" in desk.get(f"/admin/funnels?{bad}").get_data(as_text=True) or "locale=fr" in bad
    body = api(app, f"funnels?{bad}")
    assert body.status_code == 400 and body.get_json()["error"]["code"] in ("bad_locale", "bad_trait")


def test_a_trait_nobody_has_counts_nobody(app):
    body = api(app, f"funnels?{WINDOW}&trait=plan:enterprise").get_json()
    assert body["funnels"] == [] and body["trait"] == ["plan:enterprise"]
    assert api(app, f"nps?{WINDOW}&trait=plan:enterprise").get_json()["nps"]["responses"] == 0

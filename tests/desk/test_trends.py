"""KPI cards against the previous period (issue 14, item 6): the period of the same length just
before, its figures in the JSON overview's ``previous`` and, on each card, "previous period X (+n)".

The seeded week (admin_seed.py) is two days old: in the last 7 days there are u1-u4 (4 users, NPS
33.3 from 10, 9 and 6, onboarding 1 of 2). One more user, u8, answered the NPS survey with 0 ten
days ago: the 7 days before hold 1 user, NPS -100 and no onboarding.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from guide_server.web.context import services

from .admin_seed import _send, make_token, seeded_app, signed_in


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = seeded_app(tmp_path_factory.mktemp("trends"))
    at = int((time.time() - 10 * 86400) * 1000)
    _send(app.test_client(), "u8", [{"id": uuid.uuid4().hex, "type": "nps_answered", "at": at,
                                     "url": "https://app.example/", "props": {"score": 0}}])
    app.token = make_token(app)
    yield app
    services(app).close()


def week(app) -> tuple[str, str, str, str]:
    today = datetime.now(ZoneInfo(app.config["ADMIN_TIMEZONE"])).date()
    return tuple(d.isoformat() for d in (today - timedelta(days=6), today, today - timedelta(days=13),
                                         today - timedelta(days=7)))


def test_the_json_overview_has_the_previous_period(app):
    first, last, before_first, before_last = week(app)
    resp = app.test_client().get(f"/api/v1/admin/overview?from={first}&to={last}",
                                 headers={"Authorization": f"Bearer {app.token}"})
    body = resp.get_json()
    assert (body["previous"]["from"], body["previous"]["to"]) == (before_first, before_last)
    now, then = body["overview"], body["previous"]["overview"]
    assert (now["users"], now["nps"], now["onboarding_rate"]) == (4, 33.3, 0.5)
    assert (then["users"], then["nps"], then["onboarding_rate"]) == (1, -100.0, None)


def test_a_month_is_compared_with_the_days_just_before(app):
    resp = app.test_client().get("/api/v1/admin/overview?from=2026-11-01&to=2026-11-30",
                                 headers={"Authorization": f"Bearer {app.token}"})
    assert (resp.get_json()["previous"]["from"], resp.get_json()["previous"]["to"]) == ("2026-10-02", "2026-10-31")


@pytest.mark.parametrize("lang, users, nps, rate", [
    ("ja", "前期間 1（+3）", "前期間 -100（+133.3）", "前期間 –（–）"),
    ("en", "previous period 1 (+3)", "previous period -100 (+133.3)", "previous period – (–)"),
])
def test_each_kpi_card_shows_the_change(app, lang, users, nps, rate):
    client = signed_in(app, lang)
    first, last, before_first, before_last = week(app)
    html = client.get(f"/admin/?from={first}&to={last}").get_data(as_text=True)

    def card(key: str) -> str:
        found = re.search(rf'<li class="gd-kpi" id="kpi-{key}">.*?<span class="gd-kpi-change">(.*?)</span>', html, re.S)
        return found.group(1).strip()

    assert card("users") == users and card("nps") == nps and card("onboarding_rate") == rate
    assert before_first in html and before_last in html  # the period compared with is named


def test_a_fall_is_shown_with_a_minus_and_rates_in_points(app):
    client = signed_in(app, "en")
    first, last, _, _ = week(app)
    later = (datetime.fromisoformat(last) + timedelta(days=7)).date().isoformat()
    html = client.get(f"/admin/?from={(datetime.fromisoformat(last) + timedelta(days=1)).date()}&to={later}"
                      ).get_data(as_text=True)  # the next 7 days: nobody, against the seeded week
    users = re.search(r'id="kpi-users">.*?<span class="gd-kpi-change">(.*?)</span>', html, re.S).group(1)
    assert users.strip() == "previous period 4 (−4)"
    rate = re.search(r'id="kpi-onboarding_rate">.*?<span class="gd-kpi-change">(.*?)</span>', html, re.S).group(1)
    assert rate.strip() == "previous period 50.0% (–)"

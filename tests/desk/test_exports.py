"""CSV downloads that tools can read: English snake_case headings whatever the desk's language, raw
values, one tour per funnel CSV, a clean Content-Type and file name. ``CSV_COLUMNS`` is the documented
list (docs/review-desk.md, "CSV exports"): renaming a column is a deliberate change of both."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from html import unescape

import pytest

from guide_server.web.context import services

from .admin_seed import SITE, TOUR, _send, seeded_app, signed_in

OTHER_TOUR = "export-settings"

CSV_COLUMNS = {
    "overview": ["users", "questions", "answered", "answered_rate", "suggested", "no_answer", "escalated", "resolution_rate",
                 "assumed_rate", "to_work_on", "ratings", "helpful_rate", "onboarding_rate", "nps", "tours_started",
                 "tours_completed"],
    "funnels": ["tour_id", "version", "step_index", "step_id", "step_title", "reached", "completed", "drop_off_rate",
                "median_advance_s"],
    "hints": ["hint_id", "seen", "dismissed", "acknowledged", "clicked_through"],
    "stuck-points": ["rank", "score", "tour_id", "version", "step_id", "step_title", "reached", "completed", "drop_off_rate",
                     "median_advance_s", "signal_idle", "signal_rage_click", "signal_back_forth",
                     "signal_question_asked", "signal_chat_opened", "signal_page_left", "signal_target_missing"],
    "broken-targets": ["tour_id", "step_id", "target", "missing", "reached", "missing_rate"],
    "step-users": ["user", "reached_at", "status", "signals", "questions"],
    "step-questions": ["at", "question", "outcome", "faq_id"],
    "timeline": ["at", "type", "tour_id", "step_id", "step_title", "url", "detail"],
    "user-traits": ["name", "value"],
    "user-questions": ["at", "question", "outcome", "faq_id", "tour_id", "step_id"],
    "user-tours": ["tour_id", "version", "status", "step_number", "updated_at", "completed_at"],
    "unanswered": ["label", "count", "locale", "reason_no_answer", "reason_none_opened", "reason_not_helpful",
                   "reason_reasked", "reason_escalated", "answers", "examples", "pages"],
    "feedback": ["outcome", "faq_id", "title", "shown", "up", "down", "helpful_rate", "comment_count", "passed_over", "went_to"],
    "feedback-comments": ["outcome", "faq_id", "question", "at", "helpful", "comment"],
    "onboarding": ["week", "started", "completed", "completion_rate"],
    "nps-weeks": ["week", "score", "responses"],
    "nps-comments": ["at", "score", "comment"],
    "escalations": ["at", "reason", "message", "who", "question", "answer", "url", "tour_step", "delivery",
                    "delivery_status", "attempts", "last_error"],
    "alerts": ["at", "kind", "channel", "status", "attempts", "last_error", "delivered_at"],
    "accounts": ["name", "role", "sites", "created_at", "last_login_at"],
    "tokens": ["name", "can_write", "sites", "created_at", "last_used_at"],
    "audit": ["at", "action", "actor", "actor_kind", "site", "ip", "detail"],
    "tours": ["id", "kind", "title", "path", "state"],
}

# every desk page that offers a CSV (an admin sees them all)
PAGES = ["/admin/", "/admin/funnels", "/admin/stuck", f"/admin/step?tour={TOUR}&version=1&step=new-button",
         "/admin/user?user={u3}", "/admin/unanswered", "/admin/feedback", "/admin/onboarding", "/admin/nps",
         "/admin/escalations", "/admin/accounts", "/admin/audit", f"/admin/tours?site={SITE}"]


def _other_tour(app) -> None:
    """A second tour, walked by one user, so a funnel CSV has something to leave out."""
    at = int((time.time() - 86400) * 1000)
    step = {"tour": OTHER_TOUR, "version": 1, "step": "pick-format", "step_index": 0}
    _send(app.test_client(), "u9", [
        {"id": uuid.uuid4().hex, "type": "tour_started", "at": at, "url": "https://app.example/export",
         "tour": OTHER_TOUR, "version": 1},
        {"id": uuid.uuid4().hex, "type": "step_shown", "at": at + 1000, "url": "https://app.example/export", **step},
    ])


@pytest.fixture
def app(tmp_path):
    app = seeded_app(tmp_path)
    _other_tour(app)
    yield app
    services(app).close()


@pytest.fixture
def desk(app):
    return signed_in(app)


def _rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def _csv_links(html: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'<a href="([^"]*format=csv[^"]*)"', html)]


def _downloads(app, desk, lang: str) -> dict[str, list[list[str]]]:
    """Every CSV link of every page, downloaded with the desk in ``lang``: {url: rows}."""
    desk.get(f"/admin/lang/{lang}")
    out = {}
    for page in PAGES:
        resp = desk.get(page.format(u3=app.seeded["pseudo"]["u3"]))
        assert resp.status_code == 200, page
        links = _csv_links(resp.get_data(as_text=True))
        assert links, f"{page} offers no CSV"
        for url in links:
            if "/admin/audit" in url:  # the log grows with every download; its heading is what matters
                url += "&_=" + lang
            got = desk.get(url)
            assert got.status_code == 200, url
            out[url.replace("&_=" + lang, "")] = _rows(got)
    return out


def test_csv_headings_are_english_snake_case_in_every_language(app, desk):
    ja, en = _downloads(app, desk, "ja"), _downloads(app, desk, "en")
    assert ja.keys() == en.keys()
    seen = set()
    for url, rows in ja.items():
        table = re.search(r"table=([\w-]+)", url).group(1)
        seen.add(table)
        assert rows[0] == en[url][0], url
        assert rows[0] == CSV_COLUMNS[table], url  # the documented list
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", h) for h in rows[0]), rows[0]
        if table not in ("audit",):  # the audit log has new entries between the two downloads
            assert rows == en[url], f"{url}: values must not depend on the language"
    assert seen == set(CSV_COLUMNS), "a table without a documented CSV, or a documented one no page offers"


def test_csv_values_are_raw(desk):
    rows = _rows(desk.get("/admin/stuck?format=csv"))
    top = dict(zip(rows[0], rows[1]))
    assert top["step_id"] == "new-button" and top["drop_off_rate"] == "0.5"  # a fraction, not "50" or "50.0%"
    comments = _rows(desk.get("/admin/feedback?format=csv&table=feedback-comments"))
    assert {r[comments[0].index("helpful")] for r in comments[1:]} == {"helpful", "not_helpful"}  # codes, not words
    questions = _rows(desk.get(f"/admin/step?tour={TOUR}&version=1&step=new-button&format=csv&table=step-questions"))
    at = questions[1][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", at), at  # ISO 8601, UTC
    assert questions[1][2] == "no_answer"
    overview = dict(zip(*_rows(desk.get("/admin/?format=csv&table=overview"))))
    assert overview["nps"] == "33.3"  # as computed, not "33.30"


def test_a_tours_funnel_csv_holds_that_tour_only(desk):
    html = desk.get("/admin/funnels").get_data(as_text=True)
    links = [u for u in _csv_links(html) if "tour=" in u]
    assert len(links) == 2  # one per tour; the table of all tours has its own link
    by_tour = {}
    for url in links:
        rows = _rows(desk.get(url))
        by_tour[re.search(r"[?&]tour=([\w-]+)", url).group(1)] = {r[0] for r in rows[1:]}
    assert by_tour == {TOUR: {TOUR}, OTHER_TOUR: {OTHER_TOUR}}
    everything = _rows(desk.get("/admin/funnels?format=csv"))
    assert {r[0] for r in everything[1:]} == {TOUR, OTHER_TOUR}
    assert _rows(desk.get(f"/admin/funnels?format=csv&tour={TOUR}&version=2"))[1:] == []


def test_csv_response_headers(desk):
    resp = desk.get(f"/admin/funnels?format=csv&tour={TOUR}&version=1&from=2026-11-01&to=2026-11-30")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Type"].count("charset") == 1
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="funnels-tour-{TOUR}-version-1-{SITE}-2026-11-01-2026-11-30.csv"')
    resp = desk.get("/admin/nps?format=csv&table=nps-weeks&from=2026-11-01&to=2026-11-30")
    assert resp.headers["Content-Disposition"] == f'attachment; filename="nps-weeks-{SITE}-2026-11-01-2026-11-30.csv"'
    assert resp.data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for Japanese text


def test_html_keeps_translated_headings_and_nps_has_one_decimal_at_most(desk):
    desk.get("/admin/lang/ja")
    html = desk.get("/admin/stuck").get_data(as_text=True)
    assert "ステップ" in html
    for page in ("/admin/", "/admin/nps"):
        html = desk.get(page).get_data(as_text=True)
        assert "33.3" in html and not re.search(r"33\.3\d", html), page

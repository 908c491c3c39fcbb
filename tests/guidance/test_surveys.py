import time
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from guide_server.content.rules import ContentError
from guide_server.db.schema import people, survey_state
from guide_server.guidance.library import SurveyLibrary
from guide_server.guidance.surveys import DAY, due, parse_survey, survey_for
from guide_server.guidance.targeting import Visitor
from guide_server.web.context import services
from tests.support import ROOT, make_event, send, stored

NPS = """\
id: nps
question: {ja: 勧めますか, en: "Would you recommend us?"}
match:
  traits: {role: [admin]}
after_days: 7
every_days: 90
later_days: 3
"""


def test_the_sample_survey_parses():
    (survey,) = SurveyLibrary(ROOT / "content" / "surveys").current()
    assert (survey.id, survey.kind, survey.after_days, survey.every_days, survey.later_days) == ("nps", "nps", 7, 90, 3)
    assert set(survey.question) == {"ja", "en"} and set(survey.comment_prompt) == {"ja", "en"}
    assert survey.sites == ["demo"] and survey.match.urls[0].source == "/demo*"


@pytest.mark.parametrize("text, line, message", [
    (NPS + "colour: red\n", 8, "unknown field 'colour'"),
    (NPS.replace("id: nps", "id: NPS!"), 1, "bad id"),
    ("id: nps\nkind: csat\nquestion: q\n", 2, "unknown kind 'csat'"),
    ("id: nps\n", 1, "missing 'question'"),
    (NPS.replace("later_days: 3", "later_days: 0"), 7, "'later_days' must be between 1 and 365"),
    (NPS.replace("after_days: 7", "after_days: soon"), 5, "'after_days' must be a whole number"),
    (NPS.replace("traits: {role: [admin]}", "traits: [admin]"), 4, "'traits' must be a mapping"),
    ("- a list\n", 1, "must be a mapping"),
])
def test_bad_survey_files_say_where(text, line, message):
    with pytest.raises(ContentError) as err:
        parse_survey(text.encode(), "surveys/nps.yml")
    assert err.value.path == "surveys/nps.yml" and err.value.line == line and message in str(err.value)


def test_a_broken_edit_keeps_the_last_good_version(tmp_path):
    (tmp_path / "nps.yml").write_text(NPS, encoding="utf-8")
    library = SurveyLibrary(tmp_path)
    assert [s.id for s in library.current()] == ["nps"] and library.errors == []
    (tmp_path / "nps.yml").write_text(NPS + "colour: red\n", encoding="utf-8")
    assert [s.question["en"] for s in library.current()] == ["Would you recommend us?"]
    assert "unknown field 'colour'" in library.errors[0]
    (tmp_path / "copy.yml").write_text(NPS, encoding="utf-8")
    assert len(library.current()) == 1 and any("duplicate survey id 'nps'" in e for e in library.errors)
    assert SurveyLibrary(tmp_path / "missing").current() == []


SURVEY = parse_survey(NPS.encode(), "surveys/nps.yml")
NOW = 1_800_000_000.0


def state(answered=None, dismissed=None, later=None):
    return SimpleNamespace(answered_at=answered, dismissed_at=dismissed, later_at=later)


@pytest.mark.parametrize("first_seen, st, expected", [
    (None, None, False),  # never seen: not asked
    (NOW - 6.9 * DAY, None, False),  # before after_days
    (NOW - 7 * DAY, None, True),
    (NOW - 30 * DAY, state(answered=NOW - 89 * DAY), False),  # answered within every_days
    (NOW - 200 * DAY, state(answered=NOW - 90 * DAY), True),
    (NOW - 200 * DAY, state(dismissed=NOW - 10 * DAY), False),  # closing counts like answering
    (NOW - 30 * DAY, state(later=NOW - 2.9 * DAY), False),  # "ask me later" within later_days
    (NOW - 30 * DAY, state(later=NOW - 3 * DAY), True),
    (NOW - 200 * DAY, state(answered=NOW - 100 * DAY, later=NOW - DAY), False),
])
def test_when_a_survey_is_due(first_seen, st, expected):
    assert due(SURVEY, st, first_seen, NOW) is expected


def test_every_days_zero_asks_once():
    once = parse_survey(NPS.replace("every_days: 90", "every_days: 0").encode(), "surveys/once.yml")
    assert due(once, state(), NOW - 10 * DAY, NOW)
    assert not due(once, state(answered=NOW - 3000 * DAY), NOW - 4000 * DAY, NOW)


# --- GET /api/v1/tours -----------------------------------------------------------------------------

def _survey(client, user="taro", url="/demo/invoices", locale="ja", site="demo"):
    query = {"site": site, "url": url, "locale": locale}
    if user:
        query["user"] = user
    resp = client.get("/api/v1/tours", query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["survey"]


def _shift(app, table, column, days):
    """Move a stored time back by ``days`` (instead of waiting)."""
    with services(app).db.begin() as conn:
        conn.execute(update(table).values({column: table.c[column] - days * DAY}))


def test_the_tours_answer_carries_the_survey_due_now(events_app):
    client = events_app.test_client()
    assert _survey(client) is None  # never seen
    client.post("/api/v1/identify", json={"site": "demo", "user": "taro"})
    assert _survey(client) is None  # seen today: after_days is 7
    _shift(events_app, people, "first_seen", 8)
    got = _survey(client)
    assert got == {"id": "nps", "kind": "nps", "question": "請求クラウドを友人や同僚に勧める可能性はどのくらいありますか？",
                   "comment_prompt": "そう答えた理由を教えてください（任意）", "scale": [0, 10]}
    # {site} in the survey's text is the site's name in the user's language
    assert _survey(client, locale="en")["question"] == "How likely are you to recommend Invoice Cloud to a friend or colleague?"
    assert _survey(client, url="/elsewhere") is None  # match: urls
    assert _survey(client, user=None) is None  # anonymous users are not asked
    # "ask me later": not for later_days (3), then again
    send(client, [make_event("nps_later", 1, props={"survey": "nps"})], user="taro")
    assert _survey(client) is None
    _shift(events_app, survey_state, "later_at", 3.1)
    assert _survey(client) is not None
    # answered: not again for every_days (90)
    send(client, [make_event("nps_answered", 2, props={"score": 8, "survey": "nps"})], user="taro")
    assert _survey(client) is None
    _shift(events_app, survey_state, "answered_at", 91)
    assert _survey(client) is not None


def test_first_seen_comes_from_events_too(events_app):
    client = events_app.test_client()
    at = int((time.time() - 8 * DAY) * 1000)  # an event the widget queued a week ago
    send(client, [make_event("chat_opened", 1, at=at)], user="hanako")
    assert _survey(client, user="hanako") is not None
    assert survey_for(services(events_app).db, [SURVEY], "demo", stored("hanako"), None,
                              Visitor(traits={"role": "viewer"}), "ja") is None  # traits do not match


def test_check_cli_reports_survey_errors(tmp_path):
    import subprocess
    import sys

    content = tmp_path / "content"
    (content / "faq").mkdir(parents=True)
    (content / "surveys").mkdir()
    (content / "surveys" / "nps.yml").write_bytes((ROOT / "content" / "surveys" / "nps.yml").read_bytes())
    run = [sys.executable, str(ROOT / "index_builder.py"), "--check", "--content", str(content)]
    ok = subprocess.run(run, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "1 survey(s) checked, 0 error(s)" in ok.stdout
    (content / "surveys" / "bad.yml").write_text("id: other\nkind: nps\nafter_days: soon\n", encoding="utf-8")
    bad = subprocess.run(run, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "surveys/bad.yml:" in bad.stderr

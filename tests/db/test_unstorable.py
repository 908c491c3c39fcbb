"""Characters no database keeps (NUL, which PostgreSQL refuses in text; a lone surrogate, which is
valid JSON but not Unicode): questions, comments, identifiers and addresses get a 400, the text of
props and traits is cleaned, and a bad
event is rejected alone, so that the widget's queue of events never wedges. The same answers on
SQLite and PostgreSQL (GUIDE_TEST_DATABASE_URL)."""

import json

import pytest
from sqlalchemy import select

from guide_server.db.schema import events, feedback, questions, user_traits
from guide_server.web.context import services
from tests.support import assert_error, make_event, send


def post_raw(client, path, body: dict):
    """The body as the browser sends it: JSON text, where NUL and a lone surrogate are plain escapes."""
    return client.post(path, data=json.dumps(body), content_type="text/plain")


def rows(app, *columns):
    with services(app).db.connect() as conn:
        return conn.execute(select(*columns)).all()


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_a_question_with_a_stray_character_is_refused_and_nothing_is_logged(client, app, bad):
    resp = post_raw(client, "/api/v1/ask", {"site": "demo", "question": f"請求書を{bad}メールで送りたい"})
    assert_error(resp, 400, "bad_question")
    assert rows(app, questions.c.question) == []


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_a_page_url_with_a_stray_character_is_refused(client, bad):
    resp = post_raw(client, "/api/v1/ask", {"site": "demo", "question": "請求書を送りたい",
                                           "context": {"url": f"https://app.example/a{bad}b"}})
    assert_error(resp, 400, "bad_url")
    resp = client.get("/api/v1/tours", query_string={"site": "demo", "url": "/demo\x00"})
    assert_error(resp, 400, "bad_url")


def test_feedback_comments_with_nul_are_refused_and_a_question_id_with_nul_is_unknown(client, app):
    qid = client.post("/api/v1/ask", json={"site": "demo", "question": "請求書を送りたい"}).get_json()["question_id"]
    resp = post_raw(client, "/api/v1/feedback", {"site": "demo", "question_id": qid, "helpful": False,
                                                "comment": "役に立たない\x00\ud800"})
    assert_error(resp, 400, "bad_comment")
    assert rows(app, feedback.c.comment) == []
    resp = post_raw(client, "/api/v1/feedback", {"site": "demo", "question_id": qid[:10] + "\x00", "helpful": True})
    assert_error(resp, 404, "unknown_question")


def test_trait_values_are_cleaned_and_trait_names_refused(client, app):
    resp = post_raw(client, "/api/v1/identify", {"site": "demo", "user": "u-1", "traits": {"plan": "pro\x00"}})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert json.loads(rows(app, user_traits.c.traits)[0].traits) == {"plan": "pro"}
    resp = post_raw(client, "/api/v1/identify", {"site": "demo", "user": "u-1", "traits": {"pl\x00an": "pro"}})
    assert_error(resp, 400, "bad_traits")


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_a_user_id_with_a_stray_character_is_refused(client, bad):
    resp = post_raw(client, "/api/v1/identify", {"site": "demo", "user": f"u{bad}1"})
    assert_error(resp, 400, "bad_user")
    resp = post_raw(client, "/api/v1/events", {"site": "demo", "anon": f"a{bad}b", "events": []})
    assert_error(resp, 400, "bad_anon")


def test_a_bad_event_is_rejected_alone_and_the_batch_sent_again_is_stored_once(events_app):
    """On PostgreSQL an event URL with NUL failed the whole batch's transaction (503): the widget sent
    that batch again and again, and every event behind it waited."""
    client = events_app.test_client()
    batch = [
        make_event("chat_opened", 1),
        make_event("chat_opened", 2, url="https://app.example/in\x00voices"),
        make_event("step_shown", 3, step="open\x00list"),
        make_event("widget_error", 4, props={"message": "TypeError \x00\ud800"}),  # text: cleaned, kept
        make_event("chat_opened", 5, props={"na\x00me": 1}),
        make_event("chat_opened", 6, url="https://app.example/\ud800"),
        make_event("rage_click", 7),
    ]
    body = json.dumps({"site": "demo", "user": "u-1", "events": batch})
    resp = client.post("/api/v1/events", data=body, content_type="text/plain")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    result = resp.get_json()
    assert result["accepted"] == 3 and result["duplicates"] == 0
    assert [r["index"] for r in result["rejected"]] == [1, 2, 4, 5]
    assert all(r["error"] for r in result["rejected"])
    stored = {r.event_id: r for r in rows(events_app, events.c.event_id, events.c.props)}
    assert set(stored) == {batch[0]["id"], batch[3]["id"], batch[6]["id"]}
    assert json.loads(stored[batch[3]["id"]].props) == {"message": "TypeError \ufffd"}
    again = client.post("/api/v1/events", data=body, content_type="text/plain").get_json()
    assert (again["accepted"], again["duplicates"], len(again["rejected"])) == (0, 3, 4)
    assert send(client, [make_event("chat_opened", 8)]).get_json()["accepted"] == 1  # nothing wedged

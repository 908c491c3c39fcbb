import http.client
import json
import sqlite3
import time

import pytest
from sqlalchemy import event, exc, func, select

from guide_server import privacy
from guide_server.db.schema import events, people, survey_state
from guide_server.events.ingest import MAX_EVENTS
from guide_server.web.context import services
from guide_server.web.inputs import MAX_URL
from tests.support import KEY, ORIGIN, VALID, LiveServer, assert_error, make_event, now_ms, send


def rows(app, *where):
    with services(app).db.connect() as conn:
        return conn.execute(select(events).where(*where).order_by(events.c.id)).all()


# --- valid batches -------------------------------------------------------------------------------

def test_every_event_type_is_stored_with_a_pseudonym_and_both_times(ec, events_app):
    batch = [make_event(kind, n) for n, kind in enumerate(VALID)]
    before = time.time()
    resp = send(ec, batch, session="s-1")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json() == {"accepted": len(VALID), "duplicates": 0, "rejected": []}
    stored = rows(events_app)
    assert [r.type for r in stored] == list(VALID)
    user = privacy.pseudonymise(KEY.encode(), "demo", "u-1")
    assert {r.user_id for r in stored} == {user} and len(user) == 32
    assert all(r.session == "s-1" and r.site == "demo" for r in stored)
    shown = stored[1]
    assert (shown.tour_id, shown.version, shown.step_id, shown.step_index) == ("first-invoice", 1, "open-list", 0)
    assert shown.at == pytest.approx(batch[1]["at"] / 1000) and before <= shown.received_at <= time.time()
    assert json.loads(stored[list(VALID).index("nps_answered")].props) == {"score": 9, "comment": "便利です"}


def test_text_plain_body_as_sent_by_send_beacon(ec, events_app):
    body = json.dumps({"site": "demo", "anon": "a-browser-1", "events": [make_event("chat_opened")]})
    resp = ec.post("/api/v1/events", data=body.encode(), content_type="text/plain;charset=UTF-8",
                   headers={"Origin": ORIGIN})
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 1
    (row,) = rows(events_app)
    assert row.user_id == privacy.pseudonymise_anon(KEY.encode(), "demo", "a-browser-1") and row.user_id.startswith("a-")


def test_anonymous_and_signed_in_pseudonyms_never_collide(ec, events_app):
    send(ec, [make_event("chat_opened", 1)], user="same")
    send(ec, [make_event("chat_opened", 2)], user=None, anon="same")
    a, b = rows(events_app)
    assert a.user_id != b.user_id and b.user_id.startswith("a-") and not a.user_id.startswith("a-")


def test_props_and_url_are_masked_before_storage(ec, events_app):
    ev = make_event("widget_error", url="https://app.example/demo?email=taro@example.jp",
                    props={"message": "failed for taro@example.jp, tel 090-1234-5678"})
    assert send(ec, [ev]).get_json()["accepted"] == 1
    (row,) = rows(events_app)
    assert json.loads(row.props) == {"message": "failed for [email], tel [phone]"}
    assert row.url == "https://app.example/demo?email=[email]"


def test_cors_preflight_for_json_bodies(ec):
    resp = ec.options("/api/v1/events?site=demo", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Origin"] == ORIGIN


# --- duplicates ----------------------------------------------------------------------------------

def test_a_batch_sent_twice_is_stored_once(ec, events_app):
    batch = [make_event("step_shown", 1), make_event("idle", 2)]
    assert send(ec, batch).get_json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert send(ec, batch).get_json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert len(rows(events_app)) == 2
    # the same id twice in one batch, and the same id on another site
    twice = [make_event("chat_opened", 3), make_event("chat_opened", 3)]
    assert send(ec, twice).get_json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert send(ec, [make_event("chat_opened", 3)], site="other").get_json()["accepted"] == 1
    assert len(rows(events_app)) == 4


# --- bad events in a batch -----------------------------------------------------------------------

BAD_EVENTS = [
    ({"id": "short"}, "'id'"),
    ({"id": "has space in it"}, "'id'"),
    ({"type": "teleported"}, "unknown type"),
    ({"type": None}, "unknown type"),
    ({"at": "yesterday"}, "'at'"),
    ({"at": True}, "'at'"),
    ({"at": 1_000}, "30 days ago"),
    ({"at": now_ms() + 3 * 86400_000}, "future"),
    ({"tour": None}, "needs 'tour'"),
    ({"tour": "Bad Tour!"}, "'tour'"),
    ({"version": 0}, "'version'"),
    ({"version": "1"}, "'version'"),
    ({"step": None}, "needs 'step'"),
    ({"step_index": None}, "needs 'step_index'"),
    ({"step_index": -1}, "'step_index'"),
    ({"url": 5}, "'url'"),
    ({"url": "https://x/" + "a" * MAX_URL}, "'url'"),
    ({"props": []}, "'props' must be a JSON object"),
    ({"props": {f"k{i}": i for i in range(21)}}, "at most 20"),
    ({"props": {"nested": {"a": 1}}}, "props.nested"),
    ({"props": {"long": "x" * 1001}}, "longer than 1000"),
]


@pytest.mark.parametrize("change, reason", BAD_EVENTS)
def test_a_bad_event_is_rejected_with_the_reason_and_the_good_ones_kept(ec, events_app, change, reason):
    bad = make_event("step_shown", 2, **change)
    resp = send(ec, [make_event("chat_opened", 1), bad, make_event("tour_started", 3)])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["accepted"] == 2 and body["duplicates"] == 0
    (rejected,) = body["rejected"]
    assert rejected["index"] == 1 and reason in rejected["error"], rejected
    assert rejected["id"] == (bad["id"] if isinstance(bad["id"], str) else None)
    assert [r.type for r in rows(events_app)] == ["chat_opened", "tour_started"]


@pytest.mark.parametrize("kind, props, reason", [
    ("target_missing", {"action": "explode"}, "props.action"),
    ("checklist_task_completed", {"checklist": "onboarding"}, "props.task"),
    ("question_asked", {}, "props.question_id"),
    ("answer_feedback", {"question_id": "q1", "helpful": "yes"}, "props.helpful"),
    ("answer_opened", {"question_id": "q1", "which": "source"}, "props.faq_id"),
    ("answer_opened", {"question_id": "q1", "faq_id": "f", "which": "title"}, "props.which"),
    ("answer_opened", {"question_id": "q1", "faq_id": "f", "which": "suggestion"}, "props.rank"),
    ("answer_opened", {"question_id": "q1", "faq_id": "f", "which": "related", "rank": 11}, "props.rank"),
    ("nps_answered", {"score": 11}, "props.score"),
    ("nps_answered", {"score": 7.5}, "props.score"),
    ("nps_answered", {"score": 5, "comment": 3}, "props.comment"),
    ("idle", {"seconds": -1}, "props.seconds"),
    ("rage_click", {"count": 0}, "props.count"),
    ("back_forth", {}, "props.other_step"),
    ("widget_error", {}, "props.message"),
])
def test_props_each_type_needs(ec, kind, props, reason):
    body = send(ec, [make_event(kind, props=props)]).get_json()
    assert body["accepted"] == 0 and reason in body["rejected"][0]["error"]


def test_an_event_that_is_not_an_object_is_rejected(ec):
    body = send(ec, ["chat_opened", None, make_event("chat_opened")]).get_json()
    assert body["accepted"] == 1
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [(0, None), (1, None)]


# --- whole-batch problems ------------------------------------------------------------------------

@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "bad_json"),
    (b"\xff\xfe", 400, "bad_json"),
    (b'[{"site": "demo"}]', 400, "bad_json"),
    (b'{"site": "demo", "user": "u", "events": [{"at": NaN}]}', 400, "bad_json"),
    (b'{"user": "u", "events": []}', 400, "missing_site"),
    (b'{"site": "nowhere", "user": "u", "events": []}', 403, "unknown_site"),
    (b'{"site": "demo", "user": "u", "events": {}}', 400, "bad_events"),
    (b'{"site": "demo", "events": []}', 400, "missing_person"),
    (b'{"site": "demo", "user": ["u"], "events": []}', 400, "bad_user"),
    (b'{"site": "demo", "anon": 3.5, "events": []}', 400, "bad_anon"),
    (b'{"site": "demo", "user": "u", "session": "s p a c e", "events": []}', 400, "bad_session"),
])
def test_whole_batch_errors_are_4xx_json(ec, events_app, body, status, code):
    assert_error(ec.post("/api/v1/events", data=body, content_type="text/plain"), status, code)
    assert rows(events_app) == []


def test_oversized_batches_are_refused_and_nothing_is_stored(ec, events_app):
    too_many = [make_event("chat_opened", n) for n in range(MAX_EVENTS + 1)]
    assert_error(send(ec, too_many), 413, "too_many_events")
    big = [make_event("widget_error", n, props={"message": "x" * 1000, **{f"k{i}": "y" * 1000 for i in range(5)}})
           for n in range(12)]  # each event is valid; the batch is > 64 KB
    assert_error(send(ec, big), 413, "batch_too_large")
    # no Content-Length (chunked, over real HTTP): the body is read up to the limit only
    server = LiveServer(events_app)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        body = json.dumps({"site": "demo", "user": "u", "events": big}).encode()
        conn.request("POST", "/api/v1/events", body=iter([body[:40000], body[40000:]]), encode_chunked=True,
                     headers={"Content-Type": "text/plain"})
        resp = conn.getresponse()
        assert resp.status == 413 and json.loads(resp.read())["error"]["code"] == "batch_too_large"
        conn.close()
    finally:
        server.stop()
    assert rows(events_app) == []
    assert send(ec, [make_event("chat_opened", n) for n in range(MAX_EVENTS)]).get_json()["accepted"] == MAX_EVENTS


# --- acknowledged means committed ----------------------------------------------------------------

def test_a_failed_commit_is_not_acknowledged_and_the_retry_is_stored_once(ec, events_app):
    engine = services(events_app).db

    def fail_commit(conn):
        raise exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    batch = [make_event("step_shown", 1), make_event("idle", 2)]
    event.listen(engine, "commit", fail_commit)
    try:
        resp = send(ec, batch)
    finally:
        event.remove(engine, "commit", fail_commit)
    assert_error(resp, 503, "events_unavailable")
    assert rows(events_app) == []
    assert send(ec, batch).get_json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert send(ec, batch).get_json()["duplicates"] == 2


def test_survey_answers_update_the_users_survey_state_once(ec, events_app):
    at = now_ms()
    send(ec, [make_event("nps_later", 1, at=at - 5000), make_event("nps_answered", 2, at=at)])
    send(ec, [make_event("nps_answered", 2, at=at)])  # a retry
    send(ec, [make_event("nps_answered", 3)], user=None, anon="browser")  # anonymous: no state kept
    with services(events_app).db.connect() as conn:
        states = conn.execute(select(survey_state)).all()
        seen = conn.execute(select(func.count()).select_from(people)).scalar()
    assert len(states) == 1 and states[0].survey_id == "nps"
    assert states[0].answered_at == pytest.approx(at / 1000) and states[0].later_at == pytest.approx(at / 1000 - 5)
    assert seen == 1

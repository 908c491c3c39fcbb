"""POST /api/v1/escalations: stored with the question and the answer the server gave (never the
client's), the prefilled mailto: URL (its content, its encoding, its length), every input rule a 400
in the one error shape, another site's question a 404, the abuse limit, and a webhook's URL never
shown to a browser. The webhook's delivery: tests/ops/test_escalation_webhook.py."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from guide_server import create_app
from guide_server.chat.escalations import MAX_MAILTO
from guide_server.db import schema
from guide_server.web.context import services
from tests.support import assert_error

NO_ANSWER = "今日の東京の天気は晴れますか"
ANSWERED = "取引先に請求書をメールで送るにはどうすればいい？"
PAGE = "https://app.example/invoices/12?tab=mail&x=1"


def ask(client, question: str, site: str = "demo") -> dict:
    body = client.post("/api/v1/ask", json={"site": site, "question": question, "anon": "browser-1"}).get_json()
    assert body["question_id"], body
    return body


def escalate(client, site: str = "demo", **body):
    # as the widget sends it: JSON as text/plain
    return client.post("/api/v1/escalations", data=json.dumps({"site": site, **body}), content_type="text/plain")


def rows(app) -> list:
    with services(app).db.connect() as conn:
        return conn.execute(select(schema.escalations).order_by(schema.escalations.c.created_at)).all()


def mail(url: str) -> tuple[str, dict[str, str]]:
    """The address and the decoded fields of a mailto: URL."""
    parts = urlsplit(url)
    assert parts.scheme == "mailto"
    fields = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return unquote(parts.path), fields


def test_no_answer_then_escalation_is_stored_with_the_question_and_answered_with_a_mailto(app, client):
    asked = ask(client, NO_ANSWER)
    assert asked["outcome"] == "no_answer"
    resp = escalate(client, anon="browser-1", message="天気の機能を追加してほしいです", reason="no_answer",
                    question_id=asked["question_id"],
                    context={"url": PAGE, "tour_id": "first-invoice", "step_id": "send"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"id", "delivery", "mailto"} and body["delivery"] == "mailto"
    address, fields = mail(body["mailto"])
    assert address == "help@example.com"
    assert fields["subject"] == f"[guide] demo: {NO_ANSWER}"
    text = fields["body"]
    for part in ("天気の機能を追加してほしいです", NO_ANSWER, PAGE, "first-invoice / send", "browser-1", body["id"],
                 "no_answer"):
        assert part in text, (part, text)
    assert "\r\n" in text  # RFC 6068: CRLF line ends
    (row,) = rows(app)
    assert (row.id, row.site, row.reason, row.message) == (body["id"], "demo", "no_answer", "天気の機能を追加してほしいです")
    assert (row.question_id, row.question) == (asked["question_id"], NO_ANSWER)
    assert row.answer_faq_id is None  # no answer was shown
    assert (row.url, row.tour_id, row.step_id) == (PAGE, "first-invoice", "send")
    assert (row.app_user, row.anon_id, row.user_id[:2]) == (None, "browser-1", "a-")  # user_id: the pseudonym
    assert (row.delivery, row.delivery_status, row.attempts) == ("mailto", "none", 0)
    assert row.desk_url.endswith(f"/admin/escalations?site=demo&id={row.id}")


def test_the_answer_given_is_taken_from_the_server_never_from_the_request(app, client):
    asked = ask(client, ANSWERED)
    assert asked["outcome"] == "answered"
    answer = asked["answer"]
    resp = escalate(client, user="u-42", message="It did not help", reason="unhelpful", question_id=asked["question_id"])
    assert resp.status_code == 201, resp.get_data(as_text=True)
    (row,) = rows(app)
    assert (row.answer_faq_id, row.answer_title) == (answer["id"], answer["title"])
    assert row.answer_url.startswith("http://localhost/help/" + answer["id"])
    assert (row.app_user, row.anon_id) == ("u-42", None)
    text = mail(resp.get_json()["mailto"])[1]["body"]
    assert answer["title"] in text and row.answer_url in text and "u-42" in text
    # the client cannot send an answer of its own: the document lists no such field
    assert_error(escalate(client, message="x", question_id=asked["question_id"], answer={"title": "forged"}), 400,
                 "unknown_field")


def test_the_mailto_url_is_percent_encoded_whatever_the_message_holds(client):
    message = "a&b=c?d#e%20f + g\nnext line 🙂 ＆ 日本語\ttab"
    url = escalate(client, anon="b", message=message).get_json()["mailto"]
    assert " " not in url and "\n" not in url and "#" not in url.split("?", 1)[1]
    query = url.split("?", 1)[1]
    assert [k.split("=")[0] for k in query.split("&")] == ["subject", "body"]  # '&' and '=' of the message encoded
    text = mail(url)[1]["body"]
    assert message.replace("\n", "\r\n") in text
    assert mail(url)[1]["subject"] == "[guide] demo: a&b=c?d#e%20f + g next line 🙂 ＆ 日本語 tab"  # spaces collapsed


def test_a_long_message_is_cut_to_a_url_mail_clients_take_and_keeps_its_details(client):
    asked = ask(client, NO_ANSWER)
    resp = escalate(client, anon="b", message="請求" * 1000, question_id=asked["question_id"],
                    context={"url": "https://app.example/" + "p" * 4000})
    url = resp.get_json()["mailto"]
    assert len(url) <= MAX_MAILTO
    text = mail(url)[1]["body"]  # valid UTF-8: never cut inside a character
    assert "請求請求" in text and "…" in text and resp.get_json()["id"] in text


def test_a_site_with_no_support_stores_the_escalation_for_the_desk(app, client):
    resp = escalate(client, site="other", anon="b", message="hello")
    assert resp.status_code == 201
    assert resp.get_json()["delivery"] == "none" and resp.get_json()["mailto"] is None
    (row,) = rows(app)
    assert (row.site, row.delivery, row.delivery_status) == ("other", "none", "none")


def test_a_question_of_another_site_is_not_found_and_nothing_is_stored(app, client):
    theirs = ask(client, NO_ANSWER, site="other")
    resp = escalate(client, site="demo", anon="b", message="hi", question_id=theirs["question_id"])
    assert_error(resp, 404, "unknown_question")
    assert NO_ANSWER not in resp.get_data(as_text=True)
    assert rows(app) == []


@pytest.mark.parametrize("change, status, code", [
    ({"message": None}, 400, "bad_message"),
    ({"message": 42}, 400, "bad_message"),
    ({"message": ""}, 400, "empty_message"),
    ({"message": " \n\t"}, 400, "empty_message"),
    ({"message": "x" * 2001}, 400, "bad_message"),
    ({"message": "a\u0000b"}, 400, "bad_message"),
    ({"message": "\ud800"}, 400, "bad_message"),
    ({"reason": "angry"}, 400, "bad_reason"),
    ({"email": "not-an-address"}, 400, "bad_email"),
    ({"email": "a@b.example" + "x" * 300}, 400, "bad_email"),
    ({"email": "a@b.example", "user": "u-1", "anon": None}, 400, "bad_email"),  # signed in: reached by account
    ({"question_id": 42}, 400, "bad_question_id"),
    ({"question_id": "q" * 32}, 404, "unknown_question"),
    ({"question_id": "q" * 65}, 404, "unknown_question"),
    ({"context": "page"}, 400, "bad_context"),
    ({"context": {"url": "https://a.example/" + "x" * 4096}}, 400, "bad_url"),
    ({"context": {"tour_id": "Not An Id!"}}, 400, "bad_context.tour_id"),
    ({"context": {"step_id": ""}}, 400, "bad_step"),
    ({"anon": "x" * 201}, 400, "bad_anon"),
    ({"site": "nowhere"}, 403, "unknown_site"),
])
def test_bad_input_is_a_4xx_in_the_one_error_shape(app, client, change, status, code):
    body = {"anon": "b", "message": "help", "reason": "other", **change}
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(escalate(client, **body), status, code)
    assert rows(app) == []


def test_not_json_is_a_400(client):
    assert_error(client.post("/api/v1/escalations", data=b"site=demo&message=x", content_type="text/plain"), 400,
                 "bad_json")


def test_every_reason_and_an_anonymous_email_are_taken(app, client):
    for reason in ("no_answer", "unhelpful", "other"):
        assert escalate(client, anon="b", message="m", reason=reason, email=" me@example.org ").status_code == 201
    assert [(r.reason, r.email) for r in rows(app)] == [(r, "me@example.org") for r in ("no_answer", "unhelpful", "other")]


@pytest.fixture
def make(sample_index, database_url):
    made = []

    def make(sites: dict, **settings):
        app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url,
                          "RELOAD_INTERVAL": 0, "SITES": sites, **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        services(app).close()


HOOK = "https://hooks.example.invalid/guide/secret-path-abc"
SECRET = "s" * 40


def test_a_webhook_url_never_reaches_a_browser(make):
    app = make({"hooked": {"identity": "open", "origins": [], "support": HOOK, "support_secret": SECRET}},
               ESCALATION_RETRIES="3600")
    client = app.test_client()
    asked = client.post("/api/v1/ask", json={"site": "hooked", "question": NO_ANSWER}).get_json()
    tours = client.get("/api/v1/tours?site=hooked&url=https%3A%2F%2Fapp.example%2F").get_json()
    escalated = escalate(client, site="hooked", anon="b", message="m", question_id=asked["question_id"])
    assert asked["escalation"]["support"] == "form" and tours["support"] == "form"
    assert escalated.status_code == 201 and escalated.get_json() == {
        "id": escalated.get_json()["id"], "delivery": "webhook", "mailto": None}
    for resp_text in (json.dumps(asked), json.dumps(tours), escalated.get_data(as_text=True)):
        assert "hooks.example" not in resp_text and SECRET not in resp_text
    (row,) = rows(app)
    assert (row.delivery, row.delivery_status) == ("webhook", "pending") or row.delivery_status in ("failed",)


@pytest.mark.parametrize("support, secret, message", [
    (HOOK, "", "needs support_secret"),
    (HOOK, "short", "needs support_secret"),
    ("ftp://files.example/", "", "must be a mailto: address, an https:// webhook URL, or empty"),
])
def test_a_webhook_without_its_secret_stops_the_start_with_a_clear_message(make, support, secret, message):
    with pytest.raises(ValueError, match=message):
        make({"s": {"identity": "open", "origins": [], "support": support, "support_secret": secret}})


def test_a_mailto_support_is_kept_as_it_was(make):
    app = make({"s": {"identity": "open", "origins": [], "support": "mailto:help@example.com?cc=boss@example.com"}})
    assert app.config["SITES"]["s"]["support"] == "mailto:help@example.com?cc=boss@example.com"
    url = escalate(app.test_client(), site="s", anon="b", message="m").get_json()["mailto"]
    assert url.startswith("mailto:help@example.com?cc=boss%40example.com&subject=")


def test_escalations_have_their_abuse_limit(make):
    app = make({"demo": {"identity": "open", "origins": []}}, LIMIT_ESCALATIONS=2, LIMIT_PEOPLE_PER_ADDRESS=1,
               LIMIT_SITE=0)
    client = app.test_client()
    for _ in range(2):
        assert escalate(client, anon="b", message="m").status_code == 201
    resp = escalate(client, anon="b", message="m")
    assert_error(resp, 429, "rate_limited")
    assert resp.get_json()["error"]["details"]["limit"] == "escalations" and int(resp.headers["Retry-After"]) >= 1
    assert len(rows(app)) == 2


def test_a_verified_site_needs_the_users_token(make):
    from guide_server.web.identity import sign

    secret = "identity-secret-0123456789-0123456789"
    app = make({"v": {"identity": "verified", "origins": [], "identity_secrets": [secret], "support": ""}})
    client = app.test_client()
    assert_error(escalate(client, site="v", user="u-1", message="m"), 401, "missing_user_token")
    token = sign({"sub": "u-1", "aud": "v"}, secret)
    assert escalate(client, site="v", user="u-1", token=token, message="m").status_code == 201
    assert [r.app_user for r in rows(app)] == ["u-1"]

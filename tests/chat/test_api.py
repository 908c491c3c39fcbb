import pytest
from sqlalchemy import select

from guide_server.db import schema
from guide_server.web.context import services
from guide_server.web.inputs import MAX_PERSON_ID, MAX_URL
from tests.support import assert_error


def ask(client, question, **extra):
    return client.post("/api/v1/ask", json={"site": "demo", "question": question, **extra})


def test_ask_answers_japanese_with_its_source(client, app):
    resp = ask(client, "取引先に請求書をメールで送るにはどうすればいい？",
               context={"url": "https://app.example/invoices/12", "tour_id": "first-invoice", "step_id": "send"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["outcome"] == "answered", body
    answer = body["answer"]
    assert answer["id"].startswith("ja-invoices-")
    assert answer["url"].startswith("http://localhost/help/" + answer["id"])
    assert answer["html"].startswith("<") and answer["snippet"]
    assert 0 < body["confidence"] <= 1
    with services(app).db.connect() as conn:
        row = conn.execute(select(schema.questions)).one()
    assert row.id == body["question_id"] and row.outcome == "answered" and row.site == "demo"
    assert (row.url, row.tour_id, row.step_id) == ("https://app.example/invoices/12", "first-invoice", "send")
    assert row.top_faq_id == answer["id"]


def test_ask_english_detects_locale(client):
    body = ask(client, "how can I turn on two factor login").get_json()
    assert body["locale"] == "en"
    assert body["outcome"] in ("answered", "suggested")
    top = body["answer"]["id"] if body["answer"] else body["suggestions"][0]["id"]
    assert top.startswith("en-security-")


def test_unanswerable_question_gets_no_answer_and_support(client):
    body = ask(client, "今日の東京の天気は晴れますか").get_json()
    assert body["outcome"] == "no_answer"
    assert body["answer"] is None
    assert body["escalation"]["support"] == "mailto:help@example.com"
    assert body["message"]


@pytest.mark.parametrize("question", ["🙂🙂🙂", "\u0001\u0002\ufffd\ufffd", "？？？！！", "😀 🎉"])
def test_garbage_and_emoji_only_get_no_answer(client, question):
    resp = ask(client, question)
    assert resp.status_code == 200
    assert resp.get_json()["outcome"] == "no_answer"


@pytest.mark.parametrize("payload, status, code", [
    ({"site": "demo", "question": ""}, 400, "empty_question"),
    ({"site": "demo", "question": "   \n\t "}, 400, "empty_question"),
    ({"site": "demo", "question": "あ" * 100_000}, 413, "question_too_long"),
    ({"site": "demo", "question": 42}, 400, "bad_question"),
    ({"site": "demo", "question": "請求書\u0000"}, 400, "bad_question"),
    ({"site": "demo"}, 400, "bad_question"),
    ({"site": "demo", "question": "hi", "locale": "fr"}, 400, "bad_locale"),
    ({"site": "demo", "question": "hi", "context": "x"}, 400, "bad_context"),
    ({"site": "demo", "question": "hi", "context": {"url": ["x"]}}, 400, "bad_url"),  # the one URL rule (web.inputs)
    ({"site": "demo", "question": "hi", "context": {"url": "/" + "a" * MAX_URL}}, 400, "bad_url"),
    ({"site": "demo", "question": "hi", "user": "u" * (MAX_PERSON_ID + 1)}, 400, "bad_user"),  # never cut short
    ({"site": "demo", "question": "hi", "anon": "   "}, 400, "bad_anon"),
    ({"question": "hi"}, 400, "missing_site"),
    ({"site": "nope", "question": "hi"}, 403, "unknown_site"),
    (["not", "an", "object"], 400, "bad_request"),
])
def test_ask_rejects_bad_input_clearly(client, payload, status, code):
    assert_error(client.post("/api/v1/ask", json=payload), status, code)


def test_non_json_and_binary_bodies(client):
    assert_error(client.post("/api/v1/ask", data=b"\xff\xfe\x00garbage", content_type="application/json"), 400, "bad_json")
    assert_error(client.post("/api/v1/ask", data="question=hi"), 400, "bad_json")


def test_feedback_is_stored_against_the_question(client, app):
    qid = ask(client, "パスワードを忘れた").get_json()["question_id"]
    resp = client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False, "comment": "違う記事"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["ok"] and body["escalation"]["support"] == "mailto:help@example.com"
    with services(app).db.connect() as conn:
        row = conn.execute(select(schema.feedback)).one()
    assert (row.question_id, row.helpful, row.comment) == (qid, False, "違う記事")


def test_a_comment_sent_after_the_vote_completes_that_vote(client, app):
    qid = ask(client, "パスワードを忘れた").get_json()["question_id"]
    other = ask(client, "請求書をメールで送りたい").get_json()["question_id"]
    fid = client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False}).get_json()["feedback_id"]
    post = lambda **kw: client.post("/api/v1/feedback", json={"site": "demo", "question_id": qid, "helpful": False, **kw})  # noqa: E731
    assert_error(post(feedback_id=fid), 400, "bad_feedback_id")  # nothing to add
    assert_error(post(feedback_id=fid, helpful=True, comment="x"), 404, "unknown_feedback")  # not that vote
    assert_error(client.post("/api/v1/feedback", json={"site": "demo", "question_id": other, "helpful": False,
                                                       "feedback_id": fid, "comment": "x"}), 404, "unknown_feedback")
    assert post(feedback_id=fid, comment="古い手順です 090-1234-5678").status_code == 201
    assert_error(post(feedback_id=fid, comment="twice"), 404, "unknown_feedback")  # a comment is not overwritten
    with services(app).db.connect() as conn:
        rows = conn.execute(select(schema.feedback)).all()
    assert [(r.id, r.helpful) for r in rows] == [(fid, False)]  # one vote, not two
    assert rows[0].comment.startswith("古い手順です") and "1234" not in rows[0].comment  # masked as any comment


@pytest.mark.parametrize("payload, status, code", [
    ({"question_id": "nope", "helpful": True}, 404, "unknown_question"),
    ({"helpful": True}, 400, "bad_question_id"),
    ({"question_id": "x", "helpful": "yes"}, 400, "bad_helpful"),
    ({"question_id": "x", "helpful": True, "comment": "x" * 3000}, 400, "bad_comment"),
])
def test_feedback_errors(client, payload, status, code):
    assert_error(client.post("/api/v1/feedback", json={"site": "demo", **payload}), status, code)


def test_feedback_cannot_cross_sites(client):
    qid = ask(client, "パスワードを忘れた").get_json()["question_id"]
    resp = client.post("/api/v1/feedback", json={"site": "other", "question_id": qid, "helpful": True})
    assert_error(resp, 404, "unknown_question")


def test_search_endpoint(client):
    resp = client.get("/api/v1/search", query_string={"site": "demo", "q": "CSVで出力したい", "k": 5})
    body = resp.get_json()
    assert resp.status_code == 200 and body["locale"] == "ja"
    assert 1 <= len(body["results"]) <= 5
    assert all({"id", "title", "url", "score", "snippet"} <= set(r) for r in body["results"])
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("params, status, code", [
    ({"q": "x", "k": "0"}, 400, "bad_k"),
    ({"q": "x", "k": "ten"}, 400, "bad_k"),
    ({"q": "x", "locale": "de"}, 400, "bad_locale"),
    ({"q": "x", "site": "ghost"}, 403, "unknown_site"),
])
def test_search_errors(client, params, status, code):
    assert_error(client.get("/api/v1/search", query_string={"site": "demo", **params}), status, code)


def test_empty_search_returns_no_results(client):
    body = client.get("/api/v1/search?site=demo&q=").get_json()
    assert body["results"] == []


def test_faq_endpoint(client):
    body = client.get("/api/v1/search?site=demo&q=解約したい").get_json()
    faq_id = body["results"][0]["id"]
    faq = client.get(f"/api/v1/faq/{faq_id}?site=demo").get_json()
    assert faq["id"] == faq_id and faq["html"] and faq["title"]
    assert_error(client.get("/api/v1/faq/no-such-faq?site=demo"), 404, "unknown_faq")
    assert_error(client.get(f"/api/v1/faq/{faq_id}"), 400, "missing_site")


def test_help_page_renders_the_sanitised_answer(client):
    faq_id = client.get("/api/v1/search?site=demo&q=2段階認証").get_json()["results"][0]["id"]
    page = client.get(f"/help/{faq_id}")
    assert page.status_code == 200 and "<h1>" in page.get_data(as_text=True)
    assert client.get("/help/none-such").status_code == 404


def test_cors_only_for_the_sites_origins(client):
    ok = client.get("/api/v1/search?site=demo&q=x", headers={"Origin": "http://host.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "http://host.example"
    other = client.get("/api/v1/search?site=demo&q=x", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_unknown_route_is_json(client):
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.get("/api/v1/ask"), 405, "method_not_allowed")


def test_health(client):
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["faqs"]["ja"] >= 60


def test_home_page_searches(client):
    page = client.get("/?q=請求書を送りたい").get_data(as_text=True)
    assert "<ol>" in page and "/help/ja-invoices-" in page
    assert client.get("/").status_code == 200



def test_site_scoped_faqs_stay_with_their_site(tmp_path):
    from guide_server import create_app
    from guide_server.search.builder import build
    from tests.support import FAQ_EN, MODELS, write_content

    root = write_content(tmp_path / "content", {
        "en/shared.md": FAQ_EN,
        "en/acme-erp.md": "---\ntitle: How do I export to Acme ERP?\nsites: [acme]\n---\nUse the Acme button.\n",
    })
    build(root, tmp_path / "idx", MODELS, progress=False)
    app = create_app({"INDEX_DIR": str(tmp_path / "idx"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                      "RELOAD_INTERVAL": 0, "SITES": {"demo": {"identity": "open"}, "acme": {"identity": "open"}}})
    client = app.test_client()
    assert_error(client.get("/api/v1/faq/en-acme-erp?site=demo"), 404, "unknown_faq")
    faq = client.get("/api/v1/faq/en-acme-erp?site=acme").get_json()
    assert faq["url"].endswith("/help/en-acme-erp?site=acme")
    assert client.get("/help/en-acme-erp").status_code == 404
    assert client.get("/help/en-acme-erp?site=acme").status_code == 200
    assert "en-acme-erp" not in client.get("/help/").get_data(as_text=True)
    shared = client.get("/api/v1/faq/en-shared?site=demo").get_json()
    assert shared["url"].endswith("/help/en-shared")


@pytest.mark.parametrize("shown", [1, 5])
def test_suggestions_shown_follow_the_setting(client, app, shown):
    app.config["SUGGESTIONS"] = shown
    question = "請求書の送り方"
    app.config.update(SUGGEST_THRESHOLD=0.0, ANSWER_THRESHOLD=1.0)  # never sure enough: suggestions
    suggested = ask(client, question).get_json()
    assert suggested["outcome"] == "suggested" and len(suggested["suggestions"]) == shown
    app.config["ANSWER_THRESHOLD"] = 0.0  # always sure: the answer, and one fewer beside it
    answered = ask(client, question).get_json()
    assert answered["outcome"] == "answered" and len(answered["suggestions"]) == shown - 1
    # the same ranking either way: the answer is the first suggestion, the others follow it
    assert [answered["answer"]["id"]] + [s["id"] for s in answered["suggestions"]] == [s["id"] for s in suggested["suggestions"]]


def test_beside_an_answer_only_faqs_sharing_a_word_are_shown(client, app):
    app.config.update(SUGGEST_THRESHOLD=0.0, ANSWER_THRESHOLD=1.0, SUGGESTIONS=5)
    question = "支払い方法を変えたい"
    suggested = ask(client, question).get_json()
    reasons = [s["reason"] for s in suggested["suggestions"]]
    assert len(reasons) == 5 and "関連する内容" in reasons  # unsure: every candidate is offered
    app.config["ANSWER_THRESHOLD"] = 0.0
    answered = ask(client, question).get_json()
    assert answered["outcome"] == "answered"
    beside = [s["id"] for s in answered["suggestions"]]
    assert beside == [s["id"] for s in suggested["suggestions"][1:] if s["reason"] != "関連する内容"]
    assert all(s["reason"].startswith("一致: ") for s in answered["suggestions"])

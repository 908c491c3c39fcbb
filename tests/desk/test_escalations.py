"""The desk's escalations page and GET /api/v1/admin/escalations: newest first, of the site asked for,
with the question, the answer shown (a link to the FAQ), the page, the tour step, the delivery state
and its last error, and a link to the user's timeline; for editors and admins only (a viewer, and a
read-only API token, get 403); in both languages, and as CSV."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from guide_server.chat.store import record_question
from guide_server.db import schema
from guide_server.desk import audit, auth
from guide_server.desk.i18n import STRINGS
from guide_server.privacy import pseudonymise
from guide_server.web.context import services
from tests.support import assert_error

from .admin_seed import PASSWORD, make_app, signed_in

MESSAGE_1 = "請求書のメールが届かないと取引先に言われました"
MESSAGE_2 = "CSVの書き出しで文字化けします"
OTHER_MESSAGE = "other-site-only escalation"


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    engine = services(app).db
    for name, role, sites in (("eddie", "editor", {"demo"}), ("vera", "viewer", {"demo"}), ("alice", "admin", None)):
        auth.create_admin(engine, name, PASSWORD, role=role, sites=frozenset(sites) if sites else None)
    qid = record_question(engine, site="demo", channel="http", locale="ja", question="請求書をメールで送りたい",
                          outcome="answered", top_faq_id="ja-invoices-send-email", confidence=0.9)
    client = app.test_client()

    def send(site, **body):
        resp = client.post("/api/v1/escalations", data=json.dumps({"site": site, **body}), content_type="text/plain")
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.get_json()["id"]

    app.ids = {
        "first": send("demo", user="u3", message=MESSAGE_1, reason="unhelpful", question_id=qid,
                      context={"url": "https://app.example/invoices/7", "tour_id": "first-invoice", "step_id": "send"}),
        "second": send("demo", anon="browser-9", email="someone@example.org", message=MESSAGE_2, reason="other"),
        "other": send("other", anon="b", message=OTHER_MESSAGE),
    }
    with engine.begin() as conn:  # as a webhook that failed for good leaves it
        conn.execute(update(schema.escalations).where(schema.escalations.c.id == app.ids["second"]).values(
            delivery="webhook", delivery_status="failed", attempts=6, last_error="HTTP 500"))
    yield app
    services(app).close()



def test_an_editor_sees_the_escalations_newest_first_with_their_context(app):
    page = signed_in(app, name="eddie").get("/admin/escalations?site=demo")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.index(MESSAGE_2) < text.index(MESSAGE_1)  # newest first
    assert OTHER_MESSAGE not in text
    assert "請求書をメールで送りたい" in text and 'href="/help/ja-invoices-send-email"' in text  # question → answer
    assert "https://app.example/invoices/7" in text and "first-invoice / send" in text
    pseudo = pseudonymise(services(app).pseudonym_key, "demo", "u3")
    assert f"user={pseudo}" in text  # the user's timeline
    assert "u3" in text and "anon browser-9 · someone@example.org" in text
    assert "配信失敗" in text and "HTTP 500" in text and "回答が役に立たない" in text
    assert 'href="/admin/escalations' in text and "aria-current" in text  # in the navigation


def test_one_escalation_by_its_id_as_the_webhook_links_it(app):
    text = signed_in(app, name="eddie").get(f"/admin/escalations?site=demo&id={app.ids['first']}").get_data(as_text=True)
    assert MESSAGE_1 in text and MESSAGE_2 not in text


def test_a_viewer_may_not_see_them_nor_is_offered_the_page(app):
    vera = signed_in(app, name="vera")
    resp = vera.get("/admin/escalations?site=demo")
    assert resp.status_code == 403 and MESSAGE_1 not in resp.get_data(as_text=True)
    assert "「編集者」以上" in resp.get_data(as_text=True)
    assert 'href="/admin/escalations' not in vera.get("/admin/").get_data(as_text=True)
    assert audit.entries(services(app).db, action="denied")[0]["detail"]["path"] == "/admin/escalations"


def test_an_editor_of_one_site_gets_403_for_another(app):
    resp = signed_in(app, name="eddie").get("/admin/escalations?site=other")
    assert resp.status_code == 403 and OTHER_MESSAGE not in resp.get_data(as_text=True)
    assert OTHER_MESSAGE in signed_in(app, name="alice").get("/admin/escalations?site=other").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_page_has_every_word_in_both_languages(app, lang):
    client = signed_in(app, name="eddie")
    client.get(f"/admin/lang/{lang}")
    text = client.get("/admin/escalations?site=demo").get_data(as_text=True)
    missing = [k for k in STRINGS if k.startswith(("col.", "v.", "escalations.", "nav.")) and f">{k}<" in text]
    assert missing == [] and "escalations.title" not in text and ">col." not in text and ">v." not in text
    assert ("Escalations to support" in text) is (lang == "en")


def test_the_table_downloads_as_csv_and_the_download_is_audited(app):
    resp = signed_in(app, name="eddie").get("/admin/escalations?site=demo&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert MESSAGE_1 in resp.get_data(as_text=True) and OTHER_MESSAGE not in resp.get_data(as_text=True)
    assert audit.entries(services(app).db, action="export")[0]["detail"]["table"] == "escalations"


def test_the_json_api_needs_a_token_that_may_write(app):
    client = app.test_client()
    read = auth.create_token(services(app).db, "bi", frozenset({"demo"}))
    write = auth.create_token(services(app).db, "cs-tool", frozenset({"demo"}), write=True)
    refused = client.get("/api/v1/admin/escalations?site=demo", headers={"Authorization": f"Bearer {read}"})
    assert_error(refused, 403, "forbidden_role")
    resp = client.get("/api/v1/admin/escalations?site=demo", headers={"Authorization": f"Bearer {write}"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["site"] == "demo" and [e["id"] for e in body["escalations"]] == [app.ids["second"], app.ids["first"]]
    first = body["escalations"][1]
    assert first["answer"] == {"faq_id": "ja-invoices-send-email", "title": None, "url": None}  # no index here
    assert (first["question"], first["reason"], first["app_user"], first["tour_id"]) == (
        "請求書をメールで送りたい", "unhelpful", "u3", "first-invoice")
    assert body["escalations"][0]["last_error"] == "HTTP 500"
    one = client.get(f"/api/v1/admin/escalations?site=demo&id={app.ids['first']}",
                     headers={"Authorization": f"Bearer {write}"}).get_json()
    assert [e["id"] for e in one["escalations"]] == [app.ids["first"]]
    assert_error(client.get("/api/v1/admin/escalations?site=other", headers={"Authorization": f"Bearer {write}"}),
                 403, "forbidden_site")

"""Hostile input at the server: SQL strings are data (stored and returned as sent, tables intact),
path traversal in ids and draft names goes nowhere, and a symbolic link out of content/ publishes
nothing."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest
from sqlalchemy import func, inspect, select

from guide_server.content.files import content_files
from guide_server.db.schema import events, feedback, questions
from guide_server.desk import auth
from guide_server.web.context import services
from tests.support import guide, make_event

from .payloads import SQL, TRAVERSAL, XSS


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="text/plain", headers=headers)


@pytest.mark.parametrize("text", SQL + list(XSS.values()))
def test_sql_and_script_strings_are_stored_as_sent_and_every_table_stays(client, app, text):
    engine = services(app).db
    tables = set(inspect(engine).get_table_names())
    asked = post(client, "/api/v1/ask", {"site": "demo", "question": text, "user": text[:60] or "u",
                                         "context": {"url": "https://app.example/x?q=" + text.replace(" ", "+")[:100]}})
    assert asked.status_code in (200, 400), asked.get_data(as_text=True)  # a user id with odd characters may be refused
    if asked.status_code == 400:
        asked = post(client, "/api/v1/ask", {"site": "demo", "question": text, "anon": "a-hostile"})
    assert asked.status_code == 200, asked.get_data(as_text=True)
    qid = asked.get_json()["question_id"]
    assert post(client, "/api/v1/feedback", {"site": "demo", "question_id": qid, "helpful": False,
                                             "comment": text}).status_code == 201
    identified = post(client, "/api/v1/identify", {"site": "demo", "user": "u-sql", "traits": {"note": text}})
    assert identified.status_code == 200 and identified.get_json()["traits"]["note"] == text
    event = make_event("chat_opened", 1, url="https://app.example/x?q=" + quote(text))
    event["props"] = {**event.get("props", {}), "q": text}
    answer = post(client, "/api/v1/events", {"site": "demo", "anon": "a-hostile", "events": [event]}).get_json()
    assert answer["accepted"] == 1, answer
    with engine.connect() as conn:
        assert conn.execute(select(questions.c.question).where(questions.c.id == qid)).scalar_one() == text
        assert conn.execute(select(feedback.c.comment)).scalars().all()[-1] == text
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1
    assert set(inspect(engine).get_table_names()) == tables


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_a_traversal_in_an_id_reaches_no_file(client, bad):
    for path in (f"/api/v1/faq/{bad}?site=demo", f"/api/v1/tours/{bad}?site=demo", f"/help/{bad}?site=demo"):
        resp = client.get(path)
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
        assert b"root:" not in resp.data and b"[fonts]" not in resp.data
    resp = post(client, "/api/v1/tours/progress", {"site": "demo", "user": "u1", "tour": bad, "version": 1, "step": 0,
                                                    "status": "active"})
    assert 400 <= resp.status_code < 500 and resp.get_json()["error"]["message"]


@pytest.mark.parametrize("slug", ["../../../tmp/x", "..%2f..%2fx", "/etc/cron.d/x", "a/../../b", "x\u0000y", "."])
def test_a_draft_name_cannot_leave_the_drafts_folder(client, app, tmp_path, slug):
    app.config["CONTENT_DIR"] = str(tmp_path / "content")
    token = auth.create_token(services(app).db, "drafter", sites=None, write=True)
    qid = client.post("/api/v1/ask", json={"site": "demo", "question": "外貨で請求したい"}).get_json()["question_id"]
    resp = client.post("/api/v1/admin/drafts", json={"site": "demo", "question_ids": [qid], "locale": "ja",
                                                     "title": "外貨", "slug": slug},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and resp.get_json()["error"]["message"]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("guide.db")]
    assert written == [] and not (tmp_path.parent / "x").exists()


def test_a_symlink_out_of_the_content_folder_publishes_nothing(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: secret\n---\nroot:x:0:0\n", encoding="utf-8")
    faq = tmp_path / "content" / "faq" / "ja"
    faq.mkdir(parents=True)
    (faq / "ok.md").write_text("---\ntitle: ok\n---\nok\n", encoding="utf-8")
    os.symlink(secret, faq / "leak.md")
    os.symlink(faq / "ok.md", faq / "alias.md")  # a link that stays inside is a file like any other
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "more.md").write_text("---\ntitle: more\n---\nmore\n", encoding="utf-8")
    os.symlink(tmp_path / "outside", faq / "linked-folder")
    assert content_files(tmp_path / "content" / "faq", (".md",)) == ["ja/alias.md", "ja/ok.md"]


def test_a_traversal_in_related_or_an_id_is_a_build_error_not_a_file(tmp_path):
    faq = tmp_path / "content" / "faq" / "ja"
    faq.mkdir(parents=True)
    (faq / "a.md").write_text("---\ntitle: a\nrelated: [../../../etc/passwd]\n---\na\n", encoding="utf-8")
    (faq / "b.md").write_text("---\nid: ../../b\ntitle: b\n---\nb\n", encoding="utf-8")
    out = guide("build-index", "--content", str(tmp_path / "content"), "--out", str(tmp_path / "index"))
    assert out.returncode == 1
    assert "ja/a.md" in out.stderr and "../../../etc/passwd" in out.stderr and "ja/b.md" in out.stderr
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").rglob("*.npy"))

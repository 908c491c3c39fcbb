"""Hostile input, end to end, in Chromium: script payloads in an FAQ (title, questions, body), a
tour step, a chat question, a feedback comment, a page URL, event properties and traits, planted
through the content files and the public API, then looked at where they are shown: the widget (a
tour step and a chat answer), the FAQ's /help page, and every desk page that lists them. None may
run: each payload calls a binding (``__pwned``) or ``alert``; and none may leave an element with an
event-handler attribute in the page. The payloads' text must still be there, as text."""

from __future__ import annotations

import json
import re
import shutil

import pytest

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip install -e '.[test]')")

from flask import Blueprint  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from guide_server import create_app  # noqa: E402
from guide_server.privacy import pseudonym_key, pseudonymise  # noqa: E402
from guide_server.search.builder import build  # noqa: E402
from guide_server.web.context import services  # noqa: E402
from tests.desk.admin_seed import ADMIN, PASSWORD, make_admin  # noqa: E402
from tests.support import MODELS, ROOT, LiveServer, chromium, make_event  # noqa: E402

from .payloads import XSS  # noqa: E402

pytestmark = pytest.mark.browser

ALL = " ".join(XSS.values())
FAQ = f"""---
id: ja-hostile
title: 'ハック {XSS["attr-break"]}'
questions:
  - 悪意のあるスクリプトのテスト記事
  - '{XSS["script"]}'
category: security
locale: ja
---
悪意のあるスクリプトのテスト記事です。{XSS["img-onerror"]} {XSS["svg-onload"]}

[リンク](javascript:__pwned('md-link')) {XSS["js-url"]} {XSS["end-tag"]} {XSS["template"]} {XSS["alert"]}
"""
TOUR = {"id": "x-hostile", "kind": "tour", "title": {"ja": XSS["attr-break"]}, "sites": ["demo"],
        "match": {"urls": ["/x/*"]}, "trigger": "manual",
        "steps": [{"id": "one", "title": {"ja": "手順 " + XSS["script"]}, "body": {"ja": ALL}}]}
HOST = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>host</title>
<script src="/embed.js" data-site="demo" async></script></head><body><h1>host</h1></body></html>"""
# CSP would stop a payload from running on /help and /admin even if escaping broke: look at the DOM too.
DETECT = """() => document.querySelectorAll('[onerror],[onload],[ontoggle],[onmouseover],a[href^="javascript:"]').length
  + [...document.scripts].filter(s => s.textContent.includes('__pwned')).length"""
WIDGET_DETECT = """() => { const r = document.querySelector('guide-widget').shadowRoot;
  return r ? r.querySelectorAll('script,[onerror],[onload],[ontoggle],[onmouseover],a[href^="javascript:"]').length : -1 }"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    content = root / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "faq" / "ja" / "hostile.md").write_text(FAQ, encoding="utf-8")
    (content / "tours" / "x-hostile.yml").write_text(json.dumps(TOUR, ensure_ascii=False), encoding="utf-8")
    build(content, root / "index", MODELS, progress=False)
    app = create_app({"TESTING": True, "INDEX_DIR": str(root / "index"), "CONTENT_DIR": str(content),
                      "DATABASE_URL": f"sqlite:///{root / 'guide.db'}", "RELOAD_INTERVAL": 0,
                      "SITES": {"demo": {"identity": "open", "origins": [], "support": "mailto:help@example.com"}}})
    pages = Blueprint("hostile_pages", __name__)
    pages.add_url_rule("/x/host", "host", lambda: HOST)
    app.register_blueprint(pages)
    make_admin(app)
    client = app.test_client()
    asked = client.post("/api/v1/ask", json={"site": "demo", "question": "質問 " + ALL, "user": "u-hostile",
                                             "context": {"url": "https://app.example/x?" + XSS["attr-break"]}}).get_json()
    assert client.post("/api/v1/feedback", json={"site": "demo", "question_id": asked["question_id"], "helpful": False,
                                                 "comment": "コメント " + ALL}).status_code == 201
    unanswered = client.post("/api/v1/ask", json={"site": "demo", "question": "rocket fuel " + XSS["end-tag"], "locale": "en",
                                                       "user": "u-hostile"})
    assert unanswered.get_json()["outcome"] == "no_answer", unanswered.get_json()  # so the desk lists it
    assert client.post("/api/v1/identify", json={"site": "demo", "user": "u-hostile",
                                                 "traits": {"plan": XSS["img-onerror"]}}).status_code == 200
    event = make_event("chat_opened", 7, url="https://app.example/x?" + XSS["script"])
    event["props"] = {**event.get("props", {}), "note": ALL}
    assert client.post("/api/v1/events", json={"site": "demo", "user": "u-hostile", "events": [event]}).get_json()["accepted"] == 1
    server = LiveServer(app)
    server.content = content
    server.user = pseudonymise(pseudonym_key(app.config), "demo", "u-hostile")  # the desk's name for u-hostile
    yield server
    server.stop()
    services(app).close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, hostile):
    context = browser.new_context(base_url=hostile.url, locale="ja-JP")
    ran = []
    context.expose_binding("__pwned", lambda source, name: ran.append(name))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: (ran.append("dialog: " + dialog.message), dialog.dismiss()))
    page.ran = ran
    yield page
    context.close()


def settle(page):
    page.wait_for_timeout(500)  # an onerror or onload runs as soon as the element is parsed


def test_nothing_runs_in_the_widget_neither_from_a_tour_step_nor_from_an_answer(page):
    page.goto("/x/host")
    page.wait_for_function("() => !!document.querySelector('guide-widget')")
    page.evaluate("() => Guide('start', 'x-hostile')")
    popup = page.locator("guide-widget .pop")
    expect(popup).to_contain_text('__pwned("script")')  # the step's title, as text
    settle(page)
    assert page.evaluate(WIDGET_DETECT) == 0 and page.evaluate(DETECT) == 0
    page.keyboard.press("Escape")

    page.locator("guide-widget .go").click()
    page.locator("guide-widget .chat input").fill("悪意のあるスクリプトのテスト記事")
    page.keyboard.press("Enter")
    answer = page.locator("guide-widget .chat .log .m.a").last
    expect(answer).to_contain_text("テスト記事")
    page.locator("guide-widget .chat .log").get_by_text(re.compile("ハック")).first.wait_for()
    settle(page)
    assert page.evaluate(WIDGET_DETECT) == 0 and page.evaluate(DETECT) == 0
    assert page.ran == []


def test_nothing_runs_on_the_help_page(page):
    page.goto("/help/ja-hostile?site=demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text('"><img src=x onerror=__pwned("attr")>')
    expect(page.locator("main, body").first).to_contain_text("リンク")  # the javascript: link's text stays, its URL does not
    assert page.locator("a[href^='javascript:']").count() == 0
    settle(page)
    assert page.evaluate(DETECT) == 0
    assert page.ran == []


def login(page):
    page.goto("/admin/login")
    page.get_by_label("アカウント名").fill(ADMIN)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r"/admin/"))


@pytest.mark.parametrize("path, shown", [
    ("/admin/unanswered?site=demo", "rocket fuel </textarea>"),
    ("/admin/feedback?site=demo", "コメント"),
    ("/admin/overview?site=demo", None),
    ("/admin/stuck?site=demo", None),
    ("/admin/user?site=demo&user={user}", "__pwned"),
    ("/admin/audit", None),
])
def test_nothing_runs_on_the_desk(page, hostile, path, shown):
    login(page)
    page.goto(path.format(user=hostile.user))
    if shown:
        expect(page.locator("main")).to_contain_text(shown)
    settle(page)
    assert page.evaluate(DETECT) == 0
    assert page.ran == []


def test_a_draft_from_a_hostile_question_is_written_inside_content_and_runs_nothing(page, hostile):
    login(page)
    page.goto("/admin/unanswered?site=demo")
    form = page.locator("form.gd-draft").first
    assert "__pwned" in form.locator("input[name=title]").input_value()  # the attribute held the quote
    form.locator("input[name=slug]").fill("hostile-draft")
    form.get_by_role("button").click()
    page.wait_for_url(re.compile(r"/admin/unanswered"))
    expect(page.locator("main, body").first).to_contain_text("hostile-draft")
    assert [p.relative_to(hostile.content).as_posix() for p in hostile.content.rglob("hostile-draft*")] == [
        "faq/en/drafts/hostile-draft.md"]
    settle(page)
    assert page.evaluate(DETECT) == 0
    assert page.ran == []

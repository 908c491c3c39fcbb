"""The help chat in a real browser, answering from the real sample index over the real WebSocket."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import events, feedback, questions, tour_progress

from .helpers import POP, call, eventually, rows, stored, told, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

LOG = "guide-widget .chat .log"


def ask(page, question: str):
    page.locator("guide-widget .chat input").fill(question)
    page.keyboard.press("Enter")
    replies = page.locator(LOG + " .m.a")
    expect(replies.last).not_to_have_text(re.compile("回答を探しています|Looking for an answer"))
    return replies.nth(replies.count() - 1)  # this reply, not whatever comes after it


def http_asks(page) -> list:
    """POST /api/v1/ask calls the page makes (the chat's fallback when the socket is unavailable)."""
    seen = []
    page.on("request", lambda r: "/api/v1/ask" in r.url and seen.append(r))
    return seen


@pytest.mark.parametrize("question, source, title", [
    ("請求書をメールで送りたい", "/help/ja-invoices-send-email", "請求書をメールで送付するには？"),
    ("How do I reset my password?", "/help/en-security-password-reset", "How do I reset my password?"),
], ids=["ja", "en"])
def test_the_chat_answers_with_a_link_to_its_source(page, question, source, title):
    fallback = http_asks(page)
    visit(page, "/t/chat")
    launcher = page.locator("guide-widget .go")
    assert launcher.get_attribute("aria-label") == "ヘルプ"
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    answer = ask(page, question)  # from the help panel's home: Enter asks the chat
    log = page.locator(LOG)
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    link = answer.locator("a.src")
    expect(link).to_have_attribute("href", re.compile(re.escape(source) + "($|#)"))
    assert title in link.inner_text()
    assert link.get_attribute("target") == "_blank"
    assert answer.locator(".fb button").count() == 2  # 👍 and 👎 on every answer
    assert fallback == []  # it went over the WebSocket


@pytest.mark.parametrize("shown", [3, 5])
def test_an_unsure_answer_offers_suggestions(page, guide, monkeypatch, shown):
    monkeypatch.setitem(guide.app.config, "SUGGESTIONS", shown)  # 3 by default
    visit(page, "/t/chat")
    call(page, "open-chat")
    answer = ask(page, "請求書をプリントアウトしたいんだけどボタンどこ")  # the sample index is not sure here
    expect(answer.locator("li a")).to_have_count(shown)
    assert "/help/ja-invoices-download-pdf" in " ".join(a.get_attribute("href") for a in answer.locator("li a").all())
    assert answer.locator(".fb button").count() == 2


@pytest.mark.parametrize("lang, question, steps, first_step, marked", [
    ("ja", "CSVで請求書を一括作成するには？", 4, "「請求書 > 一括作成」を開き", ["CSV", "請求書", "一括作成"]),
    ("en", "How do I void an invoice?", 4, "Open the invoice and click More > Void.", ["invoice"]),
], ids=["ja", "en"])
def test_a_step_by_step_answer_shows_its_steps_and_the_questions_words_marked(page, lang, question, steps, first_step, marked):
    visit(page, "/t/chat")
    page.evaluate("lang => { document.documentElement.lang = lang }", lang)
    call(page, "open-chat")
    answer = ask(page, question)
    items = answer.locator("ol.st li")
    expect(items).to_have_count(steps)
    assert items.first.inner_text().startswith(first_step)
    extract = answer.locator("p.ex")
    expect(extract).to_have_count(1)
    marks = extract.locator("mark").all_inner_texts()
    assert set(marked) <= set(marks)
    assert all(m in extract.inner_text() for m in marks)
    # the marks are elements the widget made around text nodes: the extract holds nothing else
    assert extract.evaluate("p => [...p.childNodes].every(n => n.nodeType === 3 || n.localName === 'mark')")
    assert answer.locator("a.src").count() == 1


@pytest.mark.parametrize("lang, question", [("ja", "CSVで請求書を一括作成するには？"), ("en", "How do I void an invoice?")])
def test_a_direct_answer_lists_the_related_faqs_and_opening_one_is_reported(page, guide, user, lang, question):
    # what the API returns beside the answer: the next FAQs that share a word with the question
    api = guide.app.test_client().post("/api/v1/ask", json={"site": "demo", "question": question}).get_json()
    assert api["outcome"] == "answered" and api["suggestions"]
    visit(page, "/t/chat", user=user)
    page.evaluate("lang => { document.documentElement.lang = lang }", lang)
    call(page, "open-chat")
    answer = ask(page, question)
    expect(answer.locator("a.src")).to_have_count(1)
    assert answer.locator("p.rel").inner_text() == {"ja": "関連する質問", "en": "Related questions"}[lang]
    related = answer.locator("ul.rl li")
    assert related.locator("a").all_inner_texts() == [s["title"] for s in api["suggestions"]]
    assert related.locator("small.why").all_inner_texts() == [s["reason"] for s in api["suggestions"]]
    assert all(r.startswith(("一致: ", "matches: ")) for r in related.locator("small.why").all_inner_texts())
    # the related list sits below the source link, inside the reply
    assert answer.locator("a.src").bounding_box()["y"] < related.first.bounding_box()["y"]
    with page.context.expect_page() as tab:
        related.last.locator("a").click()
    tab.value.close()
    last = len(api["suggestions"]) - 1

    def reported():  # the review desk counts it as the answer's FAQ opened: which "related", its rank
        got = [json.loads(e["props"]) for e in rows(guide.app, events, type="answer_opened", user_id=stored(guide.app, user))]
        assert [(p["which"], p["faq_id"], p["rank"]) for p in got] == [("related", api["suggestions"][last]["id"], last)]

    eventually(reported, timeout=15)


def test_each_suggestion_says_why(page):
    visit(page, "/t/chat")
    page.evaluate("document.documentElement.lang = 'en'")
    call(page, "open-chat")
    answer = ask(page, "export data")  # the sample index is not sure here: suggestions
    expect(answer.locator("li a")).to_have_count(3)
    reasons = answer.locator("li small.why").all_inner_texts()
    assert len(reasons) == 3 and all(r.startswith("matches: ") for r in reasons)
    assert any("export" in r.lower() for r in reasons)


def test_thumbs_down_takes_a_comment_keeps_the_focus_and_reaches_a_person(page, guide):
    visit(page, "/t/chat")
    call(page, "open-chat")
    answer = ask(page, "請求書をメールで送りたい")
    down = answer.locator(".fb button", has_text="役に立たなかった")
    down.click()
    expect(down).to_have_attribute("aria-pressed", "true")
    assert answer.locator(".fb button:disabled").count() == 2
    comment = page.locator(LOG + " .m.a textarea").last
    expect(comment).to_be_focused()  # the focus stays in the panel: Escape still closes it
    qid = rows(guide.app, questions, question="請求書をメールで送りたい")[-1]["id"]
    eventually(lambda: _assert([f["helpful"] for f in rows(guide.app, feedback, question_id=qid)] == [False]))
    comment.fill("手順の画面が古いです")
    page.locator(LOG + " .m.a form .pri").last.click()

    def commented():  # the same vote, now with its comment
        assert [(f["helpful"], f["comment"]) for f in rows(guide.app, feedback, question_id=qid)] == [(False, "手順の画面が古いです")]

    eventually(commented)
    page.locator(LOG + " button", has_text="担当者に問い合わせる").click()
    message = page.locator(LOG + " form textarea").last
    expect(message).to_have_value("請求書をメールで送りたい")  # the question, to edit
    message.fill("請求書のメール送付で、宛先が選べません")
    page.locator(LOG + " form .pri").last.click()
    mail = page.locator(LOG + " a[href^='mailto:help@example.com?']")
    expect(mail).to_have_count(1)  # the site's support is a mailto: prefilled, for the user to send
    href = mail.get_attribute("href")
    assert "subject=" in href and "body=" in href
    assert [d["reason"] for _, d in told(page, "chat:escalate")] == ["unhelpful"]
    page.keyboard.press("Escape")
    expect(page.locator("guide-widget .chat")).to_have_count(0)


def test_no_answer_offers_a_person_with_the_question_and_the_step(page, guide, user):
    visit(page, "/t/forms", user=user)
    call(page, "start", "t-submit")
    wait_title(page, "Fill in the form and save")
    call(page, "open-chat")
    answer = ask(page, "ピザを注文したい")
    assert answer.locator("a.src", has_text="出典").count() == 0
    answer.locator("button", has_text="担当者に問い合わせる").click()
    page.locator(LOG + " form .pri").last.click()  # the question, sent as it is
    expect(page.locator(LOG + " a[href^='mailto:']")).to_have_count(1)
    (sent,) = [d for _, d in told(page, "chat:escalate")]
    assert sent["reason"] == "no_answer" and sent["question_id"]
    href = page.locator(LOG + " a[href^='mailto:']").get_attribute("href")
    body = unquote(href)
    assert "ピザを注文したい" in body and "t-submit" in body and "fill" in body  # the question, the tour, the step


def test_the_chat_falls_back_to_http_when_the_socket_fails(page):
    fallback = http_asks(page)
    page.goto("/t/errors?break=websocket")
    page.wait_for_function("window.Guide && window.Guide.loaded")
    call(page, "open-chat")
    answer = ask(page, "パスワードを忘れた")
    expect(answer.locator("a.src")).to_have_attribute("href", re.compile("/help/ja-security-password-reset"))
    assert len(fallback) == 1


def test_the_chat_sends_the_page_and_the_current_tour_step(page, guide, user):
    visit(page, "/t/basic", user=user)
    wait_title(page, "ようこそ")
    page.locator(POP + " .pri").click()
    wait_title(page, "一つ目")
    call(page, "open-chat")  # the chat opens above a running tour
    expect(page.locator("guide-widget .chat input")).to_be_focused()
    ask(page, "パスワードを忘れた")
    asked = [q for q in rows(guide.app, questions) if (q["url"] or "").endswith("/t/basic?user=" + user)]
    assert [(q["question"], q["tour_id"], q["step_id"]) for q in asked] == [("パスワードを忘れた", "t-basic", "a")]
    assert page.locator(POP).count() == 1  # typing in the chat left the tour alone


def test_keyboard_alone_opens_the_chat_asks_and_closes_it(page):
    visit(page, "/t/chat")
    page.focus("#last")
    page.keyboard.press("Tab")  # the launcher comes after the page's own controls
    expect(page.locator("guide-widget .go")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("guide-widget .chat input")).to_be_focused()
    page.keyboard.type("How do I export invoices to CSV?")
    page.keyboard.press("Enter")
    expect(page.locator(LOG + " a.src")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("guide-widget .chat")).to_have_count(0)
    expect(page.locator("guide-widget .go")).to_be_focused()


def test_a_very_long_page_address_does_not_cost_the_answer_or_the_tour(page, guide, user):
    """The service takes page addresses of at most 4,096 characters (web/inputs.py) and refuses
    longer ones; the widget sends the page without its #fragment and cut to that length, so a
    page with a huge query string still gets answers, and its tour progress is still saved."""
    page.goto(f"/t/basic?user={user}&pad={'x' * 5000}")  # not visit(): it looks for the whole address
    wait_title(page, "ようこそ")
    page.locator(POP + " .pri").click()
    wait_title(page, "一つ目")

    def saved():
        (row,) = rows(guide.app, tour_progress, user_id=stored(guide.app, user), tour_id="t-basic")
        assert row["step"] == 1

    eventually(saved)
    call(page, "open-chat")
    answer = ask(page, "請求書をメールで送りたい")
    expect(answer.locator("a.src")).to_have_count(1)
    (asked,) = [q for q in rows(guide.app, questions) if f"user={user}&pad=" in (q["url"] or "")]
    assert asked["url"].startswith(guide.url + "/t/basic?") and len(asked["url"]) == 4096


def _assert(condition) -> None:
    assert condition

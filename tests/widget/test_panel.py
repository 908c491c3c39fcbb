"""The help panel (resource centre) the "?" opens, in a real browser against the real sample index:
answers as you type, articles inside the panel, the checklists and tours, the chat, and help during a
tour that neither hides the launcher nor dismisses the tour."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import questions

from .helpers import POP, active, call, eventually, rows, told, visit, wait_title

pytestmark = pytest.mark.browser

PANEL = "guide-widget .pan"
FIELD = PANEL + " form input"


def open_panel(page) -> None:
    page.locator("guide-widget .go").click()
    page.locator(FIELD).wait_for()


def test_the_panel_searches_the_help_centre_as_the_user_types_and_opens_articles_inside(page):
    visit(page, "/t/chat")
    searches = []
    page.on("request", lambda r: "/api/v1/search?" in r.url and searches.append(r.url))
    open_panel(page)
    assert active(page) == page.locator(FIELD).get_attribute("class") or page.evaluate(
        "document.querySelector('guide-widget').shadowRoot.activeElement.tagName") == "INPUT"
    page.locator(FIELD).press_sequentially("パスワード", delay=40)
    hit = page.locator(PANEL + " .sec .li", has_text="パスワード").first
    expect(hit).to_be_visible()
    assert len(searches) <= 2  # one search after a pause, not one per key
    hit.click()
    article = page.locator(PANEL + " article.art")
    expect(article.locator("h1")).to_contain_text("パスワード")
    assert article.locator("div p").count() >= 1  # the article's own (sanitised) HTML
    source = article.locator("a.src")
    expect(source).to_have_attribute("href", re.compile(r"/help/ja-security-password-reset"))
    assert article.locator("script").count() == 0
    page.locator(PANEL + " .bk").click()  # back to the results
    expect(page.locator(PANEL + " .sec .li", has_text="パスワード").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(PANEL)).to_have_count(0)


def test_the_panel_home_holds_the_checklist_the_tours_and_the_ways_to_help(page):
    visit(page, "/t/checklist")
    open_panel(page)
    home = page.locator(PANEL + " .vw")
    expect(home.locator(".sec h3", has_text="テスト用チェックリスト")).to_have_text(re.compile(r"0 / 2"))
    expect(home.locator("a.li", has_text="ヘルプセンター")).to_have_attribute("href", re.compile(r"/help/\?site=demo&lang=ja$"))
    tour = home.locator("button.li", has_text="The last click completes")  # a manual tour this user may take
    tour.click()
    expect(page.locator(PANEL)).to_have_count(0)
    wait_title(page, "First")
    call(page, "track", "t_evt")  # a task of the checklist
    page.keyboard.press("Escape")
    open_panel(page)
    expect(home.locator(".li.ok")).to_have_text("✓ イベントを送る")


def test_help_during_a_tour_keeps_the_tour_and_ties_the_question_to_the_step(page, guide, user):
    visit(page, "/t/forms", user=user)
    call(page, "start", "t-submit")
    wait_title(page, "Fill in the form and save")
    expect(page.locator("guide-widget .ov").first).to_be_visible()
    page.locator("guide-widget .go").click()  # above the overlay: a real click reaches it
    page.locator(FIELD).fill("請求書をメールで送りたい")
    page.keyboard.press("Enter")
    expect(page.locator(PANEL + " .log .m.a a.src")).to_have_count(1)
    expect(page.locator(POP)).to_have_count(1)  # the tour stayed
    assert told(page, "tour:dismiss") == []

    def tied():
        (q,) = rows(guide.app, questions, question="請求書をメールで送りたい", tour_id="t-submit")
        assert q["step_id"] == "fill"

    eventually(tied)
    page.keyboard.press("Escape")  # closes the panel, not the tour
    expect(page.locator(PANEL)).to_have_count(0)
    expect(page.locator(POP + " h2")).to_have_text("Fill in the form and save")


def test_the_panel_follows_the_pages_language(page):
    visit(page, "/t/chat")
    open_panel(page)
    expect(page.locator(PANEL + " h2")).to_have_text("ヘルプ")
    page.evaluate("document.documentElement.lang = 'en'")  # the app switched its language
    expect(page.locator(PANEL + " h2")).to_have_text("Help")
    expect(page.locator(FIELD)).to_have_attribute("placeholder", re.compile("^Ask a question"))
    expect(page.locator("guide-widget .go")).to_have_attribute("aria-label", "Help")

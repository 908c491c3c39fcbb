"""Hash routes (#/path) in patterns and navigation, and one language for every part of the widget."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import events

from .helpers import HINT, POP, call, eventually, rows, stored, visit, wait_title

pytestmark = pytest.mark.browser


def test_a_hint_on_a_hash_route_comes_and_goes_with_the_route(page):
    data = visit(page, "/t/hash")
    assert "t-hash-hint" not in [t["id"] for t in data["tours"]]  # #/ is not #/completed
    page.click("#to-completed")
    expect(page.locator(HINT)).to_be_visible()
    expect(page.locator(HINT)).to_contain_text("Completed items")
    page.click("#to-active")
    expect(page.locator(HINT)).to_have_count(0)
    page.goto(page.url.split("#")[0] + "#/completed")  # a page loaded on the route
    expect(page.locator(HINT)).to_be_visible()


def test_a_tour_follows_hash_routes_and_an_anchor_is_no_route(page, guide, user):
    visit(page, "/t/hash", user=user)
    call(page, "start", "t-hash-tour")
    wait_title(page, "Open Completed")
    page.click("#to-completed")  # advance: {url: "#/completed"}
    wait_title(page, "On Completed")
    page.locator(POP + " .pri").click()  # the next step lives on #/active: hidden until the user goes there
    expect(page.locator(POP)).to_have_count(0)
    page.click("#to-active")
    wait_title(page, "On Active")
    page.evaluate("location.hash = '#top'")  # an anchor within the route's page: no route change
    page.wait_for_timeout(300)  # (a change would hide the step at once, in the hashchange listener)
    expect(page.locator(POP + " h2")).to_have_text("On Active")

    def reported_with_routes():
        urls = [r["url"] for r in rows(guide.app, events, user_id=stored(guide.app, user), type="step_shown")]
        assert any("/t/hash?" in u and u.endswith("#/completed") for u in urls)  # the route is the page
        assert not any(u.endswith("#top") for u in urls)  # an anchor never leaves the page

    eventually(reported_with_routes)


def test_an_english_page_stays_english_whatever_the_widget_asks(page):
    """No identify, no data-locale: the page's lang decides, for every call that redraws something."""
    data = visit(page, "/t/checklist-en")  # <html lang="en">, an anonymous user
    assert data["locale"] == "en"
    title = page.locator("guide-widget .cls [data-k=toggle]")
    expect(title).to_contain_text("Test checklist")
    call(page, "track", "t_evt")  # answered with the changed checklist, in the page's language
    expect(page.locator("guide-widget .cls [role=progressbar]")).to_have_attribute("aria-valuenow", "1")
    expect(title).to_contain_text("Test checklist")
    page.evaluate("document.documentElement.lang = 'ja'")  # the app switched language: every part follows
    expect(title).to_contain_text("テスト用チェックリスト")
    expect(page.locator("guide-widget .go")).to_have_attribute("aria-label", "ヘルプ")

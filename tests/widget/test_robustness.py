"""The widget on difficult pages: keyboard only, hostile CSS, a broken host, a strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import POP, active, call, host_errors, serve_a_bad_selector, settle, step_title, told, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out


def test_keyboard_tab_stays_in_the_step_escape_closes_and_focus_returns(page):
    visit(page, "/t/keys")
    page.focus("#opener")
    page.keyboard.press("Enter")  # the page's button calls Guide('start', 't-keys')
    wait_title(page, "Inside the box")
    assert active(page) == "pop"  # the dialog itself, so its title and text are read first

    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(active(page))
    # the link in the step's text, Next, Close, the target's two controls, the help launcher (help
    # stays reachable during a tour), and round again
    assert seen[:6] == ["A", "btn pri", "x", "field", "inside", "go"] and seen[6:] == seen[:6]
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        assert active(page) in seen[:6]

    page.focus("guide-widget .pop .pri")
    page.evaluate("window.scrollBy(0, 30); window.dispatchEvent(new Event('resize'))")
    # the widget places its popup again in the next animation frame: wait for two frames, not for time
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    assert active(page) == "btn pri"  # repositioning never moves focus

    page.focus("#field")
    page.keyboard.press("ArrowRight")  # moves the caret, not the tour
    assert step_title(page) == "Inside the box"
    page.focus("guide-widget .pop .pri")
    page.keyboard.press("ArrowRight")
    wait_title(page, "Second step")
    page.keyboard.press("ArrowLeft")
    wait_title(page, "Inside the box")

    page.keyboard.press("Escape")
    expect(page.locator(POP)).to_have_count(0)
    assert active(page) == "opener"  # focus is back where it was before the tour


def test_a_hostile_page_still_gets_a_usable_widget(page):
    visit(page, "/t/hostile")  # * {all: unset}, max z-indexes, a full-page cover, display:none on div
    wait_title(page, "Still readable")
    pop = page.locator(POP)
    box = pop.bounding_box()
    assert box["width"] > 250 and box["height"] > 80
    assert pop.evaluate("el => getComputedStyle(el).fontSize") == "14px"
    assert pop.evaluate("el => getComputedStyle(el).color") != "rgba(0, 0, 0, 0)"
    button = page.locator(POP + " .pri").bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName",
                        [button["x"] + button["width"] / 2, button["y"] + button["height"] / 2])
    assert hit == "GUIDE-WIDGET"  # above the page's z-index 2147483647 cover
    page.locator(POP + " .pri").click()
    wait_title(page, "Still usable")
    page.locator(POP + " .pri").click()
    expect(pop).to_have_count(0)
    page.locator("guide-widget .go").click()
    page.locator("guide-widget .chat input").fill("パスワードを忘れた")
    page.keyboard.press("Enter")
    expect(page.locator("guide-widget .chat a.src")).to_have_count(1)
    assert host_errors(page) == []


def calls(user: str) -> list[tuple]:
    """Every kind of call, good and bad. The user id is the test's own: a fixed one would carry a
    tour left active by one run of the test (t-miss-skip has no `match`, so it resumes on any page)
    into the next, through the package's server, and its step would take the focus at any moment."""
    return [
        ("start", "t-bad-selector"),  # a selector the browser rejects
        ("start", "t-miss-skip"),
        ("start", "no-such-tour"),  # 404
        ("track", "t_evt", {"n": 1}),
        ("identify", 42),
        ("identify", {"id": user, "traits": "not an object", "locale": "xx"}),
        ("nope",),
        (),
        ("start",),
        ("track", {}),
        ("on", "tour:complete"),  # no listener
        ("off", 42),
        ("open-chat",),
    ]


@pytest.mark.parametrize("breakage", [None, "fetch", "offline", "not-json", "storage", "observers", "websocket", "raf"])
def test_errors_inside_the_widget_never_reach_the_host(page, user, breakage):
    serve_a_bad_selector(page)
    page.goto("/t/errors" + (f"?break={breakage}" if breakage else ""))
    page.wait_for_function("window.Guide && window.Guide.loaded")
    if breakage == "observers":  # only now: Playwright's own page script needs MutationObserver to start
        page.evaluate("window.MutationObserver = undefined; window.ResizeObserver = undefined")

    def call_everything():
        for args in calls(user):
            call(page, *args)

    # settled: the tours those calls started have shown their steps (which take the focus) or failed,
    # so the question below goes to the chat, not to a step that came up in between
    settle(page, call_everything)
    page.locator("guide-widget .chat input").fill("パスワードを忘れた")
    page.keyboard.press("Enter")
    page.wait_for_function("window.guideEvents.some(e => e[0] === 'chat:answer')", polling=50)  # answered, or failed
    settle(page, lambda: page.evaluate("history.pushState(null, '', '/t/errors/elsewhere'); window.scrollBy(0, 10)"))
    assert host_errors(page) == []
    if breakage in (None, "websocket", "storage", "raf"):  # still working where it can
        expect(page.locator("guide-widget .chat a.src")).to_have_count(1)
        assert [e[1]["outcome"] for e in told(page, "chat:answer")] == ["answered"]
    settle(page, lambda: call(page, "reset"))
    expect(page.locator("guide-widget .chat")).to_have_count(0)  # reset went all the way, even without fetch
    assert host_errors(page) == []


def test_the_widget_works_under_a_strict_csp(page):
    asks = []
    page.on("request", lambda r: "/api/v1/ask" in r.url and asks.append(r))
    response = page.goto("/t/csp")
    assert "style-src 'self'" in response.headers["content-security-policy"]
    wait_title(page, "厳しいCSPでも表示されます")
    pop = page.locator(POP)
    assert pop.evaluate("el => getComputedStyle(el).position") == "fixed"  # our stylesheet applies
    assert pop.locator("em").inner_text() == "adoptedStyleSheets"  # server HTML, through Trusted Types
    page.locator(POP + " .pri").click()
    wait_title(page, "Done")
    page.locator(POP + " .pri").click()
    call(page, "open-chat")
    page.locator("guide-widget .chat input").fill("請求書をメールで送りたい")
    page.keyboard.press("Enter")
    expect(page.locator("guide-widget .chat a.src")).to_have_attribute("href", re.compile("ja-invoices-send-email"))
    assert asks == []  # the WebSocket is allowed by connect-src 'self'
    assert page.evaluate("window.cspViolations") == []
    assert host_errors(page) == []

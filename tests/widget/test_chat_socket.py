"""The chat's WebSocket in a real browser: opened with the panel, let go when the chat is put away,
and never the reason a question goes unanswered (the server closing it, refusing it, or being full
of sockets means HTTP). Time is Playwright's clock where the widget waits a minute or more."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .helpers import call, settled, visit
from .test_chat import LOG, ask, http_asks

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

CHAT = "guide-widget .chat"
PASSWORD, INVOICE = "パスワードを忘れた", "請求書をメールで送りたい"
SOURCES = {PASSWORD: "/help/ja-security-password-reset", INVOICE: "/help/ja-invoices-send-email"}


def sockets(page) -> list:
    """The WebSocket connections the page opens, as Playwright sees them."""
    seen = []
    page.on("websocket", lambda ws: seen.append(ws))
    return seen


def wait_closed(page, socket, timeout: float = 10.0) -> None:
    """Wait until the socket is closed. Polled: Playwright reports the close as a socket error when
    the test server (flask-sock on werkzeug) writes after the close frame, and its events arrive
    only while a Playwright call runs."""
    for _ in range(int(timeout * 10)):
        if socket.is_closed():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{socket.url} still open after {timeout} s")


def answered(page, question: str = PASSWORD) -> None:
    expect(ask(page, question).locator("a.src")).to_have_attribute("href", re.compile(re.escape(SOURCES[question])))


def test_the_socket_opens_with_the_panel_not_with_the_page(page):
    opened, fallback = sockets(page), http_asks(page)
    visit(page, "/t/chat")
    settled(page)
    assert opened == []  # a page where nobody opens the chat holds no socket
    with page.expect_websocket() as socket:
        page.locator("guide-widget .go").click()
    assert "/ws/chat?site=demo" in socket.value.url
    answered(page)
    page.keyboard.press("Escape")
    call(page, "open-chat")
    answered(page, INVOICE)
    assert len(opened) == 1 and not opened[0].is_closed() and fallback == []  # one socket, still open


def test_a_closed_chat_lets_its_socket_go_after_a_minute_and_opens_it_again(page):
    page.clock.install()
    opened, fallback = sockets(page), http_asks(page)
    visit(page, "/t/chat")
    call(page, "open-chat")
    answered(page)
    page.keyboard.press("Escape")
    expect(page.locator(CHAT)).to_have_count(0)
    page.clock.fast_forward(20_000)
    call(page, "open-chat")  # back within the minute: the same socket
    answered(page, INVOICE)
    page.keyboard.press("Escape")
    page.clock.fast_forward(61_000)
    wait_closed(page, opened[0])
    assert len(opened) == 1
    with page.expect_websocket():
        call(page, "open-chat")
    answered(page)
    assert len(opened) == 2 and fallback == []


def test_a_server_going_away_loses_no_question_and_is_not_rushed_back(page):
    """1001 (the server restarts): the question it had is answered over HTTP, and so is one asked
    at once; after a short wait a new socket carries the next."""
    page.clock.install()
    opened, fallback, routed = sockets(page), http_asks(page), []

    def restarting(ws):
        routed.append(ws)
        server = ws.connect_to_server()
        if len(routed) == 1:  # the first socket goes away with the first question on it
            ws.on_message(lambda message: ws.close(code=1001, reason="server restarting"))
        else:
            ws.on_message(lambda message: server.send(message))

    page.route_web_socket(re.compile(r"/ws/chat"), restarting)
    visit(page, "/t/chat")
    with page.expect_websocket():
        call(page, "open-chat")
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)  # no time passes: "at once" is exact
    answered(page)
    answered(page, INVOICE)
    assert len(opened) == 1 and len(fallback) == 2  # both over HTTP
    page.clock.fast_forward(20_000)  # longer than the first wait after a socket went away
    page.clock.resume()
    answered(page)
    assert len(opened) == 2 and len(fallback) == 2  # a new socket carried it


def test_a_server_full_of_sockets_means_http_for_a_while(page):
    """1013 (try again later): this question and the next ones go over HTTP without a new socket,
    until the wait is over."""
    page.clock.install()
    opened, fallback = sockets(page), http_asks(page)

    routed = []

    def full(ws):
        routed.append(ws)
        server = ws.connect_to_server()
        if len(routed) == 1:
            ws.on_message(lambda message: ws.close(code=1013, reason="try again later"))
        else:
            ws.on_message(lambda message: server.send(message))

    page.route_web_socket(re.compile(r"/ws/chat"), full)
    visit(page, "/t/chat")
    call(page, "open-chat")
    answered(page)
    answered(page, INVOICE)
    page.keyboard.press("Escape")
    call(page, "open-chat")
    answered(page)
    assert len(opened) == 1 and len(fallback) == 3
    page.clock.fast_forward(65_000)  # past the longest first wait (30 s, up to twice that at random)
    answered(page, INVOICE)
    assert len(opened) == 2 and len(fallback) == 3


# The server refuses the handshake (HTTP 503 when it is at its socket limit): here the widget's
# socket is sent to a page that does not exist, which a browser cannot tell apart from a 503.
REFUSED = """{
    const Native = window.WebSocket;
    window.WebSocket = function (url, protocols) { return new Native(String(url).replace('/ws/chat', '/t/no-socket-here'), protocols) };
}"""


def test_a_refused_handshake_means_http_and_a_new_try_later(page):
    page.clock.install()
    page.add_init_script(REFUSED)
    opened, fallback = sockets(page), http_asks(page)
    visit(page, "/t/chat")
    call(page, "open-chat")
    answered(page)
    answered(page, INVOICE)
    assert len(opened) == 1 and len(fallback) == 2  # refused once, then not tried for each question
    page.clock.fast_forward(65_000)
    answered(page)
    assert len(opened) == 2 and len(fallback) == 3  # tried again, refused again: still answered
    expect(page.locator(LOG + " .m.a").last.locator("a.src")).to_have_count(1)

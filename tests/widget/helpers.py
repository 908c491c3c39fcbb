"""Helpers of the browser tests: where the widget's parts are, and how to drive it."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import Page
from sqlalchemy import select

from guide_server.web.context import services

POP = "guide-widget .pop:not(.hint)"  # Playwright's CSS engine pierces open shadow roots
HINT = "guide-widget .hint"


def visit(page: Page, path: str, **query) -> dict:
    """Open a page and wait until its widget has fetched the page's tours; returns that answer.

    Only a request of the new document counts: the page being left may still be asking for the
    same URL's tours (a tour it has just completed asks again), and the body of that answer is gone
    once the page is left. Requests seen after the main frame commits the new document are its own.
    """
    url = path + ("?" + urlencode({k: json.dumps(v) if isinstance(v, dict) else v for k, v in query.items()}) if query else "")
    committed, asked = [], []

    def on_commit(frame) -> None:
        if frame == page.main_frame:
            committed.append(frame.url)

    def on_request(request) -> None:
        if committed and "/api/v1/tours?" in request.url and \
                parse_qs(urlsplit(request.url).query).get("url", [""])[0].endswith(url):
            asked.append(request)

    page.on("framenavigated", on_commit)
    page.on("request", on_request)
    try:
        with page.expect_response(lambda response: response.request in asked) as answer:
            page.goto(url)
        return answer.value.json()
    finally:
        page.remove_listener("framenavigated", on_commit)
        page.remove_listener("request", on_request)


# Added to every page by the `page` fixture (conftest.py): what the widget told the page, through
# its DOM events, in order: window.guideEvents = [[name, detail], ...].
EVENTS = ["ready", "settled", "tour:start", "tour:step", "tour:complete", "tour:dismiss", "hint:show", "hint:close",
          "checklist:update", "checklist:complete", "chat:open", "chat:close", "chat:answer", "chat:escalate", "survey:show",
          "survey:answer", "survey:dismiss"]
RECORD_EVENTS = """(names => {
    window.guideEvents = [];
    names.forEach(name => document.addEventListener('guide:' + name, e => window.guideEvents.push([name, e.detail])));
})(NAMES);""".replace("NAMES", json.dumps(EVENTS))


def told(page: Page, *names: str) -> list[list]:
    """The widget's events on this page so far, [name, detail] (only those named, if any)."""
    got = page.evaluate("window.guideEvents")
    return [e for e in got if not names or e[0] in names]


def settled(page: Page, after: int = 0) -> int:
    """Wait until the widget has said `settled` more than ``after`` times on this page (it has
    finished reacting: tours fetched, autostart decided, steps shown or given up); returns how many."""
    return page.wait_for_function(  # polled, not per animation frame: some test pages break requestAnimationFrame
        "n => { const k = window.guideEvents.filter(e => e[0] === 'settled').length; return k > n && k }",
        arg=after, polling=50).json_value()


def settle(page: Page, action) -> None:
    """Let the widget settle, do ``action`` (which makes it work), and wait until it has settled again."""
    before = settled(page)
    action()
    settled(page, before)


def call(page: Page, *args) -> None:
    """Guide(...args) in the page."""
    page.evaluate("args => window.Guide(...args)", list(args))


def step_title(page: Page) -> str:
    return page.locator(POP + " h2").inner_text()


def wait_title(page: Page, title: str) -> None:
    page.locator(POP + " h2", has_text=title).wait_for()


def host_errors(page: Page) -> list[str]:
    """What reached the host: window.onerror, unhandled rejections, uncaught exceptions."""
    return page.evaluate("window.hostErrors || []") + page.errors


def rows(app, table, **where) -> list[dict]:
    query = select(table)
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    with services(app).db.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def eventually(check, timeout: float = 5.0):
    """Retry ``check`` (a function that asserts) until it passes: the server writes in the background."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def active(page: Page) -> str:
    """The focused element, through shadow roots: its id, else its class, else its tag."""
    return page.evaluate("""() => {
        let a = document.activeElement;
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
        return a ? (a.id || a.getAttribute('class') || a.tagName) : null;
    }""")


def ends_tour(page: Page):
    """Wait for the progress call that ends a tour (identified users): ``with ends_tour(page): ...``."""
    return page.expect_response(lambda r: "/api/v1/tours/progress" in r.url
                                and (r.request.post_data_json or {}).get("status") in ("completed", "dismissed"))


def stored(app, user: str, site: str = "demo") -> str:
    """How the database names a user: the keyed pseudonym of the id (guide_server/privacy.py)."""
    from guide_server.privacy import pseudonymise

    return pseudonymise(services(app).pseudonym_key, site, user)


def serve_a_bad_selector(page: Page) -> None:
    """Serve tour t-bad-selector with the target "#a[[", which only the browser judges: the content
    check refuses it in a file (tests/guidance/test_selectors.py), the widget must live with it."""
    def bad_selector(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("#replaced-by-the-test", "#a[["))

    page.route("**/api/v1/tours/t-bad-selector?*", bad_selector)

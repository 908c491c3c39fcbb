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
    """Open a page and wait until the widget has fetched its tours; returns that answer."""
    url = path + ("?" + urlencode({k: json.dumps(v) if isinstance(v, dict) else v for k, v in query.items()}) if query else "")

    started = time.time() * 1000

    def for_this_page(response) -> bool:  # not a late answer for the page we are leaving
        if "/api/v1/tours?" not in response.url or response.request.timing["startTime"] < started:
            return False
        return parse_qs(urlsplit(response.url).query).get("url", [""])[0].endswith(url)

    with page.expect_response(for_this_page) as answer:
        page.goto(url)
    return answer.value.json()


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

"""The /demo app with the real content/tours: the welcome tour across pages, under a strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

TRAP_CSP = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI));"""


def test_the_english_switch_and_a_trait_targeted_tour(page):
    visit(page, "/demo")
    wait_title(page, "ようこそ！")
    page.keyboard.press("Escape")
    page.click("#nav-settings")
    page.select_option("#plan", "pro")  # the app identifies the user with plan: pro
    page.click("#lang")  # English
    expect(page.locator("guide-widget .cls [data-k=toggle]")).to_contain_text("Get set up")
    page.click("#nav-dashboard")
    wait_title(page, "Reports are unlocked")
    expect(page.locator("guide-widget .go")).to_have_attribute("aria-label", "Help")


@pytest.mark.parametrize("path", ["/demo", "/help/", "/"])
def test_a_page_loads_without_a_failed_request_or_a_console_error(page, path):
    """No 404 for a favicon or an asset, nothing logged as an error: a host's console stays clean."""
    failed, logged = [], []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and logged.append(m.text))
    page.goto(path, wait_until="networkidle")
    page.wait_for_timeout(300)
    assert failed == [] and logged == [] and page.errors == []

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

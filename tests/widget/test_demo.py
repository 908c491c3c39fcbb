"""The /demo app with the real content/tours: the welcome tour across pages, under a strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import HINT, POP, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

TRAP_CSP = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI));"""


def test_the_welcome_tour_spans_pages_and_ticks_the_checklist(page):
    page.add_init_script(TRAP_CSP)
    data = visit(page, "/demo")
    assert data["autostart"] == "welcome" and data["user"].startswith("demo-")
    wait_title(page, "ようこそ！")
    bar = page.locator("guide-widget [role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    page.keyboard.press("ArrowRight")
    wait_title(page, "請求書の一覧")
    page.click("#nav-invoices")  # click to advance; the app navigates with pushState
    wait_title(page, "発行した請求書")
    page.locator(POP + " .pri").click()
    wait_title(page, "請求書を作成する")
    page.click("#new-invoice")  # advance on reaching /demo/invoices/new
    wait_title(page, "取引先を入力")
    page.fill("#partner-name", "テスト商事")  # advance on input
    wait_title(page, "保存して完了")
    done = page.locator(POP + " .pri")
    assert done.inner_text() == "はじめる"  # the step's own button label
    done.click()
    expect(page.locator(POP)).to_have_count(0)
    expect(bar).to_have_attribute("aria-valuenow", "1")

    page.fill("#amount", "120000")
    page.click("#save-invoice")  # the app calls Guide('track', 'invoice_created')
    expect(bar).to_have_attribute("aria-valuenow", "2")
    wait_title(page, "ワンクリックで送付")  # invoice-send: gated by after: [welcome]
    expect(page.locator(HINT)).to_be_hidden()  # hints wait under a running tour
    page.keyboard.press("Escape")
    expect(page.locator(HINT)).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert page.errors == []


def test_the_english_switch_and_a_trait_targeted_tour(page):
    visit(page, "/demo")
    wait_title(page, "ようこそ！")
    page.keyboard.press("Escape")
    page.click("#nav-settings")
    page.select_option("#plan", "pro")  # the app identifies the user with plan: pro
    page.click("#lang")  # English
    expect(page.locator("guide-widget .cls section > button")).to_contain_text("Get set up")
    page.click("#nav-dashboard")
    wait_title(page, "Reports are unlocked")
    expect(page.locator("guide-widget .go")).to_have_attribute("aria-label", "Help")

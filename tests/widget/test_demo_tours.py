"""Every tour of the /demo app (the real content/tours), finished by doing what each step says, under
the demo's strict CSP: no Next button where the step asks for an action, and the checklist ticks as
the user goes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import HINT, POP, visit, wait_title

pytestmark = pytest.mark.browser

TRAP_CSP = """window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI));"""
BAR = "guide-widget .cls [role=progressbar]"
TEXT = {
    "ja": ["ようこそ！", "請求書の一覧", "発行した請求書", "請求書を作成する", "取引先を入力", "保存して完了",
           "ワンクリックで送付", "状態を確認"],
    "en": ["Welcome!", "Your invoices", "Invoices you have issued", "Create an invoice", "Who is it for?", "Save it",
           "One click to send", "Follow the status"],
}


def no_button(page) -> None:
    """The step waits for the user's action: no Next (or Done) to press instead."""
    expect(page.locator(POP + " .pri")).to_have_count(0)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_welcome_tour_is_finished_by_doing_what_it_says_and_invoice_send_follows(page, lang):
    page.add_init_script(TRAP_CSP)
    if lang == "en":
        page.add_init_script("localStorage.setItem('demo-lang', JSON.stringify('en'))")  # the demo's own switch
    data = visit(page, "/demo")
    assert data["autostart"] == "welcome"
    title = TEXT[lang]
    wait_title(page, title[0])
    expect(page.locator(BAR)).to_have_attribute("aria-valuenow", "0")
    page.keyboard.press("ArrowRight")
    wait_title(page, title[1])
    no_button(page)
    page.click("#nav-invoices")  # "click Invoices in the menu"
    wait_title(page, title[2])
    page.locator(POP + " .pri").click()
    wait_title(page, title[3])
    no_button(page)
    page.click("#new-invoice")  # "press New invoice": the app goes to /demo/invoices/new
    wait_title(page, title[4])
    no_button(page)
    page.click("#partner-name")
    page.keyboard.type("テスト商事")
    page.keyboard.press("Tab")  # leaves the field: done typing
    wait_title(page, title[5])
    no_button(page)
    page.click("#save-invoice")  # no amount yet: the app refuses it, and the step waits
    expect(page.locator(POP + " h2")).to_have_text(title[5])
    page.fill("#amount", "120000")
    page.click("#save-invoice")  # "add the amount and press Save": completes the tour
    expect(page.locator(BAR)).to_have_attribute("aria-valuenow", "2")  # the tour's task, and invoice_created
    wait_title(page, title[6])  # invoice-send: `after: welcome`, on the list the app went to
    expect(page.locator(HINT)).to_be_hidden()  # hints wait under a running tour
    no_button(page)
    page.locator("#invoice-table tbody tr:first-child .send").click()  # "Send e-mails a draft invoice"
    wait_title(page, title[7])
    page.locator(POP + " .pri").click()
    expect(page.locator(POP)).to_have_count(0)
    expect(page.locator(HINT)).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert page.errors == []


def test_the_checklist_tours_and_tasks_are_finished_by_doing_them(page):
    """invite-partner from the checklist's "show me" (ends on the Invite submit), the CSV task by a
    click the widget watches, the settings task by a visit, and the Pro tour once the plan changes."""
    visit(page, "/demo")
    wait_title(page, "ようこそ！")
    page.keyboard.press("Escape")
    panel = page.locator("guide-widget .cls")
    panel.locator("[data-k=toggle]").click()
    panel.locator("[data-k=show-invite-partner]").click()
    wait_title(page, "取引先の画面へ")
    no_button(page)
    page.click("#nav-partners")
    wait_title(page, "メールアドレスを入力")
    page.click("#invite-email")
    page.keyboard.type("sato@midori.example")
    page.keyboard.press("Tab")
    wait_title(page, "招待を送る")
    no_button(page)
    page.click("#invite-partner")  # the last step: the submit completes the tour
    expect(page.locator(POP)).to_have_count(0)
    expect(page.locator(BAR)).to_have_attribute("aria-valuenow", "1")  # partner_invited
    page.click("#nav-invoices")
    page.click("#export-csv")  # done_when {click: "#export-csv"}: no app code
    expect(page.locator(BAR)).to_have_attribute("aria-valuenow", "2")
    page.click("#nav-settings")  # done_when {url: "/demo/settings*"}
    expect(page.locator(BAR)).to_have_attribute("aria-valuenow", "3")
    page.select_option("#plan", "pro")
    page.click("#nav-dashboard")
    wait_title(page, "レポートが使えるようになりました")
    page.locator(POP + " .pri").click()
    expect(page.locator(POP)).to_have_count(0)
    assert page.errors == []

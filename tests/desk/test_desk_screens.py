"""The review desk in a real Chromium against the real server, with JavaScript off (the desk needs none).

Logs in through the form, walks overview → funnels → stuck points → step → user, drafts an FAQ
from a group of questions to work on, looks at feedback and NPS; then opens every page in Japanese
and in English and saves a screenshot of each into docs/img/ (desk-<page>-<lang>.png) for
docs/review-desk.md. The figures are those of tests/admin_seed.py.

Screenshots are written only when the machine has a Japanese font (e.g. Debian's
fonts-ipafont-gothic or fonts-noto-cjk); without one Chromium draws boxes, and the pictures in
the docs are left as they were. The assertions run either way.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip install -e '.[test]')")

from playwright.sync_api import Page, expect  # noqa: E402

from guide_server.chat.store import record_question  # noqa: E402
from guide_server.web.context import services  # noqa: E402
from tests.support import ROOT, WRITE_SHOTS, LiveServer, chromium  # noqa: E402

from .admin_seed import ADMIN, PASSWORD, STUCK_QUESTION, UNANSWERED_JA, make_admin, make_app, seed  # noqa: E402

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

SHOTS = ROOT / "docs" / "img"



# Questions a few users could not get answered, worded differently: grouped by meaning on the desk.
MORE_UNANSWERED = ["適格請求書の登録番号を入力したい", "インボイスの登録番号はどこに入れますか", "CSVで取引先を一括登録できますか"]


@pytest.fixture(scope="module")
def desk(sample_index, tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("desk"), INDEX_DIR=str(sample_index))
    app.seeded = seed(app)
    # a user who got no answer writes to support: the escalations page has a row
    sent = app.test_client().post("/api/v1/escalations", json={
        "site": "demo", "user": "u1", "reason": "no_answer",
        "message": "インボイス登録番号の設定場所を教えてください", "context": {"url": "https://app.example/settings/0"}})
    assert sent.status_code in (200, 201), sent.get_data(as_text=True)
    for text in MORE_UNANSWERED:
        record_question(services(app).db, site="demo", channel="http", locale="ja", question=text,
                        outcome="no_answer", top_faq_id=None, confidence=0.05, url="https://app.example/settings/0")
    make_admin(app)
    server = LiveServer(app)
    server.app = app
    yield server
    server.stop()
    services(app).close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, desk):
    context = browser.new_context(base_url=desk.url, java_script_enabled=False, locale="ja-JP",
                                  viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    png = page.screenshot(full_page=True)
    assert len(png) > 10_000
    if WRITE_SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"desk-{name}.png").write_bytes(png)


def log_in(page: Page) -> None:
    page.goto("/admin/stuck")
    expect(page).to_have_url(re.compile(r"/admin/login\?next=/admin/stuck"))
    page.get_by_label("アカウント名").fill(ADMIN)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("つまずきポイント")


def test_login_form_and_lockout_message(page):
    page.goto("/admin/login")
    page.get_by_label("アカウント名").fill(ADMIN)
    page.get_by_label("パスワード").fill("not the password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("パスワードが違います")


def test_walk_through_the_desk_and_take_the_screenshots(page, desk):
    log_in(page)
    # the stalled step tops the list, with the question asked on it
    first = page.locator(".gd-stuck > li").first
    expect(first.get_by_role("heading")).to_contain_text("2. new-button")
    expect(first).to_contain_text(STUCK_QUESTION)
    expect(first).to_contain_text("離脱 50.0%")

    page.get_by_role("link", name="概要", exact=True).click()
    expect(page.locator("#kpi-nps .gd-kpi-value")).to_have_text("33.3")
    expect(page.locator("#kpi-users .gd-kpi-value")).to_have_text("4")

    page.get_by_role("link", name="ファネル", exact=True).click()
    chart = page.get_by_role("img", name="ツアー first-invoice（v1）のファネル")
    expect(chart).to_be_visible()
    expect(chart.locator(".gd-count")).to_have_text(["4", "4", "2"])

    page.get_by_role("link", name="つまずき", exact=True).click()
    page.locator(".gd-stuck > li").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("new-button")
    expect(page.locator("#table-step-questions")).to_contain_text(STUCK_QUESTION)
    expect(page.locator("#table-step-users tbody tr")).to_have_count(4)

    page.locator("#table-step-users tbody tr").filter(has_text="離脱").get_by_role("link").click()  # u3, who stalled
    expect(page.get_by_role("heading", level=1)).to_contain_text("ユーザー")
    expect(page.locator("#table-timeline")).to_contain_text("停滞")
    expect(page.locator("#table-timeline")).to_contain_text(STUCK_QUESTION)
    expect(page.locator("#table-user-questions")).to_contain_text(STUCK_QUESTION)
    heading = page.get_by_role("heading", level=1).inner_text()
    page.get_by_label("アプリでのユーザーID").fill("u3")  # the id the app knows: the same person's page
    page.get_by_role("button", name="検索", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert "u3" not in page.url.split("user=")[0]

    page.get_by_role("link", name="対応が必要な質問", exact=True).click()
    group = page.locator("#group-0")
    expect(group).to_contain_text(UNANSWERED_JA)
    expect(group.locator(".gd-did")).to_contain_text("回答なし：5件")  # what the bot did: the three asked by u1 and two like them
    group.get_by_label("ファイル名").fill("invoice-registration-number")
    group.get_by_role("button", name="FAQの下書きを作成").click()
    expect(page.get_by_role("status")).to_contain_text("faq/ja/drafts/invoice-registration-number.md")
    draft = Path(desk.app.config["CONTENT_DIR"]) / "faq" / "ja" / "drafts" / "invoice-registration-number.md"
    assert UNANSWERED_JA in draft.read_text(encoding="utf-8")

    page.get_by_role("link", name="FAQ評価", exact=True).click()
    expect(page.locator("#table-feedback")).to_contain_text("ja-invoices-send-email")

    page.get_by_role("link", name="NPS", exact=True).click()
    expect(page.locator("#nps-score")).to_have_text("33.3")

    # an admin's own pages: every account and token, and the audit log of what was just done
    page.get_by_role("link", name="アカウント", exact=True).click()
    expect(page.locator("#table-accounts")).to_contain_text(ADMIN)
    page.get_by_role("link", name="操作ログ", exact=True).click()
    log = page.locator("#table-audit")
    expect(log).to_contain_text("invoice-registration-number")  # the draft, by this account
    expect(log.locator("tbody tr").filter(has_text=ADMIN).first).to_be_visible()

    page.get_by_role("button", name="ログアウト").click()
    expect(page).to_have_url(re.compile(r"/admin/login$"))
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))


def test_the_desk_in_english(page):
    log_in(page)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stuck points")
    page.get_by_role("link", name="Funnels").click()
    expect(page.get_by_role("img", name="Funnel of tour first-invoice (v1)")).to_be_visible()


# Every page of the desk, with what must be on it, for the pictures in docs/review-desk.md.
def _pages(desk) -> list[tuple[str, str, str]]:
    u3 = desk.app.seeded["pseudo"]["u3"]
    return [
        ("overview", "/admin/", "#kpi-users"),
        ("funnels", "/admin/funnels", ".gd-count"),
        ("stuck", "/admin/stuck", ".gd-stuck > li"),
        ("step", "/admin/step?tour=first-invoice&version=1&step=new-button", "#table-step-users tbody tr"),
        ("user", f"/admin/user?user={u3}", "#table-timeline tbody tr"),
        ("questions", "/admin/unanswered", "#group-0"),
        ("feedback", "/admin/feedback", "#table-feedback tbody tr"),
        ("onboarding", "/admin/onboarding", "table tbody tr"),
        ("nps", "/admin/nps", "#nps-score"),
        ("escalations", "/admin/escalations", "table tbody tr"),
        ("tours", "/admin/tours", "table tbody tr"),
        ("accounts", "/admin/accounts", "#table-accounts tbody tr"),
        ("audit", "/admin/audit", "#table-audit tbody tr"),
    ]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_in_both_languages(page, desk, lang):
    """Each page opens in the language asked, with its figures, and nothing in it is in the other
    language's navigation; the pictures are docs/img/desk-<page>-<lang>.png."""
    log_in(page)
    page.goto(f"/admin/lang/{lang}?next=/admin/")
    nav = {"ja": "概要", "en": "Overview"}
    for name, path, filled in _pages(desk):
        page.goto(path)
        expect(page.get_by_role("link", name=nav[lang], exact=True)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator(filled).first).to_be_visible()
        shot(page, f"{name}-{lang}")
    page.get_by_role("button", name={"ja": "ログアウト", "en": "Log out"}[lang]).click()
    page.goto(f"/admin/lang/{lang}?next=/admin/login")
    shot(page, f"login-{lang}")

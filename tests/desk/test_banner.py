"""The content banner on every desk page, in a real Chromium with JavaScript off: a broken selector
(a tour file that does not load, and a step whose selector finds nothing for the people who
reached it) raises it, and a tour step changed without a new ``version`` is refused by
``index_builder.py --check`` and shown there too. Editors and admins see it, viewers do not."""

from __future__ import annotations

import re
import time
import uuid

import pytest

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip install -e '.[test]')")

from playwright.sync_api import Page, expect  # noqa: E402

from guide_server.desk.auth import create_admin  # noqa: E402
from guide_server.web.context import services  # noqa: E402
from tests.guidance.test_tours import _bump as rewrite  # noqa: E402
from tests.support import LiveServer, guide  # noqa: E402

from .admin_seed import ADMIN, PASSWORD, make_admin, make_app  # noqa: E402
from .conftest import desk_page  # noqa: E402

pytestmark = pytest.mark.browser

VIEWER = "vera"
STEP_ADDED = """  - id: preview
    target: "#invoice-preview"
    title: {ja: 送付前に確認, en: Check before sending}
    body: Look before you send.
"""


@pytest.fixture
def desk(sample_index, tmp_path):
    app = make_app(tmp_path, INDEX_DIR=str(sample_index), TARGET_MISSING_MIN_PEOPLE=2, LIMIT_SITE=0, LIMIT_EVENTS=0)
    make_admin(app)
    create_admin(services(app).db, VIEWER, PASSWORD, role="viewer")
    server = LiveServer(app)
    server.app, server.content, server.db_file = app, tmp_path / "content", tmp_path / "guide.db"
    yield server
    server.stop()
    services(app).close()


@pytest.fixture
def page(browser, desk):
    page = desk_page(browser, desk.url)
    yield page
    page.context.close()


def log_in(page: Page, name: str = ADMIN) -> None:
    page.goto("/admin/login")
    page.get_by_label("アカウント名").fill(name)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def banner(page: Page):
    return page.get_by_role("region", name="コンテンツの問題")



def miss_the_target(desk, people: int) -> None:
    """``people`` reach invoice-send's first step and their widget finds nothing for its selector."""
    client = desk.app.test_client()
    for n in range(people):
        ev = {"id": uuid.uuid4().hex, "type": "target_missing", "at": int(time.time() * 1000) - 60_000,
              "url": "https://app.example/demo/invoices", "tour": "invoice-send", "version": 1,
              "step": "send-button", "step_index": 0, "props": {"action": "center"}}
        resp = client.post("/api/v1/events", json={"site": "demo", "anon": f"a-banner-{n}", "events": [ev]})
        assert resp.status_code == 200 and resp.get_json()["rejected"] == [], resp.get_json()


def test_a_broken_selector_raises_the_banner(page, desk):
    log_in(page)
    expect(banner(page)).to_have_count(0)  # nothing broken yet
    rewrite(desk.content / "tours/typo.yml", "id: typo\nsteps:\n  - id: one\n    target: '#save-invoice]'\n    body: x\n")
    miss_the_target(desk, 3)
    page.goto("/admin/funnels")
    expect(banner(page)).to_contain_text("コンテンツのエラー 1件")
    expect(banner(page)).to_contain_text("tours/typo.yml:4")
    expect(banner(page)).to_contain_text("#save-invoice]")
    expect(banner(page)).to_contain_text("対象要素（セレクター）が見つからないステップ 1件")
    banner(page).get_by_role("link", name="invoice-send / send-button").click()
    expect(page).to_have_url(re.compile(r"/admin/stuck\?site=demo#broken-targets$"))
    expect(page.locator("#broken-targets")).to_be_visible()
    page.goto("/admin/lang/en?next=/admin/")
    expect(page.get_by_role("region", name="Content problems")).to_contain_text("1 content error(s)")


def test_a_step_changed_without_a_version_bump_is_refused_by_check_and_shown_on_the_desk(page, desk):
    tour = desk.content / "tours/invoice-send.yml"
    text = tour.read_text(encoding="utf-8")
    rewrite(tour, text.replace("  - id: status\n", STEP_ADDED + "  - id: status\n"))  # version: stays 1
    run = guide("build-index", "--check", "--content", str(desk.content),
                env={"GUIDE_DATABASE_URL": f"sqlite:///{desk.db_file}"})
    assert run.returncode == 1
    refusal = "tour 'invoice-send' version 1: steps were send-button, status; now send-button, preview, status: " \
              "raise `version:` to 2"
    assert refusal in run.stderr
    log_in(page)
    expect(banner(page)).to_contain_text(refusal)  # the server refused it too: version 1 is served as it was
    assert [s.id for s in services(desk.app).tours.current().tours["invoice-send"].steps] == ["send-button", "status"]

    viewer = desk_page(page.context.browser, desk.url)
    log_in(viewer, VIEWER)
    expect(banner(viewer)).to_have_count(0)  # viewers cannot fix content
    viewer.context.close()

    rewrite(tour, tour.read_text(encoding="utf-8").replace("id: invoice-send\n", "id: invoice-send\nversion: 2\n"))
    assert guide("build-index", "--check", "--content", str(desk.content),
                 env={"GUIDE_DATABASE_URL": f"sqlite:///{desk.db_file}"}).returncode == 0
    page.reload()
    expect(banner(page)).to_have_count(0)

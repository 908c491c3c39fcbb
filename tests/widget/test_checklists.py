"""The checklist panel in a real browser: a real progressbar, tasks ticked by events and by tours."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import POP, call, settled, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

PANEL = "guide-widget .cls"


@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_checklist_tasks_complete_from_a_track_call_and_from_a_finished_tour(page, user, who):
    data = visit(page, "/t/checklist", **({"user": user} if who == "user" else {}))
    assert [c["id"] for c in data["checklists"]] == ["t-list"]
    bar = page.locator(PANEL + " [role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    assert (bar.get_attribute("aria-valuemin"), bar.get_attribute("aria-valuemax")) == ("0", "2")
    assert bar.get_attribute("aria-label") == "テスト用チェックリスト"

    toggle = page.locator(PANEL + " [data-k=toggle]")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert page.locator(PANEL + " [data-k=hide]").count() == 0  # only a completed list may be hidden
    expect(page.locator(PANEL + " li")).to_have_count(2)

    call(page, "track", "t_evt")
    expect(bar).to_have_attribute("aria-valuenow", "1")
    expect(page.locator(PANEL + " li.ok")).to_have_text("✓ イベントを送る")

    page.locator(PANEL + " li button", has_text="見てみる").click()  # "show me": the task's tour
    wait_title(page, "The thing")
    page.locator(POP + " .pri").click()
    expect(bar).to_have_attribute("aria-valuenow", "2")

    # completed: folded, saying so, and the user may hide it
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_contain_text("すべて完了しました")
    expect(page.locator(PANEL + " li")).to_have_count(0)

    page.reload()  # kept by the server (user) or by this browser (anonymous)
    expect(page.locator(PANEL + " [role=progressbar]")).to_have_attribute("aria-valuenow", "2")
    page.locator(PANEL + " [data-k=toggle]").click()  # a completed list stays folded
    expect(page.locator(PANEL + " [data-k=toggle]")).to_have_attribute("aria-expanded", "false")
    page.locator(PANEL + " [data-k=hide]").click()
    expect(page.locator(PANEL)).to_have_count(0)
    page.reload()  # hidden for good in this browser
    settled(page)  # the page's checklists came, and were not drawn
    expect(page.locator(PANEL)).to_have_count(0)

"""A step whose target is missing is loud: a console warning naming tour, step and selector (and
whether the selector is valid at all), one report per tab and step; and a tour with a skipped step
is not completed (its checklist task stays open)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import tour_progress

from .helpers import POP, call, eventually, rows, serve_a_bad_selector, settle, stored, told, visit, wait_title
from .test_events import sent

pytestmark = pytest.mark.browser


def test_a_missing_target_warns_in_the_console_once_reported_per_tab_and_the_tour_is_not_completed(page, guide, user):
    warnings = []
    page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
    visit(page, "/t/advance", user=user)
    settle(page, lambda: call(page, "start", "t-miss-skip"))
    wait_title(page, "The next step")
    assert any('tour "t-miss-skip", step "gone": nothing on the page matches "#never"' in w for w in warnings), warnings
    page.locator(POP + " .pri").click()  # the last step's Done
    expect(page.locator(POP)).to_have_count(0)
    assert told(page, "tour:complete") == []  # one step was never seen
    assert [d["step"] for _, d in told(page, "tour:dismiss")] == ["here"]

    def not_completed():
        (row,) = rows(guide.app, tour_progress, user_id=stored(guide.app, user), tour_id="t-miss-skip")
        assert row["status"] == "dismissed"

    eventually(not_completed)
    settle(page, lambda: call(page, "start", "t-miss-skip"))  # again in this tab: warned, not reported again
    wait_title(page, "The next step")
    assert sum('step "gone"' in w for w in warnings) == 2
    eventually(lambda: _once(guide, user))


def _once(guide, user) -> None:
    assert len(sent(guide.app, user, "target_missing")) == 1


def test_a_selector_the_browser_rejects_is_named_as_invalid(page):
    warnings = []
    page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))

    serve_a_bad_selector(page)
    visit(page, "/t/advance")
    settle(page, lambda: call(page, "start", "t-bad-selector"))
    wait_title(page, "After the bad one")
    assert any('"#a[["' in w and "not a valid CSS selector" in w for w in warnings), warnings

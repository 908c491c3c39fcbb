"""The widget on a phone (375×740): every part is a sheet at the bottom, one at a time (step > hint >
survey > checklist), and the "?" always sits above it, where a tap reaches it. Bounding boxes are
asserted, and what is on top at a point is asked of the browser (elementsFromPoint)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import HINT, POP, visit, wait_title

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "reduced_motion": "reduce"}
LAUNCHER = "guide-widget .go"
CHECKLIST = "guide-widget .cls"


@pytest.fixture
def context_options() -> dict:
    return PHONE


def box(page, selector: str) -> dict:
    """Its box once it is on screen (a part the widget redraws, as the checklist after a save, is
    replaced by a new element: asked again then)."""
    for _ in range(10):
        page.locator(selector).wait_for(state="visible")
        b = page.locator(selector).bounding_box()
        if b:
            return b
    raise AssertionError(f"{selector} is not on screen")


def apart(a: dict, b: dict) -> bool:
    return a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"] or \
        a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]


def on_top(page, selector: str) -> str:
    """What the browser says is on top at the middle of ``selector`` (inside our shadow root)."""
    return page.locator(selector).evaluate("""el => {
        const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
        const top = el.getRootNode().elementFromPoint(x, y);
        return top === el || el.contains(top) ? 'itself' : (top && (top.className || top.tagName));
    }""")


def a_sheet_at_the_bottom(page, selector: str) -> dict:
    b = box(page, selector)
    assert (b["x"], b["width"], round(b["y"] + b["height"])) == (0, 375, 740), (selector, b)
    return b


def the_launcher_sits_above(page, sheet: dict) -> None:
    go = box(page, LAUNCHER)
    assert apart(go, sheet) and go["y"] + go["height"] <= sheet["y"], (go, sheet)
    assert on_top(page, LAUNCHER) == "itself"


def test_a_tour_step_is_the_one_sheet_and_help_is_a_tap_away(page):
    visit(page, "/demo")
    wait_title(page, "ようこそ！")
    sheet = a_sheet_at_the_bottom(page, POP)
    expect(page.locator(CHECKLIST)).to_be_hidden()  # under the step
    the_launcher_sits_above(page, sheet)
    assert on_top(page, POP + " .pri") == "itself"
    page.locator(LAUNCHER).tap()
    panel = a_sheet_at_the_bottom(page, "guide-widget .pan")
    the_launcher_sits_above(page, panel)
    page.locator("guide-widget .pan .x").tap()
    expect(page.locator(POP)).to_be_visible()  # help did not end the tour


def test_a_hint_over_an_open_checklist_is_readable_and_its_ok_and_the_launcher_can_be_tapped(page):
    visit(page, "/demo")
    wait_title(page, "ようこそ！")
    page.locator(POP + " .x").tap()
    page.locator(CHECKLIST + " [data-k=toggle]").tap()  # the checklist, open
    a_sheet_at_the_bottom(page, CHECKLIST)
    page.evaluate("history.pushState(null, '', '/demo/invoices'); dispatchEvent(new PopStateEvent('popstate'))")
    page.locator(HINT).wait_for()
    hint = a_sheet_at_the_bottom(page, HINT)
    expect(page.locator(CHECKLIST)).to_be_hidden()
    assert on_top(page, HINT + " .b") == "itself" and on_top(page, HINT + " .pri") == "itself"
    the_launcher_sits_above(page, hint)
    page.locator(HINT + " .pri").tap()  # OK: the hint goes, the checklist comes back
    expect(page.locator(HINT)).to_have_count(0)
    expect(page.locator(CHECKLIST)).to_be_visible()
    the_launcher_sits_above(page, a_sheet_at_the_bottom(page, CHECKLIST))


def test_the_survey_sheet_leaves_the_launcher_reachable(page, user):
    visit(page, "/t/survey", user=user)
    sheet = a_sheet_at_the_bottom(page, "guide-widget .sv")
    the_launcher_sits_above(page, sheet)
    for button in page.locator("guide-widget .sv .sc .btn").all():
        assert on_top(page, "guide-widget .sv .sc .btn >> nth=" + button.inner_text()) == "itself"

"""The widget as a user sees it, on the demo app, in Japanese and English: a step with its arrow
pointing at the target, the help panel, a chat answer, and phone layouts. Each picture's geometry is asserted; with
GUIDE_SCREENSHOTS=1 (`make screenshots`) and a Japanese font on the machine, the pictures are also
written to docs/img for the docs."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from guide_server import create_app
from guide_server.web.context import services
from tests.support import ROOT, WRITE_SHOTS, LiveServer

from .helpers import POP, visit, wait_title

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def guide(sample_index, tmp_path_factory):
    """The demo as `make run` serves it: only the repository's content/tours and surveys."""
    root = tmp_path_factory.mktemp("screens")
    for folder in ("tours", "surveys"):
        shutil.copytree(ROOT / "content" / folder, root / "content" / folder)
    app = create_app({"TESTING": True, "CONTENT_DIR": str(root / "content"), "INDEX_DIR": str(sample_index),
                      "DATABASE_URL": f"sqlite:///{root / 'guide.db'}", "RELOAD_INTERVAL": 0})
    server = LiveServer(app)
    yield server
    server.stop()
    services(app).close()


@pytest.fixture
def context_options() -> dict:
    return {"reduced_motion": "reduce"}  # pictures of what is there, not of an animation half-way

IMG = ROOT / "docs" / "img"
TITLES = {"ja": ["ようこそ！", "請求書の一覧"], "en": ["Welcome!", "Your invoices"]}


def shot(page, name: str) -> None:
    if WRITE_SHOTS:
        page.screenshot(path=str(IMG / name))


def demo(page, lang: str) -> None:
    page.add_init_script(f"localStorage.setItem('demo-lang', JSON.stringify('{lang}'))")  # the demo's own switch
    visit(page, "/demo")
    wait_title(page, TITLES[lang][0])


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_step_points_at_its_target_with_an_arrow(page, lang):
    demo(page, lang)
    page.keyboard.press("ArrowRight")
    wait_title(page, TITLES[lang][1])  # target #nav-invoices, placement bottom
    target = page.locator("#nav-invoices").bounding_box()
    arrow = page.locator(POP + " .ar").bounding_box()
    pop = page.locator(POP).bounding_box()
    tip_x = arrow["x"] + arrow["width"] / 2
    assert target["x"] <= tip_x <= target["x"] + target["width"]  # under the target
    assert target["y"] + target["height"] <= arrow["y"] <= pop["y"]  # between the target and the popup
    assert page.locator(POP).get_attribute("data-side") == "bottom"
    shot(page, f"widget-step-{lang}.png")


def help_panel(page, lang: str):
    """The demo with its tour closed and the help panel opened by the "?"."""
    demo(page, lang)
    page.keyboard.press("Escape")
    page.locator("guide-widget .go").click()
    return page.locator("guide-widget .pan")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_help_panel(page, lang):
    panel = help_panel(page, lang)
    expect(panel.locator(".sec").first).to_be_visible()
    box, view = panel.bounding_box(), page.viewport_size
    assert box["x"] + box["width"] <= view["width"] and box["y"] >= 0  # all of it on screen
    shot(page, f"widget-panel-{lang}.png")
    panel.locator("form input").press_sequentially("CSV" if lang == "en" else "請求書 送付", delay=30)
    results = panel.locator(".sec[aria-live]")  # the search's answer, in place of the home sections
    expect(results.locator(".li").first).to_be_visible()
    assert results.locator(".li").count() >= 2
    shot(page, f"widget-panel-search-{lang}.png")


@pytest.mark.parametrize("context_options", [{"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True,
                                              "reduced_motion": "reduce"}])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_phone_layouts(page, lang):
    demo(page, lang)
    step = page.locator(POP).bounding_box()
    go = page.locator("guide-widget .go").bounding_box()
    assert go["y"] + go["height"] <= step["y"]  # the launcher above the step's sheet
    shot(page, f"widget-mobile-step-{lang}.png")
    page.locator(POP + " .x").tap()
    page.locator("guide-widget .cls [data-k=toggle]").tap()
    expect(page.locator("guide-widget .cls ul")).to_be_visible()
    shot(page, f"widget-mobile-checklist-{lang}.png")


QUESTIONS = {"ja": "CSVで請求書を一括作成するには？", "en": "How do I void an invoice?"}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_chat_answer(page, lang):
    """The extract with the question's words marked, the steps, the source and the related FAQs."""
    panel = help_panel(page, lang)
    panel.locator("form input").fill(QUESTIONS[lang])
    panel.locator("form input").press("Enter")
    reply = panel.locator(".log .m.a").last
    expect(reply.locator("a.src")).to_be_visible()
    reply.locator(".fb").scroll_into_view_if_needed()
    parts = [reply.locator(sel).bounding_box() for sel in ("p.ex", "ol.st", "a.src", "p.rel", "ul.rl")]
    assert all(parts) and [p["y"] for p in parts] == sorted(p["y"] for p in parts)  # in reading order
    box = reply.bounding_box()
    assert all(box["x"] <= p["x"] and p["x"] + p["width"] <= box["x"] + box["width"] + 1 for p in parts)  # none overflows
    assert reply.locator("p.ex mark").count() >= 1
    shot(page, f"widget-chat-{lang}.png")

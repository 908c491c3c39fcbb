"""Locale, small screens and reduced motion."""

from __future__ import annotations

import pytest

from .helpers import POP, call, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out


@pytest.mark.parametrize("path, locale, title, next_label", [
    ("/t/basic", None, "ようこそ", "次へ"),  # <html lang="ja">
    ("/t/english", None, "Welcome", "Next"),  # <html lang="en">
    ("/t/basic", "en", "Welcome", "Next"),  # the identified locale wins over the page's
    ("/t/english", "ja", "ようこそ", "次へ"),
])
def test_texts_follow_the_identified_locale_then_the_page_language(page, path, locale, title, next_label):
    visit(page, path, **({"locale": locale} if locale else {}))
    wait_title(page, title)
    assert page.locator(POP + " .pri").inner_text() == next_label
    assert page.locator("guide-widget .go").get_attribute("aria-label") == ("Help" if next_label == "Next" else "ヘルプ")


def test_a_locale_change_redraws_the_running_step(page):
    visit(page, "/t/basic")
    wait_title(page, "ようこそ")
    call(page, "identify", {"locale": "en"})
    wait_title(page, "Welcome")
    assert page.locator(POP + " .pri").inner_text() == "Next"


@pytest.mark.parametrize("context_options", [{"viewport": {"width": 375, "height": 700}, "reduced_motion": "reduce"}])
def test_small_screens_get_bottom_sheets(page):
    visit(page, "/t/basic")
    wait_title(page, "ようこそ")
    page.locator(POP + " .pri").click()
    wait_title(page, "一つ目")  # a step with a target: still a sheet, not a popup beside it
    box = page.locator(POP).bounding_box()
    assert (box["x"], box["width"], round(box["y"] + box["height"])) == (0, 375, 700)
    page.keyboard.press("Escape")
    call(page, "open-chat")
    box = page.locator("guide-widget .chat").bounding_box()
    assert (box["x"], box["width"], round(box["y"] + box["height"])) == (0, 375, 700)


@pytest.mark.parametrize("context_options, animation", [
    ({"reduced_motion": "reduce"}, "none"),
    ({"reduced_motion": "no-preference"}, "in"),
], ids=["reduce", "no-preference"])
def test_reduced_motion_is_respected(page, animation):
    visit(page, "/t/basic")
    wait_title(page, "ようこそ")
    assert page.locator(POP).evaluate("el => getComputedStyle(el).animationName") == animation


def test_the_host_themes_the_widget_with_css_custom_properties(page):
    visit(page, "/t/basic")
    wait_title(page, "ようこそ")
    page.add_style_tag(content="guide-widget { --guide-accent: rgb(200, 0, 90); --guide-radius: 0px; }")
    assert page.locator(POP + " .pri").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(200, 0, 90)"
    assert page.locator(POP).evaluate("el => getComputedStyle(el).borderTopLeftRadius") == "0px"


@pytest.mark.parametrize("tour, title", [("t-short", "The thing"), ("t-last-click", "First")], ids=["one step", "two steps"])
def test_the_main_button_is_at_the_right_whatever_the_number_of_steps(page, tour, title):
    visit(page, "/t/checklist")
    call(page, "start", tour)
    wait_title(page, title)
    pop, button = page.locator(POP).bounding_box(), page.locator(POP + " .pri").bounding_box()
    assert pop["x"] + pop["width"] - (button["x"] + button["width"]) < 24  # the popup's padding, not more


def test_the_hosts_focus_style_does_not_reach_the_widget(page):
    """A page rule like `*:focus {outline: ...}` matches <guide-widget> while the focus is inside it."""
    visit(page, "/t/basic")
    wait_title(page, "ようこそ")
    page.add_style_tag(content="*:focus { outline: 5px solid red !important; box-shadow: 0 0 0 9px red !important }")
    page.locator(POP + " .pri").focus()
    host = page.locator("guide-widget")
    assert host.evaluate("el => getComputedStyle(el).outlineStyle") == "none"
    assert host.evaluate("el => getComputedStyle(el).boxShadow") == "none"


def test_identify_takes_an_id_and_traits_as_two_arguments_too(page, user):
    """Guide('identify', id, traits), as people write it from memory, signs the user in as the object form does."""
    visit(page, "/t/targeting")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/identify")) as sent:
        call(page, "identify", user, {"plan": "pro"})
    body = sent.value.post_data_json
    assert (body["user"], body["traits"]) == (user, {"plan": "pro"})

"""The acceptance test of the widget on a real app nobody here wrote: TodoMVC's AngularJS example
(from npm, see thirdparty.py; a hash router and a form). An editor writes a tour for it with the
element picker on the live page, previews the draft (nothing recorded), publishes it, and a user who
has never seen the app finishes it by doing what each step says."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from guide_server.db.schema import events, tour_progress
from guide_server.web import preview as preview_token
from guide_server.web.context import services

from . import test_thirdparty_smoke as smoke
from .helpers import POP, RECORD_EVENTS, rows, told, wait_title

pytestmark = pytest.mark.browser

# the smoke test's server (site "todo", the app at /x/todo/) and app folder, as this module's fixtures
guide, todomvc = smoke.guide, smoke.todomvc
APP, SITE = smoke.APP, smoke.SITE

BAR = "guide-widget .pv-bar"
PICKED = "guide-widget .pk-pan"
TOUR = "todo-first"


def tour_file(guide) -> Path:
    return Path(guide.app.config["CONTENT_DIR"]) / "tours" / f"{TOUR}.yml"


def preview(page, guide) -> None:
    """What the desk's Preview does: a link to the live page carrying a signed token for the draft."""
    token = preview_token.sign(guide.app.config["SECRET_KEY"], TOUR, SITE, "editor")
    page.goto(f"{APP}?guide_preview={preview_token.link_value(TOUR, token)}")
    expect(page.locator(BAR)).to_be_visible()


def pick(page, selector_of_the_thing: str) -> dict:
    """The editor clicks "Pick an element", then the thing on the page; returns the step the picker wrote."""
    page.locator(BAR).get_by_role("button", name="Pick an element").click()
    box = page.locator(selector_of_the_thing).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator(PICKED)).to_be_visible()
    (step,) = yaml.safe_load(page.locator(PICKED + " textarea").input_value())
    assert step["target"] == page.locator(PICKED + " [data-pk=selector]").inner_text()
    page.keyboard.press("Escape")
    expect(page.locator(PICKED)).to_have_count(0)
    return step


def write_tour(guide, steps: list[dict], draft: bool) -> None:
    head = textwrap.dedent(f"""\
        # Written with the element picker on TodoMVC (tests/widget/test_thirdparty_tour.py).
        id: {TOUR}
        title: {{ja: はじめてのTODO, en: Your first todo}}
        {"draft: true" if draft else ""}
        sites: [{SITE}]
        match: {{urls: ["/x/todo/*"]}}
        """)
    tour_file(guide).write_text(head + yaml.safe_dump({"steps": steps}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_tour_written_with_the_picker_previewed_published_and_finished(browser, guide):
    # 1. The editor starts a draft with one step, and opens it on the live app.
    write_tour(guide, [{"id": "hello", "title": {"ja": "ようこそ", "en": "Welcome"}}], draft=True)
    editor = browser.new_context(base_url=guide.url, viewport={"width": 1100, "height": 800}).new_page()
    editor.goto(APP)  # the editor uses the app first: a todo, ticked off (kept in the app's localStorage)
    editor.wait_for_load_state("networkidle")
    editor.locator("#new-todo").fill("Buy milk")
    editor.locator("#new-todo").press("Enter")
    editor.locator("#todo-list li .toggle").click()
    expect(editor.locator("#clear-completed")).to_be_visible()
    preview(editor, guide)
    wait_title(editor, "Welcome")  # the page says lang="en"
    editor.keyboard.press("Escape")  # the editor closes the step to pick on the page

    # 2. The picker names each element the tour is about.
    new_todo = pick(editor, "#new-todo")
    toggle = pick(editor, "#todo-list li .toggle")
    active = pick(editor, "#filters a[href='#/active']")
    completed = pick(editor, "#filters a[href='#/completed']")
    clear = pick(editor, "#clear-completed")
    assert new_todo["target"] == "#new-todo" and clear["target"] == "#clear-completed"
    assert editor.evaluate("JSON.parse(localStorage['todos-angularjs'] || '[]').length") == 1  # picking did nothing to the app

    # 3. The editor pastes the steps, says how each moves on, and previews the draft from the start.
    steps = [
        {**new_todo, "id": "add", "title": {"ja": "TODOを追加", "en": "Add a todo"}, "advance": "submit"},
        {**toggle, "id": "done", "title": {"ja": "完了にする", "en": "Tick it off"}, "advance": "click"},
        {**active, "id": "active", "title": {"ja": "未完了だけを見る", "en": "Show what is left"}, "advance": {"url": "#/active"}},
        {**completed, "id": "completed", "title": {"ja": "完了したものを見る", "en": "Show what is done"},
         "advance": {"url": "#/completed"}},
        {**clear, "id": "clear", "title": {"ja": "完了したものを消す", "en": "Clear them"}, "advance": "click"},
    ]
    for s in steps:
        s.pop("body", None)
    write_tour(guide, steps, draft=True)
    assert services(guide.app).tours.errors == []  # the file as pasted is valid content
    preview(editor, guide)
    wait_title(editor, "Add a todo")
    editor.locator(BAR).get_by_role("button", name="Exit").click()
    expect(editor.locator(BAR)).to_have_count(0)
    assert rows(guide.app, tour_progress, tour_id=TOUR) == []  # the preview recorded nothing
    assert [e for e in rows(guide.app, events, site=SITE) if e["tour_id"] == TOUR] == []

    # 4. Unpublished, nobody else sees it; published, a new user gets it and finishes it.
    user = browser.new_context(base_url=guide.url, viewport={"width": 1100, "height": 800}).new_page()
    user.add_init_script(RECORD_EVENTS)
    user.goto(APP)
    user.wait_for_function("window.Guide && window.Guide.loaded")
    user.wait_for_timeout(500)
    expect(user.locator(POP)).to_have_count(0)
    write_tour(guide, steps, draft=False)
    user.reload()
    wait_title(user, "Add a todo")
    user.wait_for_load_state("networkidle")
    user.locator("#new-todo").fill("Call the bank")
    user.locator("#new-todo").press("Enter")  # the app's form is submitted
    wait_title(user, "Tick it off")
    user.locator("#todo-list li .toggle").first.click()
    wait_title(user, "Show what is left")
    user.locator("#filters a[href='#/active']").click()  # the hash route
    wait_title(user, "Show what is done")
    user.locator("#filters a[href='#/completed']").click()
    wait_title(user, "Clear them")
    user.locator("#clear-completed").click()  # the last step's click completes the tour
    expect(user.locator(POP)).to_have_count(0)
    assert [d["tour"] for _, d in told(user, "tour:complete")] == [TOUR]
    assert user.evaluate("JSON.parse(localStorage['todos-angularjs']).length") == 0  # the app did its part
    assert user.url.endswith("#/completed")
    assert [e for e in rows(guide.app, events, site=SITE) if e["type"] == "widget_error"] == []


PHONE_TOUR = """\
id: todo-phone
title: {ja: スマートフォンで, en: On a phone}
priority: 20
sites: [todo]
match: {urls: ["/x/todo/*"]}
steps:
  - id: add
    target: "#new-todo"
    title: {ja: TODOを入力, en: Type a todo}
    advance: submit
  - id: done
    title: {ja: 追加しました, en: Added}
"""


def test_on_a_phone_with_japanese_typed_through_an_ime(browser, guide):
    """The same third-party app at 375×740, the step a sheet with the "?" above it, and Japanese typed
    through an IME: Enter while converting belongs to the IME, the app's form is sent on the next."""
    path = tour_file(guide).with_name("todo-phone.yml")
    path.write_text(PHONE_TOUR, encoding="utf-8")
    try:
        # (not is_mobile: TodoMVC has no <meta name="viewport">, so a phone would lay it out 980 px wide
        # and zoom out, the widget with it; 375 CSS px wide is the case where the sheets matter)
        page = browser.new_context(base_url=guide.url, viewport={"width": 375, "height": 740}, has_touch=True,
                                   reduced_motion="reduce").new_page()
        page.goto(APP)
        wait_title(page, "Type a todo")  # TodoMVC says lang="en"
        page.wait_for_load_state("networkidle")
        sheet, go = page.locator(POP).bounding_box(), page.locator("guide-widget .go").bounding_box()
        assert (sheet["x"], sheet["width"], round(sheet["y"] + sheet["height"])) == (0, 375, 740)
        assert go["y"] + go["height"] <= sheet["y"]  # the launcher above the sheet
        page.locator("#new-todo").tap()
        cdp = page.context.new_cdp_session(page)
        for text in ("ぎゅ", "ぎゅうにゅう"):
            cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
        cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "key": "Enter", "code": "Enter",
                                            "windowsVirtualKeyCode": 229, "nativeVirtualKeyCode": 229})
        cdp.send("Input.insertText", {"text": "牛乳"})  # the IME's Enter committed the conversion
        expect(page.locator(POP + " h2")).to_have_text("Type a todo")
        assert page.locator("#todo-list li").count() == 0  # nothing sent to the app yet
        page.locator("#new-todo").press("Enter")
        wait_title(page, "Added")
        expect(page.locator("#todo-list li label")).to_have_text("牛乳")
    finally:
        path.unlink()

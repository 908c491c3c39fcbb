"""How steps move on in a real browser: submit, the last click, an element appearing or going, an app
event, and typing that waits for the user to finish, IME compositions included (CDP's
Input.imeSetComposition, as a Japanese input method drives Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import tour_progress

from .helpers import POP, active, call, eventually, rows, stored, told, visit, wait_title

pytestmark = pytest.mark.browser


def start(page, tour: str, user: str | None = None) -> None:
    visit(page, "/t/forms", **({"user": user} if user else {}))
    call(page, "start", tour)


def test_submit_moves_on_once_the_form_is_sent_with_valid_fields(page):
    start(page, "t-submit")
    wait_title(page, "Fill in the form and save")
    assert page.locator(POP + " .pri").count() == 0  # the user's submit is the way on
    page.locator("#save").click()  # the required field is empty: the app refuses it, the step stays
    assert page.evaluate("window.submits") == 1
    expect(page.locator(POP + " h2")).to_have_text("Fill in the form and save")
    page.locator("#title").fill("三月分")
    page.locator("#title").press("Enter")  # Enter submits the form, as the button does
    wait_title(page, "Submitted")
    assert page.evaluate("window.submits") == 2


def test_a_click_on_the_last_step_completes_the_tour(page, guide, user):
    start(page, "t-last-click", user)
    page.locator(POP + " .pri").click()
    wait_title(page, "Press Finish")
    page.locator("#press-last").click()
    expect(page.locator(POP)).to_have_count(0)
    assert [d["tour"] for _, d in told(page, "tour:complete")] == ["t-last-click"]

    def saved():
        assert [r["status"] for r in rows(guide.app, tour_progress, user_id=stored(guide.app, user), tour_id="t-last-click")] == ["completed"]

    eventually(saved)


def test_elements_appearing_and_going_and_an_app_event_move_steps_on(page):
    start(page, "t-page")
    wait_title(page, "Open the dialog")
    page.locator("#open").click()
    wait_title(page, "Close it again")
    page.locator("#close").click()
    wait_title(page, "Fire the event")
    call(page, "track", "another_event")  # not the one the step waits for
    expect(page.locator(POP + " h2")).to_have_text("Fire the event")
    page.locator("#fire").click()  # the app calls Guide('track', 't_fired')
    wait_title(page, "All three")


def test_typing_with_a_pause_keeps_the_focus_and_every_key(page):
    """The user types "Acme", thinks for 0.9 s, types " Trading": the field holds both, and when the
    step moves on (after 1.5 s without a key) the focus stays in the field."""
    start(page, "t-ime")
    wait_title(page, "取引先名を入力")
    field = page.locator("#ja")
    field.click()
    page.keyboard.type("Acme")
    page.wait_for_timeout(900)
    expect(page.locator(POP + " h2")).to_have_text("取引先名を入力")
    page.keyboard.type(" Trading")
    wait_title(page, "Typed")
    page.keyboard.type(" Co.")  # still typing into the field, not into the new step
    assert field.input_value() == "Acme Trading Co."
    assert active(page) == "ja"


def test_an_ime_composition_is_never_cut(page):
    """Kana typed and converted through an IME: while the composition is open (longer than the pause
    that moves a step on), the step waits; the committed kanji stay as they are."""
    start(page, "t-ime")
    wait_title(page, "取引先名を入力")
    page.locator("#ja").click()
    page.evaluate("""() => { window.compositions = [];
        for (const t of ['compositionstart', 'compositionend'])
            document.getElementById('ja').addEventListener(t, () => window.compositions.push(t)); }""")
    cdp = page.context.new_cdp_session(page)
    for text in ("か", "かぶ", "かぶし", "かぶしき"):
        cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
        page.wait_for_timeout(150)
    page.wait_for_timeout(1800)  # the user looks at the candidates: longer than the 1.5 s pause
    expect(page.locator(POP + " h2")).to_have_text("取引先名を入力")
    assert page.locator("#ja").input_value() == "かぶしき"  # the composition is in the field, uncommitted
    assert page.evaluate("window.compositions") == ["compositionstart"]
    cdp.send("Input.imeSetComposition", {"text": "株式", "selectionStart": 2, "selectionEnd": 2})
    page.wait_for_timeout(300)
    cdp.send("Input.insertText", {"text": "株式"})  # the conversion is committed
    expect(page.locator(POP + " h2")).to_have_text("取引先名を入力")  # the pause starts now
    wait_title(page, "Typed")
    assert page.locator("#ja").input_value() == "株式"
    assert page.evaluate("window.compositions") == ["compositionstart", "compositionend"]
    assert active(page) == "ja"


def test_enter_during_a_composition_commits_it_and_does_not_move_on(page):
    start(page, "t-ime")
    wait_title(page, "取引先名を入力")
    page.locator("#ja").click()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "やまだ", "selectionStart": 3, "selectionEnd": 3})
    # Enter while composing: the IME takes it (keyCode 229); the step must not move on
    page.dispatch_event("#ja", "keydown", {"key": "Enter", "keyCode": 229, "isComposing": True})
    page.wait_for_timeout(300)
    expect(page.locator(POP + " h2")).to_have_text("取引先名を入力")
    cdp.send("Input.insertText", {"text": "山田"})
    page.locator("#ja").press("Enter")  # the user's own Enter, after the conversion: done
    wait_title(page, "Typed")
    assert page.locator("#ja").input_value() == "山田"


def test_submit_without_a_form_is_enter_in_the_target(page):
    start(page, "t-ime")
    wait_title(page, "取引先名を入力")
    page.locator("#ja").fill("x")
    page.locator("#ja").press("Enter")
    wait_title(page, "Typed")
    page.locator(POP + " .pri").click()
    wait_title(page, "Search for it")
    page.locator("#search").fill("請求書")
    page.locator("#search").press("Enter")
    wait_title(page, "Searched")

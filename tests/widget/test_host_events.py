"""The host page listens to the widget: Guide('on', name, fn), Guide('off', ...) and the `guide:<name>`
DOM events, with the same details, in order; a listener that throws changes nothing in the widget.

pages/events.html registers a listener both ways for every event before the widget loads (Guide('on')
through the queue stub) and records what it gets in window.got; with ?throw=1 a listener that throws
comes first, both ways, for every event."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import questions

from .helpers import POP, call, ends_tour, host_errors, rows, settle, settled, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

TOUR = {"tour": "t-events", "version": 1}
FIRST = {**TOUR, "step": "first", "step_index": 0}
SECOND = {**TOUR, "step": "second", "step_index": 1}


def got(page, prefix: str = "") -> list[tuple]:
    """What the page's listeners were told, (name, detail), after checking that both ways were told the same."""
    seen = page.evaluate("window.got")
    via_on = [(name, detail) for how, name, detail in seen if how == "on" and name.startswith(prefix)]
    via_dom = [(name, detail) for how, name, detail in seen if how == "dom" and name.startswith(prefix)]
    assert via_on == via_dom
    return via_on


def click_next(page) -> None:
    page.locator(POP + " .pri").click()


@pytest.mark.parametrize("throwing", [False, True], ids=["listeners", "a-listener-throws"])
def test_a_tour_run_to_completion_is_told_in_order(page, guide, user, throwing):
    warnings = []
    page.on("console", lambda m: m.type == "warning" and "listener failed" in m.text and warnings.append(m.text))
    visit(page, "/t/events", user=user, **({"throw": 1} if throwing else {}))
    settled(page)
    wait_title(page, "First")
    settle(page, lambda: click_next(page))
    wait_title(page, "Second")
    with ends_tour(page):
        settle(page, lambda: click_next(page))
    expect(page.locator(POP)).to_have_count(0)

    checklist = {"checklist": "t-events-list", "total": 2}
    assert got(page) == [
        ("ready", {"site": "demo"}),
        ("checklist:update", {**checklist, "done": 0}),
        ("tour:start", {**FIRST, "resumed": False}),
        ("tour:step", FIRST),
        ("settled", FIRST),  # the step is shown and saved
        ("tour:step", SECOND),
        ("settled", SECOND),
        ("tour:complete", SECOND),
        ("checklist:update", {**checklist, "done": 1}),  # the server's answer to the save ticked the tour's task
        ("settled", {}),  # ... and the page was looked at again: nothing more to start
    ]
    # The same events, and the same tour saved, with a throwing listener first. A Guide('on') listener's
    # error is caught: a console warning. A DOM listener's error is reported by the browser as the page's
    # own, like any event listener's: one per event, and nothing else reaches the page.
    assert len(warnings) == (10 if throwing else 0)
    reached = host_errors(page)
    assert all("a DOM listener of" in e for e in reached) and len(reached) == (20 if throwing else 0)  # onerror, pageerror


def test_a_dismissed_tour_is_told(page):
    visit(page, "/t/events")
    settled(page)
    wait_title(page, "First")
    settle(page, lambda: page.keyboard.press("Escape"))
    assert got(page, "tour:") == [("tour:start", {**FIRST, "resumed": False}), ("tour:step", FIRST), ("tour:dismiss", FIRST)]
    assert got(page)[-1] == ("settled", {})


def test_a_tour_resumed_after_a_reload_says_so(page, user):
    visit(page, "/t/events", user=user)
    settled(page)
    settle(page, lambda: click_next(page))
    wait_title(page, "Second")
    page.reload()
    wait_title(page, "Second")
    assert got(page, "tour:") == [("tour:start", {**SECOND, "resumed": True}), ("tour:step", SECOND)]


def test_the_chat_tells_when_it_opens_answers_and_closes(page, guide):
    visit(page, "/t/events")
    settled(page)
    settle(page, lambda: page.keyboard.press("Escape"))  # the tour goes, the chat comes
    call(page, "open-chat")
    page.locator("guide-widget .chat input").fill("パスワードを忘れた")
    page.keyboard.press("Enter")
    page.wait_for_function("window.got.some(g => g[1] === 'chat:answer')")
    page.keyboard.press("Escape")
    expect(page.locator("guide-widget .chat")).to_have_count(0)
    qid = rows(guide.app, questions, question="パスワードを忘れた")[-1]["id"]
    assert got(page, "chat:") == [
        ("chat:open", {}),
        ("chat:answer", {"question": "パスワードを忘れた", "outcome": "answered", "question_id": qid}),
        ("chat:close", {}),
    ]


def test_checklist_updates_and_completion_are_told(page):
    visit(page, "/t/events")  # anonymous: the tasks are remembered in this browser
    settled(page)
    settle(page, lambda: call(page, "track", "t_ping"))
    settle(page, lambda: click_next(page))
    settle(page, lambda: click_next(page))  # the tour's task: done
    checklist = {"checklist": "t-events-list", "total": 2}
    assert got(page, "checklist:") == [
        ("checklist:update", {**checklist, "done": 0}),
        ("checklist:update", {**checklist, "done": 1}),
        ("checklist:update", {**checklist, "done": 2}),
        ("checklist:complete", {"checklist": "t-events-list"}),
    ]


def test_off_stops_a_listener(page):
    visit(page, "/t/events")
    settled(page)
    page.evaluate("() => { window.heard = 0; window.hear = () => window.heard++; Guide('on', 'settled', window.hear) }")
    settle(page, lambda: page.keyboard.press("Escape"))
    assert page.evaluate("window.heard") == 1
    page.evaluate("Guide('off', 'settled', window.hear)")
    settle(page, lambda: call(page, "track", "t_ping"))
    assert page.evaluate("window.heard") == 1
    assert host_errors(page) == []

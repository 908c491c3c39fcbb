"""Tours and hints in a real browser: running, advancing, waiting, skipping, resuming, targeting."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from guide_server.db.schema import tour_events, tour_progress

from .helpers import HINT, POP, call, ends_tour, eventually, rows, settle, settled, step_title, stored, told, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out


def who_query(who: str, user: str) -> dict:
    return {"user": user} if who == "user" else {}


def test_a_tour_runs_from_start_to_finish(page, guide, user):
    data = visit(page, "/t/basic", user=user)
    assert data["autostart"] == "t-basic"
    wait_title(page, "ようこそ")
    dialog = page.locator(POP)
    assert dialog.get_attribute("role") == "dialog"
    assert dialog.get_attribute("aria-modal") == "true"
    labelled = page.locator("guide-widget #" + dialog.get_attribute("aria-labelledby"))
    described = page.locator("guide-widget #" + dialog.get_attribute("aria-describedby"))
    assert labelled.inner_text() == "ようこそ" and "中央" in described.inner_text()
    assert page.locator(POP + " .n").inner_text() == "1 / 3"

    page.locator(POP + " .pri").click()
    wait_title(page, "一つ目")
    target, pop, ring = (page.locator(s).bounding_box() for s in ("#a", POP, "guide-widget .ring"))
    assert pop["y"] >= target["y"] + target["height"]  # placement: bottom
    assert ring["x"] < target["x"] and ring["x"] + ring["width"] > target["x"] + target["width"]
    assert page.locator("guide-widget .ov").count() == 4  # the dimmed panes around the target

    page.locator(POP + " .pri").click()
    wait_title(page, "二つ目")
    target, pop = page.locator("#b").bounding_box(), page.locator(POP).bounding_box()
    assert pop["y"] + pop["height"] <= target["y"]  # placement: top
    assert page.locator(POP + " .pri").inner_text() == "完了"

    with ends_tour(page):
        page.locator(POP + " .pri").click()
    expect(page.locator(POP)).to_have_count(0)
    expect(page.locator("guide-widget .ov")).to_have_count(0)
    saved = rows(guide.app, tour_progress, user_id=stored(guide.app, user), tour_id="t-basic")
    assert [(r["status"], r["step"]) for r in saved] == [("completed", 2)]


ACTIONS = {
    "t-click": (lambda p: p.click("#press"), "Pressed"),
    "t-input": (lambda p: p.fill("#name", "山田"), "Typed"),
    "t-url": (lambda p: p.click("#elsewhere"), "Arrived"),
}


@pytest.mark.parametrize("tour", list(ACTIONS), ids=["click", "input", "url"])
def test_steps_advance_by_the_users_action(page, tour):
    visit(page, "/t/advance")
    call(page, "start", tour)
    page.locator(POP).wait_for()
    first = step_title(page)
    assert page.locator(POP + " .pri").count() == 0  # no Next button: the action is the way on
    settled(page)  # the step is on screen, nothing else is under way
    here = page.locator("#here").bounding_box()
    page.mouse.click(here["x"] + 5, here["y"] + 5)  # a click elsewhere lands on the overlay
    page.keyboard.press("ArrowRight")
    # The widget handles clicks and keys as they come: a step that moves on takes its popup away at
    # once and announces the next one (tour:step). Both calls return once the page has handled them.
    assert step_title(page) == first and len(told(page, "tour:step")) == 1
    act, then = ACTIONS[tour]
    act(page)
    wait_title(page, then)


def test_a_late_target_is_waited_for(page):
    # Is the target there when the tour starts, and when its step is shown? (The page adds it a
    # second after the tour has started.)
    page.add_init_script("""window.targetAt = {};
    ['tour:start', 'tour:step'].forEach(name => document.addEventListener('guide:' + name, () => {
        window.targetAt[name] = !!document.getElementById('late');
    }));""")
    visit(page, "/t/late")
    wait_title(page, "Late but here")  # meanwhile in the centre (not nothing), with a Next to go on without it
    expect(page.locator("guide-widget .ring")).to_be_visible()  # then at its target
    assert page.locator(POP).get_attribute("data-side") != "center"
    assert page.locator(POP).count() == 1
    assert page.evaluate("window.targetAt") == {"tour:start": False, "tour:step": True}  # the step waited for it
    late, ring = page.locator("#late").bounding_box(), page.locator("guide-widget .ring").bounding_box()
    assert abs(ring["y"] + 6 - late["y"]) < 2


def test_an_element_trigger_starts_the_tour_when_the_element_appears(page):
    data = visit(page, "/t/trigger")
    assert data["autostart"] is None and "t-trigger" in [t["id"] for t in data["tours"]]
    settled(page)  # a trigger waiting for its element does not hold the widget back
    expect(page.locator(POP)).to_have_count(0)
    page.click("#open")
    wait_title(page, "The panel is open")


@pytest.mark.parametrize("tour, action, who, then", [
    ("t-miss-skip", "skip", "user", "The next step"),
    ("t-miss-skip", "skip", "anonymous", "The next step"),
    ("t-miss-center", "center", "user", "Shown in the centre"),
    ("t-miss-abort", "abort", "user", None),
])
def test_a_missing_target_is_handled_and_reported(page, guide, user, tour, action, who, then):
    marker = user  # anonymous reports are found by the page URL
    visit(page, "/t/advance", n=marker, **who_query(who, user))
    settle(page, lambda: call(page, "start", tour))
    if then:
        wait_title(page, then)
    else:  # settled: the step gave up waiting for its target, and the tour was closed
        expect(page.locator(POP)).to_have_count(0)
        assert [e[1]["step"] for e in told(page, "tour:dismiss")] == ["gone"]
    if action == "center":
        pop, view = page.locator(POP).bounding_box(), page.viewport_size
        assert abs(pop["x"] + pop["width"] / 2 - view["width"] / 2) < 2
        assert page.locator("guide-widget .ring").is_hidden()
        page.locator(POP + " .pri").click()  # advance: click had no target: a button instead
        wait_title(page, "The next step")

    def reported():
        found = [e for e in rows(guide.app, tour_events, tour_id=tour) if marker in (e["url"] or "")]
        assert [(e["step_id"], e["action"], e["user_id"]) for e in found] == [
            ("gone", action, stored(guide.app, user) if who == "user" else None)]

    eventually(reported)
    if action == "abort":
        def dismissed():
            saved = rows(guide.app, tour_progress, user_id=stored(guide.app, user), tour_id=tour)
            assert [r["status"] for r in saved] == ["dismissed"]

        eventually(dismissed)


@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_a_tour_resumes_after_spa_navigation_and_after_a_reload(page, user, who):
    data = visit(page, "/t/spa", **who_query(who, user))
    assert data["autostart"] == "t-spa"
    wait_title(page, "Page one")
    page.keyboard.press("ArrowRight")
    wait_title(page, "Go to page two")
    page.click("#to-two")  # the app navigates with pushState
    wait_title(page, "Page two")
    assert page.url.endswith("/t/spa/two")

    page.go_back()  # popstate: this step lives on page two
    page.locator("#one").wait_for()
    expect(page.locator(POP)).to_have_count(0)
    page.go_forward()
    wait_title(page, "Page two")

    page.reload()
    wait_title(page, "Page two")
    page.locator(POP + " .pri").click()
    wait_title(page, "More of page two")


def test_a_save_that_reaches_the_server_late_does_not_move_the_user_back(page, user):
    held, sent = [], []

    def hold_step_one(route):  # the save of step 1 is overtaken by the save of step 2
        sent.append(route.request.post_data_json or {})
        if sent[-1].get("step") == 1 and not held:
            held.append(route)
        else:
            route.continue_()

    def saved(step):
        return page.expect_response(lambda r: "/api/v1/tours/progress" in r.url
                                    and (r.request.post_data_json or {}).get("step") == step)

    page.route("**/api/v1/tours/progress", hold_step_one)
    visit(page, "/t/spa", user=user)
    wait_title(page, "Page one")
    page.keyboard.press("ArrowRight")
    wait_title(page, "Go to page two")
    with saved(2):
        page.click("#to-two")
    wait_title(page, "Page two")
    with saved(1):
        held[0].continue_()
    one, two = (next(b for b in sent if b["step"] == n) for n in (1, 2))
    assert one["tab"] == two["tab"] and one["seq"] < two["seq"]
    page.reload()
    wait_title(page, "Page two")
    page.locator(POP + " .pri").click()
    wait_title(page, "More of page two")
    assert sent[-1]["tab"] == two["tab"] and sent[-1]["seq"] > two["seq"]  # the same tab after a reload


def test_a_hint_shows_without_blocking_the_page(page, user):
    visit(page, "/t/hint", user=user)
    hint = page.locator(HINT)
    expect(hint).to_be_visible()
    assert hint.get_attribute("role") == "dialog" and hint.get_attribute("aria-modal") is None
    assert page.locator("guide-widget .ov").count() == 0
    assert page.evaluate("document.activeElement === document.body")  # a hint does not take focus
    button, box = page.locator("#h").bounding_box(), hint.bounding_box()
    assert box["x"] >= button["x"] + button["width"]  # placement: right
    page.click("#h")  # Playwright refuses to click what something else covers
    page.click("#h")
    assert page.inner_text("#count") == "2"

    with ends_tour(page):
        hint.locator(".pri").click()
    expect(hint).to_have_count(0)
    step = {"tour": "t-hint", "version": 1, "step": "h", "step_index": 0}
    assert told(page, "hint:show", "hint:close", "tour:start") == [["hint:show", step],
                                                                     ["hint:close", {**step, "status": "completed"}]]
    data = visit(page, "/t/hint")
    assert "t-hint" not in [t["id"] for t in data["tours"]]
    settled(page)
    expect(page.locator(HINT)).to_have_count(0)


TITLES = {"t-pro": "Pro feature", "t-after": "Now that you know the basics"}


@pytest.mark.parametrize("who, traits, prerequisite, expected", [
    ("anonymous", None, False, None),
    ("anonymous", {"plan": "pro"}, False, "t-pro"),
    ("user", {"plan": "pro"}, False, "t-pro"),
    ("user", {"plan": "free"}, False, None),
    ("user", {"plan": "free"}, True, "t-after"),
    ("anonymous", None, True, "t-after"),
])
def test_tours_are_targeted_by_trait_and_by_completed_prerequisite(page, user, who, traits, prerequisite, expected):
    query = who_query(who, user) | ({"traits": traits} if traits else {})
    if prerequisite:
        visit(page, "/t/targeting", **query)
        call(page, "start", "t-first")
        wait_title(page, "First things first")
        page.locator(POP + " .pri").click()
        wait_title(page, TITLES["t-after"])  # unlocked on the spot: the widget asks again
    data = visit(page, "/t/targeting", **query)
    assert data["autostart"] == expected
    if expected:
        wait_title(page, TITLES[expected])
    else:
        settled(page)
        expect(page.locator(POP)).to_have_count(0)


@pytest.mark.parametrize("ending", ["dismiss", "complete"])
@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_once_tours_do_not_come_back(page, user, who, ending):
    assert visit(page, "/t/once", **who_query(who, user))["autostart"] == "t-once"
    wait_title(page, "You see this once")

    def end():
        page.keyboard.press("Escape") if ending == "dismiss" else page.locator(POP + " .pri").click()

    # settled: what the ending set off (the save, and after a completion a new look at the page) is done
    if who == "user":
        with ends_tour(page):
            settle(page, end)
    else:
        settle(page, end)
    expect(page.locator(POP)).to_have_count(0)
    data = visit(page, "/t/once")
    assert data["autostart"] is None
    settled(page)
    expect(page.locator(POP)).to_have_count(0)


def test_reset_forgets_an_anonymous_users_progress(page):
    visit(page, "/t/once")
    wait_title(page, "You see this once")
    page.keyboard.press("Escape")
    expect(page.locator(POP)).to_have_count(0)
    call(page, "reset")  # e.g. on sign-out
    wait_title(page, "You see this once")


@pytest.mark.parametrize("context_options", [{"reduced_motion": "reduce"}])
def test_the_popup_follows_its_target_on_scroll_and_resize(page):
    visit(page, "/t/scroll")
    wait_title(page, "Deep inside")

    def where():
        """(gap to the target's right edge, popup centre - target centre, target's top)."""
        t, p = page.locator("#deep").bounding_box(), page.locator(POP).bounding_box()
        return round(p["x"] - t["x"] - t["width"]), round(p["y"] + p["height"] / 2 - t["y"] - t["height"] / 2), t["y"]

    def beside_target(old_top):
        def check():
            gap, off_centre, top = where()
            assert top != old_top  # the target moved (or grew) ...
            assert (gap, off_centre) == (12, 0)  # ... and the popup is still right beside it
        return check

    assert where()[:2] == (12, 0)  # placement: right
    for scroll in ("document.getElementById('pane').scrollTop += 60",  # a nested scroll container
                   "window.scrollBy(0, 40)"):  # the page
        top = where()[2]
        page.evaluate(scroll)
        eventually(beside_target(top))

    page.evaluate("document.getElementById('deep').style.padding = '40px 8px'")  # the target grows

    def recentred():
        assert page.locator("#deep").bounding_box()["height"] > 80
        assert where()[:2] == (12, 0)

    eventually(recentred)

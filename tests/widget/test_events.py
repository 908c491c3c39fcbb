"""Events from the widget in a real browser: batches, resending, beacons, stuck signals, the survey,
widget errors, and the end-to-end path from a stalled user to the top of the stuck-point list."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import pytest
from playwright.sync_api import expect

from guide_server.analytics import tours as tour_figures
from guide_server.db.schema import events, questions, survey_state
from guide_server.desk.auth import create_token
from guide_server.web.context import services

from .helpers import HINT, POP, call, eventually, host_errors, rows, stored, told, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

SURVEY = "guide-widget .sv"
SLOW = 12.0  # seconds: the widget sends every 3 s, and retries a failed batch 3 s later


def sent(app, user: str, *types: str, site: str = "demo") -> list[dict]:
    """The events stored for ``user``, oldest first, with their props decoded."""
    found = rows(app, events, user_id=stored(app, user, site), site=site)
    return [{**r, "props": json.loads(r["props"])} for r in found if not types or r["type"] in types]


def _assert(condition) -> None:
    assert condition


def focused(page) -> str:
    """What has the focus, through shadow roots: its aria-label, else its tag."""
    return page.evaluate("""() => {
        let a = document.activeElement;
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
        return a ? (a.getAttribute('aria-label') || a.tagName) : null;
    }""")


# --- sending -------------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", ["lost", "unacknowledged"])
def test_a_batch_that_failed_is_sent_again_and_stored_once(page, guide, user, failure):
    posts = []

    def events_endpoint(route):
        posts.append(json.loads(route.request.post_data))
        if len(posts) > 1:
            return route.continue_()
        if failure == "lost":  # a network error: the server never saw it
            return route.abort("failed")
        route.fetch()  # the server stores it, but its answer is lost on the way back
        return route.fulfill(status=503, json={"error": {"code": "events_unavailable", "message": "try again"}})

    page.route("**/api/v1/events", events_endpoint)
    with page.expect_response(lambda r: "/api/v1/events" in r.url and r.status == 200, timeout=SLOW * 1000) as second:
        visit(page, "/t/basic", user=user)
        wait_title(page, "ようこそ")
    first, again = posts[0], posts[1]
    assert again == first  # the same batch, the same event ids
    assert first["site"] == "demo" and first["user"] == user and "anon" not in first and first["session"]
    ids = [e["id"] for e in first["events"]]
    answer = second.value.json()
    assert (answer["accepted"], answer["duplicates"]) == ((len(ids), 0) if failure == "lost" else (0, len(ids)))

    stored_ids = Counter(r["event_id"] for r in sent(guide.app, user))
    assert all(stored_ids[i] == 1 for i in ids)
    shown = [(r["type"], r["tour_id"], r["version"], r["step_id"], r["step_index"]) for r in sent(guide.app, user)
             if r["event_id"] in ids]
    assert shown[:2] == [("tour_started", "t-basic", 1, "hello", 0), ("step_shown", "t-basic", 1, "hello", 0)]
    assert all(r["url"].endswith("/t/basic?user=" + user) for r in sent(guide.app, user))
    assert host_errors(page) == []


# Playwright does not see the beacons of a page that is unloading: count them where the next page of
# the same origin can read them.
COUNT_BEACONS = """{
    const send = navigator.sendBeacon.bind(navigator);
    navigator.sendBeacon = (url, data) => {
        const ok = send(url, data);
        if (ok && String(url).includes('/api/v1/events')) sessionStorage.setItem('beacons', String(+(sessionStorage.getItem('beacons') || 0) + 1));
        return ok;
    };
}"""


def test_pending_events_leave_by_beacon_when_the_page_goes_away(page, guide, user):
    page.add_init_script(COUNT_BEACONS)
    fetched = []
    page.on("request", lambda r: "/api/v1/events" in r.url and fetched.append(r))
    visit(page, "/t/chat", user=user)
    call(page, "open-chat")  # chat_opened waits in the queue for the next send, 3 s away
    # the panel's script loads on demand: chat_opened is queued once the chat is on screen
    expect(page.locator("guide-widget .chat input")).to_be_visible()
    page.goto("/t/nowhere")  # pagehide; the page after it (a 404 of the same origin) can count

    def arrived():
        assert [r["type"] for r in sent(guide.app, user)] == ["chat_opened"]

    eventually(arrived)
    assert page.evaluate("sessionStorage.getItem('beacons')") == "1" and fetched == []


def test_an_anonymous_browser_is_named_by_its_own_random_id_on_events_and_questions(page, guide):
    visit(page, "/t/chat")
    call(page, "open-chat")
    with page.expect_request(lambda r: "/api/v1/events" in r.url and "question_asked" in (r.post_data or ""),
                             timeout=SLOW * 1000) as request:
        page.locator("guide-widget .chat input").fill("パスワードを忘れた")
        page.keyboard.press("Enter")
        expect(page.locator("guide-widget .chat a.src")).to_have_count(1)
    batch = json.loads(request.value.post_data)
    anon = page.evaluate("JSON.parse(localStorage.getItem('guide:demo')).anon")
    assert batch["anon"] == anon and "user" not in batch
    assert [e["type"] for e in batch["events"]] == ["chat_opened", "question_asked"]
    asked = batch["events"][1]
    # the question (sent with `anon` too) and the events are one person for the desk: the same pseudonym
    question = rows(guide.app, questions, id=asked["props"]["question_id"])[0]
    assert question["question"] == "パスワードを忘れた"
    eventually(lambda: _assert(rows(guide.app, events, event_id=asked["id"])))
    assert rows(guide.app, events, event_id=asked["id"])[0]["user_id"] == question["user_id"] is not None


def test_checklist_events_are_sent_once_per_user(page, guide, user):
    visit(page, "/t/checklist", user=user)
    call(page, "track", "t_evt")
    page.locator("guide-widget .cls section > button").click()
    page.locator("guide-widget .cls li button", has_text="見てみる").click()  # the task's tour, one step
    page.locator(POP + " .pri").click()
    expect(page.locator("guide-widget .cls [role=progressbar]")).to_have_attribute("aria-valuenow", "2")
    visit(page, "/t/checklist")  # a new page view: the panel again, nothing new to report

    def reported():
        kinds = [(r["type"], r["props"].get("task")) for r in sent(guide.app, user) if r["type"].startswith("checklist")]
        assert kinds == [("checklist_started", None), ("checklist_task_completed", "event"),
                         ("checklist_task_completed", "tour"), ("checklist_completed", None)]
        assert {r["props"]["checklist"] for r in sent(guide.app, user) if r["type"].startswith("checklist")} == {"t-list"}

    eventually(reported, timeout=SLOW)


def test_chat_events_feedback_and_the_way_to_support(page, guide, user):
    visit(page, "/t/chat", user=user)
    call(page, "open-chat")
    page.locator("guide-widget .chat input").fill("ピザを注文したい")  # no answer: a person is offered
    page.keyboard.press("Enter")
    human = page.locator("guide-widget .chat .log button", has_text="担当者に問い合わせる")
    expect(human).to_have_count(1)
    human.click()  # taken: the form
    page.locator("guide-widget .chat .log form .pri").click()
    expect(page.locator("guide-widget .chat .log a[href^='mailto:']")).to_have_count(1)
    page.locator("guide-widget .chat .fb button", has_text="役に立たなかった").click()
    expect(human).to_have_count(1)  # offered again after the 👎 (the first one became the form)

    def reported():
        found = sent(guide.app, user)
        qid = [r["props"]["question_id"] for r in found if r["type"] == "question_asked"][:1]
        assert qid, found
        qid = qid[0]
        assert [(r["type"], r["props"]) for r in found] == [
            ("chat_opened", {}), ("question_asked", {"question_id": qid}), ("escalation_offered", {"question_id": qid}),
            ("escalation_taken", {"question_id": qid}), ("answer_feedback", {"question_id": qid, "helpful": False}),
            ("escalation_offered", {"question_id": qid})]
        assert all(r["tour_id"] is None for r in found)  # no tour in progress

    eventually(reported, timeout=SLOW)


# --- stuck signals -------------------------------------------------------------------------------

def test_idle_is_reported_after_the_steps_own_threshold(page, guide, user):
    visit(page, "/t/signals", user=user)
    call(page, "start", "t-signals")
    wait_title(page, "One")
    # Time has to pass here, and no event says so: longer than step two's threshold (1 s), far below
    # step one's (the default 30 s), which must not report anything.
    page.wait_for_timeout(1300)
    page.locator(POP + " .pri").click()
    wait_title(page, "Two")  # idle_after: 1

    def reported():
        idle = sent(guide.app, user, "idle")
        assert [(r["tour_id"], r["step_id"]) for r in idle] == [("t-signals", "s2")]
        assert 1 <= idle[0]["props"]["seconds"] <= 3

    eventually(reported, timeout=SLOW)


def test_rage_clicks_are_reported_once_per_burst_and_quick_clicks_far_apart_are_not(page, guide, user):
    visit(page, "/t/signals", user=user)
    box = page.locator("#box").bounding_box()
    x, y = box["x"] + 20, box["y"] + 20
    for dx in (0, 100, 200):  # three quick clicks, but on three places
        page.mouse.click(x + dx, y)
    page.wait_for_timeout(1100)  # time has to pass: the first clicks fall out of the 1 s window of a burst
    for jitter in (0, 3, -2, 4):  # four on one spot within a second
        page.mouse.click(x + 150 + jitter, y + 40 + jitter)

    def reported():
        rage = sent(guide.app, user, "rage_click")
        assert [(r["props"], r["tour_id"]) for r in rage] == [({"count": 3, "selector": "div#box"}, None)]

    eventually(reported, timeout=SLOW)


def test_rage_clicks_on_the_dimmed_page_name_the_page_element_and_the_step(page, guide, user):
    """Under a tour's overlay the clicks land on the widget: the report names what the user was
    clicking at (the page's element under the pointer) and the step on screen, at the third click."""
    visit(page, "/t/signals", user=user)
    call(page, "start", "t-signals")
    wait_title(page, "One")
    box = page.locator("#box").bounding_box()
    for jitter in (0, 2, 4):
        page.mouse.click(box["x"] + 350 + jitter, box["y"] + 100)

    def reported():
        rage = sent(guide.app, user, "rage_click")
        assert [(r["props"]["selector"], r["tour_id"], r["step_id"]) for r in rage] == [("div#box", "t-signals", "s1")]

    eventually(reported, timeout=SLOW)


def test_going_back_and_forth_between_two_steps_is_reported(page, guide, user):
    visit(page, "/t/signals", user=user)
    call(page, "start", "t-signals")
    wait_title(page, "One")
    page.locator(POP + " .pri").click()
    wait_title(page, "Two")
    page.locator(POP + " .f .btn:not(.pri)").click()  # Back
    wait_title(page, "One")
    page.locator(POP + " .pri").click()
    wait_title(page, "Two")
    page.locator(POP + " .x").click()  # closed on step two

    def reported():
        bf = sent(guide.app, user, "back_forth")
        assert [(r["step_id"], r["step_index"], r["props"]) for r in bf] == [("s2", 1, {"other_step": "s1"})]
        funnel = [(r["type"], r["step_id"]) for r in sent(guide.app, user, "step_shown", "step_completed",
                                                            "tour_dismissed")]
        assert funnel == [("step_shown", "s1"), ("step_completed", "s1"), ("step_shown", "s2"),
                          ("step_shown", "s1"), ("step_completed", "s1"), ("step_shown", "s2"),
                          ("tour_dismissed", "s2")]

    eventually(reported, timeout=SLOW)


def test_leaving_the_page_mid_tour_is_reported(page, guide, user):
    visit(page, "/t/signals", user=user)
    call(page, "start", "t-signals")
    wait_title(page, "One")
    page.locator(POP + " .pri").click()
    wait_title(page, "Two")
    page.goto("about:blank")

    def reported():
        left = sent(guide.app, user, "page_left")
        assert [(r["tour_id"], r["version"], r["step_id"], r["step_index"]) for r in left] == [("t-signals", 1, "s2", 1)]

    eventually(reported)


def test_leaving_after_the_tour_is_no_signal(page, guide, user):
    visit(page, "/t/signals", user=user)
    call(page, "start", "t-signals")
    for title in ("One", "Two", "Three"):
        wait_title(page, title)
        page.locator(POP + " .pri").click()
    expect(page.locator(POP)).to_have_count(0)
    page.goto("about:blank")
    eventually(lambda: _assert(sent(guide.app, user, "tour_completed")))
    assert sent(guide.app, user, "page_left") == []


# --- the survey ----------------------------------------------------------------------------------

def test_the_survey_takes_a_score_and_a_comment_from_the_keyboard(page, guide, user):
    data = visit(page, "/t/survey", user=user)
    assert data["survey"]["id"] == "t-nps"
    box = page.locator(SURVEY)
    expect(box).to_be_visible()
    assert box.get_attribute("role") == "dialog"
    labelled = page.locator("guide-widget #" + box.get_attribute("aria-labelledby"))
    assert labelled.inner_text().startswith("このテストアプリを友人や同僚に")
    group = box.locator("[role=group]")
    assert group.get_attribute("aria-labelledby") == box.get_attribute("aria-labelledby")
    scores = group.locator("button")
    assert [b.get_attribute("aria-label") for b in scores.all()] == [f"{n}点" for n in range(11)]
    expect(box.locator("textarea")).to_be_hidden()  # the comment box comes after the score
    assert page.evaluate("document.activeElement.tagName") == "BODY"  # it did not take the focus

    page.focus("guide-widget .go")
    for _ in range(10):
        page.keyboard.press("Tab")
    assert focused(page) == "9点"
    page.keyboard.press("Enter")
    expect(scores.nth(9)).to_have_attribute("aria-pressed", "true")
    assert focused(page) == "TEXTAREA"
    expect(box.locator("label")).to_contain_text("そう答えた理由を教えてください")
    page.keyboard.type("説明が分かりやすい")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Send
    expect(box.locator("[role=status]")).to_have_text("ご回答ありがとうございました。")

    def answered():
        nps = sent(guide.app, user, "nps_answered")
        assert [r["props"] for r in nps] == [{"survey": "t-nps", "score": 9, "comment": "説明が分かりやすい"}]

    eventually(answered)
    assert told(page, "survey:show", "survey:answer", "survey:dismiss") == [
        ["survey:show", {"survey": "t-nps"}], ["survey:answer", {"survey": "t-nps", "score": 9, "comment": "説明が分かりやすい"}]]
    assert visit(page, "/t/survey")["survey"] is None  # answered: not again for every_days
    expect(page.locator(SURVEY)).to_have_count(0)
    assert host_errors(page) == []


@pytest.mark.parametrize("how, event", [("later", "nps_later"), ("close", "nps_dismissed"), ("escape", "nps_dismissed")])
def test_the_survey_can_be_postponed_or_closed(page, guide, user, how, event):
    data = visit(page, "/t/survey", user=user, locale="en")
    assert data["survey"]["question"].startswith("How likely")
    box = page.locator(SURVEY)
    if how == "later":
        box.get_by_role("button", name="Ask me later").click()
    elif how == "close":
        box.get_by_role("button", name="Close").click()
    else:
        box.get_by_role("button", name="5 out of 10").focus()
        page.keyboard.press("Escape")
    expect(box).to_have_count(0)

    def recorded():
        assert [(r["type"], r["props"]) for r in sent(guide.app, user, "nps_later", "nps_dismissed", "nps_answered")] == [
            (event, {"survey": "t-nps"})]
        state = rows(guide.app, survey_state, user_id=stored(guide.app, user), survey_id="t-nps")
        assert len(state) == 1 and state[0]["later_at" if event == "nps_later" else "dismissed_at"] is not None

    eventually(recorded)
    assert told(page, "survey:show", "survey:answer", "survey:dismiss") == [
        ["survey:show", {"survey": "t-nps"}], ["survey:dismiss", {"survey": "t-nps", "later": how == "later"}]]
    assert visit(page, "/t/survey")["survey"] is None  # postponed by later_days, or closed for every_days
    expect(page.locator(SURVEY)).to_have_count(0)


def test_anonymous_users_are_not_asked(page):
    assert visit(page, "/t/survey")["survey"] is None
    expect(page.locator(SURVEY)).to_have_count(0)


# --- widget errors -------------------------------------------------------------------------------

def test_errors_inside_the_widget_are_reported_a_few_per_page_and_never_reach_the_host(page, guide, user):
    page.goto(f"/t/errors?break=raf&user={user}")
    page.wait_for_function("window.Guide && window.Guide.loaded")
    page.evaluate("window.dispatchEvent(new Event('resize'))")  # the widget's reflow: requestAnimationFrame throws
    for _ in range(10):
        call(page, "nope")

    def reported():
        messages = [r["props"]["message"] for r in sent(guide.app, user, "widget_error")]
        assert messages[:1] == ["no frames"] and messages[1:] == ["unknown command nope"] * 4  # 11 errors, 5 reported

    eventually(reported, timeout=SLOW)
    assert host_errors(page) == []


# --- the end-to-end test -----------------------------------------------------------------

STUCK_QUESTION = "新規作成ボタンを押しても何も起きません"


def test_a_user_stalled_on_step_two_who_asks_the_chat_tops_the_stuck_point_list(browser, guide):
    """Two users of site e2e: one goes through step 2 and closes the tour on step 3 (a drop-off with no
    signal); the other stalls on step 2 (idle after 2 s there) and asks the chat. Step 2 must come first,
    above step 3, because of the signals and with the question under it."""
    start = time.time() - 1
    fast, slow = ("u-" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop")) for _ in range(2))

    def user_page(user: str):
        context = browser.new_context(base_url=guide.url, viewport={"width": 1024, "height": 720})
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        visit(page, "/t/stuck", user=user)
        wait_title(page, "ようこそ")
        page.locator(POP + " .pri").click()
        wait_title(page, "新規作成")
        return context, page

    first, page = user_page(fast)
    page.locator(POP + " .pri").click()
    wait_title(page, "入力")
    page.locator(POP + " .x").click()
    page.goto("about:blank")  # closed on step 3, then left (by beacon: its context stays open, below)

    context, page = user_page(slow)
    page.wait_for_timeout(2500)  # time has to pass: the user stalls on step 2, past its 2 s idle_after
    call(page, "open-chat")  # the app's own help button
    page.locator("guide-widget .chat input").fill(STUCK_QUESTION)
    page.keyboard.press("Enter")
    expect(page.locator("guide-widget .chat .log .m.a").last).not_to_have_text("回答を探しています…")
    assert host_errors(page) == []
    page.goto("about:blank")  # leaves, stuck: page_left too, by beacon
    # The browser stays open until the server has the beacon: closing its context at once could
    # cancel the request in flight (a user's browser goes on running after they leave the page).

    def ranked():
        points = tour_figures.stuck_points(services(guide.app).db, "e2e", start, time.time() + 60)
        top, *rest = points
        assert (top["tour"], top["version"], top["step"], top["step_index"]) == ("t-stuck", 1, "find-new", 1)
        assert (top["reached"], top["completed"]) == (2, 1)
        assert top["signals"]["idle"] == 1 and top["signals"]["chat_opened"] == 1
        assert top["signals"]["question_asked"] == 1 and top["signals"]["page_left"] == 1
        assert [q["question"] for q in top["questions"]] == [STUCK_QUESTION]
        fill = next(p for p in rest if p["step"] == "fill")
        assert fill["dropoff"] == 1.0 and top["score"] > fill["score"]  # a bigger drop-off, but no signals
        return top

    try:
        top = eventually(ranked, timeout=SLOW)
    finally:
        first.close()
        context.close()

    token = create_token(services(guide.app).db, "e2e-" + uuid.uuid4().hex[:8])
    client = guide.app.test_client()
    assert client.get("/api/v1/admin/stuck-points?site=e2e").status_code == 401
    answer = client.get("/api/v1/admin/stuck-points?site=e2e", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    first = answer.get_json()["stuck_points"][0]
    assert (first["tour"], first["step"], first["score"]) == ("t-stuck", "find-new", top["score"])
    assert [q["question"] for q in first["questions"]] == [STUCK_QUESTION]


def test_a_hints_ok_and_doing_what_it_says_are_told_apart(page, guide, user):
    """Both end a hint with tour_completed; `via` says which, and the desk's hint table counts each."""
    since = time.time() - 1  # the package's server has other tests' hints: only this test's count
    visit(page, "/t/hint", user=user)
    page.locator(HINT).locator(".pri").click()  # its OK
    expect(page.locator(HINT)).to_have_count(0)
    visit(page, "/t/hint/click", user=user)
    hint = page.locator(HINT)
    expect(hint).to_contain_text("Press Count.")
    page.click("#h")  # what the step asks: the page's own button, under the hint
    expect(hint).to_have_count(0)
    assert page.inner_text("#count") == "1"

    def reported():
        done = {e["tour_id"]: e["props"] for e in sent(guide.app, user, "tour_completed")}
        assert done == {"t-hint": {"via": "button"}, "t-hint-click": {"via": "action"}}
    eventually(reported, timeout=SLOW)
    figures = tour_figures.hint_figures(services(guide.app).db, "demo", since, time.time() + 60, {"t-hint", "t-hint-click"})
    by_hint = {r["hint"]: r for r in figures}
    assert (by_hint["t-hint"]["acknowledged"], by_hint["t-hint"]["clicked_through"]) == (1, 0)
    assert (by_hint["t-hint-click"]["acknowledged"], by_hint["t-hint-click"]["clicked_through"]) == (0, 1)


def test_leaving_while_a_batch_is_on_its_way_still_sends_the_rest_by_beacon(browser, guide):
    """The page goes away while its periodic batch is on its way: the browser cuts that request (no
    answer at all, which the widget used to take for a failing server, holding its beacons back and
    keeping the events for the site's next page). The leaving beacon carries that batch again, and
    page_left, at once."""
    user = "u-" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))
    context = browser.new_context(base_url=guide.url, viewport={"width": 1024, "height": 720})
    page = context.new_page()
    page.set_default_timeout(10_000)
    held = []

    def hold_the_first_batch(route):
        if not held and route.request.resource_type == "fetch":
            held.append(route)  # never answered: the navigation below cuts it
        else:
            route.continue_()

    try:
        page.route("**/api/v1/events", hold_the_first_batch)
        visit(page, "/t/stuck", user=user)
        wait_title(page, "ようこそ")
        page.locator(POP + " .pri").click()
        wait_title(page, "新規作成")
        deadline = time.monotonic() + 8
        while not held and time.monotonic() < deadline:  # the batch leaves 3 s after the first event
            page.wait_for_timeout(100)
        assert held, "no batch was sent"
        page.goto("about:blank")

        def arrived():
            mine = [r for r in rows(guide.app, events, site="e2e") if r["user_id"] == stored(guide.app, user, "e2e")]
            assert Counter(r["type"] for r in mine) >= Counter({"tour_started": 1, "step_completed": 1, "page_left": 1})
            assert not [r for r in mine if r["type"] == "widget_error"]
        eventually(arrived, timeout=SLOW)
    finally:
        context.close()

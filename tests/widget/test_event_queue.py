"""The widget's queue of events for the review desk, against a server that refuses, fails and asks
for time: what is refused leaves the queue, Retry-After is honoured, the queue stays bounded
offline, outlives the page while the server fails, and no event is too big to ever leave."""

from __future__ import annotations

import json
import time

import pytest

from .helpers import call, eventually, host_errors, visit
from .test_events import COUNT_BEACONS, SLOW, sent

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

EVENTS = "**/api/v1/events"
BOUND = 500  # the queue's bound (35-transport.js)
UNAVAILABLE = {"error": {"code": "events_unavailable", "message": "try again"}}


def _assert(condition) -> None:
    assert condition


def load_panel(page) -> None:
    """Open the help panel once and close it (one chat_opened event): its script is loaded from then on."""
    page.locator("guide-widget .go").click()
    page.locator("guide-widget .pan").wait_for()
    page.locator("guide-widget .go").click()
    page.locator("guide-widget .pan").wait_for(state="detached")


def chat_opened(page, times: int) -> None:
    """Open and close the chat ``times`` times: one chat_opened event each (the panel's script loaded)."""
    page.evaluate(
        """n => {
        const go = document.querySelector('guide-widget').shadowRoot.querySelector('.go');
        for (let i = 0; i < 2 * n; i++) go.click();
    }""",
        times,
    )


def test_an_event_the_server_refuses_leaves_the_queue_and_the_others_are_stored(page, guide, user):
    posts, warnings = [], []
    page.on("console", lambda m: m.type == "warning" and "refused" in m.text and warnings.append(m.text))

    def spoil_the_first(route):
        body = json.loads(route.request.post_data)
        posts.append(body)
        if len(posts) == 1:
            body["events"][0]["type"] = "no_such_event"
        route.continue_(post_data=json.dumps(body))

    visit(page, "/t/chat", user=user)
    with page.expect_response(lambda r: "/api/v1/events" in r.url, timeout=SLOW * 1000):
        load_panel(page)  # its event goes first, untouched
    page.route(EVENTS, spoil_the_first)
    batches = []

    def second_batch(request) -> bool:  # the one after the refusal
        if "/api/v1/events" in request.url:
            batches.append(request)
        return len(batches) == 2

    with page.expect_request(second_batch, timeout=2 * SLOW * 1000) as report:
        with page.expect_response(lambda r: "/api/v1/events" in r.url, timeout=SLOW * 1000) as first:
            chat_opened(page, 3)
        answer = first.value.json()
    assert answer["accepted"] == 2 and [r["index"] for r in answer["rejected"]] == [0]
    ids = [e["id"] for e in posts[0]["events"]]
    # of that batch, the two accepted are stored and the refused one is not (the widget_error that
    # reports the refusal may be stored already: it is no event of that batch)
    eventually(lambda: _assert(sorted(r["event_id"] for r in sent(guide.app, user) if r["event_id"] in ids) == sorted(ids[1:])))
    # the refusal is a widget error, for the console and the desk; the next batch has nothing of the first
    (error,) = json.loads(report.value.post_data)["events"]
    assert error["type"] == "widget_error" and error["id"] not in ids
    assert error["props"]["message"] == "event refused: unknown type 'no_such_event'"
    assert len(warnings) == 1 and "unknown type 'no_such_event'" in warnings[0]
    assert host_errors(page) == []


def test_retry_after_is_honoured_and_the_events_are_stored_once(page, guide, user):
    posts = []  # (when, body) of each POST /events

    def busy_twice(route):
        posts.append((time.monotonic(), json.loads(route.request.post_data)))
        if len(posts) == 1:
            return route.fulfill(status=503, headers={"Retry-After": "5"}, json=UNAVAILABLE)
        if len(posts) == 2:
            return route.fulfill(status=429, headers={"Retry-After": "1"}, json=UNAVAILABLE)
        route.continue_()

    page.route(EVENTS, busy_twice)
    with page.expect_response(lambda r: "/api/v1/events" in r.url and r.status == 200, timeout=30_000):
        visit(page, "/t/chat", user=user)
        call(page, "open-chat")
    (t1, first), (t2, second), (t3, third) = posts
    # not before the server said: timers never fire early, so these hold on any machine
    assert t2 - t1 >= 5 and t3 - t2 >= 1
    ids = [e["id"] for e in first["events"]]
    assert ids and [e["id"] for e in second["events"]] == ids == [e["id"] for e in third["events"]]
    eventually(lambda: _assert(sorted(r["event_id"] for r in sent(guide.app, user)) == sorted(ids)))


def test_offline_the_queue_keeps_the_newest_events_up_to_its_bound(page, guide, user):
    acknowledged = []
    page.on(
        "response",
        lambda r: "/api/v1/events" in r.url and r.status == 200 and acknowledged.append(json.loads(r.request.post_data)),
    )
    visit(page, "/t/chat", user=user)
    with page.expect_response(lambda r: "/api/v1/events" in r.url and r.status == 200, timeout=SLOW * 1000):
        load_panel(page)  # its one event, sent and acknowledged before the test goes offline
    acknowledged.clear()
    page.context.set_offline(True)
    chat_opened(page, 200)  # the oldest: dropped
    boundary = page.evaluate("new Promise(done => setTimeout(() => { const t = Date.now(); setTimeout(() => done(t), 20) }, 20))")
    chat_opened(page, BOUND)
    page.context.set_offline(False)  # back online: the widget sends at once

    def arrived():
        assert len(sent(guide.app, user)) == BOUND + 1

    eventually(arrived, timeout=30)
    page.wait_for_timeout(3500)  # longer than a batch waits: nothing more comes
    kept = sent(guide.app, user)[1:]
    assert len(kept) == BOUND and all(r["type"] == "chat_opened" and r["at"] * 1000 > boundary for r in kept)
    assert acknowledged[0]["dropped"] == 200 and all("dropped" not in b for b in acknowledged[1:])
    assert all(len(b["events"]) <= 50 for b in acknowledged)


def test_while_the_server_fails_events_wait_for_the_next_page_instead_of_a_beacon(page, guide, user):
    page.add_init_script(COUNT_BEACONS)
    posts, failing = [], [True]

    def events(route):
        posts.append(json.loads(route.request.post_data))
        if failing[0]:
            return route.fulfill(status=503, headers={"Retry-After": "60"}, json=UNAVAILABLE)
        route.continue_()

    page.route(EVENTS, events)
    visit(page, "/t/chat", user=user)
    with page.expect_response(lambda r: "/api/v1/events" in r.url, timeout=SLOW * 1000):
        call(page, "open-chat")
    ids = [e["id"] for e in posts[0]["events"]]
    failing[0] = False  # the server is back, but the page waits a minute before it tries again
    with page.expect_response(lambda r: "/api/v1/events" in r.url, timeout=SLOW * 1000) as again:
        visit(page, "/t/chat", user=user)  # the page goes away while its events wait
    assert again.value.status == 200
    assert [e["id"] for e in json.loads(again.value.request.post_data)["events"]] == ids
    assert page.evaluate("sessionStorage.getItem('beacons')") is None  # no beacon into a failing server
    eventually(lambda: _assert(sorted(r["event_id"] for r in sent(guide.app, user)) == sorted(ids)))


def test_events_of_a_page_with_a_huge_address_fit_in_their_batches(page, guide, user):
    """Every event carries the page's address (up to 4,096 characters): 20 of them are more than
    the 64 KB that the browser lets a keepalive request carry, and than the server takes."""
    page.goto(f"/t/chat?user={user}&pad={'x' * 5000}")
    page.wait_for_function("window.Guide && window.Guide.loaded")
    chat_opened(page, 30)

    def arrived():
        assert len(sent(guide.app, user, "chat_opened")) == 30

    eventually(arrived, timeout=SLOW)
    assert host_errors(page) == []

"""Abuse limits (web.limits): each limit refuses with 429, the JSON error and Retry-After past its
count and lets requests through again once its bucket refills; limits count per site, per client
address and per user; the chat socket is closed with 1008 past its message rate; with Redis the
limits hold across two real gunicorn instances, and without it (or with it down) requests are served.

Redis tests need GUIDE_TEST_REDIS_URL=redis://127.0.0.1:PORT/0 (.ci/run starts one) and are
skipped without it. Every app here has sites of its own name, so tests sharing one Redis never
share a bucket."""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid

import pytest
import websocket

from guide_server import create_app, metrics
from guide_server.web import limits
from guide_server.web.context import services
from tests.support import Gunicorn, LiveServer, assert_error, free_port, make_event

REDIS = os.environ.get("GUIDE_TEST_REDIS_URL", "")


def needs_redis() -> str:
    if not REDIS:
        pytest.skip("needs Redis: set GUIDE_TEST_REDIS_URL=redis://127.0.0.1:PORT/0 (.ci/run does)")
    return REDIS


def site_names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"a-{tag}", f"b-{tag}"


def sites_setting(a: str, b: str) -> dict:
    return {a: {"identity": "open", "origins": []}, b: {"identity": "open", "origins": []}}


@pytest.fixture
def make_app(sample_index, database_url):
    """Apps with the given settings on the sample index; ``app.sites`` are its two sites' keys."""
    made = []

    def make(**settings):
        a, b = site_names()
        app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url,
                          "RELOAD_INTERVAL": 0, "SITES": sites_setting(a, b), **settings})
        app.sites = (a, b)
        made.append(app)
        return app

    yield make
    for app in made:
        services(app).close()


@pytest.fixture(params=["memory", "redis"])
def store(request) -> dict:
    """The settings of either store: this process's memory, or the test Redis."""
    return {"REDIS_URL": needs_redis()} if request.param == "redis" else {}


def addr(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


# One request of each limited kind, as the widget sends it (POST bodies as text/plain, a beacon's way).
def _post(path, body):
    return lambda c, site, ip, who: c.post(path, data=json.dumps({"site": site, **who, **body}),
                                           content_type="text/plain;charset=UTF-8", **addr(ip))


def _get(path, query=""):
    return lambda c, site, ip, who: c.get(f"{path}?site={site}&{query}"
                                          + "".join(f"&{k}={v}" for k, v in who.items()), **addr(ip))


_event_n = iter(range(10**6))
KINDS = {
    "ask": _post("/api/v1/ask", {"question": "請求書をPDFでダウンロードしたい"}),
    "search": _get("/api/v1/search", "q=invoice"),
    "feedback": _post("/api/v1/feedback", {"question_id": "q" * 32, "helpful": True}),
    "escalations": _post("/api/v1/escalations", {"message": "Please help", "reason": "other"}),
    "events": lambda c, site, ip, who: c.post("/api/v1/events", content_type="text/plain;charset=UTF-8", **addr(ip), data=json.dumps(
        {"site": site, **who, "events": [make_event("chat_opened", next(_event_n))]})),
    "tours": _get("/api/v1/tours", "url=https%3A%2F%2Fapp.example%2Fdemo"),
    "identify": _post("/api/v1/identify", {"traits": {"plan": "free"}}),
    "progress": _post("/api/v1/tours/progress", {"tour": "welcome", "version": 1, "step": 0, "status": "active"}),
    "track": _post("/api/v1/track", {"name": "invoice_created"}),
}


def assert_limited(resp, kind: str, per: str | None = None) -> int:
    """A 429 in the one error shape, naming the limit, with Retry-After in whole seconds (≥ 1)."""
    assert_error(resp, 429, "rate_limited")
    details = resp.get_json()["error"]["details"]
    assert details["limit"] == kind and (per is None or details["per"] == per), details
    retry = int(resp.headers["Retry-After"])
    assert retry >= 1 and details["retry_after"] == retry
    return retry


def test_every_limited_endpoint_exists_and_every_limit_is_a_setting(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(limits.RULES) <= endpoints, "a route was renamed: its limit no longer applies"
    assert set(limits.RULES.values()) == set(limits.NAMES)
    for name in limits.NAMES:
        assert isinstance(app.config[f"LIMIT_{name.upper()}"], int)


def test_each_limit_refuses_past_its_count_and_lets_through_once_refilled(make_app, store):
    app = make_app(LIMIT_WINDOW=2.0, LIMIT_PEOPLE_PER_ADDRESS=1, LIMIT_SITE=0, **store,
                   **{f"LIMIT_{k.upper()}": 3 for k in KINDS})
    client, site = app.test_client(), app.sites[0]
    waits = {}
    for kind, send in KINDS.items():
        for i in range(3):
            resp = send(client, site, "10.0.0.1", {"user": "u1"})
            assert resp.status_code != 429 and resp.status_code < 500, (kind, i, resp.get_data(as_text=True))
        waits[kind] = assert_limited(send(client, site, "10.0.0.1", {"user": "u1"}), kind)
    assert max(waits.values()) <= 2  # a token comes back every 2/3 s
    time.sleep(max(waits.values()))
    for kind, send in KINDS.items():
        resp = send(client, site, "10.0.0.1", {"user": "u1"})
        assert resp.status_code != 429 and resp.status_code < 500, (kind, resp.get_data(as_text=True))
        if kind == "events":  # its body read for the site here, and again by its handler
            assert resp.get_json()["accepted"] == 1


def test_a_limit_counts_per_site_and_per_client_address(make_app, store):
    app = make_app(LIMIT_TOURS=2, LIMIT_PEOPLE_PER_ADDRESS=1, LIMIT_SITE=0, **store)
    client, (site, other) = app.test_client(), app.sites
    tours = KINDS["tours"]
    for _ in range(2):
        assert tours(client, site, "10.0.0.1", {}).status_code == 200
    assert_limited(tours(client, site, "10.0.0.1", {}), "tours", "address")
    assert tours(client, site, "10.0.0.2", {}).status_code == 200  # another address
    assert tours(client, other, "10.0.0.1", {}).status_code == 200  # another site
    assert_limited(tours(client, site, "10.0.0.1", {}), "tours", "address")  # still refused


def test_users_behind_one_address_each_get_their_limit_up_to_the_addresses(make_app, store):
    """NAT: an address gets LIMIT_PEOPLE_PER_ADDRESS users' worth; a user's own count is kept at
    that address, so someone elsewhere sending the user's id cannot empty the user's bucket."""
    app = make_app(LIMIT_ASK=2, LIMIT_PEOPLE_PER_ADDRESS=3, LIMIT_SITE=0, **store)
    client, site = app.test_client(), app.sites[0]
    ask = KINDS["ask"]
    for user in ("u1", "u2"):
        for _ in range(2):
            assert ask(client, site, "10.0.0.1", {"anon": user}).status_code == 200
        assert_limited(ask(client, site, "10.0.0.1", {"anon": user}), "ask", "user")
    assert ask(client, site, "10.0.0.1", {"anon": "u1"}).status_code == 429
    assert ask(client, site, "10.0.0.9", {"anon": "u1"}).status_code == 200  # u1 elsewhere
    for _ in range(2):
        assert ask(client, site, "10.0.0.1", {"anon": "u3"}).status_code == 200
    assert_limited(ask(client, site, "10.0.0.1", {"anon": "u4"}), "ask", "address")  # 3 users' worth used


def test_a_sites_budget_of_time_holds_for_all_its_clients_together(make_app):
    """LIMIT_SITE: while another site is being answered, a site that used its seconds of answering
    is refused, from any address; the other site is not."""
    app = make_app(LIMIT_SITE=0.001)  # 1 ms a second, 2 ms at once: one question, then debt
    client, (site, other) = app.test_client(), app.sites
    assert KINDS["tours"](client, other, "10.0.1.98", {}).status_code == 200  # the other site is busy too
    statuses = [KINDS["ask"](client, site, f"10.0.1.{i}", {}).status_code for i in range(3)]
    assert statuses == [200, 429, 429]
    retry = assert_limited(KINDS["tours"](client, site, "10.0.1.99", {}), "tours", "site")
    assert retry >= 1
    assert KINDS["ask"](client, other, "10.0.1.99", {}).status_code == 200


def test_chat_messages_are_charged_to_their_sites_budget(make_app):
    app = make_app(LIMIT_SITE=0.001)
    server = LiveServer(app)
    assert KINDS["tours"](app.test_client(), app.sites[1], "10.0.1.98", {}).status_code == 200  # another site is busy
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site={app.sites[0]}", timeout=20)
    try:
        for i in range(20):
            ws.send(json.dumps({"type": "ask", "id": i, "question": "請求書をPDFでダウンロードしたい"}))
            reply = json.loads(ws.recv())
            if reply["type"] == "error":
                break
        assert reply["error"]["code"] == "rate_limited" and "share" in reply["error"]["message"]
        assert closed_with(ws) == (1008, "message rate exceeded")
    finally:
        ws.close()
        server.stop()


def test_a_refusal_names_its_site_for_cors_so_the_widget_can_read_retry_after(make_app):
    app = make_app(LIMIT_TRACK=1, LIMIT_SITE=0.0,
                   SITES={"s1": {"identity": "open", "origins": ["https://app.example"]}, "s2": {"origins": []}})
    client = app.test_client()

    def track():  # a beacon: the site only in the text/plain body
        return client.post("/api/v1/track", data=json.dumps({"site": "s1", "anon": "a1", "name": "x"}),
                           content_type="text/plain", headers={"Origin": "https://app.example"})

    assert track().status_code != 429
    resp = track()
    assert resp.status_code == 429
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Retry-After" in resp.headers["Access-Control-Expose-Headers"]


def test_a_server_of_one_site_has_no_site_budget(sample_index, database_url):
    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url,
                      "RELOAD_INTERVAL": 0, "LIMIT_SITE": 0.001,
                      "SITES": {"only": {"identity": "open", "origins": []}}})
    try:
        client = app.test_client()
        assert all(KINDS["ask"](client, "only", f"10.0.2.{i}", {}).status_code == 200 for i in range(3))
    finally:
        services(app).close()


def test_site_budgets_refill_at_their_share_and_say_how_long_to_wait():
    budgets = limits.SiteBudgets(share=0.5)  # half a second a second, 1 s at once
    assert budgets.wait("b", 0.001, now=0.0) == 0  # site b is being answered too, and asks little
    assert budgets.wait("a", 1.8, now=0.0) == 0
    budgets.charge("a", 1.8, now=0.0)  # 0.8 s of debt (at most 1 s: BURST_S of the share)
    assert budgets.wait("a", now=0.0) == pytest.approx(1.6)
    budgets.charge("a", 5.0, now=0.0)
    assert budgets.wait("a", now=0.0) == pytest.approx(2.0)  # the debt stops at BURST_S's worth
    assert budgets.wait("b", 0.001, now=1.0) == 0
    assert budgets.wait("a", now=1.5) == pytest.approx(0.5)
    assert budgets.wait("a", now=2.1) == 0


def test_a_site_alone_in_the_process_may_use_all_of_it():
    """Work-conserving: the share holds only while another site is answered (seen within ACTIVE_S)."""
    budgets = limits.SiteBudgets(share=0.1)
    for i in range(100):  # 10 s of answering in 1 s: far past its share, but nobody else wants any
        assert budgets.wait("a", 0.1, now=i / 100) == 0
        budgets.charge("a", 0.1, now=i / 100)
    assert budgets.wait("b", 0.001, now=1.0) == 0  # another site arrives
    budgets.charge("a", 0.5, now=1.0)  # a's debt starts from nothing, not from the 10 s it used alone
    assert budgets.wait("a", now=1.0) == pytest.approx(2.0)  # held to its share (at most BURST_S)
    assert budgets.wait("a", now=1.0 + limits.ACTIVE_S + 0.1) == 0  # b has gone quiet: a has it all again


def test_a_limit_of_zero_is_no_limit_and_preflights_are_not_counted(make_app):
    app = make_app(LIMIT_TOURS=0, LIMIT_SEARCH=1, LIMIT_PEOPLE_PER_ADDRESS=1, LIMIT_SITE=0.0)
    client, site = app.test_client(), app.sites[0]
    for _ in range(20):
        assert KINDS["tours"](client, site, "10.0.0.1", {}).status_code == 200
    for _ in range(3):
        client.options(f"/api/v1/search?site={site}&q=x")
    assert KINDS["search"](client, site, "10.0.0.1", {}).status_code == 200


def test_the_client_address_is_the_proxys_word_when_trusted(make_app):
    app = make_app(TRUSTED_PROXIES=1, LIMIT_TOURS=1, LIMIT_PEOPLE_PER_ADDRESS=1, LIMIT_SITE=0)
    client, site = app.test_client(), app.sites[0]

    def tours(ip):
        return client.get(f"/api/v1/tours?site={site}", headers={"X-Forwarded-For": ip})

    assert tours("203.0.113.1").status_code == 200
    assert tours("203.0.113.1").status_code == 429
    assert tours("203.0.113.2").status_code == 200


def test_negative_limits_are_refused_at_start(make_app):
    with pytest.raises(ValueError, match="LIMIT_ASK"):
        make_app(LIMIT_ASK=-1)


def test_refusals_are_counted_in_the_metrics(make_app):
    app = make_app(LIMIT_TRACK=1, LIMIT_PEOPLE_PER_ADDRESS=1, LIMIT_SITE=0)
    client, site = app.test_client(), app.sites[0]
    key = ("guide_rate_limited_total", (("limit", "track"), ("per", "user")))
    before = metrics._counters.get(key, 0)
    KINDS["track"](client, site, "10.0.0.1", {"user": "u1"})
    KINDS["track"](client, site, "10.0.0.1", {"user": "u1"})
    assert metrics._counters.get(key, 0) == before + 1


# --- memory ----------------------------------------------------------------------------------------

def test_memory_buckets_forget_what_a_window_refilled_and_keep_at_most_max_keys():
    buckets = limits.MemoryBuckets(max_keys=100)
    for i in range(50):
        assert buckets.take([(("k", i), 2)], window=1.0, now=0.0) is None
    assert len(buckets) == 50
    assert buckets.take([(("k", "late"), 2)], window=1.0, now=1.5) is None
    assert len(buckets) == 1  # the 50 were full again: as good as absent
    for i in range(500):
        buckets.take([(("many", i), 2)], window=1.0, now=2.0)
    assert len(buckets) == 100


def test_memory_buckets_take_all_or_nothing_and_say_how_long_to_wait():
    buckets = limits.MemoryBuckets()
    a, b = ("a", 2), ("b", 4)
    assert buckets.take([a, b], window=4.0, now=0.0) is None
    assert buckets.take([a, b], window=4.0, now=0.0) is None
    refused = buckets.take([a, b], window=4.0, now=0.0)
    assert refused.index == 0 and refused.wait == pytest.approx(2.0)  # a: 2 tokens in 4 s
    assert buckets.take([b], window=4.0, now=0.0) is None  # b gave nothing to the refused request
    assert buckets.take([b], window=4.0, now=0.0) is None
    assert buckets.take([a, b], window=4.0, now=2.0) is None


# --- Redis: down, and shared by two instances ----------------------------------------------------

def test_redis_down_requests_are_served_and_limits_hold_per_process(make_app, caplog):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", LIMIT_TOURS=3, LIMIT_PEOPLE_PER_ADDRESS=1, LIMIT_SITE=0)
    client, site = app.test_client(), app.sites[0]
    before = metrics._counters.get(("guide_rate_limit_redis_unavailable_total", ()), 0)
    with caplog.at_level(logging.WARNING, logger="guide_server.web.limits"):
        for _ in range(3):
            assert KINDS["tours"](client, site, "10.0.0.1", {}).status_code == 200
        assert_limited(KINDS["tours"](client, site, "10.0.0.1", {}), "tours", "address")
    warnings = [r for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a request
    assert metrics._counters[("guide_rate_limit_redis_unavailable_total", ())] == before + 4


def test_redis_failing_mid_flight_is_never_a_500(make_app, monkeypatch):
    import redis

    app = make_app(REDIS_URL=needs_redis(), LIMIT_TOURS=50, LIMIT_SITE=0)
    client, site = app.test_client(), app.sites[0]
    assert KINDS["tours"](client, site, "10.0.0.1", {}).status_code == 200

    def broken(self, wanted, window):
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(limits.RedisBuckets, "take", broken)
    before = metrics._counters.get(("guide_rate_limit_redis_unavailable_total", ()), 0)
    assert KINDS["tours"](client, site, "10.0.0.1", {}).status_code == 200
    assert metrics._counters[("guide_rate_limit_redis_unavailable_total", ())] == before + 1


def _get_status(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_two_instances_sharing_redis_share_the_limit(sample_index, tmp_path):
    url = needs_redis()
    a, b = site_names()
    settings = {"INDEX_DIR": str(sample_index), "SITES": sites_setting(a, b), "RELOAD_INTERVAL": "0",
                "REDIS_URL": url, "LIMIT_TOURS": "4", "LIMIT_PEOPLE_PER_ADDRESS": "1"}
    servers = []
    try:
        for n in range(2):
            instance = tmp_path / f"instance{n}"
            instance.mkdir()
            servers.append(Gunicorn(instance, {**settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}"}, ("-w", "1")))
        statuses = [_get_status(f"{servers[i % 2].url}/api/v1/tours?site={a}")[0] for i in range(4)]
        assert statuses == [200] * 4  # 2 on each: within 4 together
        for server in servers:
            status, headers = _get_status(f"{server.url}/api/v1/tours?site={a}")
            assert status == 429 and int(headers["Retry-After"]) >= 1
        assert _get_status(f"{servers[0].url}/api/v1/tours?site={b}")[0] == 200
    finally:
        for server in servers:
            server.stop()


# --- the chat socket -------------------------------------------------------------------------------

def closed_with(ws) -> tuple[int, str]:
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    return int.from_bytes(data[:2], "big"), data[2:].decode()


def flood_socket(port: int, site: str, allowed: int) -> None:
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws/chat?site={site}", timeout=20)
    try:
        for i in range(allowed):
            ws.send(json.dumps({"type": "ping", "id": i}))
            assert json.loads(ws.recv()) == {"type": "pong", "id": i}
        ws.send(json.dumps({"type": "ping", "id": "over"}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["error"]["code"] == "rate_limited" and reply["error"]["status"] == 429
        assert closed_with(ws) == (1008, "message rate exceeded")
    finally:
        ws.close()


def test_a_chat_socket_past_its_message_rate_is_closed_with_1008(make_app):
    app = make_app(LIMIT_CHAT=3, LIMIT_PEOPLE_PER_ADDRESS=10, LIMIT_SITE=0)
    server = LiveServer(app)
    try:
        flood_socket(server.port, app.sites[0], 3)
        flood_socket(server.port, app.sites[0], 3)  # a new socket: a new count, within the address's
    finally:
        server.stop()


def test_a_chat_message_past_four_times_the_size_limit_closes_the_socket_with_1009(make_app):
    app = make_app()
    server = LiveServer(app)
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site={app.sites[0]}", timeout=20)
    try:
        ws.send(json.dumps({"type": "ask", "id": "big", "question": "x" * 20000}))
        assert json.loads(ws.recv())["error"]["code"] == "message_too_large"  # past the limit: an answer
        ws.send("x" * (4 * 16384 + 10))
        assert closed_with(ws)[0] == 1009
    finally:
        ws.close()
        server.stop()


def test_the_hubs_chat_sockets_are_closed_with_1008_too_and_the_address_is_limited(sample_index, tmp_path):
    """Under the production command (sockets on the hub's loop): the same close; and handshakes
    count for the address, so reopening does not go on for ever."""
    a, b = site_names()
    server = Gunicorn(tmp_path, {"INDEX_DIR": str(sample_index), "SITES": sites_setting(a, b), "RELOAD_INTERVAL": "0",
                                 "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}", "LIMIT_CHAT": "3",
                                 "LIMIT_PEOPLE_PER_ADDRESS": "3"}, ("-w", "1"))
    try:
        flood_socket(server.port, a, 3)  # 1 handshake + 3 messages + the one refused (not taken)
        flood_socket(server.port, a, 3)  # 8 of the address's 9
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            for _ in range(3):
                websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws/chat?site={a}", timeout=20).close()
        assert refused.value.status_code == 429
    finally:
        server.stop()


def test_the_site_a_flood_crowds_out_is_never_held_by_it():
    """Only a site asking more of the process than another active one is held to its share: the
    lighter site may go past its own share while the heavy one floods, even once the flood is held
    to less than the light site uses (what counts is what each asks, answered or refused)."""
    budgets = limits.SiteBudgets(share=0.1)
    refused = {"flood": 0, "light": 0}
    for i in range(300):  # 3 s: the flood asks for 0.5 s of answering a second, the light site 0.2
        now = i / 100
        for site, cost in (("flood", 0.005), ("light", 0.002)):
            if budgets.wait(site, cost, now=now):
                refused[site] += 1
            else:
                budgets.charge(site, cost, now=now)
    assert refused["light"] == 0
    # held to its share: 0.1 s a second for 3 s, plus BURST_S's worth at once, of the 1.5 s it asked
    assert 300 - refused["flood"] <= (0.1 * 3 + 0.1 * limits.BURST_S) / 0.005 + 1

"""One rule per kind of widget input, the same at every endpoint and over the WebSocket: the limit
itself is accepted everywhere, one past it is refused everywhere with the same status and code,
and nothing is cut short on the way to the database."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
import websocket
from sqlalchemy import select

from guide_server.db import schema
from guide_server.web.context import services
from guide_server.web.inputs import MAX_PERSON_ID, MAX_URL

SITE = "demo"


def _event(n: int) -> dict:
    return {"id": f"inputs-event-{n:04d}", "type": "chat_opened", "at": time.time() * 1000}


class Via:
    """Sends one field's value through one endpoint; answers (status, error code or None)."""

    def __init__(self, client, server):
        self.client, self.server, self.n = client, server, 0

    def _json(self, method: str, path: str, body: dict):
        resp = self.client.post(path, json=body) if method == "POST" else self.client.get(path + "?" + urlencode(body))
        code = (resp.get_json() or {}).get("error", {}).get("code") if resp.status_code >= 400 else None
        return resp.status_code, code

    def ask(self, **field):
        return self._json("POST", "/api/v1/ask", {"site": SITE, "question": "請求書をメールで送りたい", **field})

    def ws_ask(self, **field):
        ws = websocket.create_connection(f"ws://127.0.0.1:{self.server.port}/ws/chat?site={SITE}", timeout=30)
        try:
            ws.send(json.dumps({"type": "ask", "id": 1, "question": "請求書をメールで送りたい", **field}))
            reply = json.loads(ws.recv())
        finally:
            ws.close()
        return (reply["error"]["status"], reply["error"]["code"]) if reply["type"] == "error" else (200, None)

    def identify(self, **field):
        return self._json("POST", "/api/v1/identify", {"site": SITE, "user": "u-1", "traits": {}, **field})

    def tours(self, **field):
        return self._json("GET", "/api/v1/tours", {"site": SITE, "url": "/demo", **field})

    def one_tour(self, **field):
        return self._json("GET", "/api/v1/tours/welcome", {"site": SITE, **field})

    def progress(self, **field):
        return self._json("POST", "/api/v1/tours/progress", {"site": SITE, "user": "u-1", "tour": "welcome",
                                                             "version": 1, "step": 0, "status": "active", **field})

    def track(self, **field):
        return self._json("POST", "/api/v1/track", {"site": SITE, "name": "invoice_created", **field})

    def events(self, **field):
        self.n += 1
        person = {"anon": "browser-1"} if "user" not in field and "anon" not in field else {}
        event = _event(self.n)
        if "url" in field:  # a page URL travels on each event; a bad one rejects that event alone
            event["url"] = field.pop("url")
        status, code = self._json("POST", "/api/v1/events", {"site": SITE, **person, **field, "events": [event]})
        if status == 200:
            with services(self.client.application).db.connect() as conn:
                stored = conn.execute(select(schema.events.c.event_id).where(schema.events.c.event_id == event["id"])).all()
            if not stored:
                return 400, "rejected"
        return status, code


@pytest.fixture
def via(client, live_server):
    return Via(client, live_server)


USER_ENDPOINTS = ["ask", "ws_ask", "identify", "tours", "one_tour", "progress", "track", "events"]
QUERY_ENDPOINTS = {"tours", "one_tour"}  # a query string carries text only


def _bad(values: tuple, endpoint: str) -> list:
    return [v for v in values if endpoint not in QUERY_ENDPOINTS or isinstance(v, str)]


@pytest.mark.parametrize("endpoint", USER_ENDPOINTS)
def test_a_user_id_is_one_rule_everywhere(via, endpoint):
    send = getattr(via, endpoint)
    assert send(user="u" * MAX_PERSON_ID)[0] == 200
    assert send(user=12345)[0] == 200  # a number is a user id too
    for bad in _bad(("u" * (MAX_PERSON_ID + 1), "   ", ["u-1"], {"id": 1}, True), endpoint):
        assert send(user=bad) == (400, "bad_user"), bad


@pytest.mark.parametrize("endpoint", ["ask", "ws_ask", "events"])
def test_an_anonymous_id_is_one_rule_everywhere(via, endpoint):
    send = getattr(via, endpoint)
    assert send(anon="b" * MAX_PERSON_ID)[0] == 200
    for bad in ("b" * (MAX_PERSON_ID + 1), "  ", ["b"]):
        assert send(anon=bad) == (400, "bad_anon"), bad


URL_ENDPOINTS = {"ask": "context", "ws_ask": "context", "tours": None, "progress": None, "track": None, "events": None}


@pytest.mark.parametrize("endpoint", list(URL_ENDPOINTS))
def test_a_page_url_is_one_rule_everywhere(via, endpoint):
    send = getattr(via, endpoint)

    def with_url(url):
        return send(context={"url": url}) if URL_ENDPOINTS[endpoint] else send(url=url)

    assert with_url("/" + "a" * (MAX_URL - 1))[0] == 200
    for bad in _bad(("/" + "a" * MAX_URL, "http://[::1", 42), endpoint):
        status, code = with_url(bad)
        assert status == 400 and code in ("bad_url", "rejected"), (bad, status, code)


@pytest.mark.parametrize("endpoint", ["ask", "ws_ask", "identify", "tours", "one_tour", "progress", "track"])
def test_a_locale_is_one_rule_everywhere(via, endpoint):
    send = getattr(via, endpoint)
    assert send(locale="en")[0] == 200
    for bad in ("fr", "JA", ["ja"]):
        assert send(locale=bad) == (400, "bad_locale"), bad

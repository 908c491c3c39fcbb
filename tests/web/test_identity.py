"""Identity verification and origins per site: forged, missing and expired tokens, a foreign
origin, another site's ids — each refused with its documented status."""

import json
import time

import pytest
import websocket

from guide_server import create_app
from guide_server.web.context import services
from guide_server.web.identity import sign
from tests.support import LiveServer

S_DEMO, S_NEXT, S_OTHER = "d" * 40, "n" * 40, "o" * 40
DEMO, OTHER = "https://app.demo.example", "https://app.other.example"
TOUR = "welcome"  # a sample tour of site demo only


@pytest.fixture
def app(sample_index, database_url):
    app = create_app({
        "TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": database_url, "RELOAD_INTERVAL": 0,
        "SITES": {"demo": {"origins": [DEMO], "identity_secrets": [S_DEMO, S_NEXT]},
                  "other": {"origins": [OTHER], "identity_secrets": [S_OTHER]},
                  "anon": {"origins": ["https://anon.example"]}},
    })
    yield app
    services(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


def token(user="u1", secret=S_DEMO, **claims):
    return sign({"sub": user, "exp": time.time() + 600, **claims}, secret)


def post(client, path, body, origin=DEMO, **headers):
    """As the widget posts: text/plain JSON, from a page of ``origin``."""
    if origin:
        headers["Origin"] = origin
    return client.post("/api/v1/" + path, data=json.dumps(body), content_type="text/plain;charset=UTF-8", headers=headers)


def identify(client, site="demo", **body):
    return post(client, "identify", {"site": site, **body}, origin=None)


# --- tokens ---------------------------------------------------------------------------------------

def _none_alg(user):
    import base64

    def b(o):
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()

    return f"{b({'alg': 'none', 'typ': 'JWT'})}.{b({'sub': user})}."


@pytest.mark.parametrize("bad, status, code", [
    (None, 401, "missing_user_token"),
    ("not-a-token", 401, "invalid_user_token"),
    (token(secret="x" * 40), 401, "invalid_user_token"),  # forged: another secret
    (token(secret=S_OTHER), 401, "invalid_user_token"),  # another site's secret
    (token(exp=time.time() - 3600), 401, "invalid_user_token"),  # expired
    (token(nbf=time.time() + 3600), 401, "invalid_user_token"),  # not yet valid
    (token(aud="other"), 401, "invalid_user_token"),  # signed for another site
    (token(user="u2"), 403, "user_token_mismatch"),  # a valid token of someone else
    (_none_alg("u1"), 401, "invalid_user_token"),  # alg none
    (token()[:-3] + "AAA", 401, "invalid_user_token"),  # signature changed
])
def test_a_verified_site_refuses_a_user_without_a_valid_token(client, bad, status, code):
    resp = identify(client, user="u1", token=bad) if bad else identify(client, user="u1")
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["error"]["code"] == code and resp.get_json()["error"]["message"]


def test_both_secrets_of_a_site_are_valid_while_it_changes_secret(client):
    for secret in (S_DEMO, S_NEXT):
        body = identify(client, user="u1", token=token(secret=secret)).get_json()
        assert body["user"] == "u1" and body["verified"] is True


def test_only_signed_traits_target_on_a_verified_site(client):
    resp = identify(client, token=token(traits={"plan": "free"}), traits={"plan": "pro", "role": "admin"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["user"] == "u1"  # the user comes from the token's sub
    assert body["traits"] == {"plan": "free"} and body["ignored_traits"] == ["plan", "role"]


ENDPOINTS = [  # (method, path, body or query) naming user u1
    ("GET", "tours", {"url": "https://app.demo.example/invoices"}),
    ("GET", f"tours/{TOUR}", {}),
    ("POST", "tours/progress", {"tour": TOUR, "version": 1, "step": 0, "status": "active"}),
    ("POST", "track", {"name": "invoice_sent"}),
    ("POST", "events", {"events": [{"id": "e1", "type": "page_view", "at": 0, "url": "https://app.demo.example/"}]}),
    ("POST", "ask", {"question": "請求書を送りたい"}),
]


def call(client, method, path, body, user="u1", tok=None, site="demo", origin=DEMO):
    if method == "GET":
        headers = {"Origin": origin} if origin else {}
        if tok:
            headers["X-Guide-Token"] = tok
        query = "&".join(f"{k}={v}" for k, v in {"site": site, "user": user, **body}.items() if v)
        return client.get(f"/api/v1/{path}?{query}", headers=headers)
    payload = {"site": site, **body, **({"user": user} if user else {}), **({"token": tok} if tok else {})}
    if path == "events":
        payload["events"][0]["at"] = int(time.time() * 1000)
    return post(client, path, payload, origin=origin)


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_every_endpoint_that_names_a_user_needs_its_token(client, method, path, body):
    assert call(client, method, path, body).status_code == 401
    assert call(client, method, path, body, tok=token(secret="x" * 40)).status_code == 401
    assert call(client, method, path, body, tok=token(user="u2")).status_code == 403
    ok = call(client, method, path, body, tok=token())
    assert ok.status_code in (200, 201), ok.get_json()
    anonymous = dict(body, anon="browser-1") if path in ("events", "ask") else body
    assert call(client, method, path, anonymous, user=None).status_code in (200, 201)  # anonymous is fine


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_an_anonymous_only_site_takes_no_user_ids(client, method, path, body):
    refused = call(client, method, path, body, site="anon", origin="https://anon.example")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "anonymous_only"
    if path not in (f"tours/{TOUR}", "tours/progress"):  # a tour of site demo only
        extra = {"anon": "browser-1"} if path in ("events", "ask") else {}
        ok = call(client, method, path, {**body, **extra}, user=None, site="anon", origin="https://anon.example")
        assert ok.status_code in (200, 201), ok.get_json()


# --- origins --------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_a_foreign_page_can_neither_read_nor_write(client, app, method, path, body):
    tok = token()
    for origin in ("https://evil.example", OTHER):  # a stranger, and another site's own page
        resp = call(client, method, path, body, tok=tok, origin=origin)
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in resp.headers


def test_a_beacon_without_origin_is_judged_by_its_referer(client, app):
    body = {"site": "demo", "anon": "b1", "events": [{"id": "r1", "type": "page_view", "at": int(time.time() * 1000)}]}
    foreign = post(client, "events", body, origin=None, Referer="https://evil.example/page?x=1")
    assert foreign.status_code == 403
    own = post(client, "events", body, origin=None, Referer=DEMO + "/invoices")
    assert own.status_code == 200
    assert post(client, "events", dict(body, events=[dict(body["events"][0], id="r2")]), origin="null").status_code == 403


def test_cors_names_only_the_sites_own_origin(client):
    ok = client.options("/api/v1/tours?site=demo", headers={"Origin": DEMO, "Access-Control-Request-Method": "GET",
                                                           "Access-Control-Request-Headers": "X-Guide-Token"})
    assert ok.headers["Access-Control-Allow-Origin"] == DEMO
    assert "X-Guide-Token" in ok.headers["Access-Control-Allow-Headers"]
    for origin in (OTHER, "https://evil.example"):
        other = client.options("/api/v1/tours?site=demo", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert "Access-Control-Allow-Origin" not in other.headers
    answered = call(client, "POST", "ask", {"question": "パスワードを忘れた"}, user=None)
    assert answered.headers["Access-Control-Allow-Origin"] == DEMO and "Origin" in answered.headers["Vary"]


def test_the_chat_socket_refuses_a_foreign_page_and_a_user_without_token(app):
    server = LiveServer(app)
    try:
        url = f"ws://127.0.0.1:{server.port}/ws/chat?site=demo"
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=10, origin="https://evil.example")
        assert refused.value.status_code == 403
        ws = websocket.create_connection(url, timeout=20, origin=DEMO)
        ws.send(json.dumps({"type": "ask", "id": 1, "question": "請求書を送りたい", "user": "u1"}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and reply["error"]["code"] == "missing_user_token"
        ws.send(json.dumps({"type": "ask", "id": 2, "question": "請求書を送りたい", "user": "u1", "token": token()}))
        assert json.loads(ws.recv())["type"] == "answer"
        ws.close()
    finally:
        server.stop()


# --- tenants --------------------------------------------------------------------------------------

def test_nothing_crosses_from_one_site_to_another(client):
    """Site other's key with site demo's ids: tours, progress, questions, feedback and users."""
    demo_user, other_user = token("u1"), token("u1", S_OTHER)
    assert call(client, "POST", "tours/progress", ENDPOINTS[2][2], tok=demo_user).status_code == 200
    asked = call(client, "POST", "ask", {"question": "請求書を送りたい"}, tok=demo_user).get_json()
    as_other = dict(tok=other_user, site="other", origin=OTHER)
    assert call(client, "GET", f"tours/{TOUR}", {}, **as_other).status_code == 404
    assert call(client, "POST", "tours/progress", ENDPOINTS[2][2], **as_other).status_code == 404
    seen = call(client, "GET", "tours", {"url": DEMO + "/invoices"}, **as_other).get_json()
    assert seen["tours"] == [] and seen["survey"] is None
    feedback = post(client, "feedback", {"site": "other", "question_id": asked["question_id"], "helpful": False}, origin=OTHER)
    assert feedback.status_code == 404
    # the same user id on the other site is another person: demo's progress is not theirs
    assert call(client, "GET", f"tours/{TOUR}", {}, tok=demo_user).get_json()["progress"]["step"] == 0
    assert call(client, "GET", f"tours/{TOUR}", {}, tok=token("u1", S_NEXT)).get_json()["progress"]["step"] == 0


def test_an_open_site_is_warned_about_at_start(sample_index, database_url, caplog):
    sites = {"trial": {"identity": "open", "origins": []}, "shop": {"identity": "anonymous", "origins": []}}
    with caplog.at_level("WARNING", logger="guide_server.web.sites"):
        app = create_app({"INDEX_DIR": str(sample_index), "DATABASE_URL": database_url, "RELOAD_INTERVAL": 0,
                          "SECRET_KEY": "x" * 40, "SITES": sites})
    services(app).close()
    warned = [r.getMessage() for r in caplog.records if r.name == "guide_server.web.sites"]
    assert len(warned) == 1 and "'trial'" in warned[0] and "act as any of its users" in warned[0]

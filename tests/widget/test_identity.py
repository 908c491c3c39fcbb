"""The demo's signed flow in Chromium: the demo app's server signs its user into the page it renders,
the widget sends the token with every request that names the user, and the server believes only that."""

from __future__ import annotations

import json

import pytest

from guide_server import create_app
from guide_server.web.context import services
from tests.support import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signed(sample_index, tmp_path_factory):
    """The server with its default sites: the demo site verifies its users."""
    root = tmp_path_factory.mktemp("signed")
    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": f"sqlite:///{root / 'guide.db'}",
                      "RELOAD_INTERVAL": 0})
    assert app.config["SITES"]["demo"]["identity"] == "verified"
    server = LiveServer(app)
    yield server
    server.stop()
    services(app).close()


def test_the_demo_signs_its_user_and_the_widget_carries_the_token(browser, signed):
    context = browser.new_context(base_url=signed.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    seen = []
    page.on("request", lambda r: seen.append(r) if "/api/v1/" in r.url else None)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/identify")) as identified:
        page.goto("/demo")
    body = identified.value.json()
    assert identified.value.status == 200, body
    assert body["verified"] is True and body["user"].startswith("demo-")
    assert body["traits"] == {"plan": "free", "role": "admin"}  # from the token, not the page
    page.wait_for_function("() => !!document.querySelector('guide-widget')")
    page.wait_for_timeout(1500)
    tours = [r for r in seen if "/api/v1/tours?" in r.url]
    # the token is in the page before the widget loads: not one request as an anonymous visitor first
    assert tours and all("user=" in r.url and r.headers.get("x-guide-token") for r in tours), [r.url for r in tours]
    assert all(r.response() is not None and r.response().status == 200 for r in tours)
    posts = [r for r in seen if r.method == "POST" and "user" in (r.post_data or "")]
    assert posts and all(json.loads(r.post_data).get("token") for r in posts)

    # a page that claims to be someone else with this user's token is refused, and the widget lives on
    token = json.loads(identified.value.request.post_data)["token"]
    with page.expect_response(lambda r: r.url.endswith("/api/v1/identify")) as forged:
        page.evaluate("t => Guide('identify', {id: 'someone-else', token: t})", token)
    assert forged.value.status == 403
    assert forged.value.json()["error"]["code"] == "user_token_mismatch"
    assert not errors, errors

    # the plan is changed through the demo's server, which signs it: the widget then trusts "pro"
    with page.expect_response(lambda r: r.url.endswith("/api/v1/identify")):
        page.goto("/demo/settings")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/identify")) as changed:
        page.select_option("#plan", "pro")
    assert changed.value.json()["traits"] == {"plan": "pro", "role": "admin"}
    assert changed.value.json()["user"] == body["user"]  # the same user, signed anew
    assert not errors, errors
    context.close()


def test_the_demo_session_is_the_servers_and_refuses_a_bad_plan(signed):
    import urllib.error
    import urllib.request

    def post(body: dict):
        request = urllib.request.Request(signed.url + "/demo/session", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, first = post({"plan": "pro"})
    assert status == 200 and first["plan"] == "pro" and first["user"].startswith("demo-") and first["token"]
    status, error = post({"plan": "enterprise"})
    assert status == 400 and error["error"]["code"] == "invalid_plan"

"""docs/openapi.yaml against the server: every route is described with its methods and nothing
described is missing; the document is served as JSON; a body field it does not list is refused;
and what no JSON parser should turn into a 500 gets a 4xx with a message on every POST."""

from __future__ import annotations

import json

import pytest
import yaml
from openapi_spec_validator import validate

from guide_server.desk import auth
from guide_server.web import openapi
from guide_server.web.context import services
from tests.support import assert_error

ROOT_DOC = openapi.DOCUMENT.parents[2] / "docs" / "openapi.yaml"
# Routes the document leaves out on purpose, each with why.
UNDESCRIBED = {
    "admin.": "the desk's HTML pages and forms: docs/review-desk.md",
    "admin_session.": "the desk's sign-in form, language switch and stylesheet",
    "admin_api.unknown": "the admin API's catch-all: a JSON 404 for any other path",
    "widget.static": "the demo app's own stylesheet and script",
}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def described(endpoint: str) -> bool:
    return not any(endpoint == k or (k.endswith(".") and endpoint.startswith(k)) for k in UNDESCRIBED)


def test_the_document_is_valid_openapi_and_docs_holds_the_same_file():
    document = yaml.safe_load(ROOT_DOC.read_text(encoding="utf-8"))
    validate(document)
    assert document == openapi.document()


def test_every_route_is_described_and_everything_described_is_a_route(app):
    paths = openapi.document()["paths"]
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if described(rule.endpoint):
            routes.setdefault(openapi.path_of(rule.rule), set()).update(rule.methods & METHODS)
    documented = {path: {m.upper() for m in ops if m.upper() in METHODS} for path, ops in paths.items()}
    assert routes == documented


def test_the_document_is_served_as_json(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json() == json.loads(json.dumps(openapi.document()))


# One valid body per POST endpoint of the widget (site "demo" of the test app is in identity "open")
# and of the admin API (sent with a token that may write).
VALID = {
    "/api/v1/ask": {"site": "demo", "question": "請求書を送りたい"},
    "/api/v1/feedback": {"site": "demo", "question_id": "q" * 32, "helpful": True},
    "/api/v1/escalations": {"site": "demo", "anon": "a-1", "message": "Please call me back", "reason": "no_answer",
                            "email": "me@example.org", "context": {"url": "https://app.example/x", "tour_id": "welcome",
                                                                  "step_id": "s1"}},
    "/api/v1/events": {"site": "demo", "anon": "a-1", "events": []},
    "/api/v1/identify": {"site": "demo", "user": "u-1"},
    "/api/v1/tours/progress": {"site": "demo", "user": "u-1", "tour": "welcome", "version": 1, "step": 0, "status": "active"},
    "/api/v1/track": {"site": "demo", "user": "u-1", "name": "invoice_created"},
    "/demo/session": {"plan": "pro"},
    "/api/v1/admin/drafts": {"site": "demo", "question_ids": ["q" * 32], "locale": "en", "title": "T", "slug": "t"},
    "/api/v1/admin/teach": {"site": "demo", "faq_id": "ja-billing-plans", "question_ids": ["q" * 32]},
}


@pytest.fixture
def post(app, client, tmp_path):
    """POST ``data`` to ``path`` as the widget does (text/plain), or to the admin API with its token."""
    app.config["CONTENT_DIR"] = str(tmp_path / "content")  # a draft that got through lands here, not in content/
    token = auth.create_token(services(app).db, "openapi-test", write=True)

    def post(path, data, content_type="text/plain"):
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/v1/admin/") else {}
        return client.post(path, data=data, content_type=content_type, headers=headers)

    return post


@pytest.mark.parametrize("path", VALID)
def test_a_field_the_document_does_not_list_is_refused_by_name(post, path):
    resp = post(path, json.dumps({**VALID[path], "plna": "pro"}))
    assert_error(resp, 400, "unknown_field")
    body = resp.get_json()
    assert "'plna'" in body["error"]["message"] and body["error"]["details"]["unknown"] == ["plna"]


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _huge_strings(body: dict) -> bytes:
    """Every text field but the site 300,000 characters long (under MAX_CONTENT_LENGTH, past every field's limit)."""
    return json.dumps({k: "x" * 300_000 if isinstance(v, str) and k != "site" else v for k, v in body.items()}).encode()


HOSTILE = {
    "invalid UTF-8": lambda body: json.dumps(body)[:-1].encode() + b', "x": "\xff\xfe"}',
    "NaN": lambda body: json.dumps(body)[:-1].encode() + b', "site": NaN}',
    "deep nesting": lambda body: json.dumps(body)[:-1].encode() + b', "site": ' + _nested(100_000) + b"}",
    "a huge number": lambda body: json.dumps(body)[:-1].encode() + b', "site": ' + b"9" * 5000 + b"}",
    "a huge float": lambda body: json.dumps(body)[:-1].encode() + b', "site": 1e400}',
    "10**400": lambda body: json.dumps(body)[:-1].encode() + b', "site": 1' + b"0" * 400 + b"}",
    "huge strings": _huge_strings,
    "10,000 nested lists in a field": lambda body: json.dumps(body)[:-1].encode() + b', "props": ' + _nested(10_000) + b"}",
    "not an object": lambda body: b"[1, 2, 3]",
    "not JSON": lambda body: b"site=demo&question=x",
    "a wrong type": lambda body: json.dumps({**body, "site": {"$ne": None}}).encode(),
    "a NUL": lambda body: json.dumps({**body, "site": "de\u0000mo"}).encode(),
    "an empty body": lambda body: b"",
}


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
@pytest.mark.parametrize("path", VALID)
@pytest.mark.parametrize("kind", HOSTILE)
def test_what_is_not_a_good_body_is_a_4xx_with_a_message(post, path, kind, content_type):
    resp = post(path, HOSTILE[kind](VALID[path]), content_type)
    assert 400 <= resp.status_code < 500, (kind, resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.get_json()["error"]["message"]


@pytest.mark.parametrize("path", VALID)
def test_a_body_past_max_content_length_is_a_413(post, app, path):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = post(path, json.dumps({**VALID[path], "pad": "x" * 2000}))
    assert resp.status_code == 413 and resp.get_json()["error"]["message"]


@pytest.mark.parametrize("question", ["請求書\u0000を送る", "\ud800請求書"])
def test_a_question_holding_nul_or_a_lone_surrogate_is_refused(client, question):
    resp = client.post("/api/v1/ask", data=json.dumps({"site": "demo", "question": question}), content_type="text/plain")
    assert_error(resp, 400, "bad_question")


# The question ids of VALID name no stored question: what the handler says once it looked them up.
LOOKED_UP = {"/api/v1/feedback": "no question", "/api/v1/admin/drafts": "none of these questions was asked",
             "/api/v1/admin/teach": "none of these questions was asked"}


@pytest.mark.parametrize("path", VALID)
def test_the_valid_bodies_are_taken(post, path):
    """The control for the tests above: without the fault, each body gets past every check of its shape."""
    resp = post(path, json.dumps(VALID[path]))
    if path in LOOKED_UP:
        assert resp.get_json()["error"]["message"].startswith(LOOKED_UP[path])
    else:
        assert resp.status_code < 300, resp.get_data(as_text=True)

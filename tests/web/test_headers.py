"""Security headers (web/headers.py): nosniff and a referrer policy on every response; a CSP without
scripts and no framing on the desk and the help pages; nothing that would stop the widget where
customers embed it (embed.js, the API, the demo); HSTS only when the deployment says it is HTTPS."""

from __future__ import annotations

import pytest

from guide_server import create_app
from guide_server.web.context import services

# What the widget and customers' pages load: framing or a CSP here would break them.
EMBEDDED = ["/embed.js", "/api/v1/health", "/api/v1/search?site=demo&q=請求書", "/api/v1/faq/ja-invoices-send-email",
            "/api/v1/no-such-endpoint", "/livez"]
DESK = ["/admin/login", "/admin/", "/admin/static/admin.css", "/admin/no-such-page", "/admin/lang/en"]
HELP = ["/", "/?q=請求書", "/help/", "/help/ja-invoices-send-email", "/help/no-such-faq"]


def _directives(csp: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in csp.split(";") if part.strip()}


@pytest.mark.parametrize("path", EMBEDDED + DESK + HELP + ["/demo/"])
def test_every_response_has_nosniff_and_a_referrer_policy(client, path):
    resp = client.get(path)
    assert resp.status_code < 500, (path, resp.status_code)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "same-origin")
    assert "Strict-Transport-Security" not in resp.headers  # ADMIN_COOKIE_SECURE is off


@pytest.mark.parametrize("path", EMBEDDED)
def test_nothing_stops_the_widget_where_it_is_embedded(client, path):
    resp = client.get(path, headers={"Origin": "http://host.example"})
    assert "Content-Security-Policy" not in resp.headers and "X-Frame-Options" not in resp.headers, path
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_demo_keeps_its_own_policy(client):
    """The demo app sets its own CSP (widget/routes.py); the headers module neither replaces it nor adds framing rules."""
    from guide_server.widget.routes import DEMO_CSP

    resp = client.get("/demo/")
    assert resp.headers["Content-Security-Policy"] == DEMO_CSP and "X-Frame-Options" not in resp.headers


def test_a_cors_preflight_gets_no_page_policy(client):
    resp = client.options("/api/v1/ask", headers={"Origin": "http://host.example", "Access-Control-Request-Method": "POST"})
    assert "Content-Security-Policy" not in resp.headers and "X-Frame-Options" not in resp.headers
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", DESK)
def test_the_desk_allows_no_script_and_no_framing(client, path):
    resp = client.get(path)
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert csp["default-src"] == "default-src 'none'" and "script-src" not in csp  # no script at all
    assert csp["style-src"] == "style-src 'self'" and csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["form-action"] == "form-action 'self'" and csp["base-uri"] == "base-uri 'none'"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", HELP)
def test_the_help_pages_allow_no_script_and_no_framing(client, path):
    resp = client.get(path)
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert csp["default-src"] == "default-src 'none'" and "script-src" not in csp
    assert csp["frame-ancestors"] == "frame-ancestors 'none'" and resp.headers["X-Frame-Options"] == "DENY"
    html = resp.get_data(as_text=True)
    assert "<script" not in html  # the policy forbids scripts, so the pages must need none
    if "<style>" in html:  # their own inline styles (chat/help.py) are allowed, and nothing else is loaded
        assert csp["style-src"] == "style-src 'unsafe-inline'"


def test_the_help_page_of_an_faq_loads_under_its_policy(client):
    """An FAQ's body is sanitised HTML: links and images; the policy lets https images through."""
    resp = client.get("/help/ja-invoices-send-email")
    assert resp.status_code == 200
    assert "https:" in _directives(resp.headers["Content-Security-Policy"])["img-src"]


@pytest.fixture
def https_app(sample_index, tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": str(sample_index), "RELOAD_INTERVAL": 0,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'guide.db'}", "ADMIN_COOKIE_SECURE": True,
                      "SITES": {"demo": {"identity": "open", "origins": ["http://host.example"]}}})
    yield app
    services(app).close()


@pytest.mark.parametrize("path", ["/api/v1/health", "/admin/login", "/help/", "/embed.js"])
def test_hsts_when_the_desk_cookie_is_https_only(https_app, path):
    resp = https_app.test_client().get(path)
    hsts = resp.headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 180 * 86400
    assert "includeSubDomains" not in hsts  # the other hosts of the domain are not this service's to decide

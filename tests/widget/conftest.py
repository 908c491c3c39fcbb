"""Browser tests: real Chromium (Playwright) against the real app over real HTTP and WebSocket.

One browser and one server for the whole package. The server reads the demo's content/tours plus the
tests' own tours (tests/widget/tours, ids ``t-*``) and surveys (tests/widget/surveys), and serves the
HTML fixture pages of tests/widget/pages at ``/t/<page>[/...]``. Site ``demo`` is the pages' site;
site ``e2e`` has one page (/t/stuck) and one tour, so its review figures hold only what one test did. Every test gets a fresh browser context (empty
localStorage) and its own user id, so no test sees another's progress.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip install -e '.[test]')")

from flask import Blueprint, abort, make_response, send_from_directory  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from guide_server import create_app  # noqa: E402
from guide_server.web.context import services
from guide_server.widget.routes import DEMO_CSP  # noqa: E402
from tests.support import ROOT, LiveServer, chromium  # noqa: E402

from .helpers import RECORD_EVENTS  # noqa: E402

# The machines these run on are shared and noisy: wait up to 15 s for what the widget shows
# (a chat answer under load can take several seconds), rather than Playwright's 5 s.
expect.set_options(timeout=15_000)

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
SUPPORT = "mailto:help@example.com"


def fixture_pages() -> Blueprint:
    """``/t/<name>[/anything]`` serves pages/<name>.html (SPA routes share a page); ``/t-assets/`` the rest."""
    bp = Blueprint("test_pages", __name__)

    @bp.get("/t/<name>")
    @bp.get("/t/<name>/<path:rest>")
    def page(name: str, rest: str = ""):
        path = PAGES / f"{name}.html"
        if not path.is_file():
            abort(404)
        response = make_response(path.read_text(encoding="utf-8"))
        if name == "csp":
            response.headers["Content-Security-Policy"] = DEMO_CSP
        return response

    @bp.get("/t-assets/<path:name>")
    def asset(name: str):
        return send_from_directory(PAGES, name)

    return bp


def serve(root: Path, sample_index: Path, sites: tuple[str, ...] = ("demo", "e2e"), blueprints=()):
    """The app on a real HTTP server with the demo's tours and the tests' tours, surveys and pages
    (sites in identity "open"), plus ``blueprints``; a generator for a fixture to yield from."""
    tours = root / "content" / "tours"
    shutil.copytree(ROOT / "content" / "tours", tours)
    shutil.copytree(HERE / "tours", tours / "tests")
    shutil.copytree(HERE / "surveys", root / "content" / "surveys")
    app = create_app({
        "TESTING": True,
        "CONTENT_DIR": str(root / "content"),
        "INDEX_DIR": str(sample_index),
        "DATABASE_URL": f"sqlite:///{root / 'guide.db'}",
        "RELOAD_INTERVAL": 0,
        "SITES": {name: {"identity": "open", "origins": [], "support": SUPPORT} for name in sites},
    })
    assert not services(app).tours.errors, services(app).tours.errors
    for bp in (fixture_pages(), *blueprints):
        app.register_blueprint(bp)
    server = LiveServer(app)
    server.app = app
    yield server
    server.stop()
    services(app).close()


@pytest.fixture(scope="package")
def guide(sample_index, tmp_path_factory):
    """The app on a real HTTP server, with the demo's tours and the tests' tours and pages."""
    yield from serve(tmp_path_factory.mktemp("browser"), sample_index)


# Package scope, not session: one Playwright per thread at a time, and other browser test
# packages start their own once this one is done.
@pytest.fixture(scope="package")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def context_options() -> dict:
    """Override in a test module (or parametrize) for another viewport, reduced motion, ..."""
    return {}


@pytest.fixture
def page(browser, guide, context_options) -> Page:
    options = {"viewport": {"width": 1024, "height": 720}, **context_options}
    context = browser.new_context(base_url=guide.url, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.add_init_script(RECORD_EVENTS)  # window.guideEvents: what the widget told the page (helpers.told)
    page.errors = []  # uncaught exceptions in the page, whoever threw them
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def user() -> str:
    # letters only: a run of 12 digits in a URL would be masked as a My Number before storage
    return "u-" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))

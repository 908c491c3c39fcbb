"""A real third-party single-page app (TodoMVC's AngularJS example, from npm: see thirdparty.py) with our
widget tag added: the app still works (a form, hash routes) and the widget loads beside it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import serve
from .thirdparty import inject, third_party_app, third_party_blueprint, widget_tag

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out

SITE = "todo"
APP = "/x/todo/"


@pytest.fixture(scope="module")
def todomvc():
    """The folder of the app's index.html (downloaded from npm on first use, then cached)."""
    return third_party_app()


@pytest.fixture(scope="module")
def guide(sample_index, tmp_path_factory, todomvc):
    """The package's server (conftest.py), plus site ``todo`` and the app at /x/todo/. Its own server,
    because a Flask app takes no blueprint once it has served a request."""
    yield from serve(tmp_path_factory.mktemp("thirdparty"), sample_index, ("demo", "e2e", SITE),
                     [third_party_blueprint(todomvc, app="todo", site=SITE)])


def test_the_page_is_the_upstream_one_plus_our_tag(guide, todomvc):
    client = guide.app.test_client()
    upstream = (todomvc / "index.html").read_text(encoding="utf-8")
    served = client.get(APP).get_data(as_text=True)
    assert served == inject(upstream, widget_tag(SITE))
    assert served.replace(widget_tag(SITE), "", 1) == upstream
    assert served.index(widget_tag(SITE)) < served.index("</head>")
    assert client.get("/x/todo/js/app.js").get_data() == (todomvc / "js" / "app.js").read_bytes()
    assert client.get("/x/todo").status_code in (301, 302, 308)
    assert client.get("/x/todo/../../conftest.py").status_code == 404
    # the app uses GET /api as its backend when that answers; here it must not, so it keeps to localStorage
    assert client.get("/api").status_code == 404


def test_the_app_works_with_the_widget_on_it(page, guide):
    offsite = []
    page.on("request", lambda r: urlsplit(r.url).hostname not in ("127.0.0.1", None) and offsite.append(r.url))
    page.goto(APP)
    expect(page).to_have_url(guide.url + APP + "#/")  # the app's router normalises the route

    # the widget: one <guide-widget>, Guide loaded
    page.wait_for_function("window.Guide && window.Guide.loaded === true")
    expect(page.locator("guide-widget")).to_have_count(1)

    # the app: a todo through its form (Enter submits #todo-form)
    new = page.locator("#new-todo")
    new.fill("Buy milk")
    new.press("Enter")
    expect(page.locator("#todo-list li")).to_have_count(1)
    expect(page.locator("#todo-list li label")).to_have_text("Buy milk")
    expect(new).to_have_value("")
    new.fill("Walk the dog")
    new.press("Enter")
    expect(page.locator("#todo-count")).to_contain_text("2 items left")

    # complete one, then the hash routes filter the list
    page.locator("#todo-list li", has_text="Buy milk").locator("input.toggle").check()
    expect(page.locator("#todo-list li.completed")).to_have_count(1)
    page.click("#filters a[href='#/active']")
    expect(page).to_have_url(guide.url + APP + "#/active")
    expect(page.locator("#filters a.selected")).to_have_text("Active")
    expect(page.locator("#todo-list li")).to_have_count(1)
    expect(page.locator("#todo-list li label")).to_have_text("Walk the dog")
    page.click("#filters a[href='#/completed']")
    expect(page).to_have_url(guide.url + APP + "#/completed")
    expect(page.locator("#todo-list li label")).to_have_text("Buy milk")
    page.click("#clear-completed")
    expect(page.locator("#todo-list li")).to_have_count(0)
    page.click("#filters a[href='#/']")
    expect(page.locator("#todo-list li")).to_have_count(1)

    # the route's changes did not lose the widget, and nothing went wrong or left the machine
    expect(page.locator("guide-widget")).to_have_count(1)
    assert page.evaluate("window.Guide.loaded") is True
    assert page.errors == []
    assert offsite == []

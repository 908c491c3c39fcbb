"""The browser tests' own helpers, where a mistake in them once made a test fail only now and then."""

from __future__ import annotations

import time

import pytest

from .helpers import settled, visit, wait_title

pytestmark = pytest.mark.browser  # real Chromium: `make test-fast` leaves these out


def test_visit_answers_with_the_new_pages_tours_not_those_of_the_page_it_leaves(page):
    """The page being left may ask for the same URL's tours just as visit() leaves it (a tour it has
    just completed makes it look again). That answer is not the new page's, and its body is gone
    with the page: visit() once returned it, and test_once_tours_do_not_come_back failed at times."""
    visit(page, "/t/once")
    wait_title(page, "You see this once")
    settled(page)

    def slow_document(route):  # the new page takes its time: the old one asks in the meantime
        time.sleep(0.5)
        route.continue_()

    page.route("**/t/once", slow_document)
    page.evaluate("setTimeout(() => Guide('identify', {}), 100)")  # the old page looks at /t/once again
    data = visit(page, "/t/once")
    assert data["autostart"] == "t-once"  # the new page's answer (a fresh browser context: not seen yet)

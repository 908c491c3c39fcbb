"""The review desk: logins, pages, CSV, the admin API and (browser marker) its screens. Each module
makes its app from admin_seed.py, a hand-made week of use whose figures are written down there."""

import pytest

from tests.support import chromium


@pytest.fixture(scope="module")
def browser():
    """One real Chromium for a module's browser tests."""
    with chromium() as b:
        yield b


def desk_page(browser, url: str, **options):
    """A new page on the desk at ``url``: JavaScript off (the desk runs none), Japanese first."""
    page = browser.new_context(base_url=url, java_script_enabled=False, locale="ja-JP", **options).new_page()
    page.set_default_timeout(10_000)
    return page

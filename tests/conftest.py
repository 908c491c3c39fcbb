"""Fixtures every test folder may use: the sample help center's index, built once with the real
models, and apps on real SQLite files (or PostgreSQL schemas, with GUIDE_TEST_DATABASE_URL).
Folder-specific fixtures are in each folder's conftest.py; shared helpers in support.py."""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# derived model files (see search.encoders.cache_dir) go to a folder of this run, not the user's cache
os.environ.setdefault("GUIDE_CACHE_DIR", tempfile.mkdtemp(prefix="guide-test-cache-"))

from guide_server import create_app  # noqa: E402
from guide_server.search.builder import build  # noqa: E402
from guide_server.web.context import services  # noqa: E402

from .support import (  # noqa: E402
    FAQ_EN,
    FAQ_JA,
    FAQ_PLANS,
    KEY,
    MODELS,
    ORIGIN,
    ROOT,
    LiveServer,
    fresh_database,
    write_content,
)


@pytest.fixture
def small_content(tmp_path) -> Path:
    return write_content(tmp_path / "content", {
        "ja/invoices/send-email.md": FAQ_JA,
        "ja/billing/plans.md": FAQ_PLANS,
        "en/security/password-reset.md": FAQ_EN,
    })


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Path:
    """The repository's sample help center, built once with the real bundled models."""
    out = tmp_path_factory.mktemp("sample-index")
    build(ROOT / "content", out, MODELS, progress=False)
    return out


@pytest.fixture
def database_url(tmp_path):
    """The database of one test: a SQLite file in its folder, or, when GUIDE_TEST_DATABASE_URL names
    a PostgreSQL server, a schema of its own there."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def app(sample_index, database_url):
    app = create_app({
        "TESTING": True,
        "INDEX_DIR": str(sample_index),
        "DATABASE_URL": database_url,
        "RELOAD_INTERVAL": 0,
        "SITES": {
            "demo": {"identity": "open", "origins": ["http://host.example"], "support": "mailto:help@example.com"},
            "other": {"identity": "open", "origins": [], "support": ""},
        },
    })
    yield app
    services(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def events_app(tmp_path, database_url):
    """The app on a real database (``database_url``), without a search index (events need none)."""
    app = create_app({
        "TESTING": True, "INDEX_DIR": str(tmp_path / "no-index"), "DATABASE_URL": database_url,
        "RELOAD_INTERVAL": 0, "PSEUDONYM_KEY": KEY,
        "SITES": {"demo": {"identity": "open", "origins": [ORIGIN], "name": {"ja": "請求クラウド", "en": "Invoice Cloud"}},
                  "other": {"identity": "open", "origins": []}},
    })
    yield app
    services(app).close()

"""A real gunicorn running the documented production command, on the sample index."""

import pytest

from tests.support import Gunicorn

SITES = {"demo": {"identity": "open", "origins": ["http://host.example"], "support": "mailto:help@example.com"}}


@pytest.fixture
def serve(sample_index, tmp_path):
    """Start servers with extra settings; each is stopped at the end of the test."""
    started = []

    def start(args=(), **settings):
        instance = tmp_path / f"instance{len(started)}"
        instance.mkdir()
        base = {"INDEX_DIR": str(sample_index), "DATABASE_URL": f"sqlite:///{instance / 'guide.db'}", "SITES": SITES,
                "RELOAD_INTERVAL": "0"}
        server = Gunicorn(instance, {**base, **settings}, args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()

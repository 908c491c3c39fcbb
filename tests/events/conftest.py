"""POST /api/v1/events: validation of each event, batches stored once, faults that lose nothing."""

import pytest


@pytest.fixture
def ec(events_app):
    """A test client of ``events_app`` (the root conftest: a real SQLite file, no search index)."""
    return events_app.test_client()

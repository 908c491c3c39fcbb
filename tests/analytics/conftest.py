"""The review figures, computed from a database file filled by hand: no Flask."""

import pytest

from guide_server.db.engine import connect


@pytest.fixture
def engine(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'guide.db'}")
    yield engine
    engine.dispose()

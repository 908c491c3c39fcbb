"""schemathesis over docs/openapi.yaml, in process against the real app (the real index, a real
SQLite file, an admin API token that may write): for every operation, bounded and repeatable
examples of data that fits the document and of data that does not; no response is a server error,
and every response matches the document (its status is listed, its content type, its body and its
headers).

The widget's public operations are tried on the site "demo" (identity "open", so that user ids are
taken as they come) with a valid site key in every request, so that the examples reach past the
site check into each handler; the admin API with the token in the Authorization header.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="the fuzz tests need schemathesis (pip install -e '.[test]')")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from guide_server import create_app  # noqa: E402
from guide_server.desk import auth  # noqa: E402
from guide_server.web import openapi  # noqa: E402
from guide_server.web.context import services  # noqa: E402

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = 30  # per operation; the whole document in about a minute on 2 cores


@pytest.fixture(scope="module")
def fuzz_app(sample_index, tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    app = create_app({
        "TESTING": True, "INDEX_DIR": str(sample_index), "DATABASE_URL": f"sqlite:///{root / 'guide.db'}",
        "RELOAD_INTERVAL": 0, "CONTENT_DIR": str(root / "content"), "LIMIT_SITE": 0, "LIMIT_PEOPLE_PER_ADDRESS": 0,
        **{f"LIMIT_{k}": 0 for k in ("ASK", "SEARCH", "FEEDBACK", "EVENTS", "TOURS", "IDENTIFY", "PROGRESS", "TRACK", "CHAT",
                                     "ESCALATIONS")},
        "SITES": {"demo": {"identity": "open", "origins": ["https://app.example"]}},
    })
    app.fuzz_token = auth.create_token(services(app).db, "fuzz", sites=None, write=True)
    yield app
    services(app).close()


# The document the server serves (tests/web/test_openapi.py checks that it is the served one),
# with data that fits it and data that does not (wrong types, missing and unknown fields, NUL).
schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(modes=list(schemathesis.GenerationMode), allow_x00=True, deterministic=True)


def _on_site(case) -> None:
    """A known site key wherever the operation takes one, so that the example reaches its handler."""
    if case.query is not None and "site" in case.query:
        case.query["site"] = "demo"
    if case.method == "POST" and isinstance(case.body, dict) and case.path.startswith("/api/v1/") \
            and not case.path.startswith("/api/v1/admin/"):
        case.body["site"] = "demo"


@schema.exclude(path="/ws/chat").parametrize()  # the socket: by message in tests/chat/test_ws.py
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_and_never_with_a_server_error(case, fuzz_app):
    _on_site(case)
    headers = {"Authorization": f"Bearer {fuzz_app.fuzz_token}"} if case.path.startswith("/api/v1/admin/") else None
    case.call_and_validate(app=fuzz_app, headers=headers, checks=CHECKS)

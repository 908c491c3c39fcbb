"""The API's description, ``openapi.yaml`` beside this module (docs/openapi.yaml links to it):
served at /api/v1/openapi.json, and the source of the one rule it enforces itself: a JSON body
may hold only the fields its operation lists (``additionalProperties: false``), so that a typo or
a field from another version is a 400 naming it, never silently ignored.

tests/web/test_openapi.py keeps the document equal to the routes; tests/web/test_fuzz.py runs
schemathesis over every operation of it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, Flask, current_app, jsonify, request

from . import inputs
from .errors import ApiError

DOCUMENT = Path(__file__).with_name("openapi.yaml")
MAX_PEEK = 1 << 20  # a body larger than this is left to its handler (which refuses it anyway)
_FIELDS = "guide.openapi_fields"

bp = Blueprint("openapi", __name__)


@cache
def document() -> dict:
    with DOCUMENT.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def path_of(rule: str) -> str:
    """A Flask rule as the document writes its path: ``/faq/<faq_id>`` -> ``/faq/{faq_id}``."""
    return re.sub(r"<(?:[a-z]+:)?([A-Za-z_]\w*)>", r"{\1}", rule)


def _resolve(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def body_fields(operation: dict) -> frozenset[str] | None:
    """The fields an operation's JSON body may hold, or None when it takes any."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    schema = _resolve((content.get("application/json") or {}).get("schema") or {})
    if schema.get("additionalProperties", True) is not False:
        return None
    return frozenset(schema.get("properties", {}))


def _fields_by_endpoint(app: Flask) -> dict[str, frozenset[str]]:
    paths = document()["paths"]
    found = {}
    for rule in app.url_map.iter_rules():
        operation = paths.get(path_of(rule.rule), {}).get("post")
        fields = body_fields(operation) if operation else None
        if fields is not None:
            found[rule.endpoint] = fields
    return found


def _refuse_unknown_fields():
    fields = current_app.extensions[_FIELDS].get(request.endpoint or "")
    if fields is None or request.method != "POST":
        return None
    body = inputs.peek_object(MAX_PEEK)
    unknown = sorted(k for k in body or {} if k not in fields)
    if unknown:
        names = ", ".join(repr(k[:64]) for k in unknown[:5])
        raise ApiError(f"unknown field{'s' if len(unknown) > 1 else ''} {names}; this endpoint takes "
                       f"{', '.join(sorted(fields))} (docs/openapi.yaml)", 400, "unknown_field",
                       details={"unknown": [k[:64] for k in unknown[:20]]})
    return None


@bp.get("/api/v1/openapi.json")
def openapi_json():
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def register(app: Flask) -> None:
    """Serve the document and refuse unknown body fields; called after every other blueprint is
    registered, so that each route's fields are found."""
    app.register_blueprint(bp)
    app.extensions[_FIELDS] = _fields_by_endpoint(app)
    app.before_request(_refuse_unknown_fields)

"""The rules for what the widget and the host page send: one limit and one behaviour for each kind
of value, used by every endpoint and by the WebSocket.

A value that breaks a rule is refused with an ``ApiError`` (a 4xx and a message naming the field);
nothing is silently cut short. Absent and empty optional values read as None. The events endpoint
reports a bad event in its ``rejected`` list with the same message instead of refusing the batch.

Characters no database keeps: PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate
(``"\\ud800"`` is valid JSON) is not Unicode text at all, in SQLite either. A question or a comment
holding one is refused with a 400 (no keyboard types them; the request is a tool's or an attacker's).
The text values of props and traits, which host apps fill from whatever they have, are cleaned with
``clean_text``: NUL removed, a lone surrogate replaced by U+FFFD. Identifiers and addresses (user and anonymous ids, URLs, step ids, event names, the names in
props and traits) are refused with a 400 instead, as any other broken value: changed, they would name
something else.
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from flask import request

from ..content.rules import ID, LOCALES
from ..guidance.tours import MAX_EVENT_NAME, MISSING
from .errors import ApiError

MAX_PERSON_ID = 200  # a host app's user id, or a browser's anonymous id
MAX_URL = 4096  # a page URL or path
MAX_STEP_ID = 200
MAX_TRAITS = 50
MAX_TRAIT_KEY = 100
MAX_TRAIT_TEXT = 500
MAX_PROPS = 20
MAX_PROP_KEY = 100
MAX_PROP_TEXT = 1000
STEP_ACTIONS = MISSING  # what the widget did about a step whose target was missing
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins a valid pair, so any left is alone


# --- characters the database cannot keep ---------------------------------------------------------

def storable(value: str) -> bool:
    """True when every database takes ``value`` as it is: no NUL, no lone surrogate."""
    return "\x00" not in value and _SURROGATE.search(value) is None


def clean_text(value: str) -> str:
    """Free text as every database takes it: NUL removed, lone surrogates replaced by U+FFFD."""
    if storable(value):
        return value
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))


def _refuse_unstorable(value: str, message: str, code: str) -> str:
    """An identifier or address as given, or a 400 when it holds a character no database keeps."""
    if not storable(value):
        raise ApiError(f"{message}, without NUL or unpaired surrogate characters", 400, code)
    return value


# --- request bodies ------------------------------------------------------------------------------

def json_body() -> dict:
    """The request's JSON object, whatever its Content-Type (the widget sends text/plain). Not
    JSON (invalid UTF-8, NaN, nesting deeper than Python parses) is a 400, never a 500."""
    data = parsed_body()
    if data is _NOT_JSON:
        raise ApiError("the body must be JSON (UTF-8)", 400, "bad_json")
    if not isinstance(data, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_request")
    return data


_NOT_JSON = object()
_PARSED = "guide.parsed_body"


def parsed_body() -> Any:
    """The body parsed once per request (``_NOT_JSON`` when it is not JSON); its bytes stay readable
    from ``request.stream`` for a handler that reads them itself (batch_body)."""
    if _PARSED not in request.environ:
        raw = request.get_data(cache=True)
        request.stream = io.BytesIO(raw)
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            value = _NOT_JSON
        request.environ[_PARSED] = value
    return request.environ[_PARSED]


def peek_object(max_bytes: int) -> dict | None:
    """The body's JSON object when it is one and at most ``max_bytes`` long, else None (for hooks
    that look before the handler, which gives the error)."""
    if request.content_length is None or request.content_length > max_bytes:
        return None
    value = parsed_body()
    return value if isinstance(value, dict) else None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def batch_body(limit: int) -> dict:
    """A batch's JSON object (a beacon sends it as text/plain), refused with 413 past ``limit``
    bytes without reading further; NaN and Infinity are not JSON."""
    too_large = ApiError(f"the batch is larger than {limit // 1024} KB; send fewer events at a time", 413,
                         "batch_too_large")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise too_large
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("the body must be a JSON object (UTF-8)", 400, "bad_json") from None
    if not isinstance(payload, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_json")
    return payload


# --- who -----------------------------------------------------------------------------------------

def person_id(value: Any, field: str = "user") -> str | None:
    """A host app's user id (``user``) or a browser's random id (``anon``): text or a whole number
    of at most MAX_PERSON_ID characters. Absent or empty: None (anonymous, or nobody)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_PERSON_ID or not value.strip():
        raise ApiError(f"'{field}' must be text of at most {MAX_PERSON_ID} characters, or a number", 400,
                       f"bad_{field}")
    return _refuse_unstorable(value, f"'{field}' must be text", f"bad_{field}")


def _flat_object(value: Any, field: str, most: int, max_key: int, max_text: int, code: str,
                 too_big: tuple[int, str]) -> dict:
    """An object of at most ``most`` names (1 to ``max_key`` characters), each text of at most
    ``max_text`` characters, a finite number, true/false or null. ``too_big`` is the status and
    code for too many names or too long a text, ``code`` the code of any other fault. Text values
    come back cleaned (``clean_text``)."""
    if not isinstance(value, dict):
        raise ApiError(f"'{field}' must be a JSON object", 400, code)
    if len(value) > most:
        raise ApiError(f"'{field}' has {len(value)} names; at most {most}", *too_big)
    clean = {}
    for key, v in value.items():
        if not 1 <= len(key) <= max_key:
            raise ApiError(f"names in '{field}' have 1 to {max_key} characters", 400, code)
        _refuse_unstorable(key, f"names in '{field}' must be text", code)
        if isinstance(v, str):
            if len(v) > max_text:
                raise ApiError(f"{field}.{key} is longer than {max_text} characters", *too_big)
            v = clean_text(v)
        elif isinstance(v, float) and not math.isfinite(v):
            raise ApiError(f"{field}.{key} must be a finite number", 400, code)
        elif v is not None and not isinstance(v, (int, float, bool)):
            raise ApiError(f"{field}.{key} must be text, a number, true/false or null", 400, code)
        clean[key] = v
    return clean


def traits(value: Any, field: str = "traits") -> dict:
    """A user's traits: at most MAX_TRAITS names, each a string, finite number, boolean or null
    (null removes the trait)."""
    return _flat_object(value, field, MAX_TRAITS, MAX_TRAIT_KEY, MAX_TRAIT_TEXT, "bad_traits", (413, "traits_too_big"))


def locale(value: Any, field: str = "locale") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in LOCALES:
        raise ApiError(f"unknown {field} {str(value)[:20]!r}; use one of {', '.join(LOCALES)}", 400, "bad_locale")
    return value


# --- where ---------------------------------------------------------------------------------------

def url(value: Any, field: str = "url") -> str | None:
    """A page's URL or path, at most MAX_URL characters."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise ApiError(f"'{field}' must be a URL or path of at most {MAX_URL} characters", 400, "bad_url")
    try:
        urlsplit(value)
    except ValueError:  # e.g. a broken IPv6 host: "http://[::1"
        raise ApiError(f"'{field}' is not a URL: {value[:100]!r}", 400, "bad_url") from None
    return _refuse_unstorable(value, f"'{field}' must be a URL or path", "bad_url")


# --- what ----------------------------------------------------------------------------------------

def item_id(value: Any, field: str = "tour") -> str:
    """The id of a tour, checklist, task or survey: as content/ files name them."""
    if not isinstance(value, str) or not ID.match(value):
        raise ApiError(f"'{field}' must be an id: lowercase letters, digits, '-', '_' and '.' (at most 100)", 400,
                       f"bad_{field}")
    return value


def step_id(value: Any, field: str = "step") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_STEP_ID:
        raise ApiError(f"'{field}' must be a step id of 1 to {MAX_STEP_ID} characters", 400, "bad_step")
    return _refuse_unstorable(value, f"'{field}' must be a step id", "bad_step")


def step_action(value: Any, field: str = "action") -> str:
    """What the widget did about a missing target: skip, center or abort."""
    if value not in STEP_ACTIONS:
        raise ApiError(f"'{field}' must be one of {', '.join(STEP_ACTIONS)}", 400, "bad_action")
    return value


def event_name(value: Any, field: str = "name") -> str:
    """An app event's name (``Guide('track', name)``), trimmed: 1 to MAX_EVENT_NAME characters."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_EVENT_NAME:
        raise ApiError(f"'{field}' must be an event name of 1 to {MAX_EVENT_NAME} characters", 400, f"bad_{field}")
    return _refuse_unstorable(value.strip(), f"'{field}' must be an event name", f"bad_{field}")


def props(value: Any, field: str = "props") -> dict:
    """Free-form properties of an event: at most MAX_PROPS names, each text, a finite number,
    true/false or null. Absent: an empty object."""
    if value is None:
        return {}
    return _flat_object(value, field, MAX_PROPS, MAX_PROP_KEY, MAX_PROP_TEXT, "bad_props", (400, "bad_props"))

"""Batches of widget events, validated one by one and stored once.

Each event carries a client-generated id; (site, id) is unique, so a batch sent twice (a
retried beacon) is stored once. Good events of a batch are committed in one transaction
before the response is sent; bad ones are listed with the reason. User ids are pseudonymised
and free text masked before anything is written.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import privacy
from ..guidance import surveys
from ..web import inputs
from ..web.errors import ApiError
from .types import TYPES
from .writer import store_group

log = logging.getLogger(__name__)

MAX_EVENTS = 100
MAX_BATCH_BYTES = 64 * 1024
MAX_AGE_S = 30 * 86400.0  # a widget keeps unsent events for a few days at most
MAX_AHEAD_S = 86400.0  # device clocks run ahead; more than a day is a wrong clock
EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


# --- one event -----------------------------------------------------------------------------------

def _bad(message: str) -> ApiError:
    return ApiError(message, 400, "bad_event")


def _text(props: dict, key: str, required: bool = True, limit: int = 200) -> None:
    value = props.get(key)
    if not required and (value is None or (isinstance(value, str) and len(value) <= limit)):
        return  # optional text may be empty: a survey comment left blank
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _bad(f"props.{key} must be text of 1 to {limit} characters")


def _whole(value, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _bad(f"{name} must be a whole number from {low} to {high}")
    return value


def _props_checks(kind: str, p: dict) -> None:
    """Checks of the props each type needs (the generic shape is checked before)."""
    if kind == "target_missing":
        inputs.step_action(p.get("action"), "props.action")
    if kind in ("checklist_task_completed", "checklist_completed", "checklist_started"):
        _text(p, "checklist")
    if kind == "checklist_task_completed":
        _text(p, "task")
    if kind in ("question_asked", "answer_feedback", "answer_opened"):
        _text(p, "question_id", limit=64)
    if kind == "answer_feedback" and not isinstance(p.get("helpful"), bool):
        raise _bad("props.helpful must be true or false")
    if kind == "answer_opened":
        _opened(p)
    if kind == "nps_answered":
        _whole(p.get("score"), "props.score", 0, 10)
        _text(p, "comment", required=False, limit=inputs.MAX_PROP_TEXT)
    if kind in surveys.STATE_EVENTS:
        _text(p, "survey", required=False)
    if kind == "widget_error":
        _text(p, "message", limit=inputs.MAX_PROP_TEXT)
    if kind == "idle":
        s = p.get("seconds")
        if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s) or not 0 <= s <= 86400:
            raise _bad("props.seconds must be a number of seconds from 0 to 86400")
    if kind == "rage_click":
        _whole(p.get("count"), "props.count", 1, 10_000)
        _text(p, "selector", required=False, limit=inputs.MAX_PROP_TEXT)
    if kind == "back_forth":
        _text(p, "other_step")


def _opened(p: dict) -> None:
    """``answer_opened``: which FAQ of an answer was opened: its cited source, a suggestion, or one
    of the related FAQs listed under a direct answer (those two by rank)."""
    _text(p, "faq_id")
    if p.get("which") not in ("source", "suggestion", "related"):
        raise _bad("props.which must be 'source', 'suggestion' or 'related'")
    if p["which"] != "source":
        _whole(p.get("rank"), "props.rank", 0, 10)


def validate_event(raw: Any, now: float) -> dict:
    """One event as a row of ``events`` (without site, user and session); raises ApiError."""
    if not isinstance(raw, dict):
        raise _bad("an event must be an object")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        raise _bad("'id' must be 8 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    kind = raw.get("type")
    rule = TYPES.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise _bad(f"unknown type {str(kind)[:50]!r}")
    at = raw.get("at")
    if not isinstance(at, (int, float)) or isinstance(at, bool) or not math.isfinite(at):
        raise _bad("'at' must be the time in milliseconds since 1970 (Date.now())")
    at = at / 1000.0
    if at < now - MAX_AGE_S:
        raise _bad("'at' is more than 30 days ago")
    if at > now + MAX_AHEAD_S:
        raise _bad("'at' is more than a day in the future: the device clock is wrong")
    url = inputs.url(raw.get("url"))
    tour, version, step, step_index = raw.get("tour"), raw.get("version"), raw.get("step"), raw.get("step_index")
    if tour is not None or rule.tour:
        if tour is None:
            raise _bad(f"{kind} needs 'tour': a tour id")
        inputs.item_id(tour, "tour")
        version = _whole(version, "'version'", 1, 1_000_000)
    elif version is not None:
        raise _bad("'version' without 'tour'")
    if step is not None or rule.step:
        if step is None:
            raise _bad(f"{kind} needs 'step': the step id")
        inputs.step_id(step, "step")
        if tour is None:
            raise _bad("'step' without 'tour'")
    if step_index is not None or rule.step_index:
        if step_index is None:
            raise _bad(f"{kind} needs 'step_index': the step's position from 0")
        step_index = _whole(step_index, "'step_index'", 0, 1000)
    props = {k: privacy.mask(v) if isinstance(v, str) else v for k, v in inputs.props(raw.get("props")).items()}
    _props_checks(kind, props)
    row = {"event_id": event_id, "type": kind, "at": at, "url": privacy.mask(url), "tour_id": tour,
           "version": version, "step_id": step, "step_index": step_index,
           "props": json.dumps(props, ensure_ascii=False, separators=(",", ":"))}
    # The fields' rules refuse NUL and lone surrogates already; this catches any field added later.
    # An event the database would refuse must be rejected here, alone: stored with the others it
    # would fail their transaction, and the widget would send that batch again forever.
    for name, value in row.items():
        if isinstance(value, str) and not inputs.storable(value):
            raise _bad(f"'{name}' holds a character no database keeps (NUL or an unpaired surrogate)")
    return row


# --- the batch -----------------------------------------------------------------------------------

@dataclass
class Batch:
    person: str | None
    identified: bool
    session: str | None
    rows: list[tuple[int, dict]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def parse_batch(key: bytes, site: str, payload: dict, now: float) -> Batch:
    """Check the whole batch (ApiError) and each event (listed as rejected). ``key``: the pseudonym key."""
    user = inputs.person_id(payload.get("user"), "user")
    anon = inputs.person_id(payload.get("anon"), "anon")
    if user is None and anon is None:
        raise ApiError("name the person: 'user' (signed in) or 'anon' (the browser's random id)", 400, "missing_person")
    session = payload.get("session")
    if session is not None and (not isinstance(session, str) or not SESSION_ID.match(session)):
        raise ApiError("'session' must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', ':' and '-'", 400, "bad_session")
    items = payload.get("events")
    if not isinstance(items, list):
        raise ApiError("'events' must be a list of events", 400, "bad_events")
    if len(items) > MAX_EVENTS:
        raise ApiError(f"{len(items)} events in one batch; at most {MAX_EVENTS}", 413, "too_many_events")
    batch = Batch(privacy.person(key, site, user, anon), user is not None, session)
    for index, raw in enumerate(items):
        try:
            batch.rows.append((index, validate_event(raw, now)))
        except ApiError as exc:
            event_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            batch.rejected.append({"index": index, "id": event_id[:64] if event_id else None, "error": exc.message})
    return batch


def store_batch(engine: Engine, site: str, batch: Batch, now: float) -> dict:
    """Write the good events in one transaction; returns the response body once committed."""
    with engine.begin() as conn:
        return store_group(conn, [(site, batch, now)])[0]


def ingest(engine: Engine, key: bytes, site: str, payload: dict, now: float | None = None) -> dict:
    """Validate and store one batch for a known ``site``: the HTTP endpoint without the HTTP."""
    now = time.time() if now is None else now
    batch = parse_batch(key, site, payload, now)
    try:
        return store_batch(engine, site, batch, now)
    except SQLAlchemyError:
        # Nothing of the batch was committed; the widget sends it again (same ids, so stored once).
        log.exception("events not stored")
        raise ApiError("the events could not be stored; send them again later", 503, "events_unavailable") from None

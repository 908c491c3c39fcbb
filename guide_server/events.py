"""POST /api/v1/events: batches of widget events, validated one by one and stored once.

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
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import privacy, surveys
from .errors import ApiError
from .sites import site_key
from .store import metadata
from .tour_fields import ID as TOUR_ID

bp = Blueprint("events", __name__)
log = logging.getLogger(__name__)

MAX_EVENTS = 100
MAX_BATCH_BYTES = 64 * 1024
MAX_PROPS = 20
MAX_PROP_KEY = 100
MAX_PROP_TEXT = 1000
MAX_URL = 2000
MAX_USER = 200
MAX_AGE_S = 30 * 86400.0  # a widget keeps unsent events for a few days at most
MAX_AHEAD_S = 86400.0  # device clocks run ahead; more than a day is a wrong clock
EVENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SESSION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ACTIONS = ("skip", "center", "abort")

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("user_id", String(200)),  # pseudonym; "a-..." for anonymous browsers
    Column("session", String(64)),
    Column("at", Float, nullable=False),  # client time, epoch seconds
    Column("received_at", Float, nullable=False, index=True),  # server time; purge goes by this
    Column("url", Text),
    Column("tour_id", String(200)),
    Column("version", Integer),
    Column("step_id", String(200)),
    Column("step_index", Integer),
    Column("props", Text, nullable=False),  # JSON object, strings masked
    UniqueConstraint("site", "event_id", name="uq_events_site_event"),
    Index("ix_events_site_at", "site", "at"),
    Index("ix_events_site_user", "site", "user_id"),
    Index("ix_events_site_tour", "site", "tour_id", "version", "step_id"),
)


# --- the schema ----------------------------------------------------------------------------------

class Invalid(Exception):
    """One event is bad; the message says why."""


def _text(props: dict, key: str, required: bool = True, limit: int = 200) -> None:
    value = props.get(key)
    if not required and (value is None or (isinstance(value, str) and len(value) <= limit)):
        return  # optional text may be empty: a survey comment left blank
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Invalid(f"props.{key} must be text of 1 to {limit} characters")


def _integer(props: dict, key: str, low: int, high: int) -> None:
    value = props.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(f"props.{key} must be a whole number from {low} to {high}")


def _props_checks(kind: str, p: dict) -> None:
    """Checks of the props each type needs (the generic shape is checked before)."""
    if kind == "target_missing" and p.get("action") not in ACTIONS:
        raise Invalid(f"props.action must be one of {', '.join(ACTIONS)}")
    if kind in ("checklist_task_completed", "checklist_completed", "checklist_started"):
        _text(p, "checklist")
    if kind == "checklist_task_completed":
        _text(p, "task")
    if kind in ("question_asked", "answer_feedback"):
        _text(p, "question_id", limit=64)
    if kind == "answer_feedback" and not isinstance(p.get("helpful"), bool):
        raise Invalid("props.helpful must be true or false")
    if kind == "nps_answered":
        _integer(p, "score", 0, 10)
        _text(p, "comment", required=False, limit=MAX_PROP_TEXT)
    if kind in surveys.STATE_EVENTS:
        _text(p, "survey", required=False)
    if kind == "widget_error":
        _text(p, "message", limit=MAX_PROP_TEXT)
    if kind == "idle":
        s = p.get("seconds")
        if not isinstance(s, (int, float)) or isinstance(s, bool) or not math.isfinite(s) or not 0 <= s <= 86400:
            raise Invalid("props.seconds must be a number of seconds from 0 to 86400")
    if kind == "rage_click":
        _integer(p, "count", 1, 10_000)
        _text(p, "selector", required=False, limit=MAX_PROP_TEXT)
    if kind == "back_forth":
        _text(p, "other_step")


@dataclass(frozen=True)
class Rule:
    tour: bool = False  # tour + version required
    step: bool = False  # step id required
    step_index: bool = False


TYPES: dict[str, Rule] = {
    "tour_started": Rule(tour=True),
    "step_shown": Rule(tour=True, step=True, step_index=True),
    "step_completed": Rule(tour=True, step=True, step_index=True),
    "tour_completed": Rule(tour=True),
    "tour_dismissed": Rule(tour=True, step=True, step_index=True),
    "target_missing": Rule(tour=True, step=True),
    "checklist_started": Rule(),
    "checklist_task_completed": Rule(),
    "checklist_completed": Rule(),
    "chat_opened": Rule(),
    "question_asked": Rule(),
    "answer_feedback": Rule(),
    "escalation_offered": Rule(),
    "escalation_taken": Rule(),
    "nps_answered": Rule(),
    "nps_later": Rule(),
    "nps_dismissed": Rule(),
    "widget_error": Rule(),
    # stuck signals, detected in the browser
    "idle": Rule(tour=True, step=True),
    "rage_click": Rule(),
    "back_forth": Rule(tour=True, step=True),
    "page_left": Rule(tour=True, step=True),
}
SIGNALS = ("idle", "rage_click", "back_forth", "question_asked", "chat_opened", "page_left", "target_missing")


def _whole(value, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(f"'{name}' must be a whole number from {low} to {high}")
    return value


def _props(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid("'props' must be an object")
    if len(raw) > MAX_PROPS:
        raise Invalid(f"'props' has {len(raw)} keys; at most {MAX_PROPS}")
    clean = {}
    for key, value in raw.items():
        if not 1 <= len(key) <= MAX_PROP_KEY:
            raise Invalid(f"prop names have 1 to {MAX_PROP_KEY} characters")
        if isinstance(value, str):
            if len(value) > MAX_PROP_TEXT:
                raise Invalid(f"props.{key} is longer than {MAX_PROP_TEXT} characters")
            value = privacy.mask(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise Invalid(f"props.{key} must be a finite number")
        elif value is not None and not isinstance(value, (int, float, bool)):
            raise Invalid(f"props.{key} must be text, a number, true/false or null")
        clean[key] = value
    return clean


def validate_event(raw: Any, now: float) -> dict:
    """One event as a row of ``events`` (without site, user and session); raises Invalid."""
    if not isinstance(raw, dict):
        raise Invalid("an event must be an object")
    event_id = raw.get("id")
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        raise Invalid("'id' must be 8 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    kind = raw.get("type")
    rule = TYPES.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise Invalid(f"unknown type {str(kind)[:50]!r}")
    at = raw.get("at")
    if not isinstance(at, (int, float)) or isinstance(at, bool) or not math.isfinite(at):
        raise Invalid("'at' must be the time in milliseconds since 1970 (Date.now())")
    at = at / 1000.0
    if at < now - MAX_AGE_S:
        raise Invalid("'at' is more than 30 days ago")
    if at > now + MAX_AHEAD_S:
        raise Invalid("'at' is more than a day in the future: the device clock is wrong")
    url = raw.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > MAX_URL):
        raise Invalid(f"'url' must be text of at most {MAX_URL} characters")
    tour, version, step, step_index = raw.get("tour"), raw.get("version"), raw.get("step"), raw.get("step_index")
    if tour is not None or rule.tour:
        if not isinstance(tour, str) or not TOUR_ID.match(tour):
            raise Invalid(f"{kind} needs 'tour': a tour id" if tour is None else "'tour' must be a tour id")
        version = _whole(version, "version", 1, 1_000_000)
    elif version is not None:
        raise Invalid("'version' without 'tour'")
    if step is not None or rule.step:
        if not isinstance(step, str) or not 1 <= len(step) <= 200:
            raise Invalid(f"{kind} needs 'step': the step id" if step is None else "'step' must be a step id")
        if tour is None:
            raise Invalid("'step' without 'tour'")
    if step_index is not None or rule.step_index:
        if step_index is None:
            raise Invalid(f"{kind} needs 'step_index': the step's position from 0")
        step_index = _whole(step_index, "step_index", 0, 1000)
    props = _props(raw.get("props"))
    _props_checks(kind, props)
    return {"event_id": event_id, "type": kind, "at": at, "url": privacy.mask(url) or None, "tour_id": tour,
            "version": version, "step_id": step, "step_index": step_index,
            "props": json.dumps(props, ensure_ascii=False, separators=(",", ":"))}


# --- the batch -----------------------------------------------------------------------------------

@dataclass
class Batch:
    person: str | None
    identified: bool
    session: str | None
    rows: list[tuple[int, dict]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def _id_text(value, name: str, code: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_USER or not value.strip():
        raise ApiError(f"'{name}' must be text of at most {MAX_USER} characters", 400, code)
    return value


def parse_batch(key, site: str, payload: dict, now: float) -> Batch:
    """Check the whole batch (ApiError) and each event (listed as rejected)."""
    user = _id_text(payload.get("user"), "user", "bad_user")
    anon = _id_text(payload.get("anon"), "anon", "bad_anon")
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
        except Invalid as exc:
            event_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            batch.rejected.append({"index": index, "id": event_id[:64] if event_id else None, "error": str(exc)})
    return batch


def _insert_ignore(conn: Connection, row: dict) -> bool:
    """Insert unless (site, event_id) is stored already; True when inserted."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is not None:
        stmt = dialect.insert(events).values(**row).on_conflict_do_nothing(index_elements=["site", "event_id"])
        return conn.execute(stmt).rowcount == 1
    try:
        with conn.begin_nested():
            conn.execute(insert(events).values(**row))
        return True
    except IntegrityError:
        return False


def store_batch(engine: Engine, site: str, batch: Batch, now: float) -> dict:
    """Write the good events in one transaction; returns the response body once committed."""
    accepted = duplicates = 0
    with engine.begin() as conn:
        if batch.identified and batch.rows:
            surveys.note_seen(conn, site, batch.person, min(r["at"] for _, r in batch.rows))
        for _, row in batch.rows:
            if not _insert_ignore(conn, {**row, "site": site, "user_id": batch.person, "session": batch.session,
                                         "received_at": now}):
                duplicates += 1
                continue
            accepted += 1
            if batch.identified and row["type"] in surveys.STATE_EVENTS:
                survey_id = json.loads(row["props"]).get("survey") or "nps"
                surveys.note_response(conn, site, batch.person, survey_id, row["type"], row["at"])
    return {"accepted": accepted, "duplicates": duplicates, "rejected": batch.rejected}


def ingest(engine: Engine, key, site: str, payload: dict, now: float | None = None) -> dict:
    """Validate and store one batch for a known ``site``: the HTTP endpoint without the HTTP."""
    now = time.time() if now is None else now
    batch = parse_batch(key, site, payload, now)
    try:
        return store_batch(engine, site, batch, now)
    except SQLAlchemyError:
        # Nothing of the batch was committed; the widget sends it again (same ids, so stored once).
        log.exception("events not stored")
        raise ApiError("the events could not be stored; send them again later", 503, "events_unavailable") from None


# --- HTTP ----------------------------------------------------------------------------------------

def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_body() -> dict:
    """The JSON object of the request (sent as text/plain by sendBeacon), at most MAX_BATCH_BYTES."""
    if request.content_length is not None and request.content_length > MAX_BATCH_BYTES:
        raise ApiError(f"the batch is larger than {MAX_BATCH_BYTES // 1024} KB; send fewer events at a time", 413,
                       "batch_too_large")
    raw = request.stream.read(MAX_BATCH_BYTES + 1)
    if len(raw) > MAX_BATCH_BYTES:
        raise ApiError(f"the batch is larger than {MAX_BATCH_BYTES // 1024} KB; send fewer events at a time", 413,
                       "batch_too_large")
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("the body must be a JSON object (UTF-8)", 400, "bad_json") from None
    if not isinstance(payload, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_json")
    return payload


@bp.post("/api/v1/events")
def post_events():
    payload = read_body()
    site = site_key(payload)
    return jsonify(ingest(current_app.extensions["guide.db"], current_app, site, payload))


def init_app(app: Flask) -> None:
    """Register the endpoint and the survey library (before ``connect()``: the tables join store.metadata)."""
    app.register_blueprint(bp)
    app.extensions["guide.surveys"] = surveys.SurveyLibrary(Path(app.config["CONTENT_DIR"]) / "surveys")
    app.extensions["guide.surveys"].current()

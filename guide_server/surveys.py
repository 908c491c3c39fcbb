"""In-widget surveys (NPS) from content/surveys/: who is asked, when, and how often.

A survey file uses the tours' YAML readers and targeting (``match``: urls, traits, after,
unless; ``sites``). A survey is due for a signed-in user ``after_days`` after they were first
seen, then again ``every_days`` after they answered or closed it; "ask me later" postpones it
by ``later_days``. What each user did is kept in ``survey_state`` (not in the events, which
``guide purge`` removes).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Float, String, Table, select, update
from sqlalchemy.engine import Connection, Engine

from .content import ContentError, folder_stamps
from .progress import _upsert
from .store import metadata
from .targeting import Page, Visitor, applies
from .tour_fields import Fields, LineMap, Text, load_yaml
from .tour_library import tour_files
from .tours import _match, _sites, pick

log = logging.getLogger(__name__)

KINDS = ("nps",)
FIELDS = ("id", "kind", "question", "comment_prompt", "sites", "match", "after_days", "every_days", "later_days")
SCALE = {"nps": [0, 10]}
DAY = 86400.0
PREFIX = "surveys/"

people = Table(
    "people", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),  # pseudonym
    Column("first_seen", Float, nullable=False),
)

survey_state = Table(
    "survey_state", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("survey_id", String(200), primary_key=True),
    Column("answered_at", Float),
    Column("dismissed_at", Float),
    Column("later_at", Float),
)

# The event types that change a user's survey state, and the column each one sets.
STATE_EVENTS = {"nps_answered": "answered_at", "nps_dismissed": "dismissed_at", "nps_later": "later_at"}


@dataclass(frozen=True)
class Survey:
    id: str
    kind: str
    question: Text
    comment_prompt: Text | None
    sites: list[str] | None
    match: object  # tours.Match
    after_days: int
    every_days: int  # 0: never ask again once answered or closed
    later_days: int
    path: str


def parse_survey(raw: bytes, relpath: str) -> Survey:
    """Parse one file of content/surveys; errors carry ``file:line``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(relpath, 1, f"not UTF-8 text ({exc.reason})") from None
    source = text.splitlines()
    data = load_yaml(text, relpath, max(len(source), 1))
    if not isinstance(data, LineMap):
        raise ContentError(relpath, 1, "a survey file must be a mapping of fields (id, kind, question, ...)")
    f = Fields(data, relpath, source, "the survey")
    f.only(FIELDS)
    match, _ = _match(f)  # 'after'/'unless' name tours; a misspelt one simply never matches
    return Survey(
        id=f.ident(), kind=f.choice("kind", KINDS, "nps"), question=f.text("question", required=True),
        comment_prompt=f.text("comment_prompt"), sites=_sites(f), match=match,
        after_days=f.integer("after_days", 7, 0, 3650), every_days=f.integer("every_days", 90, 0, 3650),
        later_days=f.integer("later_days", 3, 1, 365), path=relpath)


class SurveyLibrary:
    """content/surveys/ re-read when a file changes; a broken file keeps its last good version."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.errors: list[str] = []
        self._stamps: dict | None = None
        self._good: dict[str, Survey] = {}
        self._surveys: list[Survey] = []
        self._lock = threading.Lock()

    def current(self) -> list[Survey]:
        stamps = folder_stamps(self.folder, tour_files(self.folder))
        if stamps != self._stamps:
            with self._lock:
                if stamps != self._stamps:
                    self._reload(stamps)
        return self._surveys

    def _reload(self, stamps: dict) -> None:
        errors, good, seen = [], {}, {}
        for rel in sorted(stamps):
            try:
                survey = parse_survey((self.folder / rel).read_bytes(), PREFIX + rel)
            except (ContentError, OSError) as exc:
                errors.append(str(exc))
                survey = self._good.get(rel)
            if survey is None:
                continue
            if survey.id in seen:
                errors.append(f"{PREFIX}{rel}: duplicate survey id {survey.id!r} (also in {seen[survey.id]})")
                continue
            seen[survey.id] = survey.path
            good[rel] = survey
        if errors and errors != self.errors:
            log.error("content/surveys has %d error(s):\n%s", len(errors), "\n".join(errors))
        self._good, self._surveys, self._stamps, self.errors = good, [good[r] for r in sorted(good)], stamps, errors


# --- state ---------------------------------------------------------------------------------------

def note_seen(conn: Connection, site: str, user: str, now: float) -> None:
    """Remember when a user was first seen (the first call wins)."""
    _upsert(conn, people, {"site": site, "user_id": user}, {"first_seen": now}, update_existing=False)


def remember_seen(engine: Engine, site: str, user: str, now: float | None = None) -> None:
    with engine.begin() as conn:
        note_seen(conn, site, user, time.time() if now is None else now)


def note_response(conn: Connection, site: str, user: str, survey_id: str, event_type: str, at: float) -> None:
    """Record an answer, a close or an "ask me later" (a later one never moves a time back)."""
    column = STATE_EVENTS[event_type]
    key = {"site": site, "user_id": user, "survey_id": survey_id}
    _upsert(conn, survey_state, key, {column: None}, update_existing=False)
    where = [survey_state.c[k] == v for k, v in key.items()]
    old = survey_state.c[column]
    conn.execute(update(survey_state).where(*where, (old.is_(None)) | (old < at)).values({column: at}))


def due(survey: Survey, state, first_seen: float | None, now: float) -> bool:
    """Whether the survey's timing allows asking now (targeting is checked separately)."""
    if first_seen is None or now - first_seen < survey.after_days * DAY:
        return False
    if state is None:
        return True
    if state.later_at is not None and now < state.later_at + survey.later_days * DAY:
        return False
    last = max((t for t in (state.answered_at, state.dismissed_at) if t is not None), default=None)
    if last is None:
        return True
    return survey.every_days > 0 and now >= last + survey.every_days * DAY


def survey_for(engine: Engine, surveys: list[Survey], site: str, stored_user: str, page: Page | None,
               visitor: Visitor, locale: str, now: float | None = None) -> dict | None:
    """The first survey (in file order) due for this signed-in user on this page, as the widget shows it."""
    now = time.time() if now is None else now
    candidates = [s for s in surveys if applies(s, site, page, visitor)]
    if not candidates:
        return None
    with engine.connect() as conn:
        first_seen = conn.execute(select(people.c.first_seen).where(
            people.c.site == site, people.c.user_id == stored_user)).scalar_one_or_none()
        states = {r.survey_id: r for r in conn.execute(select(survey_state).where(
            survey_state.c.site == site, survey_state.c.user_id == stored_user))}
    for s in candidates:
        if due(s, states.get(s.id), first_seen, now):
            return {"id": s.id, "kind": s.kind, "question": pick(s.question, locale),
                    "comment_prompt": pick(s.comment_prompt, locale), "scale": SCALE[s.kind]}
    return None

"""In-widget surveys (NPS) from content/surveys/: who is asked, when, and how often.

A survey file uses the tours' YAML readers and targeting (``match``: urls, traits, after,
unless; ``sites``). A survey is due for a signed-in user ``after_days`` after they were first
seen, then again ``every_days`` after they answered or closed it; "ask me later" postpones it
by ``later_days``. What each user did is kept in ``survey_state`` (not in the events, which
``guide purge`` removes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ..content.fields import Fields, LineMap, Text, load_yaml, pick
from ..content.rules import ContentError, decode
from ..db.schema import people, survey_state
from ..db.upsert import upsert
from .targeting import Page, Visitor, applies
from .tours import Match, read_match, read_sites

KINDS = ("nps",)
FIELDS = ("id", "kind", "question", "comment_prompt", "sites", "match", "after_days", "every_days", "later_days")
SCALE = {"nps": [0, 10]}
DAY = 86400.0

# The event types that change a user's survey state, and the column each one sets.
STATE_EVENTS = {"nps_answered": "answered_at", "nps_dismissed": "dismissed_at", "nps_later": "later_at"}


@dataclass(frozen=True)
class Survey:
    id: str
    kind: str
    question: Text
    comment_prompt: Text | None
    sites: list[str] | None
    match: Match
    after_days: int
    every_days: int  # 0: never ask again once answered or closed
    later_days: int
    path: str
    id_line: int = 1


def parse_survey(raw: bytes, relpath: str) -> Survey:
    """Parse one file of content/surveys; errors carry ``file:line``."""
    text = decode(raw, relpath)
    source = text.splitlines()
    data = load_yaml(text, relpath, max(len(source), 1))
    if not isinstance(data, LineMap):
        raise ContentError(relpath, 1, "a survey file must be a mapping of fields (id, kind, question, ...)")
    f = Fields(data, relpath, source, "the survey")
    f.only(FIELDS)
    match, _ = read_match(f)  # 'after'/'unless' name tours; a misspelt one simply never matches
    return Survey(
        id=f.ident(), kind=f.choice("kind", KINDS, "nps"), question=f.text("question", required=True),
        comment_prompt=f.text("comment_prompt"), sites=read_sites(f), match=match,
        after_days=f.integer("after_days", 7, 0, 3650), every_days=f.integer("every_days", 90, 0, 3650),
        later_days=f.integer("later_days", 3, 1, 365), path=relpath, id_line=f.line("id"))


def check_surveys(surveys: list[Survey]) -> list[ContentError]:
    """Cross-file check: survey ids are unique (the second file with an id is the one blamed)."""
    errors, first = [], {}
    for survey in surveys:
        if survey.id in first:
            errors.append(ContentError(survey.path, survey.id_line,
                                       f"duplicate survey id {survey.id!r} (also in {first[survey.id].path})"))
        else:
            first[survey.id] = survey
    return errors


# --- state ---------------------------------------------------------------------------------------

def note_seen(conn: Connection, site: str, user: str, now: float) -> None:
    """Remember when a user was first seen (the first call wins)."""
    upsert(conn, people, {"site": site, "user_id": user}, {"first_seen": now}, update_existing=False)


def remember_seen(engine: Engine, site: str, user: str, now: float | None = None) -> None:
    with engine.begin() as conn:
        note_seen(conn, site, user, time.time() if now is None else now)


def note_response(conn: Connection, site: str, user: str, survey_id: str, event_type: str, at: float) -> None:
    """Record an answer, a close or an "ask me later" (a later one never moves a time back)."""
    column = STATE_EVENTS[event_type]
    key = {"site": site, "user_id": user, "survey_id": survey_id}
    upsert(conn, survey_state, key, {column: None}, update_existing=False)
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

"""The headline figures of the review desk: the overview, onboarding completion and NPS.

Every function takes ``(engine, site, start, end, ...)`` with epoch seconds, ``end`` exclusive.
Weeks are ISO weeks (``"2026-W47"``), in UTC unless a ``tz`` is given.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..db.schema import events
from . import outcomes
from .segment import EVERYONE, Segment


def iso_week(t: float, tz: tzinfo | None = None) -> str:
    year, week, _ = datetime.fromtimestamp(t, tz or UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def nps_score(scores: list[int]) -> float | None:
    """% promoters (9-10) minus % detractors (0-6), from -100 to 100; None without answers."""
    if not scores:
        return None
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return round(100 * (promoters - detractors) / len(scores), 1)


def onboarding(engine: Engine, site: str, start: float, end: float, checklist: str | None = None,
               tz: tzinfo | None = None, segment: Segment = EVERYONE) -> list[dict]:
    """Per cohort week of the first ``checklist_started``: users who started, who completed, and the rate.

    A user counts in the week they first saw the checklist (if that is in the range); they count
    as completed when ``checklist_completed`` came before ``end``. With several checklists each
    (user, checklist) pair counts once; pass ``checklist`` for one of them.
    """
    q = select(events.c.type, events.c.user_id, events.c.at, events.c.props).where(
        events.c.site == site, events.c.at < end, events.c.type.in_(("checklist_started", "checklist_completed")),
        *segment.on_events(events))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    started: dict[tuple, float] = {}
    completed: set[tuple] = set()
    for r in rows:
        name = json.loads(r.props).get("checklist")
        if checklist is not None and name != checklist:
            continue
        key = (r.user_id, name)
        if r.type == "checklist_started":
            started[key] = min(started.get(key, r.at), r.at)
        else:
            completed.add(key)
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, first in started.items():
        if start <= first < end:
            counts = weeks[iso_week(first, tz)]
            counts[0] += 1
            counts[1] += key in completed
    return [{"week": w, "started": s, "completed": c, "rate": _rate(c, s)} for w, (s, c) in sorted(weeks.items())]


def nps(engine: Engine, site: str, start: float, end: float, tz: tzinfo | None = None,
        segment: Segment = EVERYONE) -> dict:
    """NPS of the survey answers in the range (``segment``'s people), per week, with the comments (newest first)."""
    q = select(events.c.at, events.c.props).where(events.c.site == site, events.c.type == "nps_answered",
                                                  events.c.at >= start, events.c.at < end,
                                                  *segment.on_events(events)).order_by(events.c.at)
    with engine.connect() as conn:
        answers = [(r.at, json.loads(r.props)) for r in conn.execute(q)]
    scores = [p["score"] for _, p in answers]
    by_week: dict[str, list[int]] = defaultdict(list)
    for at, p in answers:
        by_week[iso_week(at, tz)].append(p["score"])
    return {
        "score": nps_score(scores), "responses": len(scores),
        "promoters": sum(s >= 9 for s in scores), "passives": sum(7 <= s <= 8 for s in scores),
        "detractors": sum(s <= 6 for s in scores),
        "weeks": [{"week": w, "score": nps_score(s), "responses": len(s)} for w, s in sorted(by_week.items())],
        "comments": [{"score": p["score"], "comment": p["comment"], "at": at}
                     for at, p in reversed(answers) if p.get("comment")],
    }


def overview(engine: Engine, site: str, start: float, end: float, hints: Collection[str] = (),
             encoder_for_locale: Callable[[str], Any] = lambda _: None, minutes: float = 10.0,
             segment: Segment = EVERYONE) -> dict:
    """The headline numbers of the range. Chat figures count the questions asked in it
    (``outcomes.question_outcomes``: a re-ask within ``minutes``); tours started and completed
    leave out the ids in ``hints`` (a hint's ``tour_started`` is a hint shown, its ``tour_completed`` its OK)."""
    in_events = (events.c.site == site, events.c.at >= start, events.c.at < end, *segment.on_events(events))
    not_hints = (events.c.tour_id.not_in(list(hints)),) if hints else ()
    with engine.connect() as conn:
        users = conn.execute(select(func.count(events.c.user_id.distinct())).where(*in_events)).scalar_one()
        tours = dict(conn.execute(select(events.c.type, func.count()).where(
            *in_events, *not_hints, events.c.type.in_(("tour_started", "tour_completed"))).group_by(events.c.type)).all())
    chat = outcomes.tally(outcomes.question_outcomes(engine, site, start, end, encoder_for_locale, minutes,
                                                     segment=segment))
    cohorts = onboarding(engine, site, start, end, segment=segment)
    return {
        "users": users, "questions": chat["questions"], "answered": chat["answered"],
        "answered_rate": _rate(chat["answered"], chat["questions"]), "suggested": chat["suggested"],
        "no_answer": chat["no_answer"], "escalated": chat["escalated"],
        "resolution_rate": _rate(chat["confirmed"], chat["questions"]),
        "assumed_rate": _rate(chat["assumed"], chat["questions"]), "to_work_on": chat["unresolved"],
        "ratings": chat["up"] + chat["down"], "helpful_rate": _rate(chat["up"], chat["up"] + chat["down"]),
        "onboarding_rate": _rate(sum(c["completed"] for c in cohorts), sum(c["started"] for c in cohorts)),
        "nps": nps(engine, site, start, end, segment=segment)["score"],
        "tours_started": tours.get("tour_started", 0), "tours_completed": tours.get("tour_completed", 0),
    }

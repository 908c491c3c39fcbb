"""One person as the review desk shows them: whether the site knows them at all, and their profile
(identified traits and locale, questions, tour progress). People are their stored pseudonyms; the
desk's user search pseudonymises the app's own id first (``privacy.person``), as ingest does."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db.schema import PERSONAL, questions, tour_progress, user_traits

QUESTIONS = 200  # the newest of one person's questions


def known(engine: Engine, site: str, user: str) -> bool:
    """Whether any personal table holds a row of ``user`` on ``site``."""
    with engine.connect() as conn:
        return any(conn.execute(select(t.c.user_id).where(t.c.site == site, t.c.user_id == user).limit(1)).first()
                   for t in PERSONAL.values() if "site" in t.c and "user_id" in t.c)


def profile(engine: Engine, site: str, user: str) -> dict:
    """Traits and locale (as identify last set them), the newest questions with the FAQ given, tour progress."""
    with engine.connect() as conn:
        traits = conn.execute(select(user_traits.c.traits, user_traits.c.locale).where(
            user_traits.c.site == site, user_traits.c.user_id == user)).one_or_none()
        asked = conn.execute(select(questions).where(questions.c.site == site, questions.c.user_id == user)
                             .order_by(questions.c.created_at.desc()).limit(QUESTIONS)).all()
        tours = conn.execute(select(tour_progress).where(tour_progress.c.site == site, tour_progress.c.user_id == user)
                             .order_by(tour_progress.c.updated_at.desc())).all()
    return {
        "user": user, "traits": json.loads(traits.traits) if traits else {}, "locale": traits.locale if traits else None,
        "questions": [{"at": q.created_at, "question": q.question, "outcome": q.outcome, "faq_id": q.top_faq_id,
                       "locale": q.locale, "tour": q.tour_id, "step": q.step_id} for q in asked],
        "tours": [{"tour": p.tour_id, "version": p.version, "status": p.status, "step": p.step,
                   "updated_at": p.updated_at, "completed_at": p.completed_at} for p in tours],
    }

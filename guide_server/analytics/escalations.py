"""Escalations to support as the review desk lists them: newest first, with the question, the answer
given, the page, the tour step and the state of their delivery."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db.schema import escalations
from .segment import EVERYONE, Segment

LIMIT = 500  # the newest of a period; a longer list is asked for with a shorter period


def listing(engine: Engine, site: str, start: float, end: float, escalation_id: str | None = None,
            limit: int = LIMIT, segment: Segment = EVERYONE) -> list[dict]:
    """The escalations of ``site`` made in [start, end) by ``segment``'s people, newest first; or the one
    named, whenever it was made."""
    e = escalations.c
    q = select(escalations).where(e.site == site, *segment.on_users(escalations)).order_by(
        e.created_at.desc(), e.id).limit(limit)
    q = q.where(e.id == escalation_id) if escalation_id else q.where(e.created_at >= start, e.created_at < end)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [{
        "id": r.id, "at": r.created_at, "reason": r.reason, "message": r.message, "email": r.email,
        "user": r.user_id, "app_user": r.app_user, "anon": r.anon_id,
        "question_id": r.question_id, "question": r.question,
        "answer": {"faq_id": r.answer_faq_id, "title": r.answer_title, "url": r.answer_url} if r.answer_faq_id else None,
        "url": r.url, "tour_id": r.tour_id, "step_id": r.step_id,
        "delivery": r.delivery, "delivery_status": r.delivery_status, "attempts": r.attempts,
        "last_error": r.last_error, "delivered_at": r.delivered_at,
    } for r in rows]

"""The question log: every question asked with its outcome, and feedback on answers."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from ..db.schema import feedback, questions


def record_question(engine: Engine, **values) -> str:
    qid = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(insert(questions).values(id=qid, created_at=time.time(), **values))
    return qid


def question_site(engine: Engine, question_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(questions.c.site).where(questions.c.id == question_id)).scalar_one_or_none()


def record_feedback(engine: Engine, site: str, question_id: str, helpful: bool, comment: str | None) -> int:
    with engine.begin() as conn:
        result = conn.execute(insert(feedback).values(site=site, question_id=question_id, helpful=helpful,
                                                      comment=comment, created_at=time.time()))
        return int(result.inserted_primary_key[0])


def add_comment(engine: Engine, site: str, question_id: str, feedback_id: int, helpful: bool, comment: str) -> bool:
    """Adds ``comment`` to the feedback ``feedback_id`` (on this site and question, with this vote and no
    comment yet); False when there is no such feedback."""
    with engine.begin() as conn:
        result = conn.execute(update(feedback).where(
            feedback.c.id == feedback_id, feedback.c.site == site, feedback.c.question_id == question_id,
            feedback.c.helpful == helpful, feedback.c.comment.is_(None)).values(comment=comment))
        return result.rowcount == 1


def questions_by_id(engine: Engine, site: str, ids: list[str]) -> dict[str, str]:
    """The text of the questions with these ids on ``site`` (the review desk drafts FAQs from them)."""
    with engine.connect() as conn:
        return dict(conn.execute(select(questions.c.id, questions.c.question)
                                 .where(questions.c.site == site, questions.c.id.in_(ids))).all())


def question_wordings(engine: Engine, site: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The text and locale of the questions with these ids on ``site`` (the review desk teaches FAQs with them)."""
    with engine.connect() as conn:
        rows = conn.execute(select(questions.c.id, questions.c.question, questions.c.locale)
                            .where(questions.c.site == site, questions.c.id.in_(ids))).all()
    return {r.id: (r.question, r.locale) for r in rows}


def question_row(engine: Engine, site: str, question_id: str):
    """The stored question with this id on ``site`` (its text, locale, outcome, top FAQ and where it was
    asked), or None."""
    with engine.connect() as conn:
        return conn.execute(select(questions.c.id, questions.c.question, questions.c.locale, questions.c.outcome,
                                   questions.c.top_faq_id, questions.c.url, questions.c.tour_id, questions.c.step_id)
                            .where(questions.c.id == question_id, questions.c.site == site)).one_or_none()

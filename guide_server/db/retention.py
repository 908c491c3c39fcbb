"""The two deletions CS staff run by hand: ``guide purge`` (old rows) and ``guide forget-user`` (one person)."""

from __future__ import annotations

import re
import time

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from .schema import PERSONAL, events, feedback, questions, tour_events


def purge(engine: Engine, older_than_s: float, now: float | None = None) -> dict[str, int]:
    """Delete events, questions (with their feedback), feedback and tour reports older than the cutoff."""
    cutoff = (time.time() if now is None else now) - older_than_s
    counts = {}
    with engine.begin() as conn:
        old_questions = select(questions.c.id).where(questions.c.created_at < cutoff)
        counts["feedback"] = conn.execute(delete(feedback).where(
            (feedback.c.created_at < cutoff) | feedback.c.question_id.in_(old_questions))).rowcount
        counts["questions"] = conn.execute(delete(questions).where(questions.c.created_at < cutoff)).rowcount
        counts["events"] = conn.execute(delete(events).where(events.c.received_at < cutoff)).rowcount
        counts["tour_events"] = conn.execute(delete(tour_events).where(tour_events.c.created_at < cutoff)).rowcount
    return counts


def forget(engine: Engine, site: str, stored_id: str) -> dict[str, int]:
    """Delete every row of one person (by stored pseudonym) on one site; returns counts per table."""
    counts = {}
    with engine.begin() as conn:
        theirs = select(questions.c.id).where(questions.c.site == site, questions.c.user_id == stored_id)
        counts["feedback"] = conn.execute(delete(feedback).where(feedback.c.question_id.in_(theirs))).rowcount
        for name, table in PERSONAL.items():
            counts[name] = conn.execute(delete(table).where(table.c.site == site, table.c.user_id == stored_id)).rowcount
    return counts


_DURATION = re.compile(r"^\s*(\d+)\s*([dw])\s*$", re.I)


def parse_age(value: str) -> float:
    """``"180d"`` or ``"26w"`` -> seconds; at least one day."""
    m = _DURATION.match(value or "")
    if not m:
        raise ValueError(f"expected an age like 180d or 26w, got {value!r}")
    days = int(m.group(1)) * (7 if m.group(2).lower() == "w" else 1)
    if days < 1:
        raise ValueError(f"the age must be at least 1 day, like 180d; got {value!r}")
    return days * 86400.0

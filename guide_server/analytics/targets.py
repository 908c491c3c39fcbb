"""Broken targets: tour steps whose CSS selector found nothing on the page for many of the people
who reached them (a renamed button, a redesigned page), as ``/api/v1/health`` and the desk list them.

A person reached a step when the widget sent ``step_shown`` or ``target_missing`` for it; they
met a missing target when it sent ``target_missing`` (at most once per tab and step). People are
the stored ids, signed-in or anonymous, counted once each per step whatever the tour version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import case, distinct, func, select
from sqlalchemy.engine import Engine

from ..db.schema import events

REACHED_TYPES = ("step_shown", "target_missing")


def missing_targets(engine: Engine, sites: Iterable[str], start: float, end: float) -> list[dict]:
    """Per (site, tour, step) with a ``target_missing`` event whose time ``at`` is in ``[start, end)``:
    the people who met the missing target and the people who reached the step.

    One GROUP BY in the database (SQLite and PostgreSQL alike), so a polled caller fetches a row
    per step, not every event.
    """
    missing = func.count(distinct(case((events.c.type == "target_missing", events.c.user_id))))
    reached = func.count(distinct(events.c.user_id))
    q = (select(events.c.site, events.c.tour_id, events.c.step_id, missing.label("missing"), reached.label("reached"))
         .where(events.c.site.in_(list(sites)), events.c.at >= start, events.c.at < end,
                events.c.type.in_(REACHED_TYPES), events.c.tour_id.is_not(None), events.c.step_id.is_not(None))
         .group_by(events.c.site, events.c.tour_id, events.c.step_id)
         .having(missing > 0))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [{"site": r.site, "tour": r.tour_id, "step": r.step_id, "missing": r.missing, "reached": r.reached,
             "share": round(r.missing / r.reached, 4)} for r in rows]


def broken_targets(engine: Engine, sites: Iterable[str], start: float, end: float, alert_percent: float,
                   min_people: int, targets: Mapping[tuple[str, str], str | None] | None = None) -> list[dict]:
    """The steps where at least ``min_people`` met the missing target and they are at least
    ``alert_percent`` % of those who reached it, highest share first, each with its ``target``
    (the selector the content gives now, from ``targets``: (tour, step) -> selector)."""
    out = []
    for row in missing_targets(engine, sites, start, end):
        if row["missing"] >= min_people and row["missing"] * 100 >= alert_percent * row["reached"]:
            target = (targets or {}).get((row["tour"], row["step"]))
            out.append({"site": row["site"], "tour": row["tour"], "step": row["step"], "target": target,
                        "missing": row["missing"], "reached": row["reached"], "share": row["share"]})
    out.sort(key=lambda r: (-r["share"], -r["missing"], r["site"], r["tour"], r["step"]))
    return out

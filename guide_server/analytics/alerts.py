"""The alerts and digests sent to a site's CS team (``chat.alerts``), for the review desk: when,
what, by which channel, and how their sending went. Targets (URLs, addresses) are left out: a
Slack hook's URL is its secret."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..db.schema import alerts

MAX_LISTED = 500


def listing(engine: Engine, site: str, start: float, end: float) -> list[dict]:
    """The site's alerts stored in the range, newest first (at most MAX_LISTED)."""
    c = alerts.c
    query = (select(c.created_at, c.kind, c.channel, c.status, c.attempts, c.last_error, c.delivered_at)
             .where(c.site == site, c.created_at >= start, c.created_at < end)
             .order_by(c.created_at.desc()).limit(MAX_LISTED))
    with engine.connect() as conn:
        return [{"at": r.created_at, "kind": r.kind, "channel": r.channel, "status": r.status, "attempts": r.attempts,
                 "last_error": r.last_error or "", "delivered_at": r.delivered_at} for r in conn.execute(query)]

"""Tour versions that cannot lie: what steps each ``version`` of a tour had, and a refusal when
they change under the same ``version``.

A tour's fingerprint is the sha256 of its kind and its step ids in order, not of their texts or
selectors: fixing a typo or a selector keeps the version (people keep their place in the tour),
while adding, removing, renaming or reordering steps needs a new ``version:``. The server records
each version it serves in ``tour_versions`` (``VersionBook``); a file whose steps changed under a
recorded version is a content error, served in its last good version, and ``index_builder.py
--check`` reports it against the same database (``check_against``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..content.rules import ContentError
from ..db.schema import tour_versions
from ..db.upsert import upsert
from .tours import Tour

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """One version of a tour as a server first served it."""

    tour: str
    version: int
    fingerprint: str
    steps: list[dict]  # [{"id": ..., "title": {locale: text} | None}] in order


def fingerprint(tour: Tour) -> str:
    """The sha256 of the tour's kind and ordered step ids (see the module's docstring)."""
    return hashlib.sha256(json.dumps([tour.kind, [s.id for s in tour.steps]]).encode()).hexdigest()


def step_record(tour: Tour) -> list[dict]:
    """The steps as ``tour_versions`` keeps them: ids and titles, in order."""
    return [{"id": s.id, "title": dict(s.title) if s.title else None} for s in tour.steps]


def read_recorded(engine: Engine) -> dict[tuple[str, int], Recorded]:
    """Every recorded version, by (tour id, version); raises SQLAlchemyError when the database fails."""
    with engine.connect() as conn:
        rows = conn.execute(select(tour_versions.c.tour_id, tour_versions.c.version, tour_versions.c.fingerprint,
                                   tour_versions.c.steps)).all()
    return {(r.tour_id, r.version): Recorded(r.tour_id, r.version, r.fingerprint, json.loads(r.steps)) for r in rows}


def conflicts(items: Iterable, recorded: dict[tuple[str, int], Recorded]) -> list[ContentError]:
    """A ContentError for each tour whose steps differ from those recorded for its version."""
    errors = []
    for tour in items:
        known = recorded.get((tour.id, tour.version)) if isinstance(tour, Tour) else None
        if known is None or known.fingerprint == fingerprint(tour):
            continue
        newest = max(v for t, v in recorded if t == tour.id)
        errors.append(ContentError(tour.path, tour.version_line, f"{tour.kind} {tour.id!r} version {tour.version}: "
                                   f"{_change(known, tour)}: raise `version:` to {newest + 1}"))
    return errors


def _change(known: Recorded, tour: Tour) -> str:
    was, now = ", ".join(s["id"] for s in known.steps), ", ".join(s.id for s in tour.steps)
    return f"steps were {was}; now {now}" if was != now else f"its kind changed (now {tour.kind})"


def record(engine: Engine, items: Iterable, now: float | None = None) -> None:
    """Record the served tours' versions: new ones are added, known ones get their titles and
    ``last_seen`` refreshed; a stored version with other steps is never overwritten."""
    now = time.time() if now is None else now
    with engine.begin() as conn:
        for tour in items:
            if not isinstance(tour, Tour) or tour.draft:
                continue
            upsert(conn, tour_versions, {"tour_id": tour.id, "version": tour.version},
                   {"fingerprint": fingerprint(tour), "steps": json.dumps(step_record(tour), ensure_ascii=False),
                    "first_seen": now, "last_seen": now}, keep_first=("first_seen",),
                   unless=lambda incoming: tour_versions.c.fingerprint != incoming["fingerprint"])


class VersionBook:
    """The server's memory of tour versions (``tour_versions``): the check its tour folder runs,
    and the record of what it serves. A database that fails costs the check, never the tours."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._recorded: dict[tuple[str, int], Recorded] = {}

    def check(self, items: list) -> list[ContentError]:
        try:
            self._recorded = read_recorded(self.engine)
        except SQLAlchemyError as exc:
            log.warning("tour versions not checked: the database failed (%s)", exc)
        return conflicts(items, self._recorded)

    def record(self, items: list) -> None:
        try:
            record(self.engine, items)
        except SQLAlchemyError as exc:
            log.warning("tour versions not recorded: the database failed (%s)", exc)


def check_against(database_url: str, items: list) -> tuple[list[ContentError], str | None]:
    """(conflicts, None), or ([], why nothing was compared): for ``index_builder.py --check``,
    which must not create a database or its tables."""
    from ..db.engine import missing_database, open_engine

    missing = missing_database(database_url)
    if missing:
        return [], missing
    engine = open_engine(database_url)
    try:
        recorded = read_recorded(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [], f"the database did not answer ({reason})"
    finally:
        engine.dispose()
    if not recorded:
        return [], "no tour version recorded yet (a server records them as it serves tours)"
    return conflicts(items, recorded), None

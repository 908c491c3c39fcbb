"""What each user did with tours and checklists: traits, progress per tour version, ticked tasks, events."""

from __future__ import annotations

import json
import time

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Engine

from ..db.schema import checklist_tasks, tour_events, tour_progress, user_traits
from ..db.upsert import upsert
from .targeting import Progress, Visitor


class TooManyTraits(Exception):
    def __init__(self, count: int):
        super().__init__(f"{count} traits")
        self.count = count


def save_traits(engine: Engine, site: str, user: str, changes: dict, locale: str | None, limit: int) -> dict:
    """Merge ``changes`` into the user's traits (``None`` removes one); returns them all."""
    now = time.time()
    with engine.begin() as conn:
        # Claim the row first: the write lock is then held across read-merge-write, so two
        # concurrent identify calls cannot lose each other's traits.
        upsert(conn, user_traits, {"site": site, "user_id": user}, {"traits": "{}", "updated_at": now},
               update_existing=False)
        where = (user_traits.c.site == site, user_traits.c.user_id == user)
        row = conn.execute(select(user_traits.c.traits, user_traits.c.locale).where(*where).with_for_update()).one()
        merged = {k: v for k, v in {**json.loads(row.traits), **changes}.items() if v is not None}
        if len(merged) > limit:
            raise TooManyTraits(len(merged))  # rolls the transaction back
        conn.execute(update(user_traits).where(*where).values(
            traits=json.dumps(merged, ensure_ascii=False), locale=locale or row.locale, updated_at=now))
    return merged


def load_visitor(engine: Engine, site: str, user: str, versions: dict[str, int]) -> Visitor:
    """Everything targeting needs about a known user; ``versions`` maps tour id to its current version."""
    with engine.connect() as conn:
        traits = conn.execute(select(user_traits.c.traits, user_traits.c.locale).where(
            user_traits.c.site == site, user_traits.c.user_id == user)).one_or_none()
        rows = conn.execute(select(tour_progress).where(
            tour_progress.c.site == site, tour_progress.c.user_id == user)).all()
        tasks = conn.execute(select(checklist_tasks.c.checklist_id, checklist_tasks.c.task_id).where(
            checklist_tasks.c.site == site, checklist_tasks.c.user_id == user)).all()
    visitor = Visitor(traits=json.loads(traits.traits) if traits else {}, locale=traits.locale if traits else None,
                      tasks_done={(t.checklist_id, t.task_id) for t in tasks})
    for row in rows:
        if row.completed_at is not None:
            visitor.completed.add(row.tour_id)
        if versions.get(row.tour_id) == row.version:
            visitor.progress[row.tour_id] = _progress(row)
    return visitor


def _progress(row) -> Progress:
    return Progress(row.status, row.step, row.version, row.completed_at is not None, row.updated_at)


def _older_save(incoming) -> object:
    """The stored row came later from the same tab than the incoming save: keep it."""
    stored, tab, seq = tour_progress.c, incoming["client_tab"], incoming["client_seq"]
    known = (stored.client_tab.is_not(None), stored.client_seq.is_not(None), tab.is_not(None), seq.is_not(None))
    return and_(*known, stored.client_tab == tab, stored.client_seq > seq)  # never NULL: saves without a tab apply


def save_progress(engine: Engine, site: str, user: str, tour: str, version: int, step: int, status: str,
                  tab: str | None = None, seq: int | None = None) -> Progress:
    """Store where the user is in a tour; returns what is stored afterwards. A save from a tab
    (``tab``, ``seq``) that arrives after a later save from the same tab changes nothing."""
    now = time.time()
    key = {"site": site, "user_id": user, "tour_id": tour, "version": version}
    values = {"status": status, "step": step, "updated_at": now, "completed_at": now if status == "completed" else None,
              "client_tab": tab, "client_seq": seq}
    with engine.begin() as conn:
        upsert(conn, tour_progress, key, values, keep_first=("completed_at",), unless=_older_save)
        row = conn.execute(select(tour_progress).where(*(tour_progress.c[k] == v for k, v in key.items()))).one()
    return _progress(row)


def mark_tasks(engine: Engine, site: str, user: str, pairs: list[tuple[str, str]]) -> None:
    """Record checklist tasks as done (a task once done stays done)."""
    if not pairs:
        return
    now = time.time()
    with engine.begin() as conn:
        for checklist, task in dict.fromkeys(pairs):
            upsert(conn, checklist_tasks, {"site": site, "user_id": user, "checklist_id": checklist, "task_id": task},
                   {"done_at": now}, update_existing=False)


def record_event(engine: Engine, site: str, user: str | None, tour: str, version: int, step_id: str,
                 action: str, url: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(tour_events).values(site=site, user_id=user, tour_id=tour, version=version, step_id=step_id,
                                                action=action, url=url, created_at=time.time()))

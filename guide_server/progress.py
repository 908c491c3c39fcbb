"""What each user did with tours and checklists: traits, progress per tour version, ticked tasks, events."""

from __future__ import annotations

import json
import time

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text, and_, func, insert, literal, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .store import metadata
from .targeting import Progress, Visitor

user_traits = Table(
    "user_traits", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("traits", Text, nullable=False),  # JSON object
    Column("locale", String(8)),
    Column("updated_at", Float, nullable=False),
)

tour_progress = Table(
    "tour_progress", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("tour_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
    # First completion; kept when the tour is restarted, so after/unless/checklists stay satisfied.
    Column("completed_at", Float),
    # Which browser tab wrote the row, and its running number of saves: concurrent requests may
    # arrive out of order, and a save older than the stored one from the same tab is dropped.
    Column("client_tab", String(64)),
    Column("client_seq", BigInteger),
)

checklist_tasks = Table(
    "checklist_tasks", metadata,
    Column("site", String(64), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("checklist_id", String(200), primary_key=True),
    Column("task_id", String(200), primary_key=True),
    Column("done_at", Float, nullable=False),
)

tour_events = Table(
    "tour_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False, index=True),
    Column("user_id", String(200)),
    Column("tour_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("step_id", String(200), nullable=False),
    Column("action", String(16), nullable=False),
    Column("url", Text),
    Column("created_at", Float, nullable=False, index=True),
)


class TooManyTraits(Exception):
    def __init__(self, count: int):
        super().__init__(f"{count} traits")
        self.count = count


def _upsert(conn: Connection, table: Table, key: dict, values: dict, keep_first: tuple[str, ...] = (),
            update_existing: bool = True, unless=None) -> None:
    """Insert a row or update it in one statement; ``keep_first`` columns keep a non-null old value.
    ``unless(incoming)``, given the incoming values as expressions, is a condition on the stored
    row under which it is left as it is."""
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is not None:
        stmt = dialect.insert(table).values(**key, **values)
        if not update_existing:
            conn.execute(stmt.on_conflict_do_nothing(index_elements=list(key)))
            return
        new = {c: func.coalesce(table.c[c], stmt.excluded[c]) if c in keep_first else stmt.excluded[c] for c in values}
        where = not_(unless(stmt.excluded)) if unless is not None else None
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=new, where=where))
        return
    try:  # other databases: try the insert in a savepoint, update on a clash
        with conn.begin_nested():
            conn.execute(insert(table).values(**key, **values))
    except IntegrityError:
        if update_existing:
            where = [table.c[k] == v for k, v in key.items()]
            if unless is not None:
                where.append(not_(unless({c: literal(v, table.c[c].type) for c, v in values.items()})))
            conn.execute(update(table).where(*where).values(
                {c: func.coalesce(table.c[c], v) if c in keep_first else v for c, v in values.items()}))


def save_traits(engine: Engine, site: str, user: str, changes: dict, locale: str | None, limit: int) -> dict:
    """Merge ``changes`` into the user's traits (``None`` removes one); returns them all."""
    now = time.time()
    with engine.begin() as conn:
        # Claim the row first: the write lock is then held across read-merge-write, so two
        # concurrent identify calls cannot lose each other's traits.
        _upsert(conn, user_traits, {"site": site, "user_id": user}, {"traits": "{}", "updated_at": now},
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
        _upsert(conn, tour_progress, key, values, keep_first=("completed_at",), unless=_older_save)
        row = conn.execute(select(tour_progress).where(*(tour_progress.c[k] == v for k, v in key.items()))).one()
    return _progress(row)


def mark_tasks(engine: Engine, site: str, user: str, pairs: list[tuple[str, str]]) -> None:
    """Record checklist tasks as done (a task once done stays done)."""
    if not pairs:
        return
    now = time.time()
    with engine.begin() as conn:
        for checklist, task in dict.fromkeys(pairs):
            _upsert(conn, checklist_tasks, {"site": site, "user_id": user, "checklist_id": checklist, "task_id": task},
                    {"done_at": now}, update_existing=False)


def record_event(engine: Engine, site: str, user: str | None, tour: str, version: int, step_id: str,
                 action: str, url: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(tour_events).values(site=site, user_id=user, tour_id=tour, version=version, step_id=step_id,
                                                action=action, url=url, created_at=time.time()))

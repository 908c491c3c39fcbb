"""One writer thread per process stores the event batches of every request thread, many batches
to a transaction (group commit).

A batch of 20 events costs a transaction and a WAL sync when each request thread writes its own,
and threads of two worker processes queue for SQLite's one write lock, sleeping in its busy
handler: about 2,000 events/s with seconds of p99. Here a request thread validates its batch,
hands it over and waits; the writer takes every batch waiting, writes their events with one
multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` and commits once, then tells each
thread what of its batch was stored. A response is sent only after its events are committed.

Overload and faults give a clear 503 with ``Retry-After``, never a hang: the queue is bounded
(``MAX_QUEUED`` batches), a thread waits at most ``wait`` seconds, and when the database refuses
a transaction (locked, read-only, gone), every batch waiting fails at once (they would meet the
same fault), so the widget sends them again later; nothing of a failed transaction is stored.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .. import metrics
from ..db.schema import events
from ..db.upsert import insert_unless_present
from ..guidance import surveys
from ..web.errors import ApiError, database_error

log = logging.getLogger(__name__)

MAX_QUEUED = 256  # batches waiting for the writer; past it a request gets 503 at once
MAX_ROWS = 2000  # events in one transaction
_DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}


def unavailable(retry_after: int = 2) -> ApiError:
    return ApiError("the events could not be stored now; send them again later", 503, "events_unavailable",
                    retry_after=retry_after)


@dataclass
class _Pending:
    site: str
    batch: object  # ingest.Batch
    now: float
    done: threading.Event = field(default_factory=threading.Event)
    result: dict | None = None
    error: ApiError | None = None


class EventWriter:
    def __init__(self, engine: Engine, wait: float = 2.0):
        self.engine = engine
        self.wait = wait
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def depth(self) -> int:
        return len(self._queue)

    def store(self, site: str, batch, now: float) -> dict:
        """Store ``batch``'s events (committed when this returns); raises ApiError 503."""
        if not batch.rows:  # every event refused: nothing to write
            return {"accepted": 0, "duplicates": 0, "rejected": batch.rejected}
        item = _Pending(site, batch, now)
        with self._cond:
            self._ensure_thread()
            if len(self._queue) >= MAX_QUEUED:
                metrics.count("guide_events_overload_total")
                raise unavailable(1)
            self._queue.append(item)
            self._cond.notify()
        if not item.done.wait(self.wait):
            # Still queued or being written: the widget sends it again; its ids make that harmless.
            raise unavailable()
        if item.error is not None:
            raise item.error
        return item.result

    # --- the writer thread -----------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's thread is not here
            self._thread, self._pid = None, os.getpid()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="guide-event-writer", daemon=True)
            self._thread.start()

    def _take(self) -> list[_Pending]:
        with self._cond:
            while not self._queue:
                self._cond.wait()
            group, rows = [], 0
            while self._queue and (not group or rows + len(self._queue[0].batch.rows) <= MAX_ROWS):
                item = self._queue.popleft()
                group.append(item)
                rows += len(item.batch.rows)
            return group

    def _run(self) -> None:
        while True:
            group = self._take()
            try:
                self._write(group)
            except Exception:  # the writer must outlive anything one group does
                log.exception("event writer")
                for item in group:
                    if not item.done.is_set():
                        item.error = unavailable()
                        item.done.set()

    def _write(self, group: list[_Pending]) -> None:
        try:
            with self.engine.begin() as conn:
                results = store_group(conn, [(p.site, p.batch, p.now) for p in group])
        except OperationalError as exc:
            # The database did not take the transaction (locked past its timeout, read-only, gone):
            # the batches waiting now would meet the same, so they are answered at once too.
            log.warning("events not stored (%d batches): %s", len(group), type(exc.orig or exc).__name__)
            metrics.count("guide_db_unavailable_total", n=1)
            with self._cond:
                waiting = list(self._queue)
                self._queue.clear()
            for item in group + waiting:
                item.error = unavailable()
                item.done.set()
            return
        except SQLAlchemyError as exc:
            if len(group) == 1:
                err = database_error(exc)  # a value the database refuses: 400, sending it again won't help
                if err is None or err.status >= 500:
                    log.exception("events not stored")
                    err = unavailable()
                group[0].error = err
                group[0].done.set()
                return
            for item in group:  # one batch's fault must not cost the others: each on its own
                self._write([item])
            return
        for item, result in zip(group, results):
            item.result = result
            metrics.count("guide_events_stored_total", n=result["accepted"])
            item.done.set()


def _rows(site: str, batch, now: float) -> list[dict]:
    return [{**row, "site": site, "user_id": batch.person, "session": batch.session, "received_at": now}
            for _, row in batch.rows]


def store_group(conn: Connection, group: list[tuple[str, object, float]]) -> list[dict]:
    """Store the events of several batches in the transaction of ``conn``; for each batch, the
    response body (accepted, duplicates, rejected). An event id already stored, or given twice,
    counts once (the first batch naming it)."""
    inserted = _insert_all(conn, [r for site, batch, now in group for r in _rows(site, batch, now)])
    results = []
    for site, batch, _ in group:
        accepted = duplicates = 0
        if batch.identified and batch.rows:
            surveys.note_seen(conn, site, batch.person, min(r["at"] for _, r in batch.rows))
        for _, row in batch.rows:
            key = (site, row["event_id"])
            if key not in inserted:
                duplicates += 1
                continue
            inserted.discard(key)
            accepted += 1
            if batch.identified and row["type"] in surveys.STATE_EVENTS:
                survey_id = json.loads(row["props"]).get("survey") or "nps"
                surveys.note_response(conn, site, batch.person, survey_id, row["type"], row["at"])
        results.append({"accepted": accepted, "duplicates": duplicates, "rejected": batch.rejected})
    return results


def _insert_all(conn: Connection, rows: list[dict]) -> set[tuple[str, str]]:
    """Insert the rows not stored yet; the (site, event_id) of those inserted."""
    dialect = _DIALECTS.get(conn.dialect.name)
    inserted: set[tuple[str, str]] = set()
    if not rows:
        return inserted
    if dialect is None:  # other databases: one row at a time
        for row in rows:
            if insert_unless_present(conn, events, row, ["site", "event_id"]):
                inserted.add((row["site"], row["event_id"]))
        return inserted
    columns = sorted({k for row in rows for k in row})
    stmt = (dialect.insert(events).on_conflict_do_nothing(index_elements=["site", "event_id"])
            .returning(events.c.site, events.c.event_id))
    # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues"),
    # from one cached statement
    result = conn.execute(stmt, [{c: row.get(c) for c in columns} for row in rows])
    inserted.update((site, event_id) for site, event_id in result)
    return inserted

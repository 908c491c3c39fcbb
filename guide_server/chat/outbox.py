"""Rows stored first and sent later, by one sender thread per process, with retries, across restarts
and across instances: escalations to a site's support (``delivery``) and alerts to its CS team
(``alerts``) share these rules and this code.

A row is due while its status is ``pending`` and ``next_attempt_at`` has passed. A sender claims a
due row with one conditional UPDATE that counts the attempt and moves ``next_attempt_at`` a lease
ahead, so two threads, workers or instances never send it at once; a sender that dies while sending
leaves the row to be claimed again when the lease ends (a receiver may then get it twice: the
delivery id names it). After an attempt the row is delivered (no error), due again after the next of
``delays``, or failed once those are used up.

The thread starts with the first request of a process (or the first row it stores), and after a fork
in the child; it sleeps until the next row is due, a new row wakes it, or every ``poll`` seconds for
rows that other processes left. ``stop()`` ends it (``Services.close``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import weakref
from importlib import metadata as package_metadata

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.engine import Engine

from .. import metrics

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # one request to a receiver
LEASE_S = 60.0  # a claimed row is kept from other senders this long (more than TIMEOUT_S)
POLL_S = 30.0  # longest sleep: rows of other processes, or left by one that died, are found this soon
BATCH = 20
_senders: weakref.WeakSet[Outbox] = weakref.WeakSet()


def user_agent() -> str:
    try:
        return f"guide/{package_metadata.version('guide')}"
    except package_metadata.PackageNotFoundError:
        return "guide/dev"


def signature(secret: str, body: bytes, at: int) -> str:
    """``X-Guide-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    mac = hmac.new(secret.encode(), str(at).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def signed_headers(event: str, delivery_id: str, secret: str | None, body: bytes) -> dict[str, str]:
    """The headers of a guide webhook request (no signature without a secret: a Slack hook)."""
    headers = {"Content-Type": "application/json", "User-Agent": user_agent(), "X-Guide-Event": event,
               "X-Guide-Delivery": delivery_id}
    if secret:
        headers["X-Guide-Signature"] = signature(secret, body, int(time.time()))
    return headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer that is not a 2xx: tried again later, never followed


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_S) -> None:
    """One POST; raises OSError (with a short reason) unless it got a 2xx."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(req, timeout=timeout) as resp:
            resp.read(65536)
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise OSError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(f"{type(exc.reason).__name__}: {exc.reason}"[:300]) from None
    except Exception as exc:  # a timeout, a reset, a broken HTTP answer, a URL it cannot send to
        raise OSError(f"{type(exc).__name__}: {exc}"[:300]) from None
    if not 200 <= status < 300:
        raise OSError(f"HTTP {status}")


class Outbox:
    """Sends the due rows of ``table`` (status in ``status``) one by one with ``deliver``; subclasses
    say what a row is (``what``), which rows are theirs (``scope``) and how one is sent."""

    what = "row"
    metric = "guide_outbox_deliveries_total"

    def __init__(self, engine: Engine, table: Table, status: str, delays: list[float],
                 timeout: float = TIMEOUT_S, poll: float = POLL_S, lease: float = LEASE_S):
        self.engine, self.table, self.status = engine, table, table.c[status]
        self.delays = list(delays)
        self.timeout, self.poll, self.lease = timeout, poll, max(lease, timeout + 1)
        self.max_attempts = len(self.delays) + 1
        self._fresh()
        _senders.add(self)

    # --- what a subclass says -----------------------------------------------------------------

    def active(self) -> bool:
        """Whether there is anything to send to at all (else the thread does not start)."""
        return True

    def scope(self):
        """A condition on the rows this sender sends (the sites it has a receiver for)."""
        return True

    def deliver(self, row) -> None:
        """Send one claimed row; raise OSError with a short reason when it was not received."""
        raise NotImplementedError

    def tick(self) -> None:
        """Called on each turn of the thread, before the due rows are sent."""

    # --- the thread -----------------------------------------------------------------------------

    def _fresh(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def start(self) -> None:
        """Run the thread in this process, unless it runs, there is nothing to send to, or it was stopped."""
        if self._pid != os.getpid():
            self._fresh()
        if not self.active() or self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"guide-{self.what}s", daemon=True)
                self._thread.start()

    def notify(self) -> None:
        """A new row is stored: send it now (the thread starts if it has not)."""
        self.start()
        self._wake.set()

    def stop(self, wait: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
                self.run_once()
                pause = self._until_due()
            except Exception as exc:  # the database away, a bug: the thread goes on, and tries again
                log.warning("%s sender: %s: %s", self.what, type(exc).__name__, str(exc)[:200])
                pause = min(self.poll, 5.0)
            self._wake.wait(pause)
            self._wake.clear()

    def _due(self, now: float):
        return and_(self.status == "pending", self.table.c.next_attempt_at <= now, self.scope())

    def _until_due(self) -> float:
        with self.engine.connect() as conn:
            first = conn.execute(select(func.min(self.table.c.next_attempt_at)).where(
                self.status == "pending", self.scope())).scalar()
        if first is None:
            return self.poll
        return min(self.poll, max(0.01, first - time.time()))

    def run_once(self, now: float | None = None) -> int:
        """Claim and send the rows due now; how many were tried."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            ids = conn.execute(select(self.table.c.id).where(self._due(now))
                               .order_by(self.table.c.next_attempt_at).limit(BATCH)).scalars().all()
        tried = 0
        for row_id in ids:
            if self._stop.is_set():
                break
            row = self._claim(row_id, now)
            if row is not None:
                self._attempt(row)
                tried += 1
        return tried

    def send_ids(self, ids: list[str]) -> list:
        """Send these rows now, in this thread (those due and not claimed by another sender): the rows after."""
        for row_id in ids:
            row = self._claim(row_id, time.time())
            if row is not None:
                self._attempt(row)
        with self.engine.connect() as conn:
            return conn.execute(select(self.table).where(self.table.c.id.in_(ids))).all()

    def _claim(self, row_id: str, now: float):
        """The row, counted as one more attempt and leased to this sender; None if another took it."""
        t = self.table
        with self.engine.begin() as conn:
            claimed = conn.execute(update(t).where(t.c.id == row_id, self._due(now))
                                   .values(attempts=t.c.attempts + 1, next_attempt_at=time.time() + self.lease))
            if claimed.rowcount != 1:
                return None
            return conn.execute(select(t).where(t.c.id == row_id)).one()

    def _attempt(self, row) -> None:
        try:
            self.deliver(row)
        except OSError as exc:
            error = str(exc) or type(exc).__name__
            done = row.attempts >= self.max_attempts
            values = {"last_error": error[:500], self.status.name: "failed" if done else "pending",
                      "next_attempt_at": None if done else time.time() + self.delays[row.attempts - 1]}
            metrics.count(self.metric, result="failed" if done else "retry")
            (log.error if done else log.warning)("%s %s of site %r, attempt %d of %d: %s", self.what, row.id,
                                                 row.site, row.attempts, self.max_attempts, error)
        else:
            values = {self.status.name: "delivered", "delivered_at": time.time(), "next_attempt_at": None,
                      "last_error": None}
            metrics.count(self.metric, result="delivered")
        with self.engine.begin() as conn:
            conn.execute(update(self.table).where(self.table.c.id == row.id, self.status == "pending").values(**values))


def _after_fork() -> None:
    for sender in list(_senders):
        sender._fresh()  # the parent's thread and locks are not this process's


os.register_at_fork(after_in_child=_after_fork)

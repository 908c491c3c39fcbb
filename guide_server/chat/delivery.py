"""Escalations to a site's webhook: stored first, then sent by one sender thread per process, with
retries, across restarts and across instances (docs/escalations.md).

A row is due while ``delivery_status`` is ``pending`` and ``next_attempt_at`` has passed. A sender
claims a due row with one conditional UPDATE that counts the attempt and moves ``next_attempt_at``
a lease ahead, so two threads, workers or instances never send it at once; a sender that dies while
sending leaves the row to be claimed again when the lease ends (a receiver may then get it twice:
``X-Guide-Delivery`` names it). After an attempt the row is delivered (a 2xx), due again after the
next delay of ``ESCALATION_RETRIES``, or failed once those are used up.

The thread starts with the first request of a process (or the first escalation it stores), and
after a fork in the child; it sleeps until the next row is due, a new escalation wakes it, or every
``poll`` seconds for rows that other processes left. ``stop()`` ends it (``Services.close``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import weakref
from importlib import metadata as package_metadata

from flask import Flask
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Engine

from .. import metrics
from ..db.schema import escalations
from ..web.context import services

log = logging.getLogger(__name__)

EVENT = "escalation.created"
TIMEOUT_S = 5.0  # one webhook request
LEASE_S = 60.0  # a claimed row is kept from other senders this long (more than TIMEOUT_S)
POLL_S = 30.0  # longest sleep: rows of other processes, or left by one that died, are found this soon
BATCH = 20
_KEY = "guide.escalation_sender"
_senders: weakref.WeakSet[EscalationSender] = weakref.WeakSet()


def store(engine: Engine, row: dict) -> None:
    with engine.begin() as conn:
        conn.execute(insert(escalations).values(**row))


def user_agent() -> str:
    try:
        return f"guide/{package_metadata.version('guide')}"
    except package_metadata.PackageNotFoundError:
        return "guide/dev"


# --- what is sent --------------------------------------------------------------------------------

def payload(row) -> dict:
    """The webhook's JSON body for a stored escalation (docs/escalations.md, "Payload")."""
    return {
        "id": row.id, "site": row.site, "created_at": row.created_at, "reason": row.reason, "message": row.message,
        "email": row.email, "user": row.app_user, "anon": row.anon_id,
        "question": {"id": row.question_id, "text": row.question} if row.question_id else None,
        "answer": ({"faq_id": row.answer_faq_id, "title": row.answer_title, "url": row.answer_url}
                   if row.answer_faq_id else None),
        "page": {"url": row.url},
        "tour": {"id": row.tour_id, "step": row.step_id} if row.tour_id else None,
        "desk_url": row.desk_url,
    }


def signature(secret: str, body: bytes, at: int) -> str:
    """``X-Guide-Signature``: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    mac = hmac.new(secret.encode(), str(at).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer that is not a 2xx: tried again later, never followed


_opener = urllib.request.build_opener(_NoRedirect)


def send(url: str, secret: str, row, timeout: float = TIMEOUT_S) -> None:
    """One signed POST of ``row`` to ``url``; raises OSError (with a short reason) unless it got a 2xx."""
    body = json.dumps(payload(row), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": user_agent(), "X-Guide-Event": EVENT,
               "X-Guide-Delivery": row.id, "X-Guide-Signature": signature(secret, body, int(time.time()))}
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


# --- the sender ------------------------------------------------------------------------------------

class EscalationSender:
    """Sends the due escalations of the sites that have a webhook (``{site: (url, secret)}``)."""

    def __init__(self, engine: Engine, hooks: dict[str, tuple[str, str]], delays: list[float],
                 timeout: float = TIMEOUT_S, poll: float = POLL_S, lease: float = LEASE_S):
        self.engine, self.hooks, self.delays = engine, hooks, list(delays)
        self.timeout, self.poll, self.lease = timeout, poll, max(lease, timeout + 1)
        self.max_attempts = len(self.delays) + 1
        self._fresh()
        _senders.add(self)

    def _fresh(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def start(self) -> None:
        """Run the thread in this process, unless it runs, there is no webhook, or it was stopped."""
        if self._pid != os.getpid():
            self._fresh()
        if not self.hooks or self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="guide-escalations", daemon=True)
                self._thread.start()

    def notify(self) -> None:
        """A new escalation is stored: send it now (the thread starts if it has not)."""
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
                self.run_once()
                pause = self._until_due()
            except Exception as exc:  # the database away, a bug: the thread goes on, and tries again
                log.warning("escalation sender: %s: %s", type(exc).__name__, str(exc)[:200])
                pause = min(self.poll, 5.0)
            self._wake.wait(pause)
            self._wake.clear()

    def _due(self, now: float):
        return and_(escalations.c.delivery_status == "pending", escalations.c.next_attempt_at <= now,
                    escalations.c.site.in_(list(self.hooks)))

    def _until_due(self) -> float:
        with self.engine.connect() as conn:
            first = conn.execute(select(func.min(escalations.c.next_attempt_at)).where(
                escalations.c.delivery_status == "pending", escalations.c.site.in_(list(self.hooks)))).scalar()
        if first is None:
            return self.poll
        return min(self.poll, max(0.01, first - time.time()))

    def run_once(self, now: float | None = None) -> int:
        """Claim and send the rows due now; how many were tried."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            ids = conn.execute(select(escalations.c.id).where(self._due(now))
                               .order_by(escalations.c.next_attempt_at).limit(BATCH)).scalars().all()
        tried = 0
        for escalation_id in ids:
            if self._stop.is_set():
                break
            row = self._claim(escalation_id, now)
            if row is not None:
                self._attempt(row)
                tried += 1
        return tried

    def _claim(self, escalation_id: str, now: float):
        """The row, counted as one more attempt and leased to this sender; None if another took it."""
        with self.engine.begin() as conn:
            claimed = conn.execute(update(escalations).where(escalations.c.id == escalation_id, self._due(now))
                                   .values(attempts=escalations.c.attempts + 1, next_attempt_at=time.time() + self.lease))
            if claimed.rowcount != 1:
                return None
            return conn.execute(select(escalations).where(escalations.c.id == escalation_id)).one()

    def _attempt(self, row) -> None:
        url, secret = self.hooks[row.site]
        try:
            send(url, secret, row, self.timeout)
        except OSError as exc:
            error = str(exc) or type(exc).__name__
            done = row.attempts >= self.max_attempts
            values = {"last_error": error[:500], "delivery_status": "failed" if done else "pending",
                      "next_attempt_at": None if done else time.time() + self.delays[row.attempts - 1]}
            metrics.count("guide_escalation_deliveries_total", result="failed" if done else "retry")
            (log.error if done else log.warning)("escalation %s to site %r's webhook, attempt %d of %d: %s",
                                                 row.id, row.site, row.attempts, self.max_attempts, error)
        else:
            values = {"delivery_status": "delivered", "delivered_at": time.time(), "next_attempt_at": None,
                      "last_error": None}
            metrics.count("guide_escalation_deliveries_total", result="delivered")
        with self.engine.begin() as conn:
            conn.execute(update(escalations).where(escalations.c.id == row.id,
                                                   escalations.c.delivery_status == "pending").values(**values))


def _after_fork() -> None:
    for sender in list(_senders):
        sender._fresh()  # the parent's thread and locks are not this process's


os.register_at_fork(after_in_child=_after_fork)


def sender(app: Flask) -> EscalationSender:
    """This app's sender (made on first use; its thread runs only when a site has a webhook)."""
    found = app.extensions.get(_KEY)
    if found is None:
        hooks = {key: (site["support_webhook"], site["support_secret"])
                 for key, site in app.config["SITES"].items() if site.get("support_webhook")}
        found = app.extensions.setdefault(_KEY, EscalationSender(services(app).db, hooks,
                                                                 app.config["ESCALATION_RETRIES"]))
        services(app).on_close(found.stop)
    return found


def start(app: Flask) -> None:
    """At a process's start (its first request, or a gunicorn worker's boot): pending rows of
    earlier runs are sent again."""
    if any(site.get("support_webhook") for site in app.config["SITES"].values()):
        sender(app).start()

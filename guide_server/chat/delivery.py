"""Escalations to a site's webhook: stored first, then sent by one sender thread per process, with
retries (``ESCALATION_RETRIES``), across restarts and across instances, by the rules of ``outbox``
(docs/escalations.md). ``X-Guide-Delivery`` names the escalation.
"""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from ..db.schema import escalations
from ..web.context import services
from . import outbox

EVENT = "escalation.created"
_KEY = "guide.escalation_sender"


def store(engine: Engine, row: dict) -> None:
    with engine.begin() as conn:
        conn.execute(insert(escalations).values(**row))


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


def send(url: str, secret: str, row, timeout: float = outbox.TIMEOUT_S) -> None:
    """One signed POST of ``row`` to ``url``; raises OSError (with a short reason) unless it got a 2xx."""
    body = json.dumps(payload(row), ensure_ascii=False, separators=(",", ":")).encode()
    outbox.post(url, body, outbox.signed_headers(EVENT, row.id, secret, body), timeout)


class EscalationSender(outbox.Outbox):
    """Sends the due escalations of the sites that have a webhook (``{site: (url, secret)}``)."""

    what = "escalation"
    metric = "guide_escalation_deliveries_total"

    def __init__(self, engine: Engine, hooks: dict[str, tuple[str, str]], delays: list[float], **timing):
        self.hooks = hooks
        super().__init__(engine, escalations, "delivery_status", delays, **timing)

    def active(self) -> bool:
        return bool(self.hooks)

    def scope(self):
        return escalations.c.site.in_(list(self.hooks))

    def deliver(self, row) -> None:
        url, secret = self.hooks[row.site]
        send(url, secret, row, self.timeout)


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

"""Alerts to a site's CS team (docs/alerts.md): ``escalation.created`` and ``feedback.negative`` at once,
and the digests that ``desk.digest`` writes, to the site's ``alerts`` webhook (guide's signed JSON, or
a Slack message) and its ``alerts_email`` addresses.

Each alert is stored first, one row per channel in the ``alerts`` table, then sent by the sender
thread by the rules of ``outbox`` (retries: ALERT_RETRIES). A 👎 waits FEEDBACK_ALERT_WAIT seconds
for the comment the widget asks for next: a comment in time is put into the waiting alert, which
goes at once; a later one is a second ``feedback.negative`` alert with the comment.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ..db.schema import alerts
from ..web.context import db, services, site_settings
from ..web.errors import describe_database_error
from . import mail, notices, outbox
from .notices import Line, Notice

log = logging.getLogger(__name__)

MAIL_TIMEOUT_S = 15.0  # one SMTP conversation, TLS included
_KEY = "guide.alert_sender"
_TICKS = "guide.alert_ticks"

WORDS = {
    "en": {"escalation.created": "Message to support", "feedback.negative": "👎 on an answer",
           "question": "Question", "answer": "Answer given", "page": "Page", "tour": "Tour / step",
           "message": "Message", "comment": "Comment", "reason": "Reason", "from": "From", "none": "(none)",
           "details": "Details", "desk": "Open on the review desk", "anon": "anonymous visitor"},
    "ja": {"escalation.created": "サポートへの問い合わせ", "feedback.negative": "回答に👎",
           "question": "質問", "answer": "表示した回答", "page": "ページ", "tour": "ツアー / ステップ",
           "message": "メッセージ", "comment": "コメント", "reason": "理由", "from": "送信者", "none": "(なし)",
           "details": "詳細", "desk": "レビューデスクで開く", "anon": "匿名の訪問者"},
}


# --- where a site's alerts go ---------------------------------------------------------------------

def channels(site: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The site's (channel, target) pairs: its ``alerts`` URL (webhook or slack), its e-mail addresses."""
    found = []
    if site.get("alerts"):
        found.append(("slack" if site["alerts_format"] == "slack" else "webhook", site["alerts"]))
    if site.get("alerts_email"):
        found.append(("email", ", ".join(site["alerts_email"])))
    return found


def locale_of(site: Mapping[str, Any], cfg: Mapping[str, Any]) -> str:
    return site.get("locale") or cfg["DEFAULT_LOCALE"]


def wanted(site: str) -> bool:
    """Whether ``site`` has somewhere to send alerts."""
    return bool(channels(site_settings(site)))


def desk_base() -> str:
    """The review desk's address for links: DESK_URL, else this request's server's /admin ("" outside a request)."""
    base = current_app.config["DESK_URL"].rstrip("/")
    if not base and has_request_context():
        base = request.host_url.rstrip("/") + "/admin"
    return base


def enqueue(engine: Engine, cfg: Mapping[str, Any], site: str, kind: str, notice: Notice,
            dedupe: str | None = None, due: float | None = None, only: set[str] | None = None) -> list[str] | None:
    """Store ``notice`` for each of the site's channels (or those in ``only``), due at ``due`` (now);
    the new rows' ids, or None when ``dedupe`` was stored before (by this process or another)."""
    now = time.time()
    targets = [(c, t) for c, t in channels(cfg["SITES"][site]) if only is None or c in only]
    laid_out = notices.bodies(notice, {c for c, _ in targets})
    rows = [{"id": uuid.uuid4().hex, "site": site, "created_at": now, "kind": kind, "channel": channel,
             "target": target, "dedupe": f"{dedupe}:{channel}" if dedupe else None,
             "body": json.dumps(laid_out[channel], ensure_ascii=False, separators=(",", ":")),
             "status": "pending", "attempts": 0, "next_attempt_at": now if due is None else due} for channel, target in targets]
    if not rows:
        return []
    try:
        with engine.begin() as conn:
            conn.execute(insert(alerts), rows)
    except IntegrityError:
        return None
    return [r["id"] for r in rows]


def stored(engine: Engine, dedupe: str) -> bool:
    """Whether the notification ``dedupe`` (for any channel) is stored already."""
    with engine.connect() as conn:
        return conn.execute(select(alerts.c.id).where(alerts.c.dedupe.like(f"{dedupe}:%")).limit(1)).first() is not None


# --- the alerts sent at once ------------------------------------------------------------------------

def _short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_notice(kind: str, site: str, fields: dict, extra: dict, lines: list[Line]) -> Notice:
    """An alert about one question: what was asked, the answer given, where; ``extra`` is the event's
    own part of the JSON (``escalation`` or ``feedback``), ``lines`` its own lines."""
    cfg = current_app.config
    settings = site_settings(site)
    words = WORDS[locale_of(settings, cfg)]
    answer = ({"faq_id": fields["answer_faq_id"], "title": fields["answer_title"], "url": fields["answer_url"]}
              if fields.get("answer_faq_id") else None)
    data = {"event": kind, "site": site, "created_at": time.time(),
            "question": {"id": fields["question_id"], "text": fields["question"]} if fields.get("question_id") else None,
            "answer": answer, "page": {"url": fields.get("url")},
            "tour": {"id": fields["tour_id"], "step": fields.get("step_id")} if fields.get("tour_id") else None,
            "desk_url": fields.get("desk_url"), **extra}
    about = _short(fields.get("question") or extra.get("escalation", {}).get("message"))
    notice = Notice(f"[guide] {settings['name']}: {words[kind]}: {about}", data)
    details = [Line(f"{words['question']}: {_short(fields.get('question'), 300) or words['none']}")]
    details.append(Line(f"{words['answer']}: {_short(answer['title'] or answer['faq_id'], 150)}", answer["url"])
                   if answer else Line(f"{words['answer']}: {words['none']}"))
    if fields.get("url"):
        details.append(Line(f"{words['page']}: {_short(fields['url'], 300)}", fields["url"]))
    if fields.get("tour_id"):
        details.append(Line(f"{words['tour']}: {fields['tour_id']} / {fields.get('step_id') or '-'}"))
    notice.add(words[kind], lines)
    notice.add(words["details"], details)
    if fields.get("desk_url"):
        notice.link = Line(words["desk"], fields["desk_url"])
    return notice


def _never_fails(alert: Callable[..., None]) -> Callable[..., None]:
    """An alert that cannot be stored (the database busy) is logged and lost: the request that made
    it (an escalation stored already, a vote) still succeeds."""
    @functools.wraps(alert)
    def guarded(*args, **kwargs) -> None:
        try:
            alert(*args, **kwargs)
        except SQLAlchemyError as exc:
            log.warning("%s: alert not stored: %s", alert.__name__, describe_database_error(exc))

    return guarded


@_never_fails
def escalation_created(row: dict) -> None:
    """An escalation was stored: the site's CS team hears of it (whatever its delivery to support)."""
    site = row["site"]
    if not wanted(site):
        return
    words = WORDS[locale_of(site_settings(site), current_app.config)]
    who = row.get("app_user") or f"{words['anon']} {row.get('anon_id') or ''}".strip()
    extra = {"escalation": {"id": row["id"], "reason": row["reason"], "message": row["message"], "email": row["email"],
                            "user": row["app_user"], "anon": row["anon_id"], "delivery": row["delivery"]}}
    lines = [Line(f"{words['message']}: {_short(row['message'], 1000)}"),
             Line(f"{words['from']}: {who}" + (f" <{row['email']}>" if row.get("email") else "")),
             Line(f"{words['reason']}: {row['reason']}")]
    notice = event_notice("escalation.created", site, row, extra, lines)
    if enqueue(db(), current_app.config, site, "escalation.created", notice, f"escalation:{row['id']}"):
        sender(current_app._get_current_object()).notify()


@_never_fails
def negative_feedback(site: str, question, answer: dict, feedback_id: int, comment: str | None,
                      comment_only: bool = False) -> None:
    """A 👎 (``comment_only``: the comment of an earlier one): its alert, or the comment put into it."""
    cfg = current_app.config
    words = WORDS[locale_of(site_settings(site), cfg)]
    fields = {"question_id": question.id, "question": question.question, "url": question.url,
              "tour_id": question.tour_id, "step_id": question.step_id, **answer,
              "desk_url": f"{desk_base()}/feedback?site={site}" if desk_base() else None}
    lines = [Line(f"{words['comment']}: {_short(comment, 1000)}")] if comment else []
    notice = event_notice("feedback.negative", site, fields, {"feedback": {"id": feedback_id, "comment": comment}}, lines)
    key = f"feedback:{site}:{feedback_id}"
    if comment_only:
        left = {c for c, _ in channels(site_settings(site))} - _put_comment(db(), key, notice)
        if left:
            enqueue(db(), cfg, site, "feedback.negative", notice, f"{key}:comment", only=left)
    else:
        enqueue(db(), cfg, site, "feedback.negative", notice, key, time.time() + (0 if comment else cfg["FEEDBACK_ALERT_WAIT"]))
    sender(current_app._get_current_object()).notify()


def _put_comment(engine: Engine, key: str, notice: Notice) -> set[str]:
    """The channels whose alert of this 👎 was still waiting (never tried): now with the comment, due now."""
    done = set()
    for channel, body in notices.bodies(notice, ("webhook", "slack", "email")).items():
        with engine.begin() as conn:
            changed = conn.execute(update(alerts).where(
                alerts.c.dedupe == f"{key}:{channel}", alerts.c.status == "pending", alerts.c.attempts == 0)
                .values(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), next_attempt_at=time.time()))
        if changed.rowcount:
            done.add(channel)
    return done


# --- the sender ---------------------------------------------------------------------------------------

class AlertSender(outbox.Outbox):
    """Sends the due alerts of the sites that have a channel; ``ticks`` run on each turn of its
    thread (the digests' clock, registered by the desk with ``on_tick``)."""

    what = "alert"
    metric = "guide_alert_deliveries_total"

    def __init__(self, engine: Engine, cfg: Mapping[str, Any], **timing):
        self.cfg = cfg
        self.sites = [key for key, site in cfg["SITES"].items() if channels(site)]
        self.ticks: list[Callable[[], None]] = []
        super().__init__(engine, alerts, "status", cfg["ALERT_RETRIES"], **timing)

    def active(self) -> bool:
        return bool(self.sites)

    def scope(self):
        return alerts.c.site.in_(self.sites)

    def tick(self) -> None:
        for tick in self.ticks:
            tick()

    def deliver(self, row) -> None:
        body = json.loads(row.body)
        if row.channel == "email":
            msg = mail.message(self.cfg["SMTP_FROM"], row.target.split(", "), body["subject"], body["text"],
                               body["html"], row.id)
            mail.send(self.cfg, msg, max(self.timeout, MAIL_TIMEOUT_S))
            return
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        secret = self.cfg["SITES"][row.site]["alerts_secret"] if row.channel == "webhook" else None
        outbox.post(row.target, raw, outbox.signed_headers(row.kind, row.id, secret, raw), self.timeout)


def on_tick(app: Flask, tick: Callable[[], None]) -> None:
    """Run ``tick`` on each turn of the alert sender's thread (before it is made)."""
    app.extensions.setdefault(_TICKS, []).append(tick)


def sender(app: Flask) -> AlertSender:
    """This app's alert sender (made on first use; its thread runs only when a site has a channel)."""
    found = app.extensions.get(_KEY)
    if found is None:
        made = AlertSender(services(app).db, app.config)
        made.ticks += app.extensions.get(_TICKS, [])
        found = app.extensions.setdefault(_KEY, made)
        services(app).on_close(found.stop)
    return found


def start(app: Flask) -> None:
    """At a process's start: alerts left pending are sent, and digests fall due."""
    if any(channels(site) for site in app.config["SITES"].values()):
        sender(app).start()

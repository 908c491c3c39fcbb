"""POST /api/v1/escalations: a visitor's message to the site's support, with what the server knows of
the conversation (the question, the answer it gave, the page, the tour step). docs/escalations.md.

The escalation is stored before anything else, so what was accepted is never lost; then, by the
site's ``support``: a webhook is called by the sender thread (``delivery``), after the response; a
``mailto:`` address comes back as a prefilled ``mailto:`` URL that the widget opens; with neither,
the escalation waits on the review desk. The question and the answer are read from the question
log, never taken from the request.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import current_app

from .. import metrics
from ..web import identity, inputs
from ..web.context import db, site_settings, stored_person
from ..web.errors import ApiError
from . import alerts, answers, delivery, store

REASONS = ("no_answer", "unhelpful", "other")
MAX_MESSAGE = 2000
MAX_EMAIL = 254
MAX_MAILTO = 1800  # characters of the whole mailto: URL; some mail clients and browsers cut longer ones
SUBJECT_WORDS = 40  # characters of the question (or the message) in the subject
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")

LABELS = {
    "en": {"message": "Message", "question": "Question asked", "answer": "Answer given", "page": "Page",
           "tour": "Tour / step", "user": "User", "anon": "Anonymous visitor", "email": "Reply to",
           "reason": "Reason", "id": "Escalation", "none": "(none)"},
    "ja": {"message": "お問い合わせ内容", "question": "質問", "answer": "表示した回答", "page": "ページ",
           "tour": "ツアー / ステップ", "user": "ユーザー", "anon": "匿名の訪問者", "email": "返信先",
           "reason": "理由", "id": "問い合わせID", "none": "(なし)"},
}


def create(payload: Any, site: str) -> dict[str, Any]:
    """Store one escalation for ``site`` and say how it goes on: the response body of the 201."""
    if not isinstance(payload, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_request")
    message = _message(payload.get("message"))
    reason = payload.get("reason") or "other"
    if reason not in REASONS:
        raise ApiError(f"'reason' must be one of {', '.join(REASONS)}", 400, "bad_reason")
    person = identity.person(site, payload.get("user"), identity.token_of(payload))
    anon = inputs.person_id(payload.get("anon"), "anon")
    email = _email(payload.get("email"), signed_in=person.user is not None)
    context = answers.parse_context(payload)
    question = _question(payload.get("question_id"), site)
    locale = question.pop("locale", None)
    settings = site_settings(site)
    kind = "webhook" if settings["support_webhook"] else "mailto" if settings["support"].startswith("mailto:") else "none"
    now = time.time()
    row = {
        "id": uuid.uuid4().hex, "site": site, "created_at": now,
        "user_id": stored_person(site, person.user, anon), "app_user": person.user,
        "anon_id": anon if person.user is None else None, "email": email, "message": message, "reason": reason,
        **question, **context, "delivery": kind,
        "delivery_status": "pending" if kind == "webhook" else "none", "attempts": 0,
        "next_attempt_at": now if kind == "webhook" else None,
    }
    row["desk_url"] = desk_url(site, row["id"])
    delivery.store(db(), row)  # stored before anything is sent: accepted is never lost
    alerts.escalation_created(row)  # the site's CS team hears of it too, whatever its delivery
    metrics.count("guide_escalations_total", delivery=kind)
    body: dict[str, Any] = {"id": row["id"], "delivery": kind, "mailto": None}
    if kind == "webhook":
        delivery.sender(current_app).notify()  # sent by the sender thread, after this response
    elif kind == "mailto":
        body["mailto"] = mailto_url(settings["support"], settings["name"], row, locale)
    return body


def _message(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_MESSAGE:
        raise ApiError(f"'message' must be text of 1 to {MAX_MESSAGE} characters", 400, "bad_message")
    if not inputs.storable(value):
        raise ApiError("'message' must not hold NUL or unpaired surrogate characters", 400, "bad_message")
    if not value.strip():
        raise ApiError("'message' is empty", 400, "empty_message")
    return value.strip()


def _email(value: Any, signed_in: bool) -> str | None:
    if value is None or value == "":
        return None
    if signed_in:
        raise ApiError("'email' is for anonymous visitors: a signed-in user is reached through their account", 400,
                       "bad_email")
    if (not isinstance(value, str) or len(value.strip()) > MAX_EMAIL or not _EMAIL.fullmatch(value.strip())
            or not inputs.storable(value)):
        raise ApiError(f"'email' must be an e-mail address of at most {MAX_EMAIL} characters", 400, "bad_email")
    return value.strip()


def _question(qid: Any, site: str) -> dict[str, Any]:
    """The question asked and the answer given, from the question log (a 404 for another site's)."""
    found = {"question_id": None, "question": None, "answer_faq_id": None, "answer_title": None, "answer_url": None}
    if qid is None or qid == "":
        return found
    if not isinstance(qid, str):
        raise ApiError("'question_id' must be the id returned by /ask", 400, "bad_question_id")
    row = store.question_row(db(), site, qid) if len(qid) <= 64 and inputs.storable(qid) else None
    if row is None:
        raise ApiError(f"no question {qid[:64]!r} on this site", 404, "unknown_question")
    found.update(question_id=row.id, question=row.question, locale=row.locale, **answers.answer_given(row, site))
    return found


def desk_url(site: str, escalation_id: str) -> str:
    return f"{alerts.desk_base()}/escalations?site={quote(site, safe='')}&id={escalation_id}"


# --- the prefilled e-mail ---------------------------------------------------------------------------

def _short(text: str | None, limit: int) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mailto_url(support: str, site_name: str, row: dict, locale: str | None = None,
               limit: int = MAX_MAILTO) -> str:
    """``support`` (a mailto: address) with a subject and a body describing the escalation, each
    percent-encoded (RFC 6068: UTF-8, CRLF line ends), at most ``limit`` characters: the message is
    cut first, then the whole body. Fields the site's address already carries (cc, bcc) are kept."""
    words = LABELS.get(locale or current_app.config["DEFAULT_LOCALE"], LABELS["en"])
    address, _, query = support[len("mailto:"):].partition("?")
    kept = "".join(f"{quote(k, safe='')}={quote(v, safe='')}&" for k, v in parse_qsl(query)
                   if k.lower() not in ("subject", "body"))
    subject = f"[guide] {_short(site_name, 30)}: {_short(row.get('question') or row['message'], SUBJECT_WORDS)}"
    details = []
    if row.get("question"):
        details.append(f"{words['question']}: {_short(row['question'], 300)}")
        answer = row.get("answer_title") or row.get("answer_faq_id")
        if answer:
            details.append(f"{words['answer']}: {_short(answer, 150)}"
                           + (f" <{_short(row['answer_url'], 300)}>" if row.get("answer_url") else ""))
        else:
            details.append(f"{words['answer']}: {words['none']}")
    if row.get("url"):
        details.append(f"{words['page']}: {_short(row['url'], 300)}")
    if row.get("tour_id"):
        details.append(f"{words['tour']}: {row['tour_id']} / {row.get('step_id') or '-'}")
    if row.get("app_user"):
        details.append(f"{words['user']}: {_short(row['app_user'], 200)}")
    elif row.get("anon_id"):
        details.append(f"{words['anon']}: {_short(row['anon_id'], 200)}")
    if row.get("email"):
        details.append(f"{words['email']}: {row['email']}")
    details.append(f"{words['reason']}: {row['reason']}")
    details.append(f"{words['id']}: {row['id']}")
    head = f"mailto:{address}?{kept}subject={quote(subject, safe='')}&body="
    tail = quote("\r\n\r\n-- \r\n" + "\r\n".join(details), safe="")
    room = limit - len(head) - len(tail)
    text = f"{words['message']}:\r\n" + row["message"].replace("\r\n", "\n").replace("\n", "\r\n")
    if room >= len(quote(text[:40], safe="")) + 20:  # the details whole, the message cut to the rest
        return head + _fit(text, room) + tail
    return head + _fit(text + "\r\n\r\n-- \r\n" + "\r\n".join(details), limit - len(head))


def _fit(text: str, room: int) -> str:
    """``text`` percent-encoded, cut (with "…") to at most ``room`` characters, never inside a character."""
    encoded = quote(text, safe="")
    if len(encoded) <= room:
        return encoded
    ellipsis = quote("…", safe="")
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix whose encoding fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if len(quote(text[:mid], safe="")) + len(ellipsis) <= room:
            lo = mid
        else:
            hi = mid - 1
    return quote(text[:lo], safe="") + ellipsis if room >= len(ellipsis) else ""

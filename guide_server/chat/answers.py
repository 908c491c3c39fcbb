"""Turns a question into the answer JSON both the HTTP API and the WebSocket send."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics, privacy
from ..content.rules import LOCALES
from ..search.engine import Hit, Result, decide_outcome
from ..search.faq import Faq
from ..web import identity, inputs
from ..web.context import db, live_index, search, site_settings, stored_person
from ..web.errors import ApiError, describe_database_error
from . import alerts, extracts, store

log = logging.getLogger(__name__)

SNIPPET_CHARS = 160
MAX_COMMENT = 2000

NO_ANSWER_TEXT = {
    "ja": "申し訳ありません。この質問にお答えできる記事が見つかりませんでした。担当者にお問い合わせください。",
    "en": "Sorry, no help article answers this question. Please contact our support team.",
}
SUGGEST_TEXT = {
    "ja": "次の記事がお役に立つかもしれません。",
    "en": "These articles may help.",
}


def faq_url(faq: Faq, anchor: str | None = None, site: str | None = None) -> str:
    base = current_app.config["HELP_BASE_URL"].rstrip("/")
    if not base:
        base = request.host_url.rstrip("/") + "/help" if request else "/help"
    # A site's own FAQ is shown on /help only to a link that names that site.
    query = f"?site={site}" if faq.sites is not None and site else ""
    return f"{base}/{faq.id}{query}" + (f"#{anchor}" if anchor else "")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hit_json(hit: Hit, site: str | None, full: bool = False, question: str = "") -> dict[str, Any]:
    """One FAQ of an answer. With the ``question``: the sentences of its cited section that share the
    question's words (``extract``) and why it was found (``reason``)."""
    faq = hit.faq
    cited = extracts.cited_section(faq, hit.section)
    sec = faq.sections[cited] if cited is not None else None
    anchor = sec.anchor if sec and hit.section is not None else None  # no question, no section: the top
    body = {
        "id": faq.id,
        "title": faq.title,
        "category": faq.category,
        "locale": faq.locale,
        "url": faq_url(faq, anchor, site),
        "score": round(hit.score, 4),
        "snippet": snippet(sec.text if sec else ""),
        "steps": extracts.steps(faq, cited),
    }
    if question:
        body["extract"] = extracts.extract(question, sec.text, faq.locale, body["steps"]) if sec else None
        body["reason"] = extracts.reason(question, faq, faq.locale, search().term_weight(faq.locale))
    if full:
        body["section"] = {"anchor": anchor, "heading": sec.heading} if sec and anchor else None
        body["html"] = faq.html
        # only the related FAQs this site may see: a public FAQ may name a site's own
        body["related"] = [r for r in faq.related if search().faq(r, site) is not None]
    return body


def decide(result: Result) -> str:
    cfg = current_app.config
    return decide_outcome(result, cfg["SUGGEST_THRESHOLD"], cfg["ANSWER_THRESHOLD"])


def parse_question(payload: Any) -> tuple[str, str | None, dict[str, str | None]]:
    """Validate an ask payload: (question, locale or None, context: url, tour_id, step_id)."""
    if not isinstance(payload, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_request")
    question = payload.get("question")
    if not isinstance(question, str):
        raise ApiError("'question' must be a string", 400, "bad_question")
    limit = current_app.config["MAX_QUESTION_CHARS"]
    if len(question) > limit:
        raise ApiError(f"the question is longer than {limit} characters", 413, "question_too_long")
    if not inputs.storable(question):  # no keyboard types them: refused, as every other field
        raise ApiError("the question must not hold NUL or unpaired surrogate characters", 400, "bad_question")
    if not question.strip():
        raise ApiError("the question is empty", 400, "empty_question")
    locale = inputs.locale(payload.get("locale"))
    return question, locale, parse_context(payload)


def parse_context(payload: dict) -> dict[str, str | None]:
    """Where the widget was: ``context`` {url, tour_id, step_id}, each optional."""
    context = payload.get("context") or {}
    if not isinstance(context, dict):
        raise ApiError("'context' must be an object", 400, "bad_context")
    tour, step = context.get("tour_id"), context.get("step_id")
    return {
        "url": inputs.url(context.get("url"), "context.url"),
        "tour_id": None if tour is None else inputs.item_id(tour, "context.tour_id"),
        "step_id": None if step is None else inputs.step_id(step, "context.step_id"),
    }


def _asker(payload: dict, site: str) -> str | None:
    """The stored (pseudonymised) id of who asked: ``user`` if signed in, else the browser's ``anon`` id."""
    user = identity.person(site, payload.get("user"), identity.token_of(payload)).user
    return stored_person(site, user, inputs.person_id(payload.get("anon"), "anon"))


def ask(payload: Any, site: str, channel: str) -> dict[str, Any]:
    """Answer one question for ``site`` and store it with its outcome."""
    question, locale, context = parse_question(payload)
    asker = _asker(payload, site)
    live = live_index()
    engine = live.current()
    result = engine.search(question, locale=locale, k=10, site=site)
    outcome = decide(result)
    if outcome == "no_answer" and locale is None and result.locale == "en":
        # Latin script alone is weak evidence: Japanese users type "CSV", "API token" or a product
        # name too, so such a question is tried against the Japanese FAQs as well. Kana or kanji
        # decide Japanese reliably, so a Japanese question is not sent to the English FAQs.
        for other in LOCALES:
            if other != result.locale and other in engine.indexes:
                alt = engine.search(question, locale=other, k=10, site=site)
                alt_outcome = decide(alt)
                if alt.answerable > result.answerable and alt_outcome != "no_answer":
                    result, outcome = alt, alt_outcome
    ui_locale = locale or result.locale
    top = result.hits[0] if result.hits else None
    metrics.count("guide_chat_answers_total", outcome=outcome, channel=channel)
    qid = _log_question(
        site=site, channel=channel, locale=result.locale,
        question=privacy.mask(question), outcome=outcome, top_faq_id=top.faq.id if top else None,
        confidence=float(result.confidence), url=privacy.mask(context["url"]), tour_id=context["tour_id"],
        step_id=context["step_id"], user_id=asker, build_id=live.build_name)
    body: dict[str, Any] = {
        "question_id": qid,
        "outcome": outcome,
        "locale": result.locale,
        "confidence": round(result.confidence, 4),
        "answerable": round(result.answerable, 4),
        "answer": None,
        "suggestions": [],
    }
    shown = current_app.config["SUGGESTIONS"]
    if outcome == "answered":
        body["answer"] = hit_json(top, site, full=True, question=question)
        # beside an answer, an FAQ that shares none of the question's words is noise: on five help
        # centres it was the right FAQ 2 times in 146 (docs/search.md); unsure, they stay offered
        related = [hit_json(h, site, question=question) for h in result.hits[1:shown]]
        body["suggestions"] = [r for r in related if not extracts.meaning_only(r["reason"])]
    elif outcome == "suggested":
        body["message"] = SUGGEST_TEXT[ui_locale]
        body["suggestions"] = [hit_json(h, site, question=question) for h in result.hits[:shown]]
    else:
        body["message"] = NO_ANSWER_TEXT[ui_locale]
        body["escalation"] = {"support": site_settings(site)["support"] or None}
    return body


def _log_question(**values) -> str | None:
    """Store the question; its id, or None when the database refused it. The answer is computed
    already and needs no write, so a locked or read-only database costs the log entry (and the
    👍/👎 buttons, which need its id), not the answer."""
    try:
        return store.record_question(db(), **values)
    except SQLAlchemyError as exc:
        metrics.count("guide_questions_not_logged_total")
        # the question and the user are not in this line, nor in the exception's (hidden) parameters
        log.warning("question not logged, answered anyway: %s", describe_database_error(exc))
        return None


def answer_given(row, site: str) -> dict[str, str | None]:
    """The answer shown for a stored question (``store.question_row``): its FAQ's id, title and URL
    (all None when it had no answer: no_answer shows none; the title and URL when there is no index)."""
    if row.outcome == "no_answer" or not row.top_faq_id:
        return {"answer_faq_id": None, "answer_title": None, "answer_url": None}
    try:
        faq = search().faq(row.top_faq_id, site)
    except Exception:  # no index loaded: the FAQ's id alone
        faq = None
    return {"answer_faq_id": row.top_faq_id, "answer_title": faq.title if faq else None,
            "answer_url": faq_url(faq, site=site) if faq else None}


def feedback(payload: Any, site: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ApiError("the body must be a JSON object", 400, "bad_request")
    qid = payload.get("question_id")
    helpful = payload.get("helpful")
    comment = payload.get("comment")
    if not isinstance(qid, str) or not qid:
        raise ApiError("'question_id' must be the id returned by /ask", 400, "bad_question_id")
    if not isinstance(helpful, bool):
        raise ApiError("'helpful' must be true or false", 400, "bad_helpful")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise ApiError(f"'comment' must be a string of at most {MAX_COMMENT} characters", 400, "bad_comment")
    if comment is not None and not inputs.storable(comment):
        raise ApiError("'comment' must not hold NUL or unpaired surrogate characters", 400, "bad_comment")
    if len(qid) > 64 or not inputs.storable(qid) or store.question_site(db(), qid) != site:
        raise ApiError(f"no question {qid[:64]!r} on this site", 404, "unknown_question")
    earlier = payload.get("feedback_id")
    if earlier is not None:
        # the comment of a 👎 sent before: added to it, so that one vote stays one vote
        if isinstance(earlier, bool) or not isinstance(earlier, int) or not comment:
            raise ApiError("'feedback_id' must be the id of a feedback, sent with a 'comment'", 400, "bad_feedback_id")
        if not store.add_comment(db(), site, qid, earlier, helpful, privacy.mask(comment)):
            raise ApiError(f"no feedback {earlier} without a comment on this question", 404, "unknown_feedback")
        fid = earlier
    else:
        fid = store.record_feedback(db(), site, qid, helpful, privacy.mask(comment) or None)
    body: dict[str, Any] = {"feedback_id": fid, "ok": True}
    if not helpful:
        body["escalation"] = {"support": site_settings(site)["support"] or None}
    if not helpful and alerts.wanted(site):  # the site's CS team hears of it (docs/alerts.md)
        asked = store.question_row(db(), site, qid)
        alerts.negative_feedback(site, asked, answer_given(asked, site), fid, privacy.mask(comment) or None,
                                 comment_only=earlier is not None)
    return body

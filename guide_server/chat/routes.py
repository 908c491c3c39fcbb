"""The chat's JSON API under /api/v1: ask, feedback, escalations, search, and one FAQ (health: ``ops.health``)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..search.engine import Hit
from ..web import inputs
from ..web.context import search
from ..web.errors import ApiError
from ..web.sites import site_key
from . import alerts, answers, delivery, escalations

bp = Blueprint("api", __name__)


@bp.before_app_request
def _start_sender():
    """Escalations and alerts left pending by an earlier run (or another process) are sent again from
    the first request on; a gunicorn worker starts the senders at boot (ops.worker)."""
    delivery.start(current_app._get_current_object())
    alerts.start(current_app._get_current_object())


@bp.post("/api/v1/ask")
def ask():
    payload = inputs.json_body()
    return jsonify(answers.ask(payload, site_key(payload), "http"))


@bp.post("/api/v1/feedback")
def feedback():
    payload = inputs.json_body()
    return jsonify(answers.feedback(payload, site_key(payload))), 201


@bp.post("/api/v1/escalations")
def escalate():
    payload = inputs.json_body()
    return jsonify(escalations.create(payload, site_key(payload))), 201


@bp.get("/api/v1/search")
def search_faqs():
    site = site_key()
    q = request.args.get("q", "")
    locale = inputs.locale(request.args.get("locale"))
    try:
        k = int(request.args.get("k", 10))
    except ValueError:
        raise ApiError("'k' must be a whole number", 400, "bad_k") from None
    if not 1 <= k <= 50:
        raise ApiError("'k' must be between 1 and 50", 400, "bad_k")
    if len(q) > current_app.config["MAX_QUESTION_CHARS"]:
        raise ApiError("the query is too long", 413, "question_too_long")
    result = search().search(q, locale=locale, k=k, site=site)
    return jsonify({"query": q, "locale": result.locale, "confidence": round(result.confidence, 4),
                    "results": [answers.hit_json(h, site) for h in result.hits]})


@bp.get("/api/v1/faq/<faq_id>")
def faq(faq_id: str):
    site = site_key()
    found = search().faq(faq_id, site)
    if found is None:
        raise ApiError(f"no FAQ {faq_id[:200]!r}", 404, "unknown_faq")
    body = answers.hit_json(Hit(found, 0.0, {}), site, full=True)
    body.pop("score")
    body["questions"] = found.questions
    body["tags"] = found.tags
    body["sections"] = [{"anchor": s.anchor, "heading": s.heading} for s in found.sections if s.anchor]
    return jsonify(body)

"""The review desk's figures as JSON under /api/v1/admin/, for teams' own BI tools.

Authenticated with an admin API token (``guide create-admin-token NAME``) sent as
``Authorization: Bearer <token>``. Every endpoint takes ``site``, ``from`` and ``to`` (ISO dates,
inclusive, in ADMIN_TIMEZONE; default the last 30 days) and answers with the same numbers as the
desk's pages.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from ..web.context import db
from ..web.errors import ApiError
from . import auth
from . import figures as fig

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")


@bp.before_request
def _require_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    name = auth.token_name(db(), token.strip()) if scheme.lower() == "bearer" else None
    if name is None:
        err = ApiError("an admin API token is required: Authorization: Bearer <token> (guide create-admin-token NAME)",
                       401, "unauthorized")
        return jsonify(err.to_dict()), 401, {"WWW-Authenticate": 'Bearer realm="guide-admin"'}
    g.admin_token = name
    return None


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(q: fig.Query, **figures):
    return jsonify({**q.params(), **figures})


@bp.get("/overview")
def overview():
    q = fig.parse_query(request.args)
    return _answer(q, overview=fig.overview(q))


@bp.get("/funnels")
def funnels():
    q = fig.parse_query(request.args)
    return _answer(q, funnels=fig.funnels(q))


@bp.get("/stuck-points")
def stuck_points():
    q = fig.parse_query(request.args)
    limit = fig.int_param(request.args, "limit", 50, 1, 500)
    return _answer(q, stuck_points=fig.stuck_points(q, limit=limit))


@bp.get("/stuck-points/users")
def step_users():
    q = fig.parse_query(request.args)
    tour, version, step = fig.step_params(request.args)
    return _answer(q, tour=tour, version=version, step=step, users=fig.step_users(q, tour, version, step))


@bp.get("/users/<user>/timeline")
def timeline(user: str):
    q = fig.parse_query(request.args)
    if len(user) > fig.MAX_TEXT_PARAM:
        raise fig.bad("the user id is too long")
    return jsonify({"site": q.site, "user": user, "timeline": fig.user_timeline(q.site, user)})


@bp.get("/unanswered")
def unanswered():
    q = fig.parse_query(request.args)
    return _answer(q, groups=fig.unanswered(q))


@bp.get("/feedback")
def feedback():
    q = fig.parse_query(request.args)
    return _answer(q, faqs=fig.faq_feedback(q))


@bp.get("/onboarding")
def onboarding():
    q = fig.parse_query(request.args)
    return _answer(q, weeks=fig.onboarding(q))


@bp.get("/nps")
def nps():
    q = fig.parse_query(request.args)
    return _answer(q, nps=fig.nps(q))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    raise ApiError(f"no admin endpoint /api/v1/admin/{rest[:100]}", 404, "not_found")

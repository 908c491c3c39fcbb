"""The review desk's figures as JSON under /api/v1/admin/, for teams' own BI tools.

Authenticated with an admin API token (``guide create-admin-token NAME --sites a,b [--write]``) sent
as ``Authorization: Bearer <token>``. A token reads the sites it was given (403 ``forbidden_site``
for another) and writes only with ``--write`` (403 ``forbidden_role``); every request with a token is
in the audit log. Every figure takes ``site``, ``from`` and ``to`` (ISO dates, inclusive, in
ADMIN_TIMEZONE; default the last 30 days) and answers with the same numbers as the desk's pages.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request

from ..web.context import db
from ..web.errors import ApiError, error_response
from ..web.inputs import json_body
from . import auth
from . import figures as fig
from .drafts import DraftError
from .roles import CONTACT, WRITE
from .teach import after_teaching, propose_draft, teach_faq
from .web import audit, audit_refusal, authorize, needs

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")


@bp.before_request
def _require_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    access = auth.token_access(db(), token.strip()) if scheme.lower() == "bearer" else None
    if access is None:
        err = ApiError("an admin API token is required: Authorization: Bearer <token> (guide create-admin-token NAME)",
                       401, "unauthorized")
        return jsonify(err.to_dict()), 401, {"WWW-Authenticate": 'Bearer realm="guide-admin"'}
    g.desk_access = access
    return None


bp.before_request(authorize)  # after the token: what it may do (reads, or writes with --write)


@bp.errorhandler(ApiError)
def _refused(err: ApiError):
    audit_refusal(err)
    return error_response(err)


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    if "desk_access" in g and g.desk_access is not None:
        audit("token_used", site=g.get("desk_site"), method=request.method, path=request.path,
              status=response.status_code)
    return response


def _query() -> fig.Query:
    q = fig.parse_query(request.args, g.desk_access)
    g.desk_site = q.site
    return q


def _answer(q: fig.Query, **figures):
    return jsonify({**q.params(), **figures})


@bp.get("/overview")
def overview():
    q = _query()
    earlier = q.previous()
    return _answer(q, overview=fig.overview(q), previous={"from": earlier.first.isoformat(), "to": earlier.last.isoformat(),
                                                          "overview": fig.overview(earlier)})


@bp.get("/funnels")
def funnels():
    q = _query()
    return _answer(q, funnels=fig.funnels(q), hints=fig.hints(q))  # hints: not funnels, nobody has to click OK


@bp.get("/stuck-points")
def stuck_points():
    q = _query()
    limit = fig.int_param(request.args, "limit", 50, 1, 500)
    # broken_targets: the last TARGET_MISSING_HOURS, whatever from/to say (as on the desk's page)
    return _answer(q, stuck_points=fig.stuck_points(q, limit=limit), broken_targets=fig.broken_targets([q.site]))


@bp.get("/stuck-points/users")
def step_users():
    q = _query()
    tour, version, step = fig.step_params(request.args)
    dropped = fig.int_param(request.args, "dropped", 0, 0, 1) == 1
    return _answer(q, tour=tour, version=version, step=step, users=fig.step_users(q, tour, version, step, dropped))


@bp.get("/users/<user>/timeline")
def timeline(user: str):
    q = _query()
    if len(user) > fig.MAX_TEXT_PARAM:
        raise fig.bad("the user id is too long")
    # with the user page's profile: traits and locale, questions with the FAQ given, tour progress
    return jsonify({"site": q.site, **fig.user_profile(q.site, user), "timeline": fig.user_timeline(q.site, user)})


@bp.get("/unanswered")
def unanswered():
    """The questions to work on, grouped by meaning (the desk's page of that name)."""
    q = _query()
    return _answer(q, groups=fig.work_groups(q))


@bp.get("/questions")
def questions():
    """Every question of the period, newest first, with its outcome, what followed it and its resolution."""
    q = _query()
    return _answer(q, questions=[a.to_dict() for a in reversed(fig.question_outcomes(q))])


@bp.get("/feedback")
def feedback():
    q = _query()
    return _answer(q, faqs=fig.faq_feedback(q))


@bp.get("/onboarding")
def onboarding():
    q = _query()
    return _answer(q, weeks=fig.onboarding(q))


@bp.get("/nps")
def nps():
    q = _query()
    return _answer(q, nps=fig.nps(q))


@bp.get("/escalations")
@needs(CONTACT)
def escalations():
    """The site's escalations to support, newest first (``id``: one), and the period's alerts to its CS
    team with their delivery state, as the desk's page has both; a token made with --write."""
    q = _query()
    return _answer(q, escalations=fig.escalations(q, fig.text_param(request.args, "id", required=False)),
                   alerts=fig.alerts(q))


@bp.post("/drafts")
@needs(WRITE)
def drafts():
    """An FAQ draft from unanswered questions of a site, as the desk's form makes (a token with --write)."""
    body = json_body()
    site = fig.site_param(body, g.desk_access)
    g.desk_site = site
    ids = body.get("question_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise fig.bad("'question_ids' must be a list of question ids (from GET /api/v1/admin/unanswered)")
    fields = {k: body.get(k, "") for k in ("locale", "title", "slug")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise fig.bad("'locale', 'title' and 'slug' must be strings")
    try:
        where, n = propose_draft(site, fields["locale"], fields["slug"], fields["title"], ids, f"token {g.desk_access.name}")
    except DraftError as exc:
        raise ApiError(str(exc), exc.status, exc.code, exc.details or None) from None
    audit("draft", site=site, file=where, questions=n)
    return jsonify({"site": site, "path": where, "questions": n}), 201


@bp.post("/teach")
@needs(WRITE)
def teach():
    """Teach an FAQ the wordings of questions of a site, as the desk's "Answer with this FAQ" does
    (a token with --write); ``hash``, when given, must be the file's sha256 as last seen."""
    body = json_body()
    site = fig.site_param(body, g.desk_access)
    g.desk_site = site
    ids, faq_id, expected = body.get("question_ids"), body.get("faq_id"), body.get("hash")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise fig.bad("'question_ids' must be a list of question ids (from GET /api/v1/admin/unanswered)")
    if not isinstance(faq_id, str) or not faq_id or not (expected is None or isinstance(expected, str)):
        raise fig.bad("'faq_id' must be an FAQ's id, and 'hash' a string when given")
    taught = teach_faq(Path(current_app.config["CONTENT_DIR"]), site, faq_id, ids, expected)
    started = after_teaching(taught, site, f"token {g.desk_access.name}")
    return jsonify({"site": site, "faq_id": taught.faq_id, "file": taught.file, "added": taught.added,
                    "rebuilding": started})


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@needs("read")  # a 404 for every token, whatever the method
def unknown(rest: str):
    raise ApiError(f"no admin endpoint /api/v1/admin/{rest[:100]}", 404, "not_found")

"""The review desk's pages under /admin: overview, funnels, stuck points, unanswered, feedback, NPS.

Every page reads ``site``, ``from`` and ``to`` (see ``figures.parse_query``); every table on
a page is also a CSV download: the same URL with ``?format=csv&table=<name>``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from ..chat.store import questions_by_id
from ..web.context import db
from ..web.errors import ApiError
from . import figures as fig
from . import tables as tab
from .charts import funnel_svg, nps_svg
from .drafts import DraftError, DraftExists, suggest_slug, write_draft
from .figures import Query, bad
from .tables import TableData
from .web import current_admin, require_login, t, tv, web_hooks

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(require_login)  # first: an anonymous POST is refused before its CSRF token is even read
web_hooks(bp)

NAV = (("admin.overview", "nav.overview"), ("admin.funnels", "nav.funnels"), ("admin.stuck", "nav.stuck"),
       ("admin.unanswered", "nav.unanswered"), ("admin.feedback", "nav.feedback"),
       ("admin.onboarding", "nav.onboarding"), ("admin.nps", "nav.nps"))


@bp.app_template_global()
def csv_url(table: str) -> str:
    """This page's URL asking for one of its tables as CSV."""
    args = {k: v for k, v in request.args.items() if k not in ("format", "table")}
    if "admin_query" in g:  # the figures on the page, even when its dates were the defaults
        args.update(g.admin_query.params())
    return url_for(request.endpoint, **(request.view_args or {}), **args, format="csv", table=table)


def respond(template: str, q: Query, tables: list[TableData], **context):
    """The page, or with ``?format=csv`` one of its tables (``&table=``, default the first)."""
    g.admin_query = q
    fmt = request.args.get("format", "html")
    by_name = {t.name: t for t in tables}
    if fmt == "csv":
        name = request.args.get("table") or tables[0].name
        if name not in by_name:
            raise bad(f"no table {name[:50]!r} on this page; tables: {', '.join(by_name)}")
        return tab.csv_response(by_name[name], t, f"{name}-{q.site}-{q.first}-{q.last}", tv)
    if fmt != "html":
        raise bad("'format' must be html or csv")
    return render_template(template, q=q, tables=by_name, nav=NAV, admin=current_admin(),
                           sites=current_app.config["SITES"], **context)


@bp.get("/")
def overview():
    q = fig.parse_query(request.args)
    kpis = fig.overview(q)
    top = fig.stuck_points(q, limit=5)
    return respond("admin/overview.html", q, [tab.overview_table(kpis), _linked_stuck(q, top)], kpis=kpis)


@bp.get("/funnels")
def funnels():
    q = fig.parse_query(request.args)
    tours = fig.funnels(q)
    charts = [funnel_svg(f"funnel-{n}", f["tour"], f["version"], f["steps"], t) for n, f in enumerate(tours)]
    per_tour = [tab.funnel_table([f]) for f in tours]
    return respond("admin/funnels.html", q, [tab.funnel_table(tours)], tours=list(zip(tours, charts, per_tour)))


def _linked_stuck(q: Query, points: list[dict]) -> TableData:
    table = tab.stuck_table(points)
    for row in table.rows:
        row["_link:step"] = url_for("admin.step", **q.params(), tour=row["tour"], version=row["version"], step=row["step"])
    return table


@bp.get("/stuck")
def stuck():
    q = fig.parse_query(request.args)
    limit = fig.int_param(request.args, "limit", 50, 1, 500)
    points = fig.stuck_points(q, limit=limit)
    return respond("admin/stuck.html", q, [_linked_stuck(q, points)], points=points)


@bp.get("/step")
def step():
    q = fig.parse_query(request.args)
    tour, version, step_id = fig.step_params(request.args)
    point = next((p for p in fig.stuck_points(q, limit=10_000)
                  if p["tour"] == tour and p["version"] == version and p["step"] == step_id), None)
    users = tab.step_users_table(fig.step_users(q, tour, version, step_id), lambda k: t(f"col.signal_{k}"))
    for row in users.rows:
        row["_link:user"] = url_for("admin.user", **q.params(), user=row["user"])
    asked = tab.questions_table(point["questions"] if point else [])
    return respond("admin/step.html", q, [users, asked], point=point, tour=tour, version=version, step_id=step_id,
                   keep={"tour": tour, "version": version, "step": step_id})


@bp.get("/user")
def user():
    q = fig.parse_query(request.args)
    pseudonym = fig.text_param(request.args, "user")
    events = tab.timeline_table(fig.user_timeline(q.site, pseudonym))
    return respond("admin/user.html", q, [events], user=pseudonym, keep={"user": pseudonym})


@bp.get("/unanswered")
def unanswered():
    q = fig.parse_query(request.args)
    groups = fig.unanswered(q)
    for group in groups:
        group["slug"] = suggest_slug(group["label"])
    return respond("admin/unanswered.html", q, [tab.unanswered_table(groups)], groups=groups)


@bp.post("/unanswered/draft")
def draft():
    q = fig.parse_query(request.form)
    ids = [i for i in request.form.getlist("question_id") if i][:500]
    locale = request.form.get("locale", "")
    title = request.form.get("title", "")
    slug = request.form.get("slug", "").strip() or suggest_slug(title)
    found = questions_by_id(db(), q.site, ids)
    asked = [found[i] for i in ids if i in found]  # in the group's order
    try:
        path = write_draft(Path(current_app.config["CONTENT_DIR"]), locale, slug, title, asked, current_admin().name)
    except DraftExists as exc:
        raise ApiError(t("draft.exists", path=str(exc)), 409, "draft_exists") from None
    except DraftError as exc:
        raise bad(str(exc)) from None
    flash(t("draft.written", path=f"faq/{locale}/drafts/{path.name}", n=len(asked)))
    return redirect(url_for("admin.unanswered", **q.params()), 303)


@bp.get("/feedback")
def feedback():
    q = fig.parse_query(request.args)
    faqs = fig.faq_feedback(q)
    table = tab.feedback_table(faqs)
    for row in table.rows:
        row["_link:faq_id"] = url_for("help.help_page", faq_id=row["faq_id"])
    table.columns[0].link = True
    return respond("admin/feedback.html", q, [table, tab.feedback_comments_table(faqs)], faqs=faqs)


@bp.get("/onboarding")
def onboarding():
    q = fig.parse_query(request.args)
    return respond("admin/onboarding.html", q, [tab.onboarding_table(fig.onboarding(q))])


@bp.get("/nps")
def nps():
    q = fig.parse_query(request.args)
    data = fig.nps(q)
    chart = nps_svg("nps", data.get("weeks", []), t) if data.get("weeks") else None
    return respond("admin/nps.html", q, [tab.nps_weeks_table(data), tab.nps_comments_table(data)], data=data, chart=chart)


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):
    raise NotFound()

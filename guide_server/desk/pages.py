"""The review desk's pages under /admin: overview, funnels, stuck points, unanswered, feedback, NPS;
for editors and admins, the escalations to support; for admins, the accounts and tokens, and the audit log.

Every page of figures reads ``site``, ``from`` and ``to`` (see ``figures.parse_query``), and shows
only the sites the account is given; every table on a page is also a CSV download: the same URL
with ``?format=csv&table=<name>``. What each role may open is ``roles``; ``web.authorize`` checks it.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from ..content.rules import LOCALES
from ..web.context import db
from ..web.inputs import person_id
from . import audit as audit_log
from . import auth
from . import figures as fig
from . import tables as tab
from .banner import banner_context
from .charts import funnel_svg, nps_svg
from .drafts import suggest_slug
from .figures import Query, bad
from .roles import CONTACT, MANAGE, READ, WRITE
from .tables import TableData
from .web import audit, authorize, current_access, current_admin, needs, require_login, safe_next, t, tv, visible_sites, web_hooks

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(require_login)  # first: an anonymous POST is refused before its CSRF token is even read
bp.before_request(authorize)  # then the role: a viewer's POST is refused whatever it carries
web_hooks(bp)
bp.context_processor(banner_context)  # content errors and broken selectors, for editors and admins

NAV = (("admin.overview", "nav.overview"), ("admin.funnels", "nav.funnels"), ("admin.stuck", "nav.stuck"),
       ("admin.unanswered", "nav.unanswered"), ("admin.feedback", "nav.feedback"),
       ("admin.onboarding", "nav.onboarding"), ("admin.nps", "nav.nps"))
CONTACT_NAV = (("admin.escalations", "nav.escalations"),)
EDITOR_NAV = (("admin.tour_list", "nav.tours"),)  # desk/preview.py
ADMIN_NAV = (("admin.accounts", "nav.accounts"), ("admin.audit_page", "nav.audit"))


def query() -> Query:
    """This request's site and dates, for a site the account may see."""
    return fig.parse_query(request.args, current_access())


@bp.app_template_global()
def csv_url(table: str, **narrow) -> str:
    """This page's URL asking for one of its tables as CSV; ``narrow`` adds parameters that pick part
    of it (the funnels page: ``tour`` and ``version``)."""
    args = {k: v for k, v in request.args.items() if k not in ("format", "table")}
    if "admin_query" in g:  # the figures on the page, even when its dates were the defaults
        args.update(g.admin_query.params())
    # g.desk_page: a refused form re-renders its page under the form's URL (desk/teach.py)
    return url_for(g.get("desk_page") or request.endpoint, **(request.view_args or {}), **{**args, **narrow},
                   format="csv", table=table)


def respond(template: str, q: Query | None, tables: list[TableData], narrow: dict | None = None, **context):
    """The page, or with ``?format=csv`` one of its tables (``&table=``, default the first); each
    download is in the audit log. ``q`` is None on the pages about the desk itself (no site, no dates);
    ``narrow``, the parameters that picked part of the figures, also names the file."""
    if q is not None:
        g.admin_query = q
    fmt = request.args.get("format", "html")
    by_name = {t.name: t for t in tables}
    if fmt == "csv":
        name = request.args.get("table") or tables[0].name
        if name not in by_name:
            raise bad(f"no table {name[:50]!r} on this page; tables: {', '.join(by_name)}")
        period = {"from": q.first.isoformat(), "to": q.last.isoformat()} if q else {}
        audit("export", site=q.site if q else None, path=request.path, table=name, rows=len(by_name[name].rows),
              **period)
        page = "-".join([name, *(f"{k}-{v}" for k, v in (narrow or {}).items() if v is not None)])
        stem = f"{page}-{q.site}-{q.first}-{q.last}" if q else f"{page}-{date.today()}"
        return tab.csv_response(by_name[name], stem)
    if fmt != "html":
        raise bad("'format' must be html or csv")
    access = current_access()
    nav = NAV + (CONTACT_NAV if access.may(CONTACT) else ()) + (EDITOR_NAV if access.may(WRITE) else ()) + \
        (ADMIN_NAV if access.may(MANAGE) else ())
    return render_template(template, q=q, tables=by_name, nav=nav, admin=current_admin(), access=access,
                           sites=visible_sites(), trait_choices=fig.trait_choices(q.site) if q else [],
                           LOCALES=LOCALES, MAX_TRAITS=fig.MAX_TRAITS, **context)


@bp.get("/")
def overview():
    q = query()
    kpis = fig.overview(q)
    earlier = q.previous()  # the same number of days just before: each KPI card shows the change
    top = fig.stuck_points(q, limit=5)
    return respond("admin/overview.html", q, [tab.overview_table(kpis), _linked_stuck(q, top), tab.hints_table(fig.hints(q))],
                   kpis=kpis, minutes=_minutes(), earlier=earlier, before=fig.overview(earlier))


def _minutes() -> str:
    """RESOLUTION_MINUTES as the desk's texts say it (10, not 10.0)."""
    return f"{current_app.config['RESOLUTION_MINUTES']:g}"


@bp.get("/funnels")
def funnels():
    q = query()
    tour = fig.text_param(request.args, "tour", required=False)  # one tour's CSV (its link has these two)
    version = fig.int_param(request.args, "version", 0, 0, 10**6) or None
    tours = [f for f in fig.funnels(q) if (tour is None or f["tour"] == tour) and (version is None or f["version"] == version)]
    charts = [funnel_svg(f"funnel-{n}", f["tour"], f["version"], f["steps"], t) for n, f in enumerate(tours)]
    per_tour = [tab.funnel_table([f]) for f in tours]
    return respond("admin/funnels.html", q, [tab.funnel_table(tours)], narrow={"tour": tour, "version": version},
                   tours=list(zip(tours, charts, per_tour)))


def _linked_stuck(q: Query, points: list[dict]) -> TableData:
    table = tab.stuck_table(points)
    for row in table.rows:
        row["_link:step"] = url_for("admin.step", **q.params(), tour=row["tour"], version=row["version"], step=row["step"])
    return table


@bp.get("/stuck")
def stuck():
    q = query()
    limit = fig.int_param(request.args, "limit", 50, 1, 500)
    points = fig.stuck_points(q, limit=limit)
    broken = tab.broken_targets_table(fig.broken_targets([q.site]))  # the site asked for, which the account may see
    cfg = current_app.config
    return respond("admin/stuck.html", q, [_linked_stuck(q, points), broken], points=points,
                   broken_words={"hours": f"{cfg['TARGET_MISSING_HOURS']:g}", "alert": f"{cfg['TARGET_MISSING_ALERT']:g}",
                                 "min": cfg["TARGET_MISSING_MIN_PEOPLE"]})


@bp.get("/step")
def step():
    q = query()
    tour, version, step_id = fig.step_params(request.args)
    dropped = fig.int_param(request.args, "dropped", 0, 0, 1) == 1
    point = next((p for p in fig.stuck_points(q, limit=10_000)
                  if p["tour"] == tour and p["version"] == version and p["step"] == step_id), None)
    users = tab.step_users_table(fig.step_users(q, tour, version, step_id, dropped_only=dropped),
                                 lambda k: t(f"col.signal_{k}"), tv)
    for row in users.rows:
        row["_link:user"] = url_for("admin.user", **q.params(), user=row["user"])
    asked = tab.questions_table(point["questions"] if point else [])
    keep = {"tour": tour, "version": version, "step": step_id}
    title = fig.step_titles(q.site).get((tour, step_id))
    # each question asked here can be taught to an FAQ (desk/teach.py), newest first, one box each
    to_teach = [{"question_ids": [x["id"]], "examples": [x["question"]], "label": x["question"], "locale": x["locale"]}
                for x in sorted(point["questions"] if point else [], key=lambda x: -x["at"])]
    return respond("admin/step.html", q, [users, asked], narrow={"dropped": 1 if dropped else None}, point=point,
                   to_teach=to_teach,
                   tour=tour, version=version, step_id=step_id, step_name=f"{title} ({step_id})" if title else step_id,
                   dropped=dropped, keep={**keep, **({"dropped": 1} if dropped else {})},
                   switch_url=url_for("admin.step", **q.params(), **keep, **({} if dropped else {"dropped": 1})))


@bp.get("/user")
def user():
    q = query()
    pseudonym = fig.text_param(request.args, "user")
    profile = fig.user_profile(q.site, pseudonym)
    tables = [tab.timeline_table(fig.user_timeline(q.site, pseudonym)), tab.user_traits_table(profile),
              tab.user_questions_table(profile), tab.user_tours_table(profile)]
    return respond("admin/user.html", q, tables, user=pseudonym, profile=profile, keep={"user": pseudonym})


@bp.post("/user/find")
@needs(READ)  # a look-up, not a change: viewers may search too
def find_user():
    """The user search: the app's own id comes in a POST body (never in a URL an access log keeps),
    is pseudonymised as ingest does, and the answer is a redirect to that person's page."""
    q = fig.parse_query(request.form, current_access())
    app_id = person_id(request.form.get("app_id"), "app_id")
    if app_id is None:
        raise bad("'app_id' is required: the user id your app knows (or a browser's anonymous id)", "bad_app_id")
    anonymous = request.form.get("kind") == "anon"
    found = fig.find_person(q.site, app_id, anonymous)
    audit("find_user", site=q.site, found=found is not None, anonymous=anonymous, user=found)
    if found is None:
        flash(t("user.not_found", site=visible_sites()[q.site].get("name") or q.site))
        return redirect(safe_next(request.form.get("next")), 303)
    return redirect(url_for("admin.user", **q.params(), user=found), 303)


@bp.get("/unanswered")
def unanswered():
    """Questions to work on: every unresolved question, grouped by meaning, with what the bot did."""
    q = query()
    groups = fig.work_groups(q)
    for group in groups:
        group["slug"] = suggest_slug(group["label"], group["examples"])
    return respond("admin/unanswered.html", q, [tab.unanswered_table(groups)], groups=groups, minutes=_minutes())


@bp.get("/feedback")
def feedback():
    q = query()
    faqs = fig.faq_feedback(q)
    table = tab.feedback_table(faqs)
    for row in table.rows:
        if row["faq_id"]:
            row["_link:faq_id"] = url_for("help.help_page", faq_id=row["faq_id"])
    next(c for c in table.columns if c.key == "faq_id").link = True
    totals = {k: sum(f[k] for f in faqs) for k in ("shown", "up", "down")}
    return respond("admin/feedback.html", q, [table, tab.feedback_comments_table(faqs)], faqs=faqs, totals=totals)


@bp.get("/onboarding")
def onboarding():
    q = query()
    return respond("admin/onboarding.html", q, [tab.onboarding_table(fig.onboarding(q))])


@bp.get("/nps")
def nps():
    q = query()
    data = fig.nps(q)
    chart = nps_svg("nps", data.get("weeks", []), t) if data.get("weeks") else None
    return respond("admin/nps.html", q, [tab.nps_weeks_table(data), tab.nps_comments_table(data)], data=data, chart=chart)


@bp.get("/escalations")
@needs(CONTACT)
def escalations():
    q = query()
    escalation_id = fig.text_param(request.args, "id", required=False)
    items = fig.escalations(q, escalation_id)
    table = tab.escalations_table(items)
    for row, item in zip(table.rows, items):  # a row per escalation, in order
        if item["user"]:
            row["_link:who"] = url_for("admin.user", **q.params(), user=item["user"])
        if item["answer"]:
            row["_link:answer"] = item["answer"]["url"] or url_for("help.help_page", faq_id=item["answer"]["faq_id"])
    return respond("admin/escalations.html", q, [table, tab.alerts_table(fig.alerts(q))], items=items, one=escalation_id,
                   keep={"id": escalation_id} if escalation_id else None)


# --- the desk itself: accounts and tokens, the audit log (admins) -----------------------------------

@bp.get("/accounts")
@needs(MANAGE)
def accounts():
    return respond("admin/accounts.html", None, [tab.accounts_table(auth.admin_rows(db())),
                                                 tab.tokens_table(auth.token_rows(db()))])


@bp.get("/audit")
@needs(MANAGE)
def audit_page():
    action = request.args.get("action") or None
    if action is not None and action not in audit_log.ACTIONS:
        raise bad(f"'action' must be one of {', '.join(audit_log.ACTIONS)}")
    actor = fig.text_param(request.args, "actor", required=False)
    before = fig.int_param(request.args, "before", 0, 0) or None
    entries = audit_log.entries(db(), action=action, actor=actor, before=before)
    older = entries[-1]["id"] if len(entries) == audit_log.PAGE else None
    return respond("admin/audit.html", None, [tab.audit_table(entries)], actions=audit_log.ACTIONS, action=action,
                   actor=actor or "", older=older, newest=before is not None)


@bp.route("/<path:rest>", methods=["GET", "POST"])
@needs(READ)  # a 404 for everyone, whatever the method
def unknown(rest: str):
    raise NotFound()

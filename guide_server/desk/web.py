"""The review desk's web plumbing: login and logout, who is asking and what they may do, the audit
log's entries, the language switch, CSRF, HTML errors. Security headers: ``web.headers``."""

from __future__ import annotations

import hmac
import math
import secrets
import time
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from ..web.context import db
from ..web.errors import ApiError
from . import audit as audit_log
from . import auth
from .i18n import LANG_COOKIE, LANGS, current_lang, has, translate
from .roles import NEEDS, READ, WRITE, Access

bp = Blueprint("admin_session", __name__, url_prefix="/admin", static_folder="static")  # static: no login needed

CSRF_FIELD = "csrf_token"


def init_app(app: Flask) -> None:
    """Cookie policy from the settings, the login routes, and the hooks shared by every desk blueprint."""
    try:
        ZoneInfo(app.config["ADMIN_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"ADMIN_TIMEZONE: unknown time zone {app.config['ADMIN_TIMEZONE']!r} (use an IANA name such as Asia/Tokyo)") from None
    for name in ("ADMIN_SESSION_HOURS", "ADMIN_LOCKOUT_FAILURES", "ADMIN_LOCKOUT_MINUTES"):
        if app.config[name] < 1:
            raise ValueError(f"{name} must be at least 1")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["ADMIN_COOKIE_SECURE"])
    app.config["SESSION_COOKIE_NAME"] = "guide_admin"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["ADMIN_SESSION_HOURS"])
    if auth.default_secret_problem(app.config) and not app.testing:  # production refuses it: cli, gunicorn_conf
        app.logger.warning("SECRET_KEY is the default 'dev': set a long random value before using /admin")
    app.jinja_env.globals.update(t=t, tv=tv, csrf_token=csrf_token, lang=current_lang, LANGS=LANGS)
    app.jinja_env.filters.update(pct=fmt_pct, num=fmt_num, secs=fmt_secs, when=fmt_when)
    app.register_blueprint(bp)


def web_hooks(blueprint: Blueprint) -> None:
    """CSRF on every POST, HTML error pages and no caching, for a blueprint of desk pages."""
    blueprint.before_request(_check_csrf)
    blueprint.after_request(_no_store)
    blueprint.register_error_handler(HTTPException, _html_error)
    blueprint.register_error_handler(ApiError, _html_error)


# --- language ------------------------------------------------------------------------------------

def t(key: str, **values) -> str:
    return translate(key, current_lang(), **values)


def tv(value) -> str:
    """A value from the data (an outcome, a status) in words, when there are words for it."""
    if value is None:
        return ""
    return t(f"v.{value}") if has(f"v.{value}") else str(value)


@bp.get("/lang/<code>")
def switch_lang(code: str):
    if code not in LANGS:
        abort(404)
    response = redirect(safe_next(request.args.get("next")), 303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def safe_next(target: str | None) -> str:
    """Only a path inside the desk: never another host (``//evil``, ``/\\evil``) or scheme."""
    if target and target.startswith("/admin") and not target.startswith(("//", "/\\")) and "\\" not in target \
            and all(ord(c) > 31 for c in target):
        return target
    return url_for("admin.overview")


# --- CSRF ----------------------------------------------------------------------------------------

def csrf_token() -> str:
    """The session's form token, created on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    if not expected or not hmac.compare_digest(str(expected), sent):
        abort(400, description="csrf")
    return None


# --- login and logout ----------------------------------------------------------------------------

def client_ip() -> str:
    return request.remote_addr or "unknown"


def current_admin() -> auth.Admin | None:
    if "admin" not in g:
        g.admin = auth.session_admin(db(), session.get("sid"))
    return g.admin


def current_access() -> Access | None:
    """Who is asking: the API's token (set by ``api``), else the signed-in account, else None."""
    if "desk_access" not in g:
        admin = current_admin()
        g.desk_access = admin.access() if admin else None
    return g.desk_access


def visible_sites() -> dict[str, dict]:
    """The configured sites the current account or token may see, in the configuration's order."""
    sites = current_app.config["SITES"]
    access = current_access()
    return {key: sites[key] for key in access.visible(sites)} if access else {}


def require_login():
    """``before_request`` for pages: anonymous GETs go to the login form, anything else is refused."""
    if current_admin() is not None:
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("admin_session.login", next=request.full_path.rstrip("?")))
    abort(401)


def needs(permission: str):
    """Mark a view as needing ``permission`` (roles.READ, WRITE or MANAGE). Unmarked views need READ
    for GET and WRITE for any other method, so a form added later is not open to viewers."""
    def mark(view):
        view.desk_permission = permission
        return view
    return mark


def authorize():
    """``before_request`` after the login or token check: the view's permission for the asker's role."""
    view = current_app.view_functions.get(request.endpoint)
    default = READ if request.method in ("GET", "HEAD", "OPTIONS") else WRITE
    permission = getattr(view, "desk_permission", default)
    access = current_access()
    if not access.may(permission):
        raise ApiError(f"the role {access.role} may not do this: it needs {NEEDS[permission]} "
                       "(an admin changes roles with guide admins set-role)", 403, "forbidden_role",
                       {"role": access.role, "needs": NEEDS[permission]})
    return None


def audit(action: str, site: str | None = None, actor: str | None = None, **detail) -> None:
    """An entry in the audit log for the current request, by the current account or token."""
    access = current_access() if actor is None else None
    audit_log.record(db(), action, actor or (access.name if access else None), access.kind if access else "account",
                     site, client_ip(), **detail)


def audit_refusal(err: ApiError) -> None:
    """A 403 is worth an entry: someone tried a role's or a site's limits."""
    if err.status == 403 and current_access() is not None:
        audit("denied", site=(err.details or {}).get("site"), code=err.code, method=request.method, path=request.path)


@bp.route("/login", methods=["GET", "POST"])
def login():
    cfg = current_app.config
    if request.method == "GET":
        if current_admin() is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("admin/login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "")
    password = request.form.get("password", "")
    if len(name) > auth.MAX_NAME or len(password) > auth.MAX_PASSWORD:
        abort(400, description="too_long")
    window = cfg["ADMIN_LOCKOUT_MINUTES"] * 60
    until = auth.locked_until(db(), name, client_ip())
    if until is not None:
        audit("login_failed", actor=auth.normalise_name(name) or "-", reason="locked")
        return _locked(until)
    admin = auth.verify_password(db(), name, password) if name and password else None
    if admin is None:
        locked = auth.record_failure(db(), name, client_ip(), cfg["ADMIN_LOCKOUT_FAILURES"], window)
        audit("login_failed", actor=auth.normalise_name(name) or "-", reason="password", locked_now=locked)
        return render_template("admin/login.html", next=request.form.get("next", ""), failed=True, name=name), 401
    auth.clear_failures(db(), name)
    sid = auth.start_session(db(), admin, cfg["ADMIN_SESSION_HOURS"] * 3600)
    session.clear()  # a fresh session (and CSRF token) on every login: no fixation
    session.permanent = True
    session["sid"] = sid
    csrf_token()
    g.admin, g.desk_access = admin, admin.access()
    audit("login")
    return redirect(safe_next(request.form.get("next")), 303)


def _locked(until: float):
    minutes = max(1, math.ceil((until - time.time()) / 60))
    response = current_app.make_response(
        (render_template("admin/login.html", locked=minutes, next=request.form.get("next", "")), 429))
    response.headers["Retry-After"] = str(max(1, math.ceil(until - time.time())))
    return response


@bp.post("/logout")
def logout():
    if current_admin() is not None:
        audit("logout")
    auth.end_session(db(), session.get("sid"))
    session.clear()
    return redirect(url_for("admin_session.login"), 303)


# --- responses -----------------------------------------------------------------------------------

def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _html_error(exc):
    if isinstance(exc, ApiError):
        status, detail = exc.status, exc.message
        audit_refusal(exc)
    else:
        status, detail = exc.code or 500, exc.description
    known = {"csrf": "error.csrf", "too_long": "error.too_long"}
    if isinstance(exc, ApiError) and has(f"error.{exc.code}"):  # the desk's own refusals, in the reader's language
        message = refusal_text(exc)
    elif detail in known:
        message = t(known[detail])
    else:
        message = detail if isinstance(exc, ApiError) else t(f"error.{status}")
    # g.admin, not current_admin(): an error page must not query a database that may be the error
    return render_template("admin/error.html", status=status, message=message, admin=g.get("admin")), status


def refusal_text(err: ApiError) -> str:
    """What the desk says of a refusal: its words in the reader's language when the desk has them."""
    if has(f"error.{err.code}"):
        return t(f"error.{err.code}", **{k: tv(v) for k, v in (err.details or {}).items()})
    return err.message


# --- formatting (Jinja filters, also used for CSV cells) -----------------------------------------

def fmt_pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def fmt_num(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def fmt_secs(value) -> str:
    return "–" if value is None else f"{value:.1f} s"


def fmt_when(value) -> str:
    if value is None:
        return "–"
    from .figures import local_time

    return local_time(value).strftime("%Y-%m-%d %H:%M")


web_hooks(bp)

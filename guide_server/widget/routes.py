"""The widget script at /embed.js, and /demo: a small fake invoicing app with the widget installed."""

from __future__ import annotations

import re
import secrets
import string
import time

from flask import Blueprint, current_app, jsonify, make_response, render_template, request

from ..web import inputs
from ..web.context import services
from ..web.errors import ApiError
from ..web.identity import sign

# Short freshness, then a cheap revalidation (304) by ETag: customers' pages pick up a new widget
# within minutes without a versioned URL in their snippet.
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
# The demo runs under the strict policy we tell customers the widget supports (docs/embed.md).
DEMO_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
            "require-trusted-types-for 'script'; trusted-types guide")

bp = Blueprint("widget", __name__, template_folder="templates", static_folder="static/demo",
               static_url_path="/demo/assets")


@bp.get("/embed.js")
def embed_js():
    return _script(services().widget.served())


@bp.get("/embed/<name>.js")
def embed_part(name: str):
    """A part of the widget that embed.js loads when it first needs it (the help panel, the survey, ...)."""
    served = services().widget.served(name)
    if served is None:
        raise ApiError(f"no part {name[:40]!r} of the widget", 404, "unknown_part")
    return _script(served)


def _script(served):
    zipped = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(served.gzipped if zipped else served.minified, mimetype="text/javascript")
    response.set_etag(served.etag + ("-gz" if zipped else ""))
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # embeddable from pages with COEP
    response.vary.add("Accept-Encoding")
    if zipped:
        response.content_encoding = "gzip"
    return response.make_conditional(request)


# Who is signed in to the demo: its own server keeps the user and the plan in cookies, as a
# customer's app keeps its session, and signs them into each page it renders.
DEMO_USER, DEMO_PLAN = "guide_demo_user", "guide_demo_plan"
DEMO_PLANS = ("free", "pro")
_DEMO_USER = re.compile(r"demo-[a-z0-9]{8}")


def _demo_session(new_user: bool = False, plan: str | None = None) -> dict:
    """The demo's signed-in user, their plan and the token the widget needs (null when the demo site
    does not verify its users, e.g. a server that made it ``open``)."""
    user = request.cookies.get(DEMO_USER, "")
    if new_user or not _DEMO_USER.fullmatch(user):
        user = "demo-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    if plan not in DEMO_PLANS:
        plan = request.cookies.get(DEMO_PLAN) if request.cookies.get(DEMO_PLAN) in DEMO_PLANS else "free"
    site = current_app.config["SITES"].get("demo")
    token = None
    if site is not None and site["identity_secrets"]:
        claims = {"sub": user, "aud": "demo", "exp": int(time.time()) + 3600, "traits": {"plan": plan, "role": "admin"}}
        token = sign(claims, site["identity_secrets"][0])
    return {"user": user, "plan": plan, "token": token}


def _keep(response, session: dict):
    for name, value in ((DEMO_USER, session["user"]), (DEMO_PLAN, session["plan"])):
        response.set_cookie(name, value, max_age=365 * 86400, httponly=True, samesite="Lax", path="/demo")
    return response


@bp.get("/demo")
@bp.get("/demo/")
@bp.get("/demo/<path:page>")
def demo(page: str = ""):
    """Every page of the demo app is the same shell; its script renders the page for the URL. The
    page carries its user's token, signed as it is rendered (docs/embed.md, "Identity verification"),
    so that the app's script hands it to the widget before the widget asks for anything."""
    session = _demo_session()
    response = make_response(render_template("demo/index.html", session=session))
    response.headers["Content-Security-Policy"] = DEMO_CSP
    response.headers["Cache-Control"] = "no-store"  # the page holds a token
    return _keep(response, session)


@bp.post("/demo/session")
def demo_session():
    """The demo's settings: ``{"plan": "pro"}`` changes the signed-in user's plan, ``{"reset": true}``
    signs in a new user; answers the new ``{user, plan, token}``."""
    payload = inputs.json_body()
    plan = payload.get("plan")
    if plan is not None and plan not in DEMO_PLANS:
        raise ApiError(f"'plan' must be one of {', '.join(DEMO_PLANS)}", 400, "invalid_plan")
    session = _demo_session(new_user=payload.get("reset") is True, plan=plan)
    return _keep(jsonify(session), session)

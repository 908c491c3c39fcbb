"""The widget script at /embed.js, and /demo: a small fake invoicing app with the widget installed."""

from __future__ import annotations

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
    served = services().widget.served()
    zipped = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(served.gzipped if zipped else served.minified, mimetype="text/javascript")
    response.set_etag(served.etag + ("-gz" if zipped else ""))
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # embeddable from pages with COEP
    response.vary.add("Accept-Encoding")
    if zipped:
        response.content_encoding = "gzip"
    return response.make_conditional(request)


@bp.get("/demo")
@bp.get("/demo/")
@bp.get("/demo/<path:page>")
def demo(page: str = ""):
    """Every page of the demo app is the same shell; its script renders the page for the URL."""
    response = make_response(render_template("demo/index.html"))
    response.headers["Content-Security-Policy"] = DEMO_CSP
    return response


@bp.post("/demo/token")
def demo_token():
    """The demo app's own server: it signs who is signed in to the demo, as a customer's server does
    for its users (docs/embed.md, "Identity verification"). ``token`` is null when the demo site
    does not verify its users."""
    payload = inputs.json_body()
    user = inputs.person_id(payload.get("user"))
    if user is None:
        raise ApiError("'user' is required", 400, "missing_user")
    plan = payload.get("plan") if payload.get("plan") in ("free", "pro") else "free"
    site = current_app.config["SITES"].get("demo")
    if site is None or not site["identity_secrets"]:
        return jsonify({"token": None})
    claims = {"sub": user, "aud": "demo", "exp": int(time.time()) + 3600, "traits": {"plan": plan, "role": "admin"}}
    return jsonify({"token": sign(claims, site["identity_secrets"][0])})

"""The widget script at /embed.js, and /demo: a small fake invoicing app with the widget installed."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, request

from ..web.context import services

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

"""The widget script at /embed.js, and /demo: a small fake invoicing app with the widget installed."""

from __future__ import annotations

import gzip
import hashlib

import rjsmin
from flask import Blueprint, current_app, make_response, render_template, request

from . import REPO_ROOT

SCRIPT = REPO_ROOT / "embed.js"
# Short freshness, then a cheap revalidation (304) by ETag: customers' pages pick up a new widget
# within minutes without a versioned URL in their snippet.
CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
# The demo runs under the strict policy we tell customers the widget supports (docs/embed.md).
DEMO_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; object-src 'none'; frame-ancestors 'none'; "
            "require-trusted-types-for 'script'; trusted-types guide")

bp = Blueprint("embed", __name__, template_folder="templates", static_folder="static/demo",
               static_url_path="/demo/assets")


def minify(source: bytes) -> bytes:
    """The widget as browsers get it: comments and spaces removed (the ``/*!`` licence header kept)."""
    return rjsmin.jsmin(source.decode("utf-8"), keep_bang_comments=True).encode("utf-8")


def script() -> tuple[bytes, bytes, str]:
    """embed.js as served: minified, the same gzipped, and an ETag; minified again when the file changes."""
    stat = SCRIPT.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = current_app.extensions.get("guide.embed")
    if cached is None or cached[0] != stamp:
        raw = minify(SCRIPT.read_bytes())  # the repository keeps the readable source
        cached = (stamp, raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:24])
        current_app.extensions["guide.embed"] = cached
    return cached[1], cached[2], cached[3]


@bp.get("/embed.js")
def embed_js():
    raw, packed, etag = script()
    zipped = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(packed if zipped else raw, mimetype="text/javascript")
    response.set_etag(etag + ("-gz" if zipped else ""))
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

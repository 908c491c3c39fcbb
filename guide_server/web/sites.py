"""Customer sites: every public request names one, only known sites are served, and a browser
request is served only from that site's own origins.

The origin of a browser request is its ``Origin`` header, or, when a request carries none (a
beacon, some GETs), the scheme and host of its ``Referer``. A request with neither comes from no
web page (a server, curl): origins are a browser's protection and do not apply to it. The
server's own pages (/demo, /help) are always of an allowed origin. A request from another origin
is refused (403) before it is read further, whatever its content type: a ``text/plain`` POST, which
a browser sends without asking first, writes nothing from a foreign page. CORS headers name only
the request's own origin, and only when it is one of its site's.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request

from .errors import ApiError
from .identity import TOKEN_HEADER

log = logging.getLogger(__name__)


def site_key(payload: Any = None) -> str:
    """The site a request is for: JSON field ``site``, query ``?site=`` or header ``X-Guide-Site``;
    a 403 when the site is unknown or the request comes from a page not on the site's origins."""
    key = None
    if isinstance(payload, dict):
        key = payload.get("site")
    key = key or request.args.get("site") or request.headers.get("X-Guide-Site")
    if not key or not isinstance(key, str):
        raise ApiError("name the site: 'site' in the body, ?site= or the X-Guide-Site header", 400, "missing_site")
    if key not in current_app.config["SITES"]:
        raise ApiError(f"unknown site {key!r}", 403, "unknown_site")
    g.guide_site = key  # for the request log, and the CORS headers
    origin = request_origin()
    if origin is not None and not allowed_origin(origin, key):
        raise ApiError(f"this page's origin {origin} is not one of site {key!r}'s origins", 403, "origin_not_allowed")
    return key


def request_origin() -> str | None:
    """``scheme://host[:port]`` of the page that sent this request, or None (no web page)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin.rstrip("/")
    if origin == "null":  # a sandboxed frame, a file: page, a redirect across origins
        return "null"
    referer = request.headers.get("Referer")
    if referer:
        try:
            parts = urlsplit(referer)
        except ValueError:
            return "null"
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"
    return None


def own_origin() -> str:
    return request.host_url.rstrip("/")


def allowed_origin(origin: str | None, site: str | None) -> bool:
    """True when ``origin`` is this server's own, or one of ``site``'s origins."""
    if not origin:
        return False
    if origin == own_origin():
        return True
    found = current_app.config["SITES"].get(site) if site else None
    return found is not None and origin in found["origins"]


def register(app: Flask) -> None:
    for key, site in app.config["SITES"].items():
        if site["identity"] == "open" and not app.testing:
            log.warning("site %r believes any user id a browser sends (identity 'open'): anyone can act as any of "
                        "its users; give it identity_secrets (guide sites new %s) unless every caller is trusted",
                        key, key)
    @app.after_request
    def _cors(response):
        origin = request.headers.get("Origin")
        # the site this request named (set by site_key), else, for a preflight, the one it will name
        site = g.get("guide_site") or request.args.get("site") or request.headers.get("X-Guide-Site")
        if request.path.startswith("/api/") and origin and origin != own_origin() and allowed_origin(origin, site):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = f"Content-Type, X-Guide-Site, {TOKEN_HEADER}"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
            # the widget backs off as a 503 or 429 says, and a log line can be found by its id
            response.headers["Access-Control-Expose-Headers"] = "Retry-After, X-Request-Id"
        if request.path.startswith("/api/"):
            response.vary.add("Origin")
        return response

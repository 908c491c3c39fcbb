"""Customer sites: every public request names one, and only known sites are served."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request

from .errors import ApiError


def site_key(payload: Any = None) -> str:
    """The site a request is for: JSON field ``site``, query ``?site=`` or header ``X-Guide-Site``."""
    key = None
    if isinstance(payload, dict):
        key = payload.get("site")
    key = key or request.args.get("site") or request.headers.get("X-Guide-Site")
    if not key or not isinstance(key, str):
        raise ApiError("name the site: 'site' in the body, ?site= or the X-Guide-Site header", 400, "missing_site")
    if key not in current_app.config["SITES"]:
        raise ApiError(f"unknown site {key!r}", 403, "unknown_site")
    g.guide_site = key  # for the request log
    return key


def allowed_origin(origin: str | None, site: str | None = None) -> bool:
    if not origin:
        return False
    sites = current_app.config["SITES"]
    pool = [sites[site]] if site in sites else sites.values()
    return any(origin in s["origins"] or "*" in s["origins"] for s in pool)


def register(app: Flask) -> None:
    @app.after_request
    def _cors(response):
        origin = request.headers.get("Origin")
        if request.path.startswith("/api/") and allowed_origin(origin, request.args.get("site")):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Guide-Site"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
            # the widget backs off as a 503 or 429 says, and a log line can be found by its id
            response.headers["Access-Control-Expose-Headers"] = "Retry-After, X-Request-Id"
        return response

"""Every request gets an id, a ``Server-Timing`` header, a line in the request log and its place
in the figures of ``/metrics``.

The request log is the access log: one JSON object per request (``logs.JsonFormatter``) with the
request id, method, route, status, duration, site and response size. It never carries the query
string, a body, a question or a user id: only the route's pattern (``/api/v1/faq/<faq_id>``) and
the site key when it is one of the configured sites.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from .. import metrics
from . import metrics as scrape

log = logging.getLogger("guide.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _site(app: Flask) -> str | None:
    key = g.get("guide_site") or request.args.get("site") or request.headers.get("X-Guide-Site")
    return key if key in app.config["SITES"] else None


def register(app: Flask) -> None:
    @app.before_request
    def _start():
        g.guide_started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scrape.start_writer(app)

    @app.after_request
    def _finish(response):
        started = g.get("guide_started")
        if started is None:
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        response.headers["Server-Timing"] = f"app;dur={seconds * 1000:.2f}"
        response.headers["X-Request-Id"] = g.request_id
        metrics.count("guide_http_requests_total", route=route, method=request.method, status=response.status_code)
        metrics.observe("guide_http_request_duration_seconds", seconds, route=route)
        if route not in ("/livez", "/readyz", "/metrics") or response.status_code >= 400:
            log.info("%s %s %s %.1fms", request.method, route, response.status_code, seconds * 1000, extra={
                "request_id": g.request_id, "method": request.method, "route": route,
                "status": response.status_code, "duration_ms": round(seconds * 1000, 2),
                "site": _site(app), "bytes": response.calculate_content_length()})
        return response

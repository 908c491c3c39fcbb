"""Health, three ways:

- ``GET /livez``: the process is up and answering (a liveness probe: restart it when this fails).
- ``GET /readyz``: this process should get traffic: its search index is loaded (and verified), the
  database takes a write within its timeout, and it is not draining after SIGTERM. 503 otherwise,
  with ``Retry-After`` and the reasons (a readiness probe or load balancer health check).
- ``GET /api/v1/health``: what an operator reads: ``ok``, ``degraded`` (serving, with reasons:
  a broken build refused, an older build served, content errors, the database not answering)
  or ``unavailable`` (503: no index to answer from). ``content_errors`` lists every broken FAQ,
  tour and survey file (``web.problems``: file, line, message), each also a line of ``warnings``.
  ``warnings`` and ``broken_targets`` also name the tour steps whose selector finds nothing for
  many people (TARGET_MISSING_ALERT): a problem of a customer's page, not of this service, so the
  status and readiness stay as they are. ``calibration`` says per locale whether the answer
  decision uses models fitted to this help centre or the shipped ones, and why (too few FAQs).
"""

from __future__ import annotations

import threading
import time
import weakref

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..db.engine import write_problem
from ..desk import figures
from ..search.errors import IndexUnavailable
from ..web.context import live_index, services
from ..web.problems import content_problems
from . import lifecycle

bp = Blueprint("health", __name__)
PROBE_TTL = 1.0  # a load balancer probing every few ms costs one database check a second

_probe_lock = threading.Lock()
_probes: dict[int, tuple[float, str | None]] = {}
BROKEN_TARGETS_TTL = 60.0  # seconds: health is polled, the figure is of the last day
_broken_lock = threading.Lock()
_broken: weakref.WeakKeyDictionary[Flask, tuple[float, list[dict]]] = weakref.WeakKeyDictionary()


def database_problem(engine: Engine) -> str | None:
    """None when the database takes a write now (within its request timeout), else why not."""
    recent = write_problem(engine)
    if recent:
        return recent
    now = time.monotonic()
    cached = _probes.get(id(engine))
    if cached is not None and now - cached[0] < PROBE_TTL:
        return cached[1]
    with _probe_lock:
        cached = _probes.get(id(engine))
        if cached is not None and time.monotonic() - cached[0] < PROBE_TTL:
            return cached[1]
        problem = None
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, taken and given back
                    conn.exec_driver_sql("ROLLBACK")
                else:
                    conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            problem = f"database: {type(getattr(exc, 'orig', None) or exc).__name__}: {str(getattr(exc, 'orig', None) or exc).splitlines()[0][:200]}"
        _probes[id(engine)] = (time.monotonic(), problem)
        return problem


def broken_targets() -> list[dict]:
    """Every site's broken targets (desk.figures.broken_targets), computed at most once a minute per app."""
    app = current_app._get_current_object()
    cached = _broken.get(app)
    if cached is not None and time.monotonic() - cached[0] < BROKEN_TARGETS_TTL:
        return cached[1]
    with _broken_lock:
        cached = _broken.get(app)
        if cached is not None and time.monotonic() - cached[0] < BROKEN_TARGETS_TTL:
            return cached[1]
        found = figures.broken_targets(list(app.config["SITES"]))
        _broken[app] = (time.monotonic(), found)
        return found


def _target_warnings() -> tuple[list[str], list[dict]]:
    """(warnings, broken targets); left out when the query fails (the database probe says why in ``reasons``)."""
    try:
        broken = broken_targets()
    except SQLAlchemyError:
        return [], []
    return [f"broken target: site {b['site']}, tour {b['tour']}, step {b['step']}: {b['target'] or '(no target now)'} "
            f"found nothing for {b['missing']} of {b['reached']} people ({b['share']:.0%})" for b in broken], broken


def _index_state() -> tuple[str | None, list[str], dict]:
    """(fatal problem, other problems, details) of the live search index."""
    live = live_index()
    try:
        live.current()
    except IndexUnavailable as exc:
        return str(exc), [], {}
    problems = [f"index: {p}" for p in live.status()["problems"]]
    details = {"build_id": live.build_name,
               "faqs": {k: v["faqs"] for k, v in live.manifest["locales"].items()},
               "calibration": live.current().calibration_status(),
               "reload_error": live.last_error}
    return None, problems, details


@bp.get("/livez")
def livez():
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz():
    reasons = []
    if lifecycle.draining():
        reasons.append("draining: the process is stopping")
    fatal, _, _ = _index_state()
    if fatal:
        reasons.append(f"index: {fatal}")
    db_problem = database_problem(services().db)
    if db_problem:
        reasons.append(db_problem)
    if reasons:
        response = jsonify({"status": "not_ready", "reasons": reasons})
        response.status_code, response.headers["Retry-After"] = 503, "5"
        return response
    return jsonify({"status": "ready"})


@bp.get("/api/v1/health")
def health():
    tours = services().tours.status()
    fatal, problems, details = _index_state()
    content = content_problems()
    if fatal:
        return jsonify({"status": "unavailable", "error": fatal, "reasons": [f"index: {fatal}"], "tours": tours,
                        "content_errors": content}), 503
    db_problem = database_problem(services().db)
    if db_problem:
        problems.append(db_problem)
    problems += [f"tours: {e}" for e in tours["errors"]]
    problems += [f"content: {e['file']}:{e['line']}: {e['message']}" for e in content
                 if not e["file"].startswith("tours/")]
    if lifecycle.draining():
        problems.append("draining: the process is stopping")
    warnings, broken = _target_warnings() if not db_problem else ([], [])
    warnings = [f"content error: {e['file']}:{e['line']}: {e['message']}" for e in content] + warnings
    body = {"status": "degraded" if problems else "ok", "reasons": problems, "warnings": warnings,
            "content_errors": content, "broken_targets": broken, **details, "tours": tours,
            "index": live_index().status()}
    return jsonify(body)

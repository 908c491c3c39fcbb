"""Health, three ways:

- ``GET /livez``: the process is up and answering (a liveness probe: restart it when this fails).
- ``GET /readyz``: this process should get traffic: its search index is loaded (and verified), the
  database takes a write within its timeout, and it is not draining after SIGTERM. 503 otherwise,
  with ``Retry-After`` and the reasons (a readiness probe or load balancer health check).
- ``GET /api/v1/health``: what an operator reads: ``ok``, ``degraded`` (serving, with reasons:
  a broken build refused, an older build served, content errors, the database not answering)
  or ``unavailable`` (503: no index to answer from).
"""

from __future__ import annotations

import threading
import time

from flask import Blueprint, jsonify
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..db.engine import write_problem
from ..search.errors import IndexUnavailable
from ..web.context import live_index, services
from . import lifecycle

bp = Blueprint("health", __name__)
PROBE_TTL = 1.0  # a load balancer probing every few ms costs one database check a second

_probe_lock = threading.Lock()
_probes: dict[int, tuple[float, str | None]] = {}


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
    if fatal:
        return jsonify({"status": "unavailable", "error": fatal, "reasons": [f"index: {fatal}"], "tours": tours}), 503
    db_problem = database_problem(services().db)
    if db_problem:
        problems.append(db_problem)
    problems += [f"tours: {e}" for e in tours["errors"]]
    if lifecycle.draining():
        problems.append("draining: the process is stopping")
    body = {"status": "degraded" if problems else "ok", "reasons": problems, **details, "tours": tours,
            "index": live_index().status()}
    return jsonify(body)

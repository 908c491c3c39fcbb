"""Counters, gauges and latency histograms of this process, for ``/metrics`` (Prometheus text).

Any part of the service counts with ``count("name", label=value)``, ``observe("name", seconds,
...)`` or ``gauge("name", fn)``; nothing here knows HTTP. A gunicorn server has several worker
processes and a scrape reaches one of them, so each process writes its figures to a file in a
shared folder and ``/metrics`` adds up those of the live processes (``ops.metrics``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[tuple[str, str], ...]

HELP = {
    "guide_http_requests_total": ("counter", "HTTP requests answered, by route, method and status."),
    "guide_http_request_duration_seconds": ("histogram", "Time to answer an HTTP request, by route."),
    "guide_chat_answers_total": ("counter", "Questions answered, by outcome (answered, suggested, no_answer) and channel (http, ws)."),
    "guide_questions_not_logged_total": ("counter", "Questions answered but not stored (the database refused them)."),
    "guide_escalations_total": ("counter", "Escalations stored, by delivery (webhook, mailto, none)."),
    "guide_escalation_deliveries_total": ("counter", "Webhook attempts of escalations, by result (delivered, retry, failed)."),
    "guide_alert_deliveries_total": ("counter", "Attempts at sending alerts and digests to sites' CS teams (webhook, Slack, e-mail), by result (delivered, retry, failed)."),
    "guide_ws_open": ("gauge", "Chat WebSockets open now."),
    "guide_ws_opened_total": ("counter", "Chat WebSockets accepted."),
    "guide_ws_refused_total": ("counter", "Chat WebSockets refused because the process was full or draining."),
    "guide_ws_messages_total": ("counter", "Chat WebSocket messages handled."),
    "guide_events_stored_total": ("counter", "Widget events stored."),
    "guide_events_rejected_total": ("counter", "Widget events refused as invalid."),
    "guide_events_overload_total": ("counter", "Event batches refused at once because the writer's queue was full."),
    "guide_events_dropped_by_widgets_total": ("counter", "Events widgets let go because their queue was full (reported with the next batch)."),
    "guide_event_queue_depth": ("gauge", "Event batches waiting for the database writer."),
    "guide_db_unavailable_total": ("counter", "Requests answered 503 because the database did not answer in time."),
    "guide_rate_limited_total": ("counter", "Requests answered 429 and chat sockets closed (1008) by an abuse limit, by limit (ask, search, events, ..., chat) and per (user, socket, address, site)."),
    "guide_rate_limit_redis_unavailable_total": ("counter", "Requests whose abuse limits were counted in the process alone because Redis (REDIS_URL) did not answer."),
    "guide_db_connections_discarded_total": ("counter", "Pooled database connections thrown away after a read-only, I/O or shutdown error."),
    "guide_index_reloads_total": ("counter", "Search index builds swapped in."),
    "guide_index_load_failures_total": ("counter", "Search index builds refused (broken or failing checksum)."),
    "guide_index_build_info": ("gauge", "1 for the search index build this process serves."),
}

_lock = threading.Lock()
_counters: dict[tuple[str, Labels], float] = {}
_hists: dict[tuple[str, Labels], list[float]] = {}  # bucket counts..., +Inf count, sum
_gauges: dict[str, Callable[[], dict[Labels, float] | float]] = {}


def _labels(labels: dict) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


def count(name: str, n: float = 1, **labels) -> None:
    key = (name, _labels(labels))
    with _lock:
        _counters[key] = _counters.get(key, 0) + n


def observe(name: str, seconds: float, **labels) -> None:
    key = (name, _labels(labels))
    with _lock:
        h = _hists.get(key)
        if h is None:
            h = _hists[key] = [0.0] * (len(BUCKETS) + 2)
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                h[i] += 1
        h[-2] += 1
        h[-1] += seconds


def gauge(name: str, read: Callable[[], dict[Labels, float] | float]) -> None:
    """Register a gauge read when figures are taken: a number, or {labels: number}."""
    _gauges[name] = read


def snapshot() -> dict:
    """This process's figures as plain data (JSON-able)."""
    with _lock:
        counters = [[n, list(map(list, lb)), v] for (n, lb), v in _counters.items()]
        hists = [[n, list(map(list, lb)), list(h)] for (n, lb), h in _hists.items()]
    gauges = []
    for name, read in list(_gauges.items()):
        try:
            value = read()
        except Exception:  # a gauge must never break the scrape
            continue
        for lb, v in (value.items() if isinstance(value, dict) else [((), value)]):
            gauges.append([name, list(map(list, lb)), float(v)])
    return {"pid": os.getpid(), "counters": counters, "histograms": hists, "gauges": gauges}


def _reset() -> None:
    global _lock
    _lock = threading.Lock()
    _counters.clear()
    _hists.clear()  # a forked worker starts from zero; the master's figures stay the master's


os.register_at_fork(after_in_child=_reset)
